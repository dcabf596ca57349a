"""Reader benchmark: CPU milliseconds per file of ``echem.io.read`` and MB/s, per format.

    python benchmarks/readers.py                      # demo raw/, the corpus and the peers' corpus
    python benchmarks/readers.py --groups peers       # one group only (raw, corpus, peers)
    python benchmarks/readers.py --profile            # also the 25 costliest functions (cProfile)

Every readable file under raw/, ../shared/corpus (or $ECHEM_CORPUS) and
../shared/corpus-peers (or $ECHEM_CORPUS_PEERS; the yadg, pyimpspec, impedance.py and
ixdat test files with every format echem reads, .pssession, .dfr, .i2b and spreadsheets
included) is read repeatedly until at least ``--min-cpu`` seconds of CPU time have passed (at least
``--repeat`` times); the time per read is CPU time (``time.process_time``), not wall
time, so that a benchmark running beside other jobs on the machine still compares.
Files that raise (files without data, a JSON table dump) are timed as well: the
error path is part of ingest. MB/s is the group's bytes over its CPU time per read. The last table times one demo sample as the ingest
stage handles it: every file read and written as parquet.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from echem import io as readers  # noqa: E402

CORPUS = Path(os.environ.get("ECHEM_CORPUS", ROOT.parent / "shared" / "corpus"))
PEERS = Path(os.environ.get("ECHEM_CORPUS_PEERS", ROOT.parent / "shared" / "corpus-peers"))
GROUPS = ("raw", "corpus", "peers")
DEMO_SAMPLE = ROOT / "raw" / "PtMG_as-cast"


def data_files(groups: tuple[str, ...] = GROUPS) -> list[tuple[str, Path]]:
    """(group, path) of the demo raw/ files, the corpus files and the peers' corpus files."""
    files = []
    if "raw" in groups:
        files += [("raw", p) for p in sorted((ROOT / "raw").rglob("*"))
                  if p.is_file() and p.suffix.lower() not in (".yaml", ".yml", ".md")]
    for group, folder in (("corpus", CORPUS), ("peers", PEERS)):
        if group in groups and folder.is_dir():
            files += [(group, p) for p in sorted(folder.rglob("*"))
                      if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md")
                      and not p.name.endswith(".ref.json")]
    return files


def cpu_per_call(fn, min_cpu: float, repeat: int) -> float:
    """CPU seconds per call of ``fn()``, repeated until ``min_cpu`` seconds and ``repeat`` calls."""
    n, t0 = 0, time.process_time()
    while True:
        fn()
        n += 1
        elapsed = time.process_time() - t0
        if n >= repeat and elapsed >= min_cpu:
            return elapsed / n


def read_quietly(path: Path):
    try:
        return readers.read(path)
    except Exception as exc:  # noqa: BLE001 - the error path is timed too
        return exc


def format_of(path: Path) -> str:
    result = read_quietly(path)
    if isinstance(result, Exception):
        module = readers.find_reader(path.read_bytes(), path.name)
        return f"{module.FORMAT if module else 'unknown'} (error)"
    return result.meta["format"]


def bench_files(min_cpu: float, repeat: int, groups: tuple[str, ...] = GROUPS) -> None:
    per_format: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    for group, path in data_files(groups):
        fmt = format_of(path)
        cpu = cpu_per_call(lambda p=path: read_quietly(p), min_cpu, repeat)
        per_format[(group, fmt)].append((cpu, path.stat().st_size))
    print(f"{'group':7} {'format':32} {'files':>5} {'ms/file':>8} {'max ms':>7} {'ms/100 kB':>9} {'MB/s':>6}")
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for (group, fmt), runs in sorted(per_format.items()):
        ms = [1e3 * c for c, _ in runs]
        size = sum(s for _, s in runs)
        kb = size / 1e3
        totals[group][0] += sum(ms)
        totals[group][1] += size
        totals[group][2] += len(runs)
        print(f"{group:7} {fmt:32} {len(runs):5d} {sum(ms) / len(ms):8.2f} {max(ms):7.2f} "
              f"{100 * sum(ms) / kb:9.2f} {size / 1e6 / (sum(ms) / 1e3):6.2f}")
    for group, (ms, size, n) in totals.items():
        print(f"{group:7} {'ALL':32} {n:5d} {ms / n:8.2f}   total {ms:.1f} ms, "
              f"{size / 1e6:.1f} MB, {size / 1e6 / (ms / 1e3):.2f} MB/s")


def bench_sample(min_cpu: float, repeat: int, out: Path) -> None:
    """One demo sample as ingest handles it: read every file and write it as parquet."""
    from echem.workflow.ingest import _write_parquet

    files = sorted(p for p in DEMO_SAMPLE.iterdir() if p.suffix.lower() != ".yaml")

    def read_all():
        return [readers.read(p) for p in files]

    def read_and_write():
        for i, m in enumerate(read_all()):
            _write_parquet(m, out / f"{i}.parquet")

    read_ms = 1e3 * cpu_per_call(read_all, min_cpu, repeat)
    both_ms = 1e3 * cpu_per_call(read_and_write, min_cpu, repeat)
    print(f"\ndemo sample {DEMO_SAMPLE.name} ({len(files)} files): read {read_ms:.1f} ms, "
          f"read + parquet {both_ms:.1f} ms CPU")


def profile(top: int = 25) -> None:
    files = [p for _, p in data_files()]
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        for p in files:
            read_quietly(p)
    prof.disable()
    stream = io.StringIO()
    pstats.Stats(prof, stream=stream).sort_stats("tottime").print_stats(top)
    print(stream.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-cpu", type=float, default=0.2, help="CPU seconds per file at least")
    parser.add_argument("--repeat", type=int, default=3, help="reads per file at least")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of all reads")
    parser.add_argument("--groups", default=",".join(GROUPS), help="comma-separated: raw, corpus, peers")
    args = parser.parse_args()
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    bench_files(args.min_cpu, args.repeat, groups)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        bench_sample(args.min_cpu, args.repeat, Path(tmp))
    if args.profile:
        profile()


if __name__ == "__main__":
    main()
