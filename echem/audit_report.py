"""``echem audit SAMPLE``: every number of a sample, traced to its file, sha256 and fit.

Reads the sample's audit JSONs (``results/samples/<sample>/audit/<stage>/*.json``) and
prints, per fit: the file(s) and their sha256, the metadata and settings used (with
where each came from), the method record (window, initial guess, criterion) and the
numbers with their standard errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from echem.errors import EchemError

STAGE_ORDER = ("eis", "lsv", "tafel", "ecsa", "arrhenius")


def load_records(results_dir: Path, sample: str) -> list[dict[str, Any]]:
    """All audit records of a sample, in stage order."""
    base = results_dir / "samples" / sample / "audit"
    if not base.is_dir():
        known = sorted(p.name for p in (results_dir / "samples").glob("*")) if (results_dir / "samples").is_dir() else []
        raise EchemError(f"no audit records for sample {sample!r} under {base}; run the workflow first"
                         + (f" (samples with results: {', '.join(known)})" if known else ""))
    records = []
    for stage in STAGE_ORDER:
        for path in sorted((base / stage).glob("*.json")):
            rec = json.loads(path.read_text(encoding="utf-8"))
            rec["_path"] = str(path)
            records.append(rec)
    return records


def _short(value: Any, width: int = 110) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 3] + "..."


def _files(rec) -> list[tuple[str, str]]:
    files, shas = rec.get("file"), rec.get("input_sha256")
    if isinstance(files, list):
        return list(zip(files, shas or [None] * len(files)))
    return [(files, shas)]


def _num(value: Any) -> str:
    """A number without an error: 6 significant digits; anything else as it is."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _numbers(rec) -> list[str]:
    """The fit's numbers, each value rounded to its error's significant digits
    (:func:`echem.report.numbers.fmt_pm`), units as people write them."""
    from echem.report.numbers import display_unit, error_column, fmt_pm, fmt_si

    result = rec.get("result", {})
    lines = []
    if "params" in result:  # EIS
        for p in result["params"]:
            err = p.get("stderr") if isinstance(p.get("stderr"), (int, float)) else None
            unit = p.get("unit") or ""
            text = fmt_si(p["value"], err, unit) if unit == "Ohm" else fmt_pm(p["value"], err, display_unit(unit))
            lines.append(f"{p['param']} = {text}" + ("" if err is not None else " (no standard error)"))
        rs = result.get("series_resistance") or {}
        rs_text = (fmt_si(rs["value_ohm"], rs.get("err_ohm"), "Ohm") if rs.get("value_ohm") is not None
                   else f"unknown, <= {_num(rs.get('bound_ohm'))} Ω")
        lines.append(f"chi2 = {_num(result.get('chi2'))}, kk_ok = {result.get('kk_ok')}, "
                     f"Rs = {rs_text} ({rs.get('source')})")
    elif "rows" in result:  # LSV
        for r in result["rows"]:
            eta = (fmt_pm(r["eta_mV"], r.get("eta_err_mV"), "mV") if r.get("eta_mV") is not None
                   else "not reached")
            lines.append(f"eta@{r['target_mA_cm2']:g} mA/cm2 = {eta} "
                         f"(reached {r['reached']}, Ru {_num(r['ru_ohm'])} Ω, f {_num(r['ir_fraction'])})"
                         + (f" [flags: {r['flags']}]" if r.get("flags") else ""))
    else:
        errors = {error_column(k) for k in result if error_column(k)}
        for key, value in result.items():
            if error_column(key) or key == "sample":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                err_key = next((k for k in result if error_column(k) == key), None)
                if key in errors and err_key is not None:
                    lines.append(f"{key} = {fmt_pm(value, result.get(err_key))}")
                else:
                    lines.append(f"{key} = {_num(value)}")
            elif isinstance(value, (str, bool)) or value is None:
                lines.append(f"{key} = {value}")
    return lines


def _used(value: Any) -> str:
    """A metadata entry: ``value (source)`` for the (value, source) pairs the stages record."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str) and value[1]:
        return f"{_num(value[0]) if isinstance(value[0], float) else _short(value[0], 90)}  ({value[1]})"
    return _num(value) if isinstance(value, float) else _short(value)


def format_sample_audit(results_dir: Path, sample: str) -> str:
    records = load_records(Path(results_dir), sample)
    out = [f"audit of sample {sample} ({len(records)} fits)", ""]
    for rec in records:
        out.append(f"[{rec['stage']}] {Path(rec['_path']).name}")
        for file, sha in _files(rec):
            out.append(f"  file     {file}  sha256 {sha}")
        for line in _numbers(rec):
            out.append(f"  number   {line}")
        for key, value in (rec.get("metadata") or {}).items():
            out.append(f"  used     {key}: {_used(value)}")
        out.append(f"  settings {_short(rec.get('settings'))}")
        method = rec.get("method") or {}
        for key in ("criterion", "window", "initial_guess", "guess", "bounds", "weighting", "sweep", "circuit"):
            if key in method:
                out.append(f"  method   {key}: {_short(method[key])}")
        out.append(f"  versions {_short(rec.get('versions'))}")
        out.append(f"  record   {rec['_path']}")
        out.append("")
    return "\n".join(out)
