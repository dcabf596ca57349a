"""Comparative figures per series, drawn from the collected tables and per-sample outputs.

One figure per kind and series, saved as ``results/figures/<series>/<group>/<series>_<kind>.<fmt>``
(the kinds in three groups, one Snakemake job each, by the stages they show: FIGURE_GROUPS):
polarisation curves on the RHE scale, Tafel plots with the fitted windows, a summary of
eta10 and Tafel slope, specific activity, the Cdl fits, Nyquist plots with fits and Bode
plots beside them (a temperature series: one row per sample, several temperatures),
Arrhenius plots (heating and cooling runs), and the stability runs and LSV shifts.

The samples of a series are drawn in :func:`echem.plots.figure.order_samples` order
(untreated first, treatments in natural order, references last) and each keeps its colour
(and marker) in every figure of its series. Numbers in legends are rounded to their
errors' significant digits (:mod:`echem.report.numbers`). Flagged values are drawn
hatched (bars), hollow (markers) or dashed (lines), and the legend says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, NamedTuple


#: At most this many samples per comparative figure (more would be unreadable); the
#: figure says when a series was cut, in its title.
MAX_SAMPLES_PER_FIGURE = 16

#: Per-panel layout of a temperature series' Nyquist figure: this many temperatures per sample.
NYQUIST_TEMPERATURES = 3


def shown_members(members: list[str], order: Mapping[str, float] | None = None) -> list[str]:
    """The samples a comparative figure shows: the first MAX_SAMPLES_PER_FIGURE in the
    series' order (:func:`echem.plots.figure.order_samples`; ``order``: sample.yaml's
    ``order`` of the samples that have one)."""
    from echem.plots.figure import order_samples

    return order_samples(members, dict(order or {}))[:MAX_SAMPLES_PER_FIGURE]


KINDS = ("polarisation", "tafel", "eta_tafel_summary", "specific_activity", "cdl", "nyquist", "bode",
         "arrhenius", "stability", "lsv_shift")

class FigureGroup(NamedTuple):
    """Figure kinds drawn by one job: the ``kinds``, the ``stages`` whose outputs they draw,
    the ``config`` sections they use."""

    kinds: tuple[str, ...]
    stages: tuple[str, ...]
    config: tuple[str, ...]


#: The figure kinds by the stages whose outputs they draw: each group is a job of its own, so
#: a changed Tafel setting redraws the polarisation group of each series and no Nyquist or
#: Bode plot.
FIGURE_GROUPS: dict[str, FigureGroup] = {
    "lsv": FigureGroup(("polarisation", "tafel", "eta_tafel_summary", "specific_activity", "cdl"),
                       ("lsv", "tafel", "ecsa"), ("lsv",)),
    "eis": FigureGroup(("nyquist", "bode", "arrhenius"), ("eis", "arrhenius"), ()),
    "stability": FigureGroup(("stability", "lsv_shift"), ("stability",), ("stability",)),
}
assert sorted(k for group in FIGURE_GROUPS.values() for k in group.kinds) == sorted(KINDS)

#: What each figure shows, for captions (the report uses them).
CAPTIONS = {
    "polarisation": "iR-corrected polarisation curves on the RHE scale (first LSV of each sample); "
                    "dashed: the first target current density",
    "tafel": "Tafel plots: thin lines the whole curve, thick lines the fitted window with its slope; "
             "dashed: flagged",
    "eta_tafel_summary": "overpotential at the first target current density and Tafel slope, with standard "
                         "errors; hatched: flagged",
    "specific_activity": "specific activity (current per ECSA) at the overpotential named on the axis; "
                         "hatched: flagged",
    "cdl": "charging current (i_a − i_c)/2 against scan rate and the fitted Cdl lines; hollow/dashed: flagged",
    "nyquist": "Nyquist plots with the fitted circuits (equal scales, engineering units); a temperature "
               "series shows each sample at several temperatures",
    "bode": "Bode plots: |Z| and phase against frequency, data (markers) and fits (lines)",
    "arrhenius": "Arrhenius plots: heating (circles, solid) and cooling (triangles, dotted) runs with the "
                 "fitted law and Ea; open markers: points left out of the fit",
    "stability": "stability runs (chronopotentiometry or chronoamperometry), min/max envelopes",
    "lsv_shift": "polarisation curves before (solid) and after (dashed) the stability test",
}


def _empty(name):
    from echem.workflow.tables import frame

    return frame([], name)


def member_tables(results_dir: Path, members: list[str]) -> dict:
    """The members' per-sample tables, concatenated per table name."""
    from echem.workflow.tables import concat_tables

    return {name: concat_tables([p for s in members
                                 if (p := results_dir / "samples" / s / "tables" / f"{name}.csv").is_file()], name)
            for name in ("overpotentials", "tafel", "ecsa", "eis", "conductivity", "arrhenius",
                         "stability", "stability_lsv_shift")}


def draw_series(results_dir: Path, series: str, members: list[str], out: Path, formats,
                settings: Mapping[str, Any], run, cut: bool = False, n_total: int | None = None,
                order: Mapping[str, float] | None = None, kinds: tuple[str, ...] = KINDS) -> None:
    """The comparative figures ``kinds`` (default: all) of one series into ``out/<series>_<kind>.<fmt>``.

    ``members`` are the samples to draw (at most MAX_SAMPLES_PER_FIGURE are, in the series'
    order: ``order`` gives sample.yaml's ``order`` of those that have one); ``cut``
    (or ``n_total`` above their number) says the series has more: every figure then says
    so in its title.
    """
    from echem.plots.figure import save

    shown = shown_members(members, order)
    total = max(n_total or 0, len(members))
    cut = cut or total > len(shown)
    if cut:
        run.warning(f"series {series} has more samples than a figure shows; its figures show "
                    f"{len(shown)} (the first in the series' order), the report's tables all of them")
    tables = member_tables(results_dir, shown)
    for kind in kinds:
        painter = PAINTERS[kind]
        try:
            fig = painter(results_dir, series, shown, tables, settings)
        except Exception as exc:  # noqa: BLE001 - one figure must not cost the others
            run.warning(f"{series} {kind}: figure not drawn ({type(exc).__name__}: {exc})")
            continue
        if fig is None:
            continue
        if cut:
            note = (f"showing {len(shown)} of {total} samples" if total > len(shown)
                    else f"showing the first {len(shown)} samples of a larger series")
            cut_note(fig, f"{note} (all of them: the report's tables)")
        save(fig, out / f"{series}_{kind}", formats)
        run.info(f"{series}_{kind} drawn")


def cut_note(fig, text: str) -> None:
    """Say on the figure that it shows part of its series: under the title of a fixed grid
    (:func:`echem.plots.figure.fixed_grid`, whose top margin has room for it); below the axes
    of a constrained figure, where the layout makes room for it (at the top it would cover
    the title, which the layout places there)."""
    from echem.plots.figure import title_y

    style = dict(fontsize=7, color="#B00020", fontweight="bold")
    if fig.get_layout_engine() is None:
        fig.text(0.5, title_y(fig, 0.24), text, ha="center", va="top", **style)
    else:
        fig.supxlabel(text, **style)


#: How a flagged number is drawn (bars hatched, markers hollow, lines dashed), and the
#: legend entry that says so.
FLAGGED_HATCH = "////"
FLAGGED_NOTE = "hatched / hollow / dashed: flagged, see warnings.csv"


def _flagged(table, sample, ignore: tuple[str, ...] = (), **match) -> bool:
    """Whether the sample's row(s) of a table carry a flag (matching ``match`` columns),
    other than the codes in ``ignore``."""
    from echem.flags import split

    if "flags" not in table.columns:
        return False
    rows = table[table["sample"] == sample]
    for col, value in match.items():
        if isinstance(value, float):
            rows = rows[rows[col].astype(float) == value]
        else:
            rows = rows[rows[col].astype(str) == str(value)]
    return any(set(split(c)) - set(ignore) for c in rows["flags"])


def _flag_note_handle():
    from matplotlib.patches import Patch

    return Patch(facecolor="white", edgecolor="0.2", hatch=FLAGGED_HATCH, label=FLAGGED_NOTE)


def _bars(ax, x, heights, errors, colours, flagged) -> None:
    """Bars with error bars; flagged ones hatched and pale, with a legend entry saying so."""
    bars = ax.bar(x, heights, yerr=errors, color=colours, capsize=2)
    for bar, flag in zip(bars, flagged):
        if flag:
            bar.set_hatch(FLAGGED_HATCH)
            bar.set_alpha(0.45)
            bar.set_edgecolor("0.2")
    if any(flagged):
        ax.legend(handles=[_flag_note_handle()], fontsize=6, frameon=False, loc="upper left")


def _colours(members):
    from echem.plots.figure import colour_for

    return {s: colour_for(s, members) for s in members}


def _markers(members):
    from echem.plots.figure import marker_for

    return {s: marker_for(s, members) for s in members}


def _title(fig_or_ax, text: str) -> None:
    """The figure's title (``suptitle`` of a constrained figure: never over an axis label)."""
    from echem.plots.figure import title_y

    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    if fig.get_layout_engine() is None:  # a fixed grid (figure.fixed_grid): the title in its top margin
        fig.suptitle(text, fontsize=9, y=title_y(fig, 0.06), va="top")
    else:
        fig.suptitle(text, fontsize=9)


def _legend_outside(ax, **kw):
    """The legend to the right of the axes (never over the data)."""
    return ax.legend(fontsize=6.5, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                     borderaxespad=0, **kw)


def _curves(results_dir: Path, sample: str):
    import pandas as pd

    path = results_dir / "samples" / sample / "lsv_curves.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def _polarisation(results_dir, series, members, tables, settings):
    from echem.plots.figure import new_figure
    from echem.plots.lsv import target_line

    colours = _colours(members)
    fig, ax = new_figure(4.8, 3.6, layout="constrained")
    drawn = False
    for s in members:
        curves = _curves(results_dir, s)
        if curves is None or curves.empty:
            continue
        file, curve = next(iter(curves.groupby("file", sort=True)))
        ax.plot(curve["E_RHE_corr_V"], curve["j_mA_cm2"], color=colours[s], lw=1.3, label=s)
        drawn = True
    if not drawn:
        return None
    her = (tables["overpotentials"]["reaction"] == "HER").any()
    for target in settings["lsv"]["targets_mA_cm2"][:1]:
        target_line(ax, (-1 if her else 1) * float(target))
    ax.set_xlabel("E / V vs RHE (iR-corrected)")
    ax.set_ylabel("j / mA cm$^{-2}$")
    ax.legend(fontsize=7, frameon=False, loc="lower right" if her else "upper left")
    _title(fig, f"{series}: polarisation curves")
    return fig


def _tafel(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.plots.figure import new_figure
    from echem.report.numbers import fmt_pm

    colours = _colours(members)
    tafel = tables["tafel"]
    fig, ax = new_figure(4.8, 3.6, layout="constrained")
    drawn = any_flagged = False
    for s in members:
        curves = _curves(results_dir, s)
        rows = tafel[tafel["sample"] == s]
        if curves is None or curves.empty or rows.empty:
            continue
        row = rows.iloc[0]
        curve = curves[curves["file"] == row["file"]]
        j = np.abs(curve["j_mA_cm2"].to_numpy(float))
        eta = curve["eta_mV"].to_numpy(float)
        ok = j > 0
        ax.plot(np.log10(j[ok]), eta[ok], color=colours[s], lw=1.0, alpha=0.5)
        in_window = ok & (eta >= row["eta_lo_mV"]) & (eta <= row["eta_hi_mV"])
        if in_window.any():
            x = np.log10(j[in_window])
            xs = np.linspace(x.min(), x.max(), 50)
            line = row["slope_mV_dec"] * (xs - np.log10(row["j0_mA_cm2"]))
            # the line inside the window's overpotentials only (a kinetic-model fit spans the
            # whole curve: its Tafel asymptote is not drawn below the window, nor below η = 0)
            keep = (line >= max(float(row["eta_lo_mV"]), 0.0)) & (line <= float(row["eta_hi_mV"]))
            xs, line = (xs[keep], line[keep]) if keep.sum() >= 2 else (xs, line)
            flagged = _flagged(tafel, s, file=row["file"])
            any_flagged |= flagged
            ax.plot(xs, line, color=colours[s], lw=2.2,
                    ls="--" if flagged else "-",
                    label=f"{s}: {fmt_pm(row['slope_mV_dec'], row['slope_err_mV_dec'])} mV dec$^{{-1}}$"
                          + (" (flagged)" if flagged else ""))
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("log$_{10}$(|j| / mA cm$^{-2}$)")
    ax.set_ylabel("η / mV")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + ([_flag_note_handle()] if any_flagged else []), fontsize=6.5, frameon=False,
              loc="upper left")
    _title(fig, f"{series}: Tafel plots (thick: fitted window)")
    return fig


def _summary(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.plots.figure import new_figure

    over = tables["overpotentials"]
    tafel = tables["tafel"]
    target = settings["lsv"]["targets_mA_cm2"][0]
    eta = {}
    for s in members:
        rows = over[(over["sample"] == s) & (over["target_mA_cm2"].astype(float) == float(target))]
        if not rows.empty and str(rows.iloc[0]["reached"]).lower() == "true":
            eta[s] = (float(rows.iloc[0]["eta_mV"]), float(rows.iloc[0]["eta_err_mV"] or 0))
    if not eta:
        return None
    colours = _colours(members)
    fig, axes = new_figure(6.5, 3.4, ncols=2, layout="constrained")
    x = np.arange(len(members))
    ax = axes[0, 0]
    _bars(ax, x, [eta.get(s, (np.nan, 0))[0] for s in members], [eta.get(s, (0, 0))[1] for s in members],
          [colours[s] for s in members],
          [_flagged(over, s, target_mA_cm2=float(target)) for s in members])
    ax.set_ylabel(f"η$_{{{target:g}}}$ / mV")
    ax2 = axes[0, 1]
    slopes = [tafel[tafel["sample"] == s]["slope_mV_dec"].astype(float).iloc[0]
              if (tafel["sample"] == s).any() else np.nan for s in members]
    errs = [tafel[tafel["sample"] == s]["slope_err_mV_dec"].astype(float).iloc[0]
            if (tafel["sample"] == s).any() else 0 for s in members]
    _bars(ax2, x, slopes, errs, [colours[s] for s in members], [_flagged(tafel, s) for s in members])
    ax2.set_ylabel("Tafel slope / mV dec$^{-1}$")
    for a in (ax, ax2):
        a.set_xticks(x, members, rotation=45, ha="right", fontsize=7)
    _title(fig, f"{series}: overpotential at {target:g} mA cm$^{{-2}}$ and Tafel slope")
    return fig


def _specific_activity(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.plots.figure import new_figure

    ecsa = tables["ecsa"]
    rows = ecsa[ecsa["sample"].isin(members)].dropna(subset=["sa_mA_cm2"])
    if rows.empty:
        return None
    rows = rows.set_index("sample").loc[[s for s in members if s in set(rows["sample"])]].reset_index()
    colours = _colours(members)
    fig, ax = new_figure(4.8, 3.4, layout="constrained")
    names = list(rows["sample"])
    x = np.arange(len(names))
    _bars(ax, x, rows["sa_mA_cm2"].astype(float), rows["sa_err_mA_cm2"].astype(float).fillna(0),
          [colours[s] for s in names], [_flagged(ecsa, s) for s in names])
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
    eta = float(rows["sa_eta_mV"].iloc[0])
    ax.set_ylabel(f"j$_{{ECSA}}$ at η = {eta:g} mV / mA cm$^{{-2}}$")
    _title(fig, f"{series}: specific activity (per ECSA)")
    return fig


def _cdl(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.plots.ecsa import current_unit
    from echem.plots.figure import new_figure
    from echem.report.numbers import fmt_pm

    colours, markers = _colours(members), _markers(members)
    points = {}
    for s in members:
        path = results_dir / "samples" / s / "audit" / "ecsa" / "ecsa__sample.json"
        if path.is_file():
            points[s] = json.loads(path.read_text(encoding="utf-8"))
    if not points:
        return None
    peak = max(abs((p["i_anodic_A"] - p["i_cathodic_A"]) / 2) for rec in points.values()
               for p in rec["method"]["points"])
    factor, unit = current_unit(peak)
    fig, ax = new_figure(5.6, 3.6, layout="constrained")
    any_flagged = False
    for s, rec in points.items():
        pts = rec["method"]["points"]
        v = np.array([p["scan_rate_V_s"] for p in pts]) * 1e3
        di = np.array([(p["i_anodic_A"] - p["i_cathodic_A"]) / 2 for p in pts])
        res = rec["result"]
        cdl_F = res["cdl_mF"] * 1e-3
        flagged = _flagged(tables["ecsa"], s)
        any_flagged |= flagged
        ax.plot(v, di * factor, markers[s], color=colours[s], ms=4.5, mfc="none" if flagged else colours[s])
        vs = np.linspace(0, v.max() * 1.05, 10)
        intercept = np.mean(di - cdl_F * v * 1e-3)
        ax.plot(vs, (intercept + cdl_F * vs * 1e-3) * factor, color=colours[s], lw=1.0,
                ls="--" if flagged else "-", marker=markers[s], ms=4.5, markevery=[],
                label=f"{s}: {fmt_pm(res['cdl_mF'], res.get('cdl_err_mF'))} mF" + (" (flagged)" if flagged else ""))
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=min(0, ax.get_ylim()[0]))
    ax.set_xlabel("scan rate / mV s$^{-1}$")
    ax.set_ylabel(f"(i$_a$ − i$_c$)/2 / {unit}")
    handles, _ = ax.get_legend_handles_labels()
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=h.get_color(), ls=h.get_linestyle(), marker=h.get_marker(), ms=4.5,
                      label=h.get_label()) for h in handles]
    _legend_outside(ax, handles=handles + ([_flag_note_handle()] if any_flagged else []), title="C$_{dl}$",
                    title_fontsize=7)
    _title(fig, f"{series}: double-layer capacitance")
    return fig


# ----------------------------------------------------------------------------- impedance


def _spectra(results_dir: Path, sample: str) -> list[dict]:
    """The sample's fitted spectra: fit entry (``eis_fits.json``) with ``freq``, ``Z`` (the
    measured points) and ``values`` (the fitted parameters), in temperature order."""
    import numpy as np
    import pandas as pd

    base = results_dir / "samples" / sample
    fits_path, ingest_path = base / "eis_fits.json", base / "ingest.json"
    if not fits_path.is_file() or not ingest_path.is_file():
        return []
    fits = json.loads(fits_path.read_text(encoding="utf-8"))["fits"]
    files = {r["file"]: r for r in json.loads(ingest_path.read_text(encoding="utf-8"))["files"]}
    out, cache = [], {}
    for fit in fits:
        rec = files.get(fit["source_file"])
        if not rec or rec.get("status") != "ok" or not rec.get("canonical"):
            continue
        if rec["canonical"] not in cache:
            cache[rec["canonical"]] = pd.read_parquet(base / rec["canonical"])
        data = cache[rec["canonical"]]
        if "#" in fit["file"] and "cycle" in data.columns:
            data = data[data["cycle"] == int(fit["file"].rsplit("#", 1)[1])]
        data = data[data["freq_Hz"] > 0]
        params = fit["params"]
        values = [p["value"] for p in params.values()] if isinstance(params, dict) else None
        out.append({**fit, "freq": data["freq_Hz"].to_numpy(float),
                    "Z": data["Z_re_ohm"].to_numpy(float) + 1j * data["Z_im_ohm"].to_numpy(float),
                    "values": values})
    return sorted(out, key=lambda f: (f.get("temperature_C") is None, f.get("temperature_C") or 0, f["file"]))


def _model(spec: dict, n: int = 200):
    """(f, Z) of the fitted circuit over the measured frequencies (:func:`echem.eis.simulate`:
    no impedance.py warnings), or None."""
    import numpy as np

    from echem.eis import simulate

    if not spec.get("values") or spec["freq"].size < 2:
        return None
    try:
        f = np.logspace(np.log10(spec["freq"].min()), np.log10(spec["freq"].max()), n)
        return f, simulate(spec["circuit"], spec["values"], f)
    except Exception:  # noqa: BLE001 - the data are still worth showing
        return None


def _runs(tables, sample: str) -> dict[str, str]:
    """file -> run (heating/cooling/single) from the conductivity table."""
    cond = tables.get("conductivity")
    if cond is None or cond.empty:
        return {}
    rows = cond[cond["sample"] == sample]
    return dict(zip(rows["file"].astype(str), rows["run"].astype(str)))


def _temperature_series(results_dir, members, tables) -> dict[str, list[dict]]:
    """Samples measured at two or more temperatures: their spectra of one run (heating
    when there is one), in temperature order."""
    out = {}
    for s in members:
        specs = [sp for sp in _spectra(results_dir, s) if sp.get("temperature_C") is not None]
        if len({round(sp["temperature_C"]) for sp in specs}) < 2:
            continue
        runs = _runs(tables, s)
        for run in ("heating", "single", "cooling"):
            chosen = [sp for sp in specs if runs.get(sp["file"]) == run]
            if len(chosen) >= 2:
                specs = chosen
                break
        out[s] = specs
    return out


def _pick_temperatures(specs: list[dict], n: int) -> list[dict]:
    """``n`` spectra spread over the temperature range (lowest, highest and between)."""
    import numpy as np

    if len(specs) <= n:
        return specs
    idx = sorted({int(round(k)) for k in np.linspace(0, len(specs) - 1, n)})
    return [specs[k] for k in idx]


def _nyquist(results_dir, series, members, tables, settings):
    from echem.plots.eis import impedance_unit
    from echem.plots.figure import new_figure

    films = _temperature_series(results_dir, members, tables)
    if films:
        return _nyquist_temperatures(series, films, tables)
    colours, markers = _colours(members), _markers(members)
    specs = {s: sp[0] for s in members if (sp := _spectra(results_dir, s))}
    if not specs:
        return None
    factor, unit = impedance_unit(*[sp["Z"] for sp in specs.values()])
    fig, ax = new_figure(6.0, 3.8, layout="constrained")
    for s, sp in specs.items():
        flagged = _flagged(tables["eis"], s, file=sp["file"])
        ax.plot(sp["Z"].real / factor, -sp["Z"].imag / factor, markers[s], ms=3, color=colours[s],
                mfc="none" if flagged else colours[s], label=s)
        model = _model(sp)
        if model is not None:
            ax.plot(model[1].real / factor, -model[1].imag / factor, color=colours[s], lw=1.0,
                    ls="--" if flagged else "-")
    ax.set_xlabel(f"Z' / {unit}")
    ax.set_ylabel(f"−Z'' / {unit}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.axhline(0, color="0.8", lw=0.5, zorder=0)
    _legend_outside(ax, title="markers: data, lines: fits", title_fontsize=6.5)
    _title(fig, f"{series}: Nyquist plots with fits")
    return fig


def _arc_resistance(tables, sample: str, file: str) -> float | None:
    """The resistance of the arc of a film spectrum (conductivity.csv ``R_ohm``), or None."""
    cond = tables.get("conductivity")
    if cond is None or cond.empty:
        return None
    rows = cond[(cond["sample"] == sample) & (cond["file"].astype(str) == file)]
    try:
        value = float(rows["R_ohm"].iloc[0])
    except (IndexError, TypeError, ValueError):
        return None
    return value if value > 0 else None


def _nyquist_temperatures(series, films, tables):
    """One row per sample, NYQUIST_TEMPERATURES panels (temperatures spread over the run),
    each in its own engineering unit: the arcs span decades between temperatures. Each
    panel is zoomed on the arc (Z' up to 2.2 R of conductivity.csv); the blocking
    electrodes' spike runs on beyond it."""
    import numpy as np

    from echem.plots.eis import impedance_unit
    from echem.plots.figure import fixed_grid, new_figure

    ncols = min(NYQUIST_TEMPERATURES, max(len(v) for v in films.values()))
    fig, axes = new_figure(2.4 * ncols + 0.6, 2.2 * len(films) + 0.5, ncols=ncols, nrows=len(films))
    fixed_grid(fig, len(films), ncols, left_in=0.55, wgap_in=0.62)
    from matplotlib import colormaps

    cmap = colormaps["plasma"]
    temps = [sp["temperature_C"] for specs in films.values() for sp in specs]
    t_lo, t_hi = min(temps), max(temps)
    for r, (s, specs) in enumerate(films.items()):
        picked = _pick_temperatures(specs, ncols)
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(picked):
                ax.set_visible(False)
                continue
            sp = picked[c]
            colour = cmap(0.85 * (sp["temperature_C"] - t_lo) / max(t_hi - t_lo, 1e-9))
            model = _model(sp)
            R = _arc_resistance(tables, s, sp["file"])
            zoomed = R is not None and float(max(sp["Z"].real.max(), (-sp["Z"].imag).max())) > 2.5 * R
            factor, unit = impedance_unit(np.array([2.2 * R]) if zoomed else sp["Z"])
            ax.plot(sp["Z"].real / factor, -sp["Z"].imag / factor, "o", ms=2.5, mfc="none", color=colour)
            if model is not None:
                ax.plot(model[1].real / factor, -model[1].imag / factor, "-", lw=1.0, color="0.15")
            if zoomed:
                ax.set_xlim(-0.05 * 2.2 * R / factor, 2.2 * R / factor)
                ax.set_ylim(-0.1 * R / factor, 1.15 * R / factor)
                ax.set_aspect("equal", adjustable="box")
            else:
                ax.set_aspect("equal", adjustable="datalim")
            ax.axhline(0, color="0.8", lw=0.5, zorder=0)
            ax.set_title(f"{s}, {sp['temperature_C']:.0f} °C" + (" (arc)" if zoomed else ""), fontsize=7.5)
            ax.set_xlabel(f"Z' / {unit}", fontsize=7.5)
            ax.set_ylabel(f"−Z'' / {unit}", fontsize=7.5)
            ax.tick_params(labelsize=7)
    _title(fig, f"{series}: Nyquist plots with fits (markers: data, lines: fits), "
                f"{ncols} temperatures per sample")
    return fig


def _bode(results_dir, series, members, tables, settings):
    from echem.plots.eis import log_axis
    from echem.plots.figure import new_figure

    films = _temperature_series(results_dir, members, tables)
    if films:
        return _bode_temperatures(series, films)
    colours, markers = _colours(members), _markers(members)
    specs = {s: sp[0] for s in members if (sp := _spectra(results_dir, s))}
    if not specs:
        return None
    fig, axes = new_figure(8.0, 3.3, ncols=2, layout="constrained")
    ax_mag, ax_ph = axes[0, 0], axes[0, 1]
    for s, sp in specs.items():
        kw = dict(color=colours[s], ms=3, mfc="none", ls="none")
        ax_mag.loglog(sp["freq"], abs(sp["Z"]), markers[s], label=s, **kw)
        ax_ph.semilogx(sp["freq"], -_phase(sp["Z"]), markers[s], **kw)
        model = _model(sp)
        if model is not None:
            ax_mag.loglog(model[0], abs(model[1]), "-", color=colours[s], lw=1.0)
            ax_ph.semilogx(model[0], -_phase(model[1]), "-", color=colours[s], lw=1.0)
    _bode_labels(ax_mag, ax_ph, log_axis)
    _legend_outside(ax_ph, handles=ax_mag.get_legend_handles_labels()[0], title="markers: data, lines: fits",
                    title_fontsize=6.5)
    _title(fig, f"{series}: Bode plots with fits")
    return fig


def _phase(Z):
    import numpy as np

    return np.degrees(np.angle(Z))


def _bode_labels(ax_mag, ax_ph, log_axis):
    ax_mag.set_xlabel("f / Hz")
    ax_mag.set_ylabel("|Z| / Ω")
    ax_ph.set_xlabel("f / Hz")
    ax_ph.set_ylabel("−phase / °")
    for axis in (ax_mag.xaxis, ax_mag.yaxis, ax_ph.xaxis):
        axis.axes.autoscale_view()
        log_axis(axis)


def _bode_temperatures(series, films):
    """One row per sample: |Z| and phase against frequency at every temperature of the run,
    coloured by temperature (one colour bar)."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    from echem.plots.eis import log_axis
    from echem.plots.figure import fixed_grid, new_figure

    cmap = colormaps["plasma"]
    temps = [sp["temperature_C"] for specs in films.values() for sp in specs]
    norm = Normalize(min(temps), max(temps) + 0.15 * (max(temps) - min(temps) or 1))  # no pale yellow end
    fig, axes = new_figure(7.5, 2.3 * len(films) + 0.6, ncols=2, nrows=len(films))
    fixed_grid(fig, len(films), 2, left_in=0.65, right_in=1.05, wgap_in=0.75)
    for r, (s, specs) in enumerate(films.items()):
        ax_mag, ax_ph = axes[r, 0], axes[r, 1]
        for sp in specs:
            colour = cmap(norm(sp["temperature_C"]))
            ax_mag.loglog(sp["freq"], abs(sp["Z"]), "o", ms=2, mfc="none", color=colour)
            ax_ph.semilogx(sp["freq"], -_phase(sp["Z"]), "o", ms=2, mfc="none", color=colour)
            model = _model(sp)
            if model is not None:
                ax_mag.loglog(model[0], abs(model[1]), "-", lw=0.8, color=colour)
                ax_ph.semilogx(model[0], -_phase(model[1]), "-", lw=0.8, color=colour)
        _bode_labels(ax_mag, ax_ph, log_axis)
        ax_mag.set_title(s, fontsize=7.5, loc="left")
    # the colour bar in the right margin, over the middle 80 % of the rows
    top, bottom = axes[0, 1].get_position().y1, axes[-1, 1].get_position().y0
    cax = fig.add_axes([1 - 0.75 / 7.5, bottom + 0.1 * (top - bottom), 0.15 / 7.5, 0.8 * (top - bottom)])
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    bar.set_label("T / °C")
    _title(fig, f"{series}: Bode plots with fits (markers: data, lines: fits)")
    return fig


# ----------------------------------------------------------------------------- Arrhenius


def _arrhenius(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.arrhenius import ArrheniusResult
    from echem.plots.arrhenius import plot_arrhenius
    from echem.plots.figure import colour_for, new_figure

    data, colours, styles = {}, {}, {}
    arr = tables.get("arrhenius")
    any_flagged = False
    for s in members:
        recs = {}
        for path in sorted((results_dir / "samples" / s / "audit" / "arrhenius").glob("*.json")):
            rec = json.loads(path.read_text(encoding="utf-8"))
            recs[rec["metadata"]["run"]] = rec
        for run in sorted(recs, key=lambda r: ("heating", "single", "cooling").index(r)
                          if r in ("heating", "single", "cooling") else 9):
            rec = recs[run]
            pts = rec["method"]["points"]
            res = ArrheniusResult(**rec["result"])
            label = s if run == "single" else f"{s} {run}"
            data[label] = (np.array([p["T_C"] for p in pts]), np.array([p["sigma"] for p in pts]), res)
            colours[label] = colour_for(s, members)
            # sigma_ref's extrapolation does not concern the plotted Ea: not drawn as flagged
            flagged = arr is not None and _flagged(arr, s, ignore=("extrapolated",), run=run)
            any_flagged |= flagged
            styles[label] = ({"marker": "v", "linestyle": "--" if flagged else ":", "ms": 5} if run == "cooling"
                             else {"marker": "o", "linestyle": "--" if flagged else "-", "ms": 5})
    if not data:
        return None
    fig, ax = new_figure(6.6, 4.0, layout="constrained")
    plot_arrhenius(ax, data, colours=colours, styles=styles, legend=False)
    handles, _ = ax.get_legend_handles_labels()
    _legend_outside(ax, handles=handles + ([_flag_note_handle()] if any_flagged else []))
    _title(fig, f"{series}: Arrhenius plot (circles, solid: heating; triangles, dotted: cooling)"
           if any(" cooling" in k for k in data) else f"{series}: Arrhenius plot")
    return fig


def _stability(results_dir, series, members, tables, settings):
    from echem.plots.stability import series_stability

    return series_stability(results_dir, series, members, tables, settings)


def _lsv_shift(results_dir, series, members, tables, settings):
    from echem.plots.stability import series_lsv_shift

    return series_lsv_shift(results_dir, series, members, tables, settings)


PAINTERS = {"polarisation": _polarisation, "tafel": _tafel, "eta_tafel_summary": _summary,
            "specific_activity": _specific_activity, "cdl": _cdl, "nyquist": _nyquist, "bode": _bode,
            "arrhenius": _arrhenius, "stability": _stability, "lsv_shift": _lsv_shift}
