"""The test cluster's link /etc/slurm/slurm.conf (tests/slurm_cluster.py): one left behind by a
test run that was killed is removed by the next cluster; a system's own configuration, or
the link of a cluster that still runs, is never touched. Checked on links in a temporary
folder, not on /etc."""

from __future__ import annotations

import subprocess
import sys

from slurm_cluster import CONF_HEADER, remove_stale_link


def test_a_dangling_link_is_removed(tmp_path):
    link = tmp_path / "slurm.conf"
    link.symlink_to(tmp_path / "gone" / "slurm.conf")
    assert remove_stale_link(link) and not link.is_symlink()


def test_the_link_of_a_killed_test_cluster_is_removed_a_running_ones_kept(tmp_path):
    conf = tmp_path / "cluster" / "slurm.conf"
    conf.parent.mkdir()
    conf.write_text(f"{CONF_HEADER}\nClusterName=echemtest\n")
    link = tmp_path / "slurm.conf"
    link.symlink_to(conf)
    # a controller of that cluster still runs (a process with the conf on its command line)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-f", str(conf)])
    try:
        assert not remove_stale_link(link) and link.is_symlink()
    finally:
        proc.kill()
        proc.wait()
    assert remove_stale_link(link) and not link.exists() and not link.is_symlink()
    assert conf.exists()  # the old cluster's folder is left alone


def test_a_systems_own_configuration_is_never_touched(tmp_path):
    own = tmp_path / "etc-slurm.conf"
    own.write_text("ClusterName=production\n")
    link = tmp_path / "slurm.conf"
    link.symlink_to(own)
    assert not remove_stale_link(link) and link.is_symlink()
    link.unlink()
    link.write_text("ClusterName=production\n")  # a plain file
    assert not remove_stale_link(link) and link.read_text() == "ClusterName=production\n"
