"""Stability stage glue: CP/CA durability runs and the shift of the LSV before/after them.

Which files play which role is decided by :func:`echem.stability.assign_roles` (sample.yaml
``stability:`` first, else start times, else file names); consecutive CP (or CA) files are
one run unless their set values differ (:func:`echem.stability.group_runs`). Ru comes from
the same place as for the LSVs (:func:`echem.workflow.lsv.choose_ru`), the RHE scale from
:mod:`echem.reference`, the overpotentials of the before/after curves from
:func:`echem.lsv.analyse_lsv`.

Writes ``tables/stability.csv`` (one row per run), ``tables/stability_lsv_shift.csv`` (one row
per before/after pair and target), ``stability_traces.parquet`` (each run's drawing envelope,
for the series figure), ``stability_curves.parquet`` (the before/after curves), one audit
JSON per run and per pair, and the per-sample figures.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.errors import AnalysisError, MetadataError
from echem.workflow.common import as_namespace, draw, prepare_dirs, read_json, safe_stem
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun
from echem.workflow.tables import atomic_write_bytes, frame, write_csv

TRACE_COLUMNS = ("file", "mode", "t_h", "value")
CURVE_COLUMNS = ("pair", "role", "file", "E_RHE_corr_V", "j_mA_cm2", "eta_mV")


def stability_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path,
                     eis_fits: str | Path | None = None, with_data: bool = True) -> None:
    """The stability stage of one sample (``eis_fits`` defaults to ``<sample_dir>/eis_fits.json``;
    without it Ru comes from sample.yaml or is unknown).

    ``outputs``: ``table``, ``shift_table``, ``traces``, ``curves``, ``audit``, ``figures``, ``errors``.
    """
    outputs = as_namespace(outputs)
    sample_dir = Path(sample_dir)
    eis_fits = Path(eis_fits or sample_dir / "eis_fits.json")
    prepare_dirs(outputs.audit, outputs.figures)
    ing = load_ingested(sample_dir, with_files=with_data)
    fits = read_json(eis_fits)["fits"] if eis_fits.is_file() else []
    rows: list[dict[str, Any]] = []
    shift_rows: list[dict[str, Any]] = []
    traces: list[Any] = []
    curves: list[Any] = []
    with StageRun("stability", ing.sample, log_path, outputs.errors) as run:
        try:
            if ing.metadata_error:
                run.info("skipped: sample.yaml is invalid (see the ingest error)")
                return
            spec = ing.metadata.get("stability") or {}
            ctx = _Context(run, ing, fits, settings, formats, outputs)
            candidates = ing.by_technique("CP", "CA", "LSV")
            if not spec and not ing.by_technique("CP", "CA") and not _named_pair(candidates):
                run.info("no CP/CA run and no before/after LSV: nothing to do")
                return
            roles = None
            with run.guard("sample.yaml"):
                from echem.stability import FileInfo, assign_roles

                roles = assign_roles([FileInfo(f.file, f.technique, ctx.first_point_time(f.file))
                                      for f in candidates], spec)
            if roles is None:
                return
            run.info(f"roles: runs {roles.runs}, before {roles.before}, after {roles.after} ({roles.source})")
            for note in roles.notes:
                run.info(note)
            for group in roles.runs:
                for files in ctx.split_runs(group, explicit=bool(spec.get("run"))):
                    label = ";".join(files)
                    with run.guard(label):
                        ctx.one_run(files, spec, rows, traces)
            for before in roles.before:
                for after in roles.after:
                    with run.guard(f"{before} -> {after}"):
                        ctx.one_pair(before, after, roles, shift_rows, curves)
        finally:
            write_csv(frame(rows, "stability"), outputs.table)
            write_csv(frame(shift_rows, "stability_lsv_shift"), outputs.shift_table)
            _write_parquet(traces, TRACE_COLUMNS, outputs.traces)
            _write_parquet(curves, CURVE_COLUMNS, outputs.curves)


def _named_pair(files) -> bool:
    """Whether LSV file names alone say before/after (a durability test without a CP/CA file)."""
    from echem.stability import AFTER_WORDS, BEFORE_WORDS, file_words

    words = [file_words(f.file) for f in files if f.technique == "LSV"]
    return any(w & set(BEFORE_WORDS) for w in words) and any(w & set(AFTER_WORDS) for w in words)


def _write_parquet(frames, columns, path) -> None:
    import io

    import pandas as pd

    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {c: pd.Series(dtype="object" if c in ("file", "mode", "pair", "role") else "float64") for c in columns})
    buf = io.BytesIO()
    table[list(columns)].to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def _stem(kind: str, files) -> str:
    """Figure file stem: ``run_cp_a__cp_b`` / ``shift_lsv_initial__lsv_after`` (no extensions)."""
    return safe_stem(f"{kind}_" + "__".join(Path(f).stem for f in files))


def _start(rec) -> datetime | None:
    try:
        return datetime.fromisoformat(str(rec.meta.get("start_time")))
    except (TypeError, ValueError):
        return None


class _Context:
    """What every run and pair of one sample shares: the log, the EIS fits, the settings,
    and the measurements read so far (a long file is read once)."""

    def __init__(self, run, ing, fits, settings, formats, outputs):
        from echem.stability import StabilitySettings

        self.run, self.ing, self.fits, self.formats, self.outputs = run, ing, fits, formats, outputs
        self.settings = dict(settings)
        self.cfg = StabilitySettings.from_mapping(settings)
        self.records = {f.file: f for f in ing.files}
        self._data: dict[str, Any] = {}
        self._lsv: dict[str, Any] = {}

    def first_point_time(self, file: str) -> str | None:
        """When the file's first point was recorded: its start time plus its first ``time_s``
        (EC-Lab writes the experiment's start in every technique's export of a sequence, and
        counts time from it), ISO 8601; None without a start time."""
        from datetime import timedelta

        start = _start(self.records[file])
        if start is None:
            return None
        d = self.data(file)
        if "time_s" in d.columns and len(d):
            t0 = float(d["time_s"].iloc[0])
            if math.isfinite(t0):
                start = start + timedelta(seconds=t0)
        return start.isoformat()

    def data(self, file: str):
        if file not in self._data:
            self._data[file] = self.records[file].measurement().data
        return self._data[file]

    # ---- metadata shared with the LSV stage

    def scale(self, rec) -> dict[str, Any]:
        """Area, RHE offset, reference and where each came from (as the LSV stage finds them)."""
        from echem.reference import resolve_reference, rhe_conversion

        r = rec.resolved
        if r.get("area_cm2") is None:
            raise MetadataError("no electrode area: the file gives none; set area_cm2 in sample.yaml")
        if r.get("reference_electrode") is None:
            raise MetadataError("no reference electrode: the file gives none; set reference_electrode "
                                "(e.g. Hg/HgO, Ag/AgCl, RHE) and pH in sample.yaml")
        reference = resolve_reference(r["reference_electrode"])
        temperature = r.get("file_temperature_C") or 25.0
        conversion = rhe_conversion(reference, r.get("pH"), temperature_C=temperature)
        for warning in conversion.get("warnings", []):
            self.run.warning(f"{rec.file}: {warning}", file=rec.file)
        return {"area_cm2": float(r["area_cm2"]), "offset_V": conversion["offset_V"],
                "used": {"area_cm2": (r["area_cm2"], rec.sources.get("area_cm2")),
                         "reference_electrode": (r["reference_electrode"], rec.sources.get("reference_electrode")),
                         "reference_resolved": reference.to_dict(), "rhe_conversion": conversion,
                         "pH": (r.get("pH"), rec.sources.get("pH")), "temperature_C": temperature}}

    def ru(self, rec) -> dict[str, Any]:
        from echem.workflow.lsv import choose_ru

        r = rec.resolved
        ru, ru_err, source, flags, note = choose_ru(r, self.fits)
        fraction = float(r.get("ir_compensation") or 0.0) - float(r.get("instrument_ir_compensation") or 0.0)
        return {"ru": ru, "ru_err": ru_err, "source": source, "flags": flags, "fraction": fraction,
                "used": {"ru_ohm": (ru, source), "ru_err_ohm": ru_err, **note,
                         "ir_compensation": (r.get("ir_compensation"), rec.sources.get("ir_compensation")),
                         "instrument_ir_compensation": (r.get("instrument_ir_compensation"),
                                                        rec.sources.get("instrument_ir_compensation"))}}

    def reaction(self, rec, current) -> tuple[str, str]:
        import numpy as np

        reaction = rec.resolved.get("reaction") or "auto"
        if reaction != "auto":
            return reaction, rec.sources.get("reaction", "")
        finite = np.asarray(current, float)
        finite = finite[np.isfinite(finite)]
        if finite.size == 0:
            raise MetadataError("reaction is auto but the run has no current to tell HER from OER; set "
                                "reaction in sample.yaml")
        return ("HER" if np.median(finite) < 0 else "OER"), "inferred from the sign of the current"

    # ---- runs

    def split_runs(self, group: list[str], explicit: bool) -> list[list[str]]:
        """Files named together in sample.yaml are one run; default groups are split where the
        set value (median current for CP, median potential for CA) changes."""
        import numpy as np

        from echem.stability import group_runs

        if explicit or len(group) == 1:
            return [group]
        estimates = []
        for file in group:
            d = self.data(file)
            col = "I_A" if self.records[file].technique == "CP" else "E_V"
            v = d[col].to_numpy(float) if col in d.columns else np.array([math.nan])
            v = v[np.isfinite(v)]
            estimates.append(float(np.median(v)) if v.size else math.nan)
        tol = max(self.cfg.set_tolerance_pct / 100.0, 0.0) if self.records[group[0]].technique == "CP" else 0.0
        if self.records[group[0]].technique == "CA":  # potentials: an absolute tolerance
            groups, last = [], None
            for file, value in zip(group, estimates):
                if groups and last is not None and abs(value - last) <= self.cfg.set_tolerance_mV * 1e-3:
                    groups[-1].append(file)
                else:
                    groups.append([file])
                last = value
            return groups
        return group_runs(group, estimates, tol)

    def one_run(self, files: list[str], spec: Mapping[str, Any], rows, traces) -> None:
        import numpy as np
        import pandas as pd

        from echem.plots.stability import minmax_envelope
        from echem.stability import analyse_stability, planned_hours_from_name

        run, sample = self.run, self.ing.sample
        recs = [self.records[f] for f in files]
        techniques = {r.technique for r in recs}
        if len(techniques) > 1:
            raise MetadataError(f"the files of one run must share one technique, got {sorted(techniques)}; "
                                "list CP and CA runs apart")
        mode = recs[0].technique
        label = ";".join(files)
        t_parts, E_parts, I_parts, seg_parts = [], [], [], []
        has_I = all("I_A" in self.data(f).columns for f in files)
        has_E = all("E_V" in self.data(f).columns for f in files)
        for k, f in enumerate(files):
            d = self.data(f)
            if "time_s" not in d.columns:
                raise AnalysisError(f"{f} has no time column: a stability run is a record against time")
            n = len(d)
            t_parts.append(d["time_s"].to_numpy(float))
            E_parts.append(d["E_V"].to_numpy(float) if has_E else np.empty(0))
            I_parts.append(d["I_A"].to_numpy(float) if has_I else np.empty(0))
            seg_parts.append(np.full(n, k, dtype=np.int64))
        t = np.concatenate(t_parts)
        E = np.concatenate(E_parts) if has_E else None
        I = np.concatenate(I_parts) if has_I else None
        segment = np.concatenate(seg_parts)
        starts = [_start(r) for r in recs]
        origin = min((s for s in starts if s is not None), default=None)
        starts_s = [None if s is None or origin is None else (s - origin).total_seconds() for s in starts]

        scale = self.scale(recs[0])
        ru = self.ru(recs[0])
        reaction, reaction_source = self.reaction(recs[0], I if I is not None else [spec.get("set_mA_cm2", math.nan)])
        if reaction == "none":
            run.info(f"{label}: reaction is 'none'; skipped")
            return
        set_value, set_source = None, None
        key = "set_mA_cm2" if mode == "CP" else "set_E_V"
        meta_key = "set_current_A" if mode == "CP" else "set_potential_V"
        if spec.get(key) is not None:
            set_value, set_source = float(spec[key]), f"sample.yaml stability.{key}"
        elif recs[0].meta.get(meta_key) is not None:
            v = float(recs[0].meta[meta_key])
            set_value = v * 1e3 / scale["area_cm2"] if mode == "CP" else v
            set_source = f"file header ({meta_key})"
        planned, planned_source = None, None
        if spec.get("duration_h") is not None:
            planned, planned_source = float(spec["duration_h"]), "sample.yaml stability.duration_h"
        elif len(files) == 1 and planned_hours_from_name(files[0]) is not None:
            planned, planned_source = planned_hours_from_name(files[0]), f"file name {files[0]}"
        aborted = any(bool(r.meta.get("aborted")) or bool(r.meta.get("truncated")) for r in recs)

        res = analyse_stability(
            t, E, I, mode=mode, area_cm2=scale["area_cm2"], reaction=reaction, offset_to_rhe_V=scale["offset_V"],
            ru_ohm=ru["ru"], ru_err_ohm=ru["ru_err"], ir_fraction=ru["fraction"], segment=segment if len(files) > 1 else None, segment_starts_s=starts_s,
            set_value=set_value, set_source=set_source, planned_h=planned, planned_source=planned_source,
            aborted=aborted, settings=self.cfg, ru_flags=ru["flags"])
        cell = run.flagged(res.flags, label)
        row = {"sample": sample, "file": label, **res.row(), "flags": cell}
        rows.append(row)
        used = {**scale["used"], **ru["used"], "reaction": (reaction, reaction_source),
                "ir_fraction_applied": res.audit["ir_fraction"],
                "files": [{"file": r.file, "start_time": r.meta.get("start_time"), "rows": len(self.data(r.file)),
                           "vendor": r.meta.get("vendor")} for r in recs],
                "set_value": (res.set_value, res.audit["set_source"]), "planned_h": (planned, planned_source)}
        shas = [r.meta.get("sha256") for r in recs]
        audit.write(self.outputs.audit, audit.audit_name("stability", label), audit.record(
            stage="stability", sample=sample, file=label, sha256=shas[0] if len(shas) == 1 else shas,
            settings=self.settings, metadata=used, method=res.audit,
            result={k: v for k, v in row.items() if k != "sample"} | {
                "start_err": res.start_err, "end_err": res.end_err, "quantity": res.quantity}))
        x, y = minmax_envelope(res.time_h, res.value)
        traces.append(pd.DataFrame({"file": label, "mode": mode, "t_h": x, "value": y}))

        def painter():
            from echem.plots.figure import new_figure
            from echem.plots.stability import plot_run

            fig, ax = new_figure(6.0, 3.5)
            unit, rate = ("mV", "mV/h") if mode == "CP" else ("mA/cm²", "%/h")
            setting = f"{res.set_value:.4g} mA/cm²" if mode == "CP" else f"{res.set_value:.4g} V vs RHE"
            note = (f"{mode} at {setting}, {res.duration_h:.3g} h\nstart {res.start:.4g} {unit}, end {res.end:.4g} "
                    f"{unit}\ndrift {res.drift:.3g} ± {res.drift_err:.2g} {rate}")
            if cell:
                note += f"\nflags: {cell}"
            plot_run(ax, res.time_h, res.value, quantity=res.quantity, start_window_h=res.start_window_h,
                     end_window_h=res.end_window_h, start=res.start, end=res.end, fit=res.fit.to_dict(), note=note)
            ax.set_title(f"{sample}: {' + '.join(files)}", fontsize=8)
            return fig

        draw(run, Path(self.outputs.figures) / _stem("run", files), self.formats, painter)
        run.info(f"{label}: {mode} {reaction}, {res.duration_h:.3g} h, start {res.start:.4g}, end {res.end:.4g}, "
                 f"drift {res.drift:.4g} ± {res.drift_err:.2g}, interrupted {res.interrupted_fraction:.3%}, "
                 f"flags [{cell}]")

    # ---- before / after

    def lsv(self, file: str):
        """:func:`echem.lsv.analyse_lsv` of one LSV file, with the sample's Ru (cached)."""
        if file in self._lsv:
            return self._lsv[file]
        from echem.lsv import analyse_lsv
        from echem.workflow.lsv import infer_reaction

        rec = self.records[file]
        d = self.data(file)
        E, I = d["E_V"].to_numpy(float), d["I_A"].to_numpy(float)
        scale = self.scale(rec)
        ru = self.ru(rec)
        reaction, reaction_source = rec.resolved.get("reaction") or "auto", rec.sources.get("reaction", "")
        if reaction == "auto":
            reaction, reaction_source = infer_reaction(E + scale["offset_V"], I), "inferred from the current's sign"
        if reaction == "none":
            raise MetadataError(f"{file}: reaction is 'none'; a before/after shift needs HER or OER in sample.yaml")
        result = analyse_lsv(
            E, I, area_cm2=scale["area_cm2"], reaction=reaction, offset_to_rhe_V=scale["offset_V"],
            targets_mA_cm2=tuple(self.settings.get("targets_mA_cm2", (10, 100))), ru_ohm=ru["ru"],
            ru_err_ohm=ru["ru_err"], ir_fraction=ru["fraction"], sweep=self.settings.get("sweep", "last"),
            cycle_numbers=d["cycle"].to_numpy() if "cycle" in d.columns else None, ru_flags=ru["flags"])
        for warning in result.audit.get("warnings", []):
            self.run.warning(f"{file}: {warning}", file=file)
        used = {**scale["used"], **ru["used"], "reaction": (reaction, reaction_source)}
        self._lsv[file] = (result, used)
        return self._lsv[file]

    def one_pair(self, before: str, after: str, roles, shift_rows, curves) -> None:
        import pandas as pd

        from echem.flags import codes
        from echem.stability import lsv_shift

        run, sample = self.run, self.ing.sample
        rb, used_b = self.lsv(before)
        ra, used_a = self.lsv(after)
        shift = lsv_shift(rb, ra)
        pair = f"{before} -> {after}"
        order_flags = [f for f in roles.flags if before in f.message or after in f.message]
        tb, ta = (self.first_point_time(f) for f in (before, after))
        tb, ta = (datetime.fromisoformat(x) if x else None for x in (tb, ta))
        hours = (ta - tb).total_seconds() / 3600.0 if tb is not None and ta is not None else None
        for row in shift.rows:
            cell = run.flagged([*row["flags"], *order_flags], pair)
            shift_rows.append({"sample": sample, "before_file": before, "after_file": after,
                               **{k: v for k, v in row.items() if k != "flags"}, "flags": cell})
        audit.write(self.outputs.audit, audit.audit_name("stability_shift", f"{before}__{after}"), audit.record(
            stage="stability", sample=sample, file=pair,
            sha256=[self.records[before].meta.get("sha256"), self.records[after].meta.get("sha256")],
            settings=self.settings,
            metadata={"before": used_b, "after": used_a, "roles": roles.source, "hours_between": hours},
            method={"shift": shift.audit, "before_lsv": rb.audit, "after_lsv": ra.audit},
            result={"rows": [{**{k: v for k, v in r.items() if k != "flags"}, "flags": codes(r["flags"])}
                             for r in shift.rows]}))
        for role, res, file in (("before", rb, before), ("after", ra, after)):
            c = res.curve
            curves.append(pd.DataFrame({"pair": pair, "role": role, "file": file,
                                        "E_RHE_corr_V": c["E_RHE_corr_V"].to_numpy(float),
                                        "j_mA_cm2": c["j_mA_cm2"].to_numpy(float),
                                        "eta_mV": c["eta_mV"].to_numpy(float)}))

        def painter():
            from echem.plots.figure import new_figure
            from echem.plots.stability import plot_lsv_overlay

            fig, ax = new_figure(4.8, 3.6)
            plot_lsv_overlay(ax, rb.curve, ra.curve, self.settings.get("targets_mA_cm2", (10,)), shift.rows)
            when = f", {hours:.3g} h apart" if hours is not None else ""
            ax.set_title(f"{sample}: {before} → {after}{when}", fontsize=8)
            return fig

        draw(run, Path(self.outputs.figures) / _stem("shift", [before, after]), self.formats, painter)
        run.info(f"{pair}: " + ", ".join(f"Δη@{r['target_mA_cm2']:g}={r['delta_eta_mV']:.3g} ± "
                                          f"{r['delta_eta_err_mV']:.2g} mV" for r in shift.rows))
