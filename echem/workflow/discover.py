"""Find samples and their files in raw/ when Snakemake builds the DAG.

Imported by the Snakefile at parse time, so it stays light: standard library only.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from echem.names import default_series, name_problem, suggest_name

SAMPLE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
METADATA_NAMES = {"sample.yaml", "sample.yml", "sample.json"}
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", "Icon\r"}
#: As echem.metadata.MAX_SAMPLE_YAML_BYTES (this module stays light: no import of it).
MAX_SAMPLE_YAML_BYTES = 65536
_SERIES_LINE = re.compile(r"""^series:[ \t]*(["']?)([A-Za-z0-9._-]+)\1[ \t]*(?:#.*)?$""", re.M)
_ORDER_LINE = re.compile(r"""^order:[ \t]*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)[ \t]*(?:#.*)?$""", re.M)


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
    def _yaml_text(self) -> str:
        """The sample.yaml's text (a byte more than its size limit, to tell it is over), or ""
        when there is none or it cannot be read (the ingest stage says so)."""
        if self.sample_yaml is None:
            return ""
        try:
            with open(self.sample_yaml, "rb") as fh:
                return fh.read(MAX_SAMPLE_YAML_BYTES + 1).decode("utf-8-sig", errors="replace")
        except OSError:
            return ""

    @cached_property
    def series(self) -> str:
        """The series for comparative figures: sample.yaml ``series``, else the id before ``_``
        (:func:`echem.names.default_series`).

        Read at DAG time: a plain top-level ``series: name`` line is read as text, and
        the YAML is parsed only when ``series`` is written some other way. A sample.yaml that
        cannot be read, or a series that is not a valid name (``..``, ``a/b``), gives the
        default: the ingest stage refuses that sample.yaml with an error row, and the sample
        is not analysed.
        """
        text = self._yaml_text
        if "series" in text and len(text) <= MAX_SAMPLE_YAML_BYTES and "*" not in text:
            plain = _SERIES_LINE.search(text)
            value = plain.group(2) if plain else self._parsed_series(text)
            if isinstance(value, str) and name_problem(value.strip(), "series") is None:
                return value.strip()
        return default_series(self.id)

    @cached_property
    def order(self) -> float | None:
        """The sample's place in its series (sample.yaml ``order``, a number; lower first), or
        None: read at DAG time from a plain top-level ``order: 3`` line. Written any other
        way it is not seen here (the ingest stage validates it and the report still uses it)."""
        text = self._yaml_text
        plain = _ORDER_LINE.search(text) if "order" in text else None
        if plain is None:
            return None
        value = float(plain.group(1))
        return value if math.isfinite(value) else None

    @staticmethod
    def _parsed_series(text: str):
        import yaml

        try:
            data = yaml.safe_load(text)
        except Exception:  # noqa: BLE001 - the ingest stage reports the bad YAML
            return None
        return data.get("series") if isinstance(data, dict) else None


@dataclass
class Discovery:
    samples: dict[str, Sample]
    problems: list[dict[str, str]]  # error rows (sample, file, stage, error)


def _is_ignored(path: Path | str) -> bool:
    name = path if isinstance(path, str) else path.name
    return (name.startswith(".") or name.startswith("~$") or name.endswith("~")
            or name in IGNORED_NAMES or name.lower().startswith("readme"))


def _reason(exc: OSError) -> str:
    """An OSError as people read it: 'permission denied', 'too many levels of symbolic links'."""
    return (exc.strerror or type(exc).__name__).lower()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(name: str) -> str:
    """A file name for a message: control characters (a line break) escaped, not written out."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), name)


def _inside(path: str, *roots: str) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _kind(entry: os.DirEntry) -> tuple[str, str]:
    """What a folder entry is, following symbolic links: ``("dir" | "file" | "other" |
    "broken", detail)``; ``broken`` for a dangling link, a link loop or an entry that
    cannot be looked at (detail says which)."""
    try:
        if entry.is_dir():
            return "dir", ""
        if entry.is_file():
            return "file", ""
    except OSError as exc:  # a link loop (ELOOP), permission denied on a link's target ...
        return "broken", _reason(exc)
    if entry.is_symlink():
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = "?"
        return "broken", f"a symbolic link to {target}, which does not exist"
    return "other", ""


def _files_in(folder: str, allowed: tuple[str, ...], problem) -> dict[str, tuple[int, int]] | None:
    """The data files of a sample folder: path relative to the folder and (size, mtime_ns).

    Only the folder's own files are read: a sub-folder, a dangling link, a link loop, a link
    to a file outside ``allowed`` (the real paths of raw/ and of the sample folder), a name
    with a control character, a file this process may not read or anything that is not a
    regular file gives an error row through ``problem(file, message)`` and is not read. None
    when the folder cannot be listed or its sample.yaml cannot be read (the sample is then
    not analysed at all).

    os.scandir, not pathlib: with thousands of samples at every DAG build the stat results
    it returns are reused for the inventory, and pathlib's parsing would cost more than
    the listing.
    """
    out: dict[str, tuple[int, int]] = {}
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        problem("", f"cannot list the sample folder {folder}: {_reason(exc)}; make it readable "
                    "(chmod a+rx) for the account that runs the workflow")
        return None
    for entry in entries:
        name, shown = entry.name, _shown(entry.name)
        if name.startswith(".") or name in IGNORED_NAMES:
            continue
        kind, detail = _kind(entry)
        if kind == "dir":
            problem(name + "/", f"sub-folder {shown}/ is not read: a sample's files lie directly in its "
                                "folder, and what a sub-folder holds (an old run, a copy, another sample's "
                                "file) must not join the sample's fits. Move the files that belong to this "
                                "sample up into its folder, others to their own sample folder, or the "
                                "sub-folder out of raw/")
            continue
        if _is_ignored(name):
            continue  # editor backups (cv.DTA~), Office lock files (~$...), read-me files
        if kind == "broken":
            problem(name, f"{shown}: {detail}; nothing read. Replace the link by the file or remove it")
            continue
        if kind == "other":
            problem(name, f"{shown} is not a regular file (a pipe, socket or device): not read")
            continue
        if _CONTROL.search(name):
            problem(name, f"the file name '{shown}' holds a control character (a line break, a tab): "
                          "not read; rename the file")
            continue
        if entry.is_symlink():
            target = os.path.realpath(entry.path)
            if not _inside(target, *allowed):
                problem(name, f"{shown} is a symbolic link to {target}, outside raw/ and outside the "
                              "sample folder: the link is not followed and the file not read. Copy the "
                              "file into the sample folder, or link the whole sample folder instead")
                continue
        try:
            st = entry.stat()
        except OSError as exc:
            problem(name, f"cannot read {shown}: {_reason(exc)}")
            continue
        if not os.access(entry.path, os.R_OK):
            # not an input Snakemake could checksum either: it would stop the whole run
            if name in METADATA_NAMES:
                problem(name, f"cannot read {shown}: permission denied; the sample is not analysed until it "
                              "can be read (chmod a+r) by the account that runs the workflow")
                return None
            problem(name, f"cannot read {shown}: permission denied; make it readable (chmod a+r) for the "
                          "account that runs the workflow")
            continue
        out[name] = (st.st_size, st.st_mtime_ns)
    return out


def discover(raw_dir: str | Path) -> Discovery:
    """List sample folders ``raw/<sample>/`` and their data files.

    Never raises for what raw/ holds: problems (a folder name that is not a valid sample id,
    two folders differing only in case, data files outside a sample folder, an empty or
    unreadable sample folder, a backup folder, sub-folders, dangling links, link loops, links
    leaving raw/) become error rows; the affected folders or files are left out, the others
    go on. A sample folder may be a symbolic link (to a lab's data share): it is followed,
    and its files must lie in it (or in raw/).
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
    try:
        with os.scandir(raw) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        problem("", str(raw), f"cannot list the raw data folder {raw}: {_reason(exc)}")
        return Discovery(samples, problems)
    raw_real = os.path.realpath(raw)

    folders = []
    for entry in entries:
        name, shown = entry.name, _shown(entry.name)
        if name.startswith(".") or name in IGNORED_NAMES or name.lower().startswith("readme"):
            continue
        kind, detail = _kind(entry)
        if kind == "file":
            if not _is_ignored(name):
                problem("", shown, f"{shown} lies directly in {raw}/; put data files in a "
                                   f"sample folder, {raw}/<sample>/{shown}")
            continue
        if kind == "broken":
            problem(shown, "", f"{shown} in {raw}/: {detail}; nothing read. Replace the link or remove it")
            continue
        if kind == "other":
            problem("", shown, f"{shown} in {raw}/ is not a regular file or folder: not read")
            continue
        if _is_ignored(name):
            problem(shown, "", f"folder '{shown}' is skipped: its name marks a backup or temporary copy "
                               "(ends with '~' or starts with '~$'). Rename it to a sample id to analyse "
                               "it, or move it out of raw/")
            continue
        bad = name_problem(name)
        if bad:
            problem(shown, "", f"sample folder {bad}; rename it, e.g. to '{suggest_name(name)}'")
            continue
        folders.append(Path(entry.path))

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
        stats = _files_in(str(folder), (raw_real, os.path.realpath(folder)),
                          lambda file, message, s=folder.name: problem(s, file, message))
        if stats is None:
            continue
        sample.stats = stats
        for rel in sorted(stats):
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
