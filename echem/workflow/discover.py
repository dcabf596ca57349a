"""Find samples and their files in raw/ when Snakemake builds the DAG.

Imported by the Snakefile at parse time, so it stays light: standard library only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

SAMPLE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
METADATA_NAMES = {"sample.yaml", "sample.yml", "sample.json"}
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_SERIES_LINE = re.compile(r"""^series:[ \t]*(["']?)([A-Za-z0-9._-]+)\1[ \t]*(?:#.*)?$""", re.M)


@dataclass
class Sample:
    id: str
    folder: Path
    files: list[str] = field(default_factory=list)  # paths relative to the folder, sorted
    sample_yaml: Path | None = None
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # rel -> (size, mtime_ns) at discovery

    def paths(self) -> list[str]:
        return [str(self.folder / f) for f in self.files]

    def inventory(self) -> str:
        """One line per file (name, size, mtime): changes whenever a raw file is added,
        removed, renamed or rewritten."""
        # (name in the inventory, path relative to the folder); the metadata file is listed
        # as sample.yaml whichever of its names it has
        entries = [(rel, rel) for rel in self.files]
        if self.sample_yaml:
            entries.append(("sample.yaml", self.sample_yaml.relative_to(self.folder).as_posix()))
        lines = []
        for name, rel in entries:
            if rel in self.stats:
                size, mtime_ns = self.stats[rel]
            else:
                st = (self.folder / rel).stat()
                size, mtime_ns = st.st_size, st.st_mtime_ns
            lines.append(f"{name}\t{size}\t{mtime_ns}")
        return "\n".join(lines) + "\n"

    @cached_property
    def series(self) -> str:
        """The series for comparative figures: sample.yaml ``series``, else the id before ``_``.

        Read at DAG time: a plain top-level ``series: name`` line is read as text, and
        the YAML is parsed only when ``series`` is written some other way.
        """
        if self.sample_yaml is not None:
            text = self.sample_yaml.read_text(encoding="utf-8-sig", errors="replace")
            if "series" in text:
                plain = _SERIES_LINE.search(text)
                if plain:
                    return plain.group(2)
                import yaml

                try:
                    value = (yaml.safe_load(text) or {}).get("series")
                except Exception:  # noqa: BLE001 - the ingest stage reports the bad YAML
                    value = None
                if isinstance(value, str) and SAMPLE_ID.match(value.strip()):
                    return value.strip()
        return self.id.split("_", 1)[0]


@dataclass
class Discovery:
    samples: dict[str, Sample]
    problems: list[dict[str, str]]  # error rows (sample, file, stage, error)


def _is_ignored(path: Path | str) -> bool:
    name = path if isinstance(path, str) else path.name
    return (name.startswith(".") or name.startswith("~$") or name.endswith("~")
            or name in IGNORED_NAMES or name.lower().startswith("readme"))


def _files_in(folder: str) -> dict[str, tuple[int, int]]:
    """Every file below ``folder`` but ignored ones (also inside ignored folders): its path
    relative to the folder (``/``-separated) and its (size, mtime_ns).

    os.scandir, not pathlib: with thousands of samples at every DAG build the stat results
    it returns are reused for the inventory, and pathlib's parsing would cost more than
    the listing.
    """
    out: dict[str, tuple[int, int]] = {}
    stack = [("", folder)]
    while stack:
        prefix, path = stack.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                if _is_ignored(entry.name):
                    continue
                rel = prefix + entry.name
                if entry.is_dir():
                    stack.append((rel + "/", entry.path))
                elif entry.is_file():
                    st = entry.stat()
                    out[rel] = (st.st_size, st.st_mtime_ns)
    return out


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
        sample.stats = _files_in(str(folder))
        for rel in sorted(sample.stats, key=lambda r: r.split("/")):
            if rel in METADATA_NAMES:
                sample.sample_yaml = folder / rel
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


def update_inventory(path: str | Path, text: str) -> bool:
    """Write a sample's inventory file only when it changed (its mtime then tells
    Snakemake that the sample's raw data changed); True when it was (re)written.

    Why a file and not the raw files themselves as job inputs: Snakemake measures every
    input of every waiting job on each scheduling round, so 8 inputs per sample cost 8×
    a sample's share of the scheduler; one inventory per sample keeps that at 1.
    """
    import os
    import tempfile

    path = Path(path)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return True
