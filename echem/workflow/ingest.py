"""Ingest stage: read every file of a sample, resolve its metadata, store canonical tables.

Writes, per sample: ``manifest.csv`` (one row per file: technique, vendor, sha256,
rows, status, the metadata used), ``ingest.json`` (the same in full, read by the
later stages) and ``canonical/<file>.parquet`` (the canonical measurement).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from echem.jsonsafe import jsonable
from echem.workflow.run import StageRun, dump_json
from echem.workflow.tables import atomic_write_bytes, atomic_write_text, write_csv

MANIFEST_COLUMNS = ("file", "technique", "technique_source", "vendor", "format", "sha256", "rows",
                    "status", "canonical", "metadata", "error")

#: Resolved keys worth showing per file in the manifest (the rest are in ingest.json).
_MANIFEST_KEYS = ("reaction", "area_cm2", "reference_electrode", "pH", "file_temperature_C",
                  "ir_compensation", "instrument_ir_compensation", "ru_ohm", "geometry", "circuit")


def canonical_name(index: int, file: str) -> str:
    """A safe, unique file name for a raw file's canonical table."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", file).strip("_")[:100] or "file"  # the index keeps it unique
    return f"{index:04d}_{stem}.parquet"


def _data_temperature(data) -> float | None:
    if "temperature_C" in data.columns:
        t = data["temperature_C"].dropna()
        if len(t):
            return float(t.mean())
    return None


#: Extensions of files people keep beside their data as notes.
NOTE_SUFFIXES = (".txt", ".md", ".rst", ".text", ".note", ".notes")


def is_text_note(path: Path) -> bool:
    """Whether an unrecognised file is a note (prose) rather than data no reader knows:
    a text extension, text content, and fewer than three lines holding two or more numbers."""
    import re

    if path.suffix.lower() not in NOTE_SUFFIXES:
        return False
    try:
        raw = path.read_bytes()[:65536]
    except OSError:
        return False
    if b"\x00" in raw:
        return False
    text = raw.decode("utf-8", errors="replace")
    number = re.compile(r"[-+]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][-+]?\d+)?")
    numeric_lines = sum(1 for line in text.splitlines() if len(number.findall(line)) >= 2)
    return numeric_lines < 3


def ingest_sample(sample: str, folder: str | Path, files: list[str], sample_yaml: str | Path | None,
                  defaults: Mapping[str, Any], out_dir: str | Path, log_path: str | Path,
                  errors_path: str | Path) -> None:
    """Read all ``files`` (relative to ``folder``) of one sample; never writes into ``folder``."""
    import pandas as pd

    from echem import io as readers
    from echem.errors import DamagedFileError, UnknownFormatError
    from echem.metadata import load_sample_yaml, resolve_file_metadata, resolve_sample_metadata

    folder, out_dir = Path(folder), Path(out_dir)
    canonical_dir = out_dir / "canonical"
    canonical_dir.mkdir(parents=True, exist_ok=True)
    for old in canonical_dir.glob("*.parquet"):
        old.unlink()

    with StageRun("ingest", sample, log_path, errors_path) as run:
        metadata_error = None
        sample_meta: dict[str, Any] = {}
        try:
            sample_meta = load_sample_yaml(sample_yaml) if sample_yaml else {}
        except Exception as exc:  # recorded; the sample's analyses are then skipped
            metadata_error = str(exc)
            run.error("sample.yaml", f"{exc}; the sample's analyses are skipped until it is fixed")
        values, sources = resolve_sample_metadata(sample, sample_meta, defaults)

        records: list[dict[str, Any]] = []
        for index, rel in enumerate(files):
            record: dict[str, Any] = {"file": rel, "status": "error", "technique": None}
            records.append(record)
            with run.guard(rel):
                try:
                    m = readers.read(folder / rel)
                except DamagedFileError:
                    record["status"] = "error"
                    raise
                except UnknownFormatError:
                    record["status"] = "skipped"
                    if is_text_note(folder / rel):
                        record["error"] = "not read: a text note (prose, no table of numbers)"
                        run.info(f"{rel}: a text note (prose, no table of numbers): listed, not read")
                        continue
                    raise
                except Exception:
                    record["status"] = "error"
                    raise
                if m.meta.get("temperature_C") is None and (t := _data_temperature(m.data)) is not None:
                    m.meta["temperature_C"] = t
                resolved, resolved_sources = resolve_file_metadata(values, sources, m.meta, rel)
                name = canonical_name(index, rel)
                _write_parquet(m, canonical_dir / name)
                record.update(
                    status="ok", technique=m.meta.get("technique"),
                    technique_source=m.meta.get("technique_source"), vendor=m.meta.get("vendor"),
                    format=m.meta.get("format"), sha256=m.meta["sha256"], rows=m.meta["rows"],
                    canonical=f"canonical/{name}", meta=jsonable(m.meta),
                    resolved=jsonable(resolved), sources=resolved_sources,
                )
                run.info(f"{rel}: {record['format']} {record['technique']} "
                         f"({record['technique_source']}), {record['rows']} rows")
                for warning in m.meta.get("warnings") or []:
                    run.warning(f"{rel}: {warning}", file=rel)
                if m.meta.get("truncated"):
                    # the complete rows are used; the user still has to know the file is cut
                    run.error(rel, f"{rel}: the file is truncated (cut off before its end); its "
                                   f"{record['rows']} complete rows were used. Re-export it from the "
                                   "instrument software if the measurement went on")
                if record["technique"] is None and m.meta.get("technique_label"):
                    # the file names its technique, one echem does not analyse (GCPL, BCD, OCV loops ...)
                    run.info(f"{rel}: {m.meta['technique_label']} is not a technique echem analyses; "
                             "the file is listed in the manifest and not used")
                elif record["technique"] is None:
                    run.warning(f"{rel}: technique unknown; name it in the file name (lsv, cv, eis) "
                                "so that a stage picks it up", file=rel)
            if record["status"] != "ok" and run.errors:
                record["error"] = run.errors[-1]["error"]

        manifest = pd.DataFrame([
            {
                "file": r["file"], "technique": r.get("technique"), "technique_source": r.get("technique_source"),
                "vendor": r.get("vendor"), "format": r.get("format"), "sha256": r.get("sha256"),
                "rows": r.get("rows"), "status": r["status"], "canonical": r.get("canonical"),
                "metadata": json.dumps({k: r["resolved"].get(k) for k in _MANIFEST_KEYS
                                        if r.get("resolved", {}).get(k) is not None}, ensure_ascii=False)
                if r.get("resolved") else "",
                "error": r.get("error", ""),
            }
            for r in records
        ], columns=list(MANIFEST_COLUMNS))
        write_csv(manifest, out_dir / "manifest.csv")
        atomic_write_text(out_dir / "ingest.json", dump_json({
            "sample": sample,
            "metadata": values,
            "metadata_sources": sources,
            "metadata_error": metadata_error,
            "sample_yaml": str(sample_yaml) if sample_yaml else None,
            "files": records,
        }))


def _write_parquet(m, path: Path) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(m.data, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"echem.meta": json.dumps(jsonable(m.meta)).encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    atomic_write_bytes(path, buf.getvalue())


@dataclass
class FileRecord:
    file: str
    technique: str | None
    meta: dict[str, Any]
    resolved: dict[str, Any]
    sources: dict[str, str]
    canonical: Path

    def measurement(self):
        """The canonical :class:`~echem.measurement.Measurement` of this file."""
        import pandas as pd

        from echem.measurement import Measurement

        return Measurement(data=pd.read_parquet(self.canonical), meta=dict(self.meta))


@dataclass
class IngestedSample:
    sample: str
    metadata: dict[str, Any]
    metadata_sources: dict[str, str]
    metadata_error: str | None
    files: list[FileRecord] = field(default_factory=list)

    def by_technique(self, *techniques: str) -> list[FileRecord]:
        return [f for f in self.files if f.technique in techniques]


def load_ingested(sample_dir: str | Path, with_files: bool = True) -> IngestedSample:
    """Read what :func:`ingest_sample` wrote (only files that were read successfully).

    ``with_files=False``: the record without its files, for a stage run without the sample's
    data (:mod:`echem.workflow.faults`: its job's worker died), which then writes its outputs
    empty."""
    sample_dir = Path(sample_dir)
    info = json.loads((sample_dir / "ingest.json").read_text(encoding="utf-8"))
    files = [
        FileRecord(file=r["file"], technique=r.get("technique"), meta=r.get("meta", {}),
                   resolved=r.get("resolved", {}), sources=r.get("sources", {}),
                   canonical=sample_dir / r["canonical"])
        for r in info["files"] if r.get("status") == "ok" and with_files
    ]
    return IngestedSample(sample=info["sample"], metadata=info["metadata"],
                          metadata_sources=info["metadata_sources"],
                          metadata_error=info.get("metadata_error"), files=files)
