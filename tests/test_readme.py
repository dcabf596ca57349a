"""The README's quick start is what CI runs."""

import re

from conftest import ROOT


def _commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick, flags=re.S)


def test_quick_start_has_exactly_two_commands():
    commands = _commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "snakemake --cores 2" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands()[1] in ci.splitlines()


def test_layout_names_every_stage_rule():
    """The README's layout describes the workflow as it is: a rule file per stage in STAGES."""
    snakefile = (ROOT / "Snakefile").read_text(encoding="utf-8")
    stages = re.search(r"^STAGES = \[(.*?)\]", snakefile, flags=re.M | re.S).group(1)
    stages = re.findall(r'"(\w+)"', stages)
    layout = (ROOT / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    for stage in stages:
        assert (ROOT / "rules" / f"{stage}.smk").is_file(), stage
        assert stage in layout, stage
