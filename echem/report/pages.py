"""The HTML report of a workflow run: one folder of static pages, offline, no JavaScript.

``build(results_dir)`` reads what the workflow wrote (``tables/*.parquet`` or ``.csv``,
``samples/<sample>/{ingest.json, manifest.csv, figures/**, audit/**}``,
``figures/<series>/<group>/``) and writes ``<results_dir>/report/``:

* ``index.html``: the run in numbers (samples, errors, warnings, flagged numbers), then every
  sample's key numbers side by side, grouped by series (η at each target, Tafel slope, Cdl,
  ECSA, specific activity, Rs and Rct, Ea and σ at the reference temperature, stability),
  each value rounded to its error, flagged values marked with their codes;
* ``samples/<sample>.html``: metadata and where each value came from, every number of the
  sample, its warnings and errors, its figures with captions that state the numbers, its fit
  records (audit JSON, rendered) and its files;
* ``series/<series>.html``: the series' comparative figures and numbers;
* ``warnings.html`` (every warning and error row), ``outputs.html`` (the output contract);
* ``figures/`` and ``tables/``: the figures and CSVs the pages show (hard links where the
  file system allows, else copies), so the folder can be zipped and sent as it is.

The folder is written beside and then swapped in for the old one: a reader never sees half
a report. A pure function of the results folder: the workflow calls it in one rule, a test
calls it directly.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from echem.report.numbers import display_unit, fmt_pm, fmt_si

#: Stages in the order a sample page shows them.
STAGES = ("lsv", "tafel", "ecsa", "eis", "arrhenius", "stability")
STAGE_TITLES = {"ingest": "Files", "lsv": "Polarisation curves", "tafel": "Tafel plots",
                "ecsa": "Double-layer capacitance and ECSA", "eis": "Impedance", "arrhenius": "Arrhenius",
                "stability": "Stability"}
TABLE_NAMES = ("overpotentials", "tafel", "ecsa", "eis", "drt_peaks", "conductivity", "arrhenius", "stability",
               "stability_lsv_shift", "errors", "warnings", "eis_circuits")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fff}
header{background:#0b3954;color:#fff;padding:10px 24px}header a{color:#cfe8ff}
header h1{font-size:20px;margin:4px 0}main{padding:12px 24px 40px}
nav.crumbs{font-size:13px;margin:2px 0 6px}
h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:28px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d8d8d8;padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f3f5f7;font-weight:600}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.series th{background:#e4edf4;text-align:left;font-size:14px}
table.key td:first-child{white-space:nowrap}
.flagged{background:#fff4d6}
.flag{display:inline-block;font:11px/1.3 ui-monospace,Menlo,Consolas,monospace;background:#ffe2a8;
 border:1px solid #e0b64f;border-radius:3px;padding:0 4px;margin:1px 2px 1px 0;white-space:nowrap}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:baseline}
.muted{color:#666}.small{font-size:12px}.err{color:#9b1c1c}
.stats span{display:inline-block;margin-right:18px}
figure{display:inline-block;margin:8px 16px 14px 0;vertical-align:top;max-width:100%}
figure img{max-width:100%;border:1px solid #e3e3e3}
figure.wide img{max-width:min(100%,1100px)}figure.narrow img{max-width:min(100%,560px)}
figcaption{font-size:12.5px;color:#333;max-width:760px}
details{margin:6px 0;border:1px solid #e3e3e3;border-radius:4px;padding:4px 8px}
details>summary{cursor:pointer;font-weight:600}
dl.rec{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:6px 0}
dl.rec dt{font-weight:600;color:#444}dl.rec dd{margin:0}
pre{background:#f7f7f7;padding:6px 8px;overflow:auto;font-size:12px;max-height:420px}
code{font-size:12.5px}
.legend-note{font-size:12.5px;color:#444;margin:4px 0 10px}
"""


# ----------------------------------------------------------------------------- reading


def _read_table(results_dir: Path, name: str):
    """A collected table at full precision (Parquet; else the CSV); empty frame if absent."""
    import pandas as pd

    base = results_dir / "tables" / name
    try:
        if base.with_suffix(".parquet").is_file():
            return pd.read_parquet(base.with_suffix(".parquet"))
        if base.with_suffix(".csv").is_file():
            return pd.read_csv(base.with_suffix(".csv"))
    except Exception:  # noqa: BLE001 - a damaged table must not cost the report
        pass
    return pd.DataFrame()


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _samples(results_dir: Path, tables: dict) -> dict[str, dict]:
    """sample -> ingest record (metadata, files), for every sample folder and table row."""
    out: dict[str, dict] = {}
    base = results_dir / "samples"
    if base.is_dir():
        for d in sorted(base.iterdir()):
            if d.is_dir():
                out[d.name] = _json(d / "ingest.json")
    for name, df in tables.items():
        if name in ("errors",) or df.empty or "sample" not in df.columns:
            continue
        for s in df["sample"].dropna().astype(str):
            if s and s != "all":
                out.setdefault(s, {})
    return out


def _series_of(sample: str, ingest: dict) -> str:
    from echem.names import default_series

    series = ((ingest or {}).get("metadata") or {}).get("series")
    return str(series) if series else default_series(sample)


#: Rows of each table grouped by sample, built once per table and build (id of the frame).
_GROUPS: dict[int, dict[str, list[dict]]] = {}


def _rows(df, sample: str) -> list[dict]:
    """The table's rows of one sample (grouped once: a thousand samples stay linear)."""
    if df is None:
        return []
    groups = _GROUPS.get(id(df))
    if groups is None:
        if df.empty or "sample" not in df.columns:
            return []
        groups = defaultdict(list)
        for r in df.to_dict("records"):
            groups[str(r["sample"])].append(r)
        _GROUPS[id(df)] = groups
    return groups.get(sample, [])


def _isnum(x) -> bool:
    try:
        return x is not None and not isinstance(x, bool) and float(x) == float(x)
    except (TypeError, ValueError):
        return False


def _codes(cell) -> list[str]:
    from echem.flags import split

    return split(cell)


# ----------------------------------------------------------------------------- html helpers


_HTML_SPECIAL = re.compile(r"[&<>\"']")


def esc(x: Any) -> str:
    """``x`` as HTML text (``html.escape`` with quotes); text without a special character as it is."""
    text = "" if x is None else str(x)
    return html.escape(text, quote=True) if _HTML_SPECIAL.search(text) else text


def _flag_badges(codes: Iterable[str], link: str | None = None) -> str:
    from echem.flags import FLAGS

    out = []
    for c in codes:
        title = esc(FLAGS.get(c, ""))
        badge = f'<span class="flag" title="{title}">{esc(c)}</span>'
        out.append(f'<a href="{esc(link)}">{badge}</a>' if link else badge)
    return "".join(out)


def _cell(value_html: str, codes: list[str] | None = None, link: str | None = None) -> str:
    codes = codes or []
    if not value_html and not codes:
        return '<td class="num muted">–</td>'
    cls = "num flagged" if codes else "num"
    flag_html = f"<br>{_flag_badges(codes, link)}" if codes else ""
    return f'<td class="{cls}">{value_html}{flag_html}</td>'


def _pm(value, err=None, unit: str = "") -> str:
    if not _isnum(value):
        return ""
    text = fmt_pm(float(value), float(err) if _isnum(err) else None, unit, style="html")
    return text.replace("s^n", "s<sup>n</sup>")


def _page(title: str, body: str, depth: int, subtitle: str = "") -> str:
    up = "../" * depth
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{esc(title)}</title>"
        f"<link rel=\"stylesheet\" href=\"{up}style.css\"></head><body>"
        f"<header><h1>{esc(title)}</h1>{subtitle}</header><main>{body}</main></body></html>\n"
    )


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ----------------------------------------------------------------------------- key numbers


class _Key:
    """The key numbers of every sample, as HTML cells."""

    def __init__(self, tables: dict):
        import pandas as pd

        self.t = tables
        over = tables.get("overpotentials", pd.DataFrame())
        self.targets = (sorted({float(x) for x in over["target_mA_cm2"].dropna()})
                        if not over.empty and "target_mA_cm2" in over.columns else [])
        self.has = {name: not tables.get(name, pd.DataFrame()).empty for name in TABLE_NAMES}

    def columns(self) -> list[tuple[str, str]]:
        cols = [(f"eta{t:g}", f"η<sub>{t:g}</sub> / mV") for t in self.targets]
        if self.has["tafel"]:
            cols.append(("tafel", "Tafel slope / mV dec<sup>−1</sup>"))
        if self.has["ecsa"]:
            cols += [("cdl", "C<sub>dl</sub> / mF"), ("ecsa", "ECSA / cm<sup>2</sup>"),
                     ("sa", "SA / mA cm<sup>−2</sup><sub>ECSA</sub>")]
        if self.has["eis"]:
            cols += [("rs", "R<sub>s</sub>"), ("rct", "R<sub>ct</sub> (R1)")]
        if self.has["arrhenius"]:
            cols += [("ea", "E<sub>a</sub> / eV"), ("sigma", "σ(T<sub>ref</sub>) / S cm<sup>−1</sup>")]
        if self.has["stability"]:
            cols.append(("drift", "drift / mV h<sup>−1</sup>"))
        if self.has["stability_lsv_shift"]:
            cols.append(("shift", "Δη / mV"))
        return cols

    #: Row flags that concern another number of the row than the cell's (σ_ref's extrapolation
    #: is no doubt about Ea; SA's and the iR correction's doubts none about Cdl and ECSA).
    NOT_ABOUT = {"ea": {"extrapolated"},
                 "cdl": {"capacitive_dominated", "sa_not_reached", "no_ir", "ru_bound_only", "ru_extrapolated",
                         "ru_ambiguous", "ir_dominant"}}
    NOT_ABOUT["ecsa"] = NOT_ABOUT["cdl"]

    @staticmethod
    def _lines(items: list[tuple[str, list[str], str]], link: str) -> str:
        """One cell from several (value_html, codes, label) lines (several files or runs)."""
        items = [i for i in items if i[0] or i[1]]
        if not items:
            return _cell("")
        codes = sorted({c for _, cs, _ in items for c in cs})
        if len(items) == 1:
            v, cs, label = items[0]
            return _cell(v + (f' <span class="muted small">{esc(label)}</span>' if label else ""), cs, link)
        text = "<br>".join(f'{v} <span class="muted small">{esc(label)}</span>' for v, _, label in items)
        return _cell(text, codes, link)

    def cells(self, sample: str, link: str, sa_eta: dict) -> dict[str, str]:
        t = self.t
        out = {}
        over = _rows(t.get("overpotentials"), sample)
        files = sorted({r["file"] for r in over})
        for target in self.targets:
            items = []
            for r in over:
                if _isnum(r.get("target_mA_cm2")) and float(r["target_mA_cm2"]) == target:
                    reached = str(r.get("reached")).lower() == "true"
                    value = _pm(r.get("eta_mV"), r.get("eta_err_mV")) if reached else "not reached"
                    items.append((value, _codes(r.get("flags")), r["file"] if len(files) > 1 else ""))
            out[f"eta{target:g}"] = self._lines(items, link)
        taf = _rows(t.get("tafel"), sample)
        out["tafel"] = self._lines([(_pm(r.get("slope_mV_dec"), r.get("slope_err_mV_dec")), _codes(r.get("flags")),
                                     r["file"] if len(taf) > 1 else "") for r in taf], link)
        ecsa = _rows(t.get("ecsa"), sample)
        if ecsa:
            r = ecsa[0]
            codes = _codes(r.get("flags"))
            plain = [c for c in codes if c not in self.NOT_ABOUT["cdl"]]
            out["cdl"] = _cell(_pm(r.get("cdl_mF"), r.get("cdl_err_mF")), plain, link)
            out["ecsa"] = _cell(_pm(r.get("ecsa_cm2")), plain, link)
            sa = _pm(r.get("sa_mA_cm2"), r.get("sa_err_mA_cm2"))
            if sa and _isnum(r.get("sa_eta_mV")):
                sa_eta[sample] = float(r["sa_eta_mV"])
                sa += f' <span class="muted small">at {float(r["sa_eta_mV"]):g} mV</span>'
            out["sa"] = _cell(sa, codes, link)
        eis = _rows(t.get("eis"), sample)
        cond = _rows(t.get("conductivity"), sample)
        if eis and not cond:  # catalysts: Rs and Rct of each spectrum (films: per temperature, on their page)
            spectra = sorted({r["file"] for r in eis})
            rs, rct = [], []
            for f in spectra[:3]:
                rows = {r["param"]: r for r in eis if r["file"] == f}
                label = f if len(spectra) > 1 else ""
                for key, names, bucket in (("rs", ("R0", "Rs_hf"), rs), ("rct", ("R1",), rct)):
                    r = next((rows[n] for n in names if n in rows), None)
                    if r is not None:
                        text = fmt_si(float(r["value"]), float(r["stderr"]) if _isnum(r.get("stderr")) else None,
                                      "Ohm", style="html")
                        bucket.append((text, _codes(r.get("flags")), label))
            if len(spectra) > 3:
                rct.append((f"+{len(spectra) - 3} spectra", [], ""))
            out["rs"], out["rct"] = self._lines(rs, link), self._lines(rct, link)
        arr = _rows(t.get("arrhenius"), sample)
        order = {"heating": 0, "single": 1, "cooling": 2}
        arr = sorted(arr, key=lambda r: order.get(str(r.get("run")), 9))
        labels = [str(r.get("run")) if len(arr) > 1 else "" for r in arr]
        out["ea"] = self._lines([(_pm(r.get("Ea_eV"), r.get("Ea_err_eV")),
                                  [c for c in _codes(r.get("flags")) if c not in self.NOT_ABOUT["ea"]], lab)
                                 for r, lab in zip(arr, labels)], link)
        out["sigma"] = self._lines([(_pm(r.get("sigma_ref_S_cm")) + (
            f' <span class="muted small">at {float(r["ref_T_C"]):g} °C</span>' if _isnum(r.get("ref_T_C")) else ""),
            _codes(r.get("flags")), lab) for r, lab in zip(arr, labels)], link)
        stab = _rows(t.get("stability"), sample)
        out["drift"] = self._lines([(_pm(r.get("drift_mV_h"), r.get("drift_err_mV_h"))
                                     + (f' <span class="muted small">({esc(r.get("mode"))})</span>'
                                        if r.get("mode") else ""), _codes(r.get("flags")), "") for r in stab], link)
        shift = _rows(t.get("stability_lsv_shift"), sample)
        out["shift"] = self._lines([(_pm(r.get("delta_eta_mV"), r.get("delta_eta_err_mV")), _codes(r.get("flags")),
                                     f"at {float(r['target_mA_cm2']):g} mA/cm²" if _isnum(r.get("target_mA_cm2"))
                                     else "") for r in shift], link)
        return out


# ----------------------------------------------------------------------------- full tables


def _format_rows(df, rows: list[dict], link: str | None = None) -> str:
    """Rows of a results table, values merged with their errors, flags as badges."""
    from echem.report.numbers import error_column

    if not rows:
        return ""
    cols = [c for c in df.columns if c != "sample"]
    errs = {error_column(c): c for c in cols if error_column(c) in cols}
    shown = [c for c in cols if c not in errs.values()]
    body = []
    for r in rows:
        cells = []
        for c in shown:
            v = r.get(c)
            if c == "flags":
                cells.append(f"<td>{_flag_badges(_codes(v), link)}</td>")
            elif c in errs:
                unit = display_unit(r.get("unit")) if c == "value" else ""
                if c == "value" and r.get("unit") == "Ohm" and _isnum(v):
                    text = fmt_si(float(v), float(r[errs[c]]) if _isnum(r.get(errs[c])) else None, "Ohm",
                                  style="html")
                else:
                    text = _pm(v, r.get(errs[c]), unit)
                cells.append(f'<td class="num">{text}</td>')
            elif c == "unit":
                cells.append(f"<td>{esc(display_unit(v))}</td>")
            elif _isnum(v) and not isinstance(v, (int,)) and c not in ("n_points",):
                cells.append(f'<td class="num">{_pm(v)}</td>')
            else:
                cells.append(f"<td>{esc('' if v is None or (isinstance(v, float) and v != v) else v)}</td>")
        body.append(cells)
    heads = [esc(c if c not in errs else f"{c} ± {errs[c]}") for c in shown]
    return _table(heads, body)


# ----------------------------------------------------------------------------- audit records


_UNIT_KEYS = ("unit", "units")


def _render_value(v: Any, depth: int = 0, key: str = "") -> str:
    """A JSON value as readable HTML: dicts as definition lists, lists of dicts as tables,
    long lists cut with a count; numbers to 6 significant digits; units as people write
    them (``Ohm^-1 sec^a`` -> ``S·s^n``)."""
    if key in _UNIT_KEYS:
        if isinstance(v, str):
            return esc(display_unit(v))
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return esc("[" + ", ".join(display_unit(x) for x in v) + "]")
    if isinstance(v, dict):
        if not v:
            return '<span class="muted">{}</span>'
        if depth >= 4:
            return f"<code>{esc(json.dumps(v, default=str)[:300])}</code>"
        items = "".join(f"<dt>{esc(k)}</dt><dd>{_render_value(x, depth + 1, k)}</dd>" for k, x in v.items())
        return f'<dl class="rec">{items}</dl>'
    if isinstance(v, list):
        if not v:
            return '<span class="muted">[]</span>'
        if all(isinstance(x, dict) for x in v) and depth < 4:
            keys = list(dict.fromkeys(k for x in v[:50] for k in x))
            if len(keys) <= 12:
                rows = [[f"<td>{_render_value(x.get(k), 5, k)}</td>" for k in keys] for x in v[:50]]
                more = f'<div class="muted small">… {len(v) - 50} more</div>' if len(v) > 50 else ""
                return _table([esc(k) for k in keys], rows, "small") + more
        if all(not isinstance(x, (dict, list)) for x in v):
            shown = ", ".join(_scalar(x) for x in v[:12])
            return f"[{shown}{f', … ({len(v)} items)' if len(v) > 12 else ''}]"
        return "<ol>" + "".join(f"<li>{_render_value(x, depth + 1)}</li>" for x in v[:20]) + "</ol>" + (
            f'<div class="muted small">… {len(v) - 20} more</div>' if len(v) > 20 else "")
    return _scalar(v)


def _scalar(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return f"<code>{esc(json.dumps(x))}</code>"
    if isinstance(x, float):
        return f"{x:.6g}"  # digits, sign, point, e, inf, nan: nothing to escape
    if isinstance(x, int):
        return str(x)
    text = str(x)
    return esc(text if len(text) <= 400 else text[:400] + "…")


def _record_numbers(rec: dict) -> str:
    """The numbers of one fit, rounded to their errors (the audit's ``result``)."""
    res = rec.get("result") or {}
    lines = []
    if isinstance(res.get("params"), list):  # EIS
        for p in res["params"]:
            unit = p.get("unit") or ""
            err = p.get("stderr") if _isnum(p.get("stderr")) else None
            text = (fmt_si(p["value"], err, unit, style="html") if unit == "Ohm"
                    else fmt_pm(p["value"], err, display_unit(unit), style="html"))
            lines.append(f"{esc(p['param'])} = {text}")
        rs = res.get("series_resistance") or {}
        if rs:
            if _isnum(rs.get("value_ohm")):
                lines.append(f"Rs = {fmt_si(rs['value_ohm'], rs.get('err_ohm'), 'Ohm', style='html')} "
                             f"({esc(rs.get('source'))})")
            else:
                lines.append(f"Rs unknown ({esc(rs.get('source'))})")
        lines.append(f"χ² = {_scalar(res.get('chi2'))}, Lin-KK {'passed' if res.get('kk_ok') else 'FAILED'}")
    elif isinstance(res.get("rows"), list):  # LSV
        for r in res["rows"]:
            eta = (_pm(r.get("eta_mV"), r.get("eta_err_mV"), "mV") if r.get("reached") else "not reached")
            lines.append(f"η at {r.get('target_mA_cm2')} mA cm<sup>−2</sup> = {eta}"
                         + (f" {_flag_badges(_codes(r.get('flags')))}" if r.get("flags") else ""))
    else:
        keys = [k for k in res if not k.endswith("_err") and "_err_" not in k]
        from echem.report.numbers import error_column

        errs = {error_column(k): k for k in res if error_column(k)}
        for k in keys:
            v = res[k]
            if k in ("sample", "flag_messages", "warnings", "excluded", "audit"):
                continue
            if _isnum(v):
                lines.append(f"{esc(k)} = {_pm(v, res.get(errs.get(k, ''), None))}")
            elif isinstance(v, (str, bool)) and v != "":
                lines.append(f"{esc(k)} = {esc(v)}")
    return "<br>".join(lines)


def _audit_section(records: list[tuple[Path, dict, str]]) -> str:
    """The fit records, each a collapsed block: numbers, files, metadata with sources,
    settings, method and versions rendered; ``link``: the record's JSON in the report."""
    if not records:
        return '<p class="muted">No fit records.</p>'
    out = []
    for path, rec, link in records:
        files = rec.get("file")
        shas = rec.get("input_sha256")
        if not isinstance(files, list):
            files, shas = [files], [shas]
        file_rows = "".join(f"<tr><td>{esc(f)}</td><td><code>{esc(s)}</code></td></tr>"
                            for f, s in zip(files, shas or [None] * len(files)))
        meta = rec.get("metadata") or {}
        meta_rows = []
        for k, v in meta.items():
            if isinstance(v, list) and len(v) == 2 and isinstance(v[1], str):  # (value, source)
                meta_rows.append([f"<td>{esc(k)}</td>", f"<td>{_render_value(v[0], 3)}</td>",
                                  f"<td class='muted'>{esc(v[1])}</td>"])
            else:
                meta_rows.append([f"<td>{esc(k)}</td>", f"<td>{_render_value(v, 3)}</td>", "<td></td>"])
        label = ", ".join(str(f) for f in files[:3]) + (f" + {len(files) - 3}" if len(files) > 3 else "")
        circuit = (rec.get("method") or {}).get("circuit")
        out.append(
            f'<details><summary>[{esc(rec.get("stage"))}] {esc(label)}'
            f'{" — " + esc(circuit) if isinstance(circuit, str) else ""}</summary>'
            f"<h4>Numbers</h4><p>{_record_numbers(rec)}</p>"
            f"<h4>Input files</h4><table><tr><th>file</th><th>sha256</th></tr>{file_rows}</table>"
            f"<h4>Metadata used and where it came from</h4>"
            + _table(["key", "value", "source"], meta_rows)
            + f"<h4>Settings</h4>{_render_value(rec.get('settings') or {})}"
            f"<h4>Method</h4>{_render_value(rec.get('method') or {})}"
            f"<h4>Versions</h4>{_render_value(rec.get('versions') or {})}"
            f'<p class="small muted">record: <code>{esc(path.name)}</code>, created {esc(rec.get("created"))}</p>'
            f'<p class="small"><a href="{esc(link)}">the record as JSON</a></p></details>')
    return "".join(out)


# ----------------------------------------------------------------------------- figures


def _safe_stem(name: str) -> str:
    """The stem the workflow gives a file's figures and records (:func:`echem.audit.safe_name`)."""
    from echem.audit import safe_name

    return safe_name(str(name))


def _figure_file(fig_stem: str, files: Iterable[str]) -> str | None:
    """The data file a per-sample figure was drawn from (figures are named after it)."""
    for f in files:
        if Path(_safe_stem(f)).with_suffix("").name == fig_stem or _safe_stem(f) == fig_stem:
            return f
    return None


def _sample_caption(stage: str, stem: str, sample: str, tables: dict) -> str:
    t = tables
    if stage == "lsv":
        rows = _rows(t.get("overpotentials"), sample)
        f = _figure_file(stem, [r["file"] for r in rows])
        rows = [r for r in rows if r["file"] == f]
        nums = ", ".join(f"η<sub>{float(r['target_mA_cm2']):g}</sub> = {_pm(r.get('eta_mV'), r.get('eta_err_mV'), 'mV')}"
                         if str(r.get("reached")).lower() == "true" else
                         f"{float(r['target_mA_cm2']):g} mA cm<sup>−2</sup> not reached" for r in rows)
        ru = rows[0].get("ru_ohm") if rows else None
        return (f"Polarisation curve {esc(f or stem)}, iR-corrected on the RHE scale"
                + (f" (Ru = {_pm(ru)} Ω, fraction {_pm(rows[0].get('ir_fraction'))})" if _isnum(ru) else "")
                + (f": {nums}" if nums else "") + ". Dashed: the target current densities.")
    if stage == "tafel":
        rows = _rows(t.get("tafel"), sample)
        f = _figure_file(stem, [r["file"] for r in rows])
        r = next((r for r in rows if r["file"] == f), None)
        if r:
            return (f"Tafel plot of {esc(f)}: slope {_pm(r['slope_mV_dec'], r.get('slope_err_mV_dec'), 'mV/dec')} "
                    f"in the window η = {float(r['eta_lo_mV']):.0f}–{float(r['eta_hi_mV']):.0f} mV (shaded), "
                    f"R² = {float(r['r2']):.5f}, j<sub>0</sub> = {_pm(r.get('j0_mA_cm2'))} mA cm<sup>−2</sup>.")
        return "Tafel plot with the fitted window."
    if stage == "ecsa":
        r = next(iter(_rows(t.get("ecsa"), sample)), None)
        if stem.startswith("cdl") and r:
            return (f"Charging current (i<sub>a</sub> − i<sub>c</sub>)/2 against scan rate: C<sub>dl</sub> = "
                    f"{_pm(r['cdl_mF'], r.get('cdl_err_mF'), 'mF')}, ECSA = {_pm(r.get('ecsa_cm2'))} cm<sup>2</sup> "
                    f"(C<sub>s</sub> = {_pm(r.get('cs_mF_cm2'))} mF cm<sup>−2</sup>), roughness factor "
                    f"{_pm(r.get('roughness_factor'))}. Open triangles: anodic and cathodic currents apart.")
        return "CVs of the scan-rate series in the non-faradaic window (slow: dark); dotted: where the " \
               "charging currents are read."
    if stage == "eis" and stem == "drt_temperatures":
        return ("Distribution of relaxation times of every spectrum against τ, coloured by temperature (γ scaled "
                "to each curve's largest value; triangles: the peaks within the measured frequencies): a process "
                "moves to shorter τ as it speeds up with temperature.")
    if stage == "eis" and stem.startswith("drt_"):
        rows = _rows(t.get("drt_peaks"), sample)
        f = _figure_file(stem[len("drt_"):], sorted({r["file"] for r in rows}))
        rows = sorted((r for r in rows if r["file"] == f), key=lambda r: float(r["peak"]))
        peaks = "; ".join(f"peak {int(float(r['peak']))}: τ = {float(r['tau_s']):.3g} s ({float(r['f_Hz']):.3g} Hz), R = "
                          + fmt_si(float(r["R_ohm"]), float(r["R_err_ohm"]) if _isnum(r.get("R_err_ohm")) else None,
                                   "Ohm", style="html")
                          + (f" {_flag_badges(_codes(r.get('flags')))}" if _codes(r.get("flags")) else "")
                          for r in rows)
        return (f"{esc(f or stem[len('drt_'):])}: distribution of relaxation times γ(τ) (Tikhonov-regularised, "
                "non-negative; band: ±1σ of the noise; grey: outside the measured frequencies) and the DRT model in "
                "the Nyquist plane" + (f". {peaks}." if peaks else ": no peak."))
    if stage == "eis":
        rows = _rows(t.get("eis"), sample)
        f = _figure_file(stem, sorted({r["file"] for r in rows}))
        rows = [r for r in rows if r["file"] == f]
        if rows:
            params = ", ".join(
                f"{esc(r['param'])} = " + (fmt_si(float(r['value']), float(r['stderr']) if _isnum(r.get('stderr'))
                                                  else None, 'Ohm', style='html') if r.get('unit') == 'Ohm'
                                           else _pm(r['value'], r.get('stderr'), display_unit(r.get('unit'))))
                for r in rows)
            kk = "passes" if str(rows[0].get("kk_ok")).lower() == "true" else "FAILS"
            return (f"{esc(f)}: Nyquist plot, relative residuals (fit and Lin-KK; grey band: the KK threshold), "
                    f"|Z| and phase. Circuit <code>{esc(rows[0]['circuit'])}</code>, χ² = "
                    f"{float(rows[0]['chi2']):.2g}, Lin-KK {kk}: {params}.")
        return "Nyquist, residuals and Bode plots with the fit."
    if stage == "arrhenius":
        rows = _rows(t.get("arrhenius"), sample)
        nums = "; ".join(f"{esc(r.get('run'))}: E<sub>a</sub> = {_pm(r['Ea_eV'], r.get('Ea_err_eV'), 'eV')}, "
                         f"σ({float(r['ref_T_C']):g} °C) = {_pm(r.get('sigma_ref_S_cm'), None, 'S/cm')}"
                         for r in rows)
        return f"Arrhenius plot (law {esc(rows[0]['law']) if rows else ''}), open markers: excluded points. {nums}."
    if stage == "stability":
        return "Stability run or before/after polarisation curves."
    return ""


# ----------------------------------------------------------------------------- copying


def _place(src: str | Path, dst: str | Path) -> None:
    """``src`` at ``dst``: a hard link where the file system allows, else a copy; placing the
    same file twice (a figure on a sample's and on its series' page) is a no-op. The link is
    tried first: a report of a thousand samples places thousands of files into new folders."""
    for _ in range(2):
        try:
            os.link(src, dst)
            return
        except FileExistsError:
            if os.path.samefile(src, dst):
                return
            os.unlink(dst)
        except FileNotFoundError:
            if not os.path.exists(src):
                raise
            os.makedirs(os.path.dirname(dst), exist_ok=True)
        except OSError:  # no hard links here (another file system): a copy
            break
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(src, dst)


# ----------------------------------------------------------------------------- build


def build(results_dir: str | Path, out_dir: str | Path | None = None, *, title: str = "echem report",
          contract_url: str | None = None) -> Path:
    """Write the HTML report of ``results_dir`` into ``out_dir`` (default
    ``<results_dir>/report``); returns the path of ``index.html``.

    Reads only what the workflow wrote; any part that is missing (no EIS, no figures,
    a sample whose stages failed) is left out of the pages, never an error.
    """
    from echem.flags import FLAGS
    from echem.plots.figure import colours_for, order_samples

    results_dir = Path(results_dir)
    out_dir = Path(out_dir) if out_dir is not None else results_dir / "report"
    _GROUPS.clear()
    tables = {name: _read_table(results_dir, name) for name in TABLE_NAMES}
    samples = _samples(results_dir, tables)
    series: dict[str, list[str]] = defaultdict(list)
    for s, ing in samples.items():
        series[_series_of(s, ing)].append(s)
    order = {s: float(o) for s, ing in samples.items()
             if isinstance(o := ((ing or {}).get("metadata") or {}).get("order"), (int, float))}
    series = {k: order_samples(v, order) for k, v in sorted(series.items())}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        (tmp / "style.css").write_text(CSS, encoding="utf-8")
        for name in TABLE_NAMES:
            src = results_dir / "tables" / f"{name}.csv"
            if src.is_file():
                _place(src, tmp / "tables" / src.name)
        key = _Key(tables)
        sa_eta: dict[str, float] = {}
        cells = {s: key.cells(s, f"samples/{_safe_stem(s)}.html#flags", sa_eta) for s in samples}
        _write_index(tmp, title, results_dir, series, samples, key, cells, tables)
        old_stamps = _read_stamps(out_dir)
        stamps = {}
        moved: list[tuple[str, str]] = []  # unchanged samples' folders taken over from out_dir
        for ser, members in series.items():
            colours = colours_for(members)
            _write_series(tmp, title, results_dir, ser, members, key, tables, colours, cells)
            for s in members:
                stamp = _stamp(results_dir, s, ser, tables, colours[s])
                stamps[s] = stamp
                if old_stamps.get(s) == stamp and _reuse(out_dir, tmp, s, moved):
                    continue  # nothing of the sample changed: its page and files are taken over
                _write_sample(tmp, title, results_dir, s, ser, samples[s], tables, colours[s], key)
        (tmp / STAMPS).write_text(json.dumps(stamps, indent=0, sort_keys=True), encoding="utf-8")
        _write_warnings(tmp, title, tables)
        _write_outputs(tmp, title)
        _ = FLAGS
        # swap the finished folder in for the old one
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        moved.clear()
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        _GROUPS.clear()
        if tmp.exists():
            _put_back(moved)
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / "index.html"


def _nav(depth: int, extra: str = "") -> str:
    up = "../" * depth
    return (f'<nav class="crumbs"><a href="{up}index.html">All samples</a> · <a href="{up}warnings.html">'
            f'Warnings and errors</a> · <a href="{up}outputs.html">Tables and columns</a>{extra}</nav>')


_EMPTY = '<td class="num muted">–</td>'


def _key_table(key: _Key, members: list[str], cells: dict[str, dict], prefix: str, tables: dict) -> str:
    """The key numbers of ``members``, one row each, with the columns any of them has; the
    sample's colour (as in its series' figures), error count and every flag of its rows."""
    from echem.plots.figure import colours_for

    colours = colours_for(members)

    cols = [(k, h) for k, h in key.columns() if any(cells[s].get(k, _EMPTY) != _EMPTY for s in members)]
    rows = []
    for sm in members:
        link = f"{prefix}{_safe_stem(sm)}.html"
        all_codes = sorted({code for name in TABLE_NAMES if name not in ("errors", "warnings", "eis_circuits")
                            for r in _rows(tables.get(name), sm) for code in _codes(r.get("flags"))})
        errs = len(_rows(tables.get("errors"), sm))
        sw = f'<span class="sw" style="background:{colours[sm]}"></span>'
        rows.append([f'<td>{sw}<a href="{link}">{esc(sm)}</a>'
                     + (f' <a class="err small" href="{link}#errors">{errs} error{"s" * (errs > 1)}</a>'
                        if errs else "") + "</td>"]
                    + [cells[sm].get(k, _EMPTY) for k, _ in cols]
                    + [f"<td>{_flag_badges(all_codes, link + '#flags')}</td>"])
    return _table(["sample"] + [h for _, h in cols] + ["flags"], rows, "key")


def _write_index(tmp, title, results_dir, series, samples, key, cells, tables):
    from echem.workflow.summary import summarise

    try:
        s = summarise(results_dir)
    except Exception:  # noqa: BLE001
        s = {"samples_analysed": len(samples), "errors": len(tables["errors"]), "warnings": len(tables["warnings"]),
             "flagged": {}, "codes": {}}
    n_flagged = sum(f for f, _ in s["flagged"].values())
    n_rows = sum(n for _, n in s["flagged"].values())
    stats = (f'<p class="stats"><span><b>{len(samples)}</b> samples in {len(series)} series</span>'
             f'<span><a href="warnings.html#errors"><b>{s["errors"]}</b> error rows</a></span>'
             f'<span><a href="warnings.html"><b>{s["warnings"]}</b> warnings</a></span>'
             f"<span><b>{n_flagged}</b> of {n_rows} table rows flagged</span></p>")
    if s.get("codes"):
        stats += "<p>Flags: " + " ".join(f'{_flag_badges([c])}×{n}' for c, n in s["codes"].items()) + "</p>"
    tables_html = []
    for ser, members in series.items():
        rows_cells = {sm: cells[sm] for sm in members}
        tables_html.append(
            f'<h3>Series <a href="series/{_safe_stem(ser)}.html">{esc(ser)}</a> <span class="muted small">'
            f"({len(members)} samples) · <a href=\"series/{_safe_stem(ser)}.html\">comparative figures</a></span></h3>"
            + _key_table(key, members, rows_cells, "samples/", tables))
    table = "".join(tables_html)
    links = " · ".join(f'<a href="tables/{n}.csv">{n}.csv</a>' for n in TABLE_NAMES
                       if (results_dir / "tables" / f"{n}.csv").is_file())
    body = (
        _nav(0) + stats
        + "<h2>Key numbers</h2>"
        '<p class="legend-note">Values ± standard error, rounded to the error\'s significant digits. A shaded '
        "cell carries flags (hover a code for its meaning; click for the sample's warnings). η: magnitude of the "
        "iR-corrected overpotential at the target current density; SA: specific activity (current per ECSA) at "
        "the overpotential named; R<sub>s</sub>, R<sub>ct</sub>: R0 and R1 of the sample's EIS fit; E<sub>a</sub> "
        "and σ at the reference temperature per run. Click a sample for its figures, warnings and fit records, "
        "a series for its comparative figures.</p>"
        + table
        + f"<h2>Tables</h2><p>{links or 'none'} (Parquet with full precision beside each CSV in "
        f"<code>{esc(results_dir / 'tables')}</code>; every column explained in "
        '<a href="outputs.html">Tables and columns</a>).</p>'
    )
    sub = (f'<div class="small">{esc(results_dir.resolve())} · written '
           f'{datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}</div>')
    (tmp / "index.html").write_text(_page(title, body, 0, sub), encoding="utf-8")


def _series_figures(results_dir: Path, ser: str) -> list[Path]:
    from echem.plots.compare import KINDS

    base = results_dir / "figures" / ser  # one folder per figure group (echem.plots.compare.FIGURE_GROUPS)
    found = sorted(base.rglob("*.png")) if base.is_dir() else []
    rank = {f"{ser}_{k}": i for i, k in enumerate(KINDS)}
    return sorted(found, key=lambda p: (rank.get(p.stem, 99), p.name))


def _write_series(tmp, title, results_dir, ser, members, key, tables, colours, cells):
    from echem.plots.compare import CAPTIONS, MAX_SAMPLES_PER_FIGURE

    figs = []
    for png in _series_figures(results_dir, ser):
        rel = Path("figures") / "series" / _safe_stem(ser) / png.name
        _place(png, tmp / rel)
        svg = png.with_suffix(".svg")
        svg_link = ""
        if svg.is_file():
            _place(svg, tmp / rel.with_suffix(".svg"))
            svg_link = f' (<a href="../{rel.with_suffix(".svg").as_posix()}">SVG</a>)'
        kind = png.stem[len(ser) + 1:] if png.stem.startswith(ser + "_") else png.stem
        cls = "wide" if kind in ("nyquist", "bode", "arrhenius", "eta_tafel_summary") else "narrow"
        figs.append(f'<figure class="{cls}"><a href="../{rel.as_posix()}"><img src="../{rel.as_posix()}" '
                    f'alt="{esc(png.stem)}"></a><figcaption><b>{esc(kind)}</b>: {esc(CAPTIONS.get(kind, ""))}'
                    f"{svg_link}</figcaption></figure>")
    note = ""
    if len(members) > MAX_SAMPLES_PER_FIGURE:
        note = (f'<p class="err">The figures show the first {MAX_SAMPLES_PER_FIGURE} of the {len(members)} '
                "samples (in the series' order); the table below has all of them.</p>")
    legend = " ".join(f'<span class="sw" style="background:{colours[s]}"></span>'
                      f'<a href="../samples/{_safe_stem(s)}.html">{esc(s)}</a>&nbsp;&nbsp;' for s in members)
    # the index's cells (key.cells), their links one folder up
    up = {s: {k: v.replace('href="samples/', 'href="../samples/') for k, v in cells[s].items()} for s in members}
    key_html = _key_table(key, members, up, "../samples/", tables)
    body = (_nav(1) + f"<p>Samples (in the figures' order and colours): {legend}</p>" + note
            + "<h2>Comparative figures</h2>" + ("".join(figs) or '<p class="muted">No comparative figures.</p>')
            + "<h2>Key numbers</h2>" + key_html + _series_drt(tmp, results_dir, ser, members, tables))
    (tmp / "series").mkdir(exist_ok=True)
    (tmp / "series" / f"{_safe_stem(ser)}.html").write_text(
        _page(f"{title}: series {ser}", body, 1), encoding="utf-8")


def _series_drt(tmp, results_dir: Path, ser: str, members, tables) -> str:
    """The series' distributions of relaxation times: each member's DRT-by-temperature figure
    (temperature series) and the DRT peaks of every member's spectra."""
    figs = []
    for s in members:
        png = results_dir / "samples" / s / "figures" / "eis" / "drt_temperatures.png"
        if png.is_file():
            rel = Path("figures") / "series" / _safe_stem(ser) / f"drt_temperatures_{_safe_stem(s)}.png"
            _place(png, tmp / rel)
            figs.append(f'<figure class="narrow"><a href="../{rel.as_posix()}"><img src="../{rel.as_posix()}" '
                        f'alt="{esc(s)} DRT"></a><figcaption><b>{esc(s)}</b>: '
                        f'{_sample_caption("eis", "drt_temperatures", s, tables)}</figcaption></figure>')
    df = tables.get("drt_peaks")
    rows = [r for s in members for r in _rows(df, s)]
    if not figs and not rows:
        return ""
    out = ["<h2>Distribution of relaxation times</h2>"]
    out += figs
    if rows:
        out.append('<h3>DRT peaks <a class="small" href="../tables/drt_peaks.csv">(csv)</a></h3>'
                   + _format_rows(df, rows, "#flags"))
    return "".join(out)


def _write_sample(tmp, title, results_dir, sample, ser, ingest, tables, colour, key):
    base = results_dir / "samples" / sample
    meta = (ingest or {}).get("metadata") or {}
    sources = (ingest or {}).get("metadata_sources") or {}
    meta_rows = [[f"<td>{esc(k)}</td>", f"<td>{_render_value(v, 3)}</td>",
                  f'<td class="muted">{esc(sources.get(k, ""))}</td>']
                 for k, v in meta.items() if v not in (None, {}, [], "") or k in ("series",)]
    parts = [_nav(1, f' · series <a href="../series/{_safe_stem(ser)}.html">{esc(ser)}</a>')]
    if ingest.get("metadata_error"):
        parts.append(f'<p class="err">sample.yaml: {esc(ingest["metadata_error"])}</p>')
    parts.append(f'<p><span class="sw" style="background:{colour}"></span>series <b>{esc(ser)}</b>'
                 + (f" · {esc(ingest.get('sample_yaml'))}" if ingest.get("sample_yaml") else "") + "</p>")
    # key numbers, then every row of every table
    cols = key.columns()
    c = key.cells(sample, "#flags", {})
    present = [(k, h) for k, h in cols if "muted\">–" not in c.get(k, '<td class="num muted">–</td>')]
    if present:
        parts.append("<h2>Key numbers</h2>" + _table([h for _, h in present], [[c[k] for k, _ in present]], "key"))
    numbers = []
    for name in ("overpotentials", "tafel", "ecsa", "eis", "drt_peaks", "conductivity", "arrhenius", "stability",
                 "stability_lsv_shift"):
        df = tables.get(name)
        rows = _rows(df, sample)
        if rows:
            numbers.append(f'<h3>{esc(name)} <a class="small" href="../tables/{name}.csv">(csv)</a></h3>'
                           + _format_rows(df, rows, "#flags"))
    if numbers:
        parts.append("<h2>All numbers</h2>" + "".join(numbers))
    # warnings and errors
    warn = _rows(tables.get("warnings"), sample)
    errs = _rows(tables.get("errors"), sample)
    from echem.flags import FLAGS

    codes = sorted({r.get("flag") for r in warn if isinstance(r.get("flag"), str) and r.get("flag")})
    parts.append('<h2 id="flags">Flags and warnings</h2>')
    if codes:
        parts.append("<table><tr><th>flag</th><th>meaning</th></tr>" + "".join(
            f"<tr><td>{_flag_badges([cd])}</td><td>{esc(FLAGS.get(cd, ''))}</td></tr>" for cd in codes) + "</table>")
    parts.append(_table(["file", "stage", "warning", "flag"],
                        [[f"<td>{esc(r.get('file'))}</td>", f"<td>{esc(r.get('stage'))}</td>",
                          f"<td>{esc(r.get('warning'))}</td>", f"<td>{_flag_badges(_codes(r.get('flag')))}</td>"]
                         for r in warn]) if warn else '<p class="muted">No warnings.</p>')
    parts.append('<h2 id="errors">Errors</h2>')
    parts.append(_table(["file", "stage", "error"],
                        [[f"<td>{esc(r.get('file'))}</td>", f"<td>{esc(r.get('stage'))}</td>",
                          f"<td class='err'>{esc(r.get('error'))}</td>"] for r in errs])
                 if errs else '<p class="muted">No errors.</p>')
    # figures
    figs_by_stage: dict[str, list[Path]] = defaultdict(list)
    fig_base = base / "figures"
    if fig_base.is_dir():
        for png in sorted(fig_base.rglob("*.png")):
            stage = png.parent.name if png.parent != fig_base else _guess_stage(png.stem)
            figs_by_stage[stage].append(png)
    parts.append("<h2>Figures</h2>")
    if not figs_by_stage:
        parts.append('<p class="muted">No per-sample figures (report.sample_figures may be off for large runs; '
                     "the series page has the comparative figures).</p>")
    for stage in [*STAGES, *sorted(set(figs_by_stage) - set(STAGES))]:
        pngs = figs_by_stage.get(stage)
        if not pngs:
            continue
        parts.append(f"<h3>{esc(STAGE_TITLES.get(stage, stage))}</h3>")
        for png in pngs:
            rel = Path("figures") / "samples" / _safe_stem(sample) / stage / png.name
            _place(png, tmp / rel)
            cap = _sample_caption(stage, png.stem, sample, tables)
            parts.append(f'<figure class="{"wide" if stage == "eis" else "narrow"}"><a href="../{rel.as_posix()}">'
                         f'<img src="../{rel.as_posix()}" alt="{esc(png.stem)}" loading="lazy"></a>'
                         f"<figcaption>{cap}</figcaption></figure>")
    # fit records
    records = []
    audit = base / "audit"
    if audit.is_dir():
        known = ("eis", "lsv", "tafel", "ecsa", "arrhenius", "stability")
        paths = [p for stage in known for p in sorted((audit / stage).glob("*.json"))]
        paths += [p for p in sorted(audit.glob("*/*.json")) if p.parent.name not in known]
        for p in paths:
            rel = Path("audit") / _safe_stem(sample) / p.parent.name / p.name
            _place(p, tmp / rel)
            records.append((p, _json(p), f"../{rel.as_posix()}"))
    parts.append(f'<h2 id="audit">Fit records ({len(records)})</h2><p class="small muted">One record per fit: '
                 "input files and sha256, numbers, metadata and where each value came from, settings, the method "
                 "(window, initial guess, bounds, candidates) and package versions. Also: "
                 f"<code>echem audit {esc(sample)}</code>.</p>" + _audit_section(records))
    # files
    manifest = base / "manifest.csv"
    if manifest.is_file():
        try:  # the cells as written (the csv module: a file named 0042 stays 0042; no pandas parse per page)
            with open(manifest, encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                m = list(reader)
                columns = reader.fieldnames or []
            keep = [c for c in ("file", "technique", "technique_source", "vendor", "format", "rows", "status",
                                "sha256") if c in columns]
            parts.append("<h2>Files</h2>" + _table([esc(k) for k in keep], [
                [f"<td>{esc(r[k])}</td>" if k != "sha256" else f"<td><code class='small'>{esc(str(r[k])[:16])}…"
                 "</code></td>" for k in keep] for r in m]))
        except Exception:  # noqa: BLE001
            pass
    parts.append("<h2>Metadata</h2>" + _table(["key", "value", "source"], meta_rows))
    (tmp / "samples").mkdir(exist_ok=True)
    (tmp / "samples" / f"{_safe_stem(sample)}.html").write_text(
        _page(f"{title}: {sample}", "".join(parts), 1), encoding="utf-8")


#: The file in the report folder that records what each sample page was built from.
STAMPS = ".stamps.json"
#: Bumped when the pages' layout changes: every page is then rebuilt.
LAYOUT_VERSION = 1


def _read_stamps(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / STAMPS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _stamp(results_dir: Path, sample: str, ser: str, tables: dict, colour: str) -> str:
    """What a sample page is built from: its files' names, sizes and mtimes (figures, audit
    records, ingest, manifest), its table rows, its series and colour, the layout."""
    import hashlib

    h = hashlib.sha256(f"{LAYOUT_VERSION}|{ser}|{colour}".encode())
    base = results_dir / "samples" / sample
    for sub in ("figures", "audit"):
        for root, dirs, files in os.walk(base / sub):
            dirs.sort()
            for f in sorted(files):
                st = os.stat(os.path.join(root, f))
                h.update(f"{root}/{f}|{st.st_size}|{st.st_mtime_ns}".encode())
    for f in ("ingest.json", "manifest.csv"):
        try:
            st = os.stat(base / f)
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}".encode())
        except OSError:
            pass
    for name in TABLE_NAMES:
        h.update(repr(_rows(tables.get(name), sample)).encode())
    return h.hexdigest()


def _reuse(old_dir: Path, tmp: Path, sample: str, moved: list[tuple[str, str]]) -> bool:
    """Take an unchanged sample's page, figures and records over from the previous report.

    The page is linked; the sample's folders of figures and records are moved (one rename
    each instead of a folder and a link per file: at N = 1000 the report has 5,000 folders)
    and listed in ``moved``, so that a build that fails can put them back.
    """
    stem = _safe_stem(sample)
    page = old_dir / "samples" / f"{stem}.html"
    if not page.is_file():
        return False
    try:
        _place(page, tmp / "samples" / page.name)
        for sub in ("figures/samples", "audit"):
            src = os.path.join(old_dir, sub, stem)
            if not os.path.isdir(src):
                continue
            dst = os.path.join(tmp, sub, stem)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            try:
                os.rename(src, dst)
                moved.append((src, dst))
            except OSError:  # dst already holds files: link the sample's files one by one
                for root, _, files in os.walk(src):
                    rel = os.path.relpath(root, src)
                    for f in files:
                        _place(os.path.join(root, f), os.path.normpath(os.path.join(dst, rel, f)))
    except OSError:
        return False
    return True


def _put_back(moved: list[tuple[str, str]]) -> None:
    """Return the folders :func:`_reuse` moved to the previous report (a build that failed)."""
    for src, dst in reversed(moved):
        try:
            if os.path.isdir(dst) and not os.path.exists(src):
                os.rename(dst, src)
        except OSError:
            pass


def _guess_stage(stem: str) -> str:
    for stage in STAGES:
        if stem.startswith(stage):
            return stage
    return "other"


def _write_warnings(tmp, title, tables):
    warn, errs = tables.get("warnings"), tables.get("errors")

    def link(s):
        s = "" if s is None or (isinstance(s, float) and s != s) else str(s)
        return f'<a href="samples/{_safe_stem(s)}.html">{esc(s)}</a>' if s and s != "all" else esc(s)

    body = _nav(0)
    body += '<h2 id="errors">Errors</h2>'
    if errs is not None and not errs.empty:
        body += _table(["sample", "file", "stage", "error"], [
            [f"<td>{link(r.get('sample'))}</td>", f"<td>{esc(r.get('file'))}</td>", f"<td>{esc(r.get('stage'))}</td>",
             f"<td class='err'>{esc(r.get('error'))}</td>"] for r in errs.to_dict("records")])
    else:
        body += '<p class="muted">No errors.</p>'
    body += '<h2 id="warnings">Warnings</h2>'
    if warn is not None and not warn.empty:
        body += _table(["sample", "file", "stage", "warning", "flag"], [
            [f"<td>{link(r.get('sample'))}</td>", f"<td>{esc(r.get('file'))}</td>", f"<td>{esc(r.get('stage'))}</td>",
             f"<td>{esc(r.get('warning'))}</td>", f"<td>{_flag_badges(_codes(r.get('flag')))}</td>"]
            for r in warn.to_dict("records")])
    else:
        body += '<p class="muted">No warnings.</p>'
    (tmp / "warnings.html").write_text(_page(f"{title}: warnings and errors", body, 0), encoding="utf-8")


def _write_outputs(tmp, title):
    """The output contract (the same text as docs/outputs.md)."""
    from echem.report.contract import markdown

    (tmp / "outputs.html").write_text(_page(f"{title}: tables and columns", _nav(0) + _md_to_html(markdown()), 0),
                                      encoding="utf-8")


def _md_to_html(text: str) -> str:
    """The small Markdown subset of docs/outputs.md (headings, paragraphs, pipe tables,
    inline code) as HTML."""
    import re

    def inline(s: str) -> str:
        s = esc(s)
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", s)

    out, para, table = [], [], []

    def flush():
        if para:
            out.append(f"<p>{inline(' '.join(para))}</p>")
            para.clear()
        if table:
            rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in table
                    if not re.fullmatch(r"\|[\s\-|]+\|", ln.strip())]
            head, body = rows[0], rows[1:]
            out.append(_table([inline(h) for h in head], [[f"<td>{inline(c)}</td>" for c in r] for r in body]))
            table.clear()

    for line in text.splitlines():
        if line.startswith("<!--"):
            continue
        if line.startswith("#"):
            flush()
            level = len(line) - len(line.lstrip("#"))
            if level == 1:
                continue
            out.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("|"):
            if para:
                out.append(f"<p>{inline(' '.join(para))}</p>")
                para.clear()
            table.append(line)
        elif not line.strip():
            flush()
        else:
            if table:
                flush()
            para.append(line.strip())
    flush()
    return "".join(out)
