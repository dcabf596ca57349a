"""A single-node SLURM cluster on this machine, in a folder of its own (tests/test_slurm.py).

Built from the distribution's packages (Debian 12: SLURM 22.05, ``slurmctld slurmd
slurm-client munge``), run as root, everything it writes under one folder: the munge key
and socket, ``slurm.conf``, the controller's state, the node's spool, the daemons' logs.
No systemd, no cgroups: processes are tracked by ``proctrack/linuxproc``, tasks are not
bound (``task/none``). There is no accounting database: the Snakemake SLURM executor
plugin asks ``squeue`` for its jobs' states (``--slurm-status-command squeue``), which
sees a finished job for ``MinJobAge`` seconds (set to an hour here).

One thing lies outside the folder: the job steps the executor starts inside a job run
``srun`` with the environment's ``SLURM_*`` variables removed, ``SLURM_CONF`` too, so
``srun`` reads ``/etc/slurm/slurm.conf``. While the cluster runs that path is a symlink to
the folder's ``slurm.conf``; it is created only when the path does not exist and removed
at :meth:`SlurmCluster.stop`.

As a script (what the README's cluster section uses)::

    python tests/slurm_cluster.py start /tmp/slurm     # prints: export SLURM_CONF=...
    python tests/slurm_cluster.py stop /tmp/slurm
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

#: Debian's packages that make the cluster (slurm-client: sbatch, squeue, scancel, srun).
PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
#: The binaries they give.
BINARIES = ["slurmctld", "slurmd", "munged", "mungekey", "sbatch", "squeue", "scancel", "srun", "sinfo"]
#: The partition of the test cluster.
PARTITION = "debug"
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


#: The first line of every slurm.conf this module writes: how a link left by an earlier test
#: cluster is told from a system's own configuration.
CONF_HEADER = "# single-node test cluster: tests/slurm_cluster.py"


class ClusterError(RuntimeError):
    """The cluster could not be stood up (the message says which daemon and shows its log)."""


def _running_with(path: Path) -> bool:
    """Whether a process runs with ``path`` on its command line (a slurmctld ``-f <conf>``)."""
    needle = os.fsencode(str(path))
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if needle in fh.read():
                    return True
        except OSError:
            continue
    return False


def remove_stale_link(system_conf: Path = SYSTEM_CONF) -> bool:
    """Remove ``system_conf`` if it is a link that an earlier test cluster left behind (its run
    was killed before :meth:`SlurmCluster.stop`): a symlink to a missing file, or to a
    slurm.conf of this module whose controller no longer runs. A system's own configuration
    (a file, or a link to anything else) is never touched. Returns whether it removed one."""
    if not system_conf.is_symlink():
        return False
    target = Path(os.readlink(system_conf))
    target = target if target.is_absolute() else system_conf.parent / target
    if target.exists():
        try:
            first = target.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        except OSError:
            return False
        if first.strip() != CONF_HEADER or _running_with(target):
            return False
    system_conf.unlink()
    return True


def which(name: str) -> str | None:
    """The binary's path; the daemons live in /usr/sbin, which a non-login PATH may lack."""
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if which(name) is None]


def install_packages() -> None:
    """``apt-get install`` the packages (root only); raises ClusterError when that fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    if missing_binaries():
        raise ClusterError(f"installed {PACKAGES}, still missing: {missing_binaries()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 4096


class SlurmCluster:
    """munged, slurmctld and slurmd for one node ``localhost`` with ``cpus`` CPUs.

    ``memory_mb``: the node's RealMemory (default: 90 % of this machine's). Use as a
    context manager, or :meth:`start` / :meth:`stop`.
    """

    def __init__(self, root: Path, cpus: int = 2, memory_mb: int | None = None, min_job_age: int = 3600):
        self.root = Path(root).resolve()
        self.cpus = cpus
        self.memory_mb = memory_mb or int(_memory_mb() * 0.9)
        self.min_job_age = min_job_age
        self.conf = self.root / "slurm.conf"
        self.logs = self.root / "log"
        self._procs: dict[str, subprocess.Popen] = {}
        self._linked_system_conf = False

    # ------------------------------------------------------------------ set-up
    @property
    def env(self) -> dict[str, str]:
        """The environment for SLURM's client commands (and Snakemake) to reach this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def _write_files(self) -> None:
        for sub in ("munge", "state", "spool", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        (self.root / "munge").chmod(0o700)
        key = self.root / "munge" / "munge.key"
        if not key.exists():
            subprocess.run([which("mungekey"), "--create", "--keyfile", str(key)], check=True, capture_output=True)
        key.chmod(0o400)
        host = socket.gethostname().split(".")[0]  # slurmctld compares its short host name
        self.conf.write_text("\n".join([
            CONF_HEADER,
            "ClusterName=echemtest",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.root / 'munge' / 'munge.socket'}",
            f"StateSaveLocation={self.root / 'state'}",
            f"SlurmdSpoolDir={self.root / 'spool'}",
            f"SlurmctldPidFile={self.root / 'slurmctld.pid'}",
            f"SlurmdPidFile={self.root / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.logs / 'slurmctld.log'}",
            f"SlurmdLogFile={self.logs / 'slurmd.log'}",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            # no systemd, no cgroups in a container: processes by their parent, tasks unbound
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "SchedulerType=sched/backfill",
            "MpiDefault=none",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            # squeue answers for finished jobs this long (the executor's status command)
            f"MinJobAge={self.min_job_age}",
            "ReturnToService=2",
            "SlurmdParameters=config_overrides",
            "SchedulerParameters=sched_interval=2",
            "KillWait=5",
            f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN",
            f"PartitionName={PARTITION} Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
            "",
        ]))

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = (self.logs / f"{name}.out").open("ab")
        self._procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                             start_new_session=True, cwd=self.root)

    def _log_tail(self, name: str) -> str:
        text = ""
        for path in (self.logs / f"{name}.out", self.logs / f"{name}.log"):
            if path.exists():
                text += f"--- {path}\n" + path.read_text(errors="replace")[-3000:]
        return text

    def _check_alive(self) -> None:
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise ClusterError(f"{name} exited ({proc.returncode}):\n{self._log_tail(name)}")

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        """A SLURM client command against this cluster."""
        proc = subprocess.run(list(cmd), capture_output=True, text=True, env=self.env, timeout=60)
        if check and proc.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
        return proc

    def start(self, timeout: float = 60) -> "SlurmCluster":
        missing = missing_binaries()
        if missing:
            raise ClusterError(f"SLURM/munge binaries missing: {missing} (apt-get install {' '.join(PACKAGES)})")
        self._write_files()
        remove_stale_link(SYSTEM_CONF)
        if not SYSTEM_CONF.exists():
            SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
            SYSTEM_CONF.symlink_to(self.conf)
            self._linked_system_conf = True
        elif SYSTEM_CONF.resolve() != self.conf:
            raise ClusterError(f"{SYSTEM_CONF} exists and is not this cluster's: srun inside a job would "
                               "read it (the executor removes SLURM_CONF from the job step's environment)")
        munge = self.root / "munge"
        self._spawn("munged", [which("munged"), "--foreground", "--force", f"--socket={munge / 'munge.socket'}",
                               f"--key-file={munge / 'munge.key'}", f"--pid-file={munge / 'munged.pid'}",
                               f"--seed-file={munge / 'munged.seed'}", f"--log-file={self.logs / 'munged.log'}"])
        deadline = time.monotonic() + timeout
        while not (munge / "munge.socket").exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise ClusterError("munged did not create its socket:\n" + self._log_tail("munged"))
            time.sleep(0.1)
        self._spawn("slurmctld", [which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", [which("slurmd"), "-D", "-N", "localhost", "-f", str(self.conf)])
        while True:
            self._check_alive()
            proc = self.run("sinfo", "-h", "-N", "-o", "%T", check=False)
            state = proc.stdout.strip()
            if proc.returncode == 0 and state.startswith("idle"):
                return self
            if time.monotonic() > deadline:
                raise ClusterError(f"the node is not idle after {timeout} s (sinfo: {state!r} {proc.stderr})\n"
                                   + self._log_tail("slurmctld") + self._log_tail("slurmd"))
            time.sleep(0.5)

    # ------------------------------------------------------------------ use
    def jobs(self) -> list[dict[str, str]]:
        """Every job the controller remembers (MinJobAge): id, name, state, exit code."""
        out = self.run("squeue", "-h", "--states=all", "-o", "%i|%j|%T|%k").stdout
        return [dict(zip(("id", "name", "state", "comment"), line.split("|"))) for line in out.splitlines() if line]

    # ------------------------------------------------------------------ tear-down
    def stop(self) -> None:
        """Cancel every job, stop the daemons (by their process ids), remove the symlink."""
        if "slurmctld" in self._procs and self._procs["slurmctld"].poll() is None:
            self.run("scancel", "--full", "--user=root", check=False)
            time.sleep(1)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self._procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._procs.clear()
        if self._linked_system_conf and SYSTEM_CONF.is_symlink():
            SYSTEM_CONF.unlink()
        self._linked_system_conf = False

    def __enter__(self) -> "SlurmCluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__.split("As a script")[1], file=sys.stderr)
        return 2
    root = Path(argv[1]).resolve()
    if argv[0] == "start":
        cluster = SlurmCluster(root)
        cluster.start()
        pids = {name: proc.pid for name, proc in cluster._procs.items()}
        (root / "daemons.pid").write_text("".join(f"{name} {pid}\n" for name, pid in pids.items())
                                          + f"linked {int(cluster._linked_system_conf)}\n")
        print(f"export SLURM_CONF={cluster.conf}")
        return 0
    state = dict(line.split() for line in (root / "daemons.pid").read_text().splitlines())
    subprocess.run(["scancel", "--full", "--user=root"], env={**os.environ, "SLURM_CONF": str(root / "slurm.conf")},
                   capture_output=True)
    for name in ("slurmd", "slurmctld", "munged"):
        if name in state:
            try:
                os.kill(int(state[name]), signal.SIGTERM)
            except ProcessLookupError:
                pass
    if state.get("linked") == "1" and SYSTEM_CONF.is_symlink():
        SYSTEM_CONF.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
