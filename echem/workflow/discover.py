"""Find samples and their files in raw/ when Snakemake builds the DAG.

Imported by the Snakefile at parse time, so it stays light: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
METADATA_NAMES = {"sample.yaml", "sample.yml", "sample.json"}
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class Sample:
    id: str
    folder: Path
    files: list[str] = field(default_factory=list)  # paths relative to the folder, sorted
    sample_yaml: Path | None = None

    def paths(self) -> list[str]:
        return [str(self.folder / f) for f in self.files]

    def inventory(self) -> str:
        """One line per file (name, size, mtime): changes whenever a raw file is added,
        removed, renamed or rewritten."""
        lines = []
        for rel in self.files + (["sample.yaml"] if self.sample_yaml else []):
            path = self.folder / rel if rel != "sample.yaml" else self.sample_yaml
            st = path.stat()
            lines.append(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}")
        return "\n".join(lines) + "\n"

    @property
    def series(self) -> str:
        """The series for comparative figures: sample.yaml ``series``, else the id before ``_``.

        Read at DAG time, so the YAML is parsed only when it mentions a series.
        """
        if self.sample_yaml is not None:
            text = self.sample_yaml.read_text(encoding="utf-8-sig", errors="replace")
            if "series" in text:
                import yaml

                try:
                    value = (yaml.safe_load(text) or {}).get("series")
                except Exception:  # noqa: BLE001 - the ingest stage reports the bad YAML
                    value = None
                if isinstance(value, str) and re.match(r"^[A-Za-z0-9._-]+$", value.strip()):
                    return value.strip()
        return self.id.split("_", 1)[0]


@dataclass
class Discovery:
    samples: dict[str, Sample]
    problems: list[dict[str, str]]  # error rows (sample, file, stage, error)


def _is_ignored(path: Path) -> bool:
    name = path.name
    return (name.startswith(".") or name.startswith("~$") or name.endswith("~")
            or name in IGNORED_NAMES or name.lower().startswith("readme"))


def discover(raw_dir: str | Path) -> Discovery:
    """List sample folders ``raw/<sample>/`` and their data files.

    Problems (a folder name that is not a valid sample id, two folders differing only
    in case, data files outside a sample folder, an empty sample folder) become error
    rows; the affected folders are left out, the others go on.
    """
    raw = Path(raw_dir)
    samples: dict[str, Sample] = {}
    problems: list[dict[str, str]] = []

    def problem(sample: str, file: str, message: str) -> None:
        problems.append({"sample": sample, "file": file, "stage": "discover", "error": message})

    if not raw.is_dir():
        problem("", str(raw), f"the raw data folder {raw} does not exist; create it with one "
                              "sub-folder per sample, or set raw_dir in config/config.yaml")
        return Discovery(samples, problems)

    folders = []
    for entry in sorted(raw.iterdir()):
        if _is_ignored(entry):
            continue
        if entry.is_file():
            problem("", entry.name, f"{entry.name} lies directly in {raw}/; put data files in a "
                                    f"sample folder, {raw}/<sample>/{entry.name}")
            continue
        if not SAMPLE_ID.match(entry.name):
            suggestion = re.sub(r"[^A-Za-z0-9._-]+", "_", entry.name).strip("_") or "sample1"
            problem(entry.name, "", f"sample folder '{entry.name}' is not a valid sample id "
                                    f"(letters, digits, '.', '_', '-'); rename it, e.g. to '{suggestion}'")
            continue
        folders.append(entry)

    by_lower: dict[str, list[Path]] = {}
    for folder in folders:
        by_lower.setdefault(folder.name.lower(), []).append(folder)
    for group in by_lower.values():
        if len(group) > 1:
            names = ", ".join(f.name for f in group)
            for folder in group:
                problem(folder.name, "", f"sample folders {names} differ only in case; outputs would "
                                         "collide on case-insensitive file systems: merge or rename them")
            continue
        folder = group[0]
        sample = Sample(id=folder.name, folder=folder)
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or any(_is_ignored(p) for p in path.relative_to(folder).parts for p in [Path(p)]):
                continue
            rel = path.relative_to(folder).as_posix()
            if rel in METADATA_NAMES:
                sample.sample_yaml = path
            else:
                sample.files.append(rel)
        if not sample.files:
            problem(folder.name, "", f"sample folder {folder} holds no data files; add exports or remove it")
            continue
        samples[sample.id] = sample
    return Discovery(samples, problems)


def sample_figure_formats(report: dict, n_samples: int) -> list[str]:
    """Formats of the per-sample figures for this run; empty when they are off.

    ``report.sample_figures``: ``true``/``false``, or ``auto`` — on while the run has at
    most ``sample_figures_max_samples`` samples (a figure costs more than the analyses).
    """
    setting = report.get("sample_figures", "auto")
    if setting == "auto":
        on = n_samples <= int(report.get("sample_figures_max_samples", 200))
        if not on:
            import sys

            print(f"echem: per-sample figures are off ({n_samples} samples > "
                  f"report.sample_figures_max_samples = {report.get('sample_figures_max_samples')}); "
                  "set report.sample_figures: true to draw them anyway", file=sys.stderr)
    else:
        on = bool(setting)
    return list(report.get("sample_formats", ["png"])) if on else []


def update_inventory(path: str | Path, text: str) -> None:
    """Write a sample's inventory file only when it changed (its mtime then tells
    Snakemake that the sample's raw data changed).

    Why a file and not the raw files themselves as job inputs: Snakemake measures every
    input of every waiting job on each scheduling round, so 8 inputs per sample cost 8×
    a sample's share of the scheduler; one inventory per sample keeps that at 1.
    """
    import os
    import tempfile

    path = Path(path)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
