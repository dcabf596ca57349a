"""Comparative figures per series, drawn from the collected tables and per-sample outputs.

One figure per kind and series, saved as ``results/figures/<series>_<kind>.<fmt>``:
polarisation curves on the RHE scale, Tafel plots with the fitted windows, a summary of
eta10 and Tafel slope, specific activity, the Cdl fits, Nyquist plots with fits, and
Arrhenius plots. Each sample keeps its colour in every figure of its series.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping


#: At most this many samples per comparative figure (more would be unreadable); the
#: title says when a series was cut.
MAX_SAMPLES_PER_FIGURE = 16

def shown_members(members: list[str]) -> list[str]:
    """The samples a comparative figure shows: the first MAX_SAMPLES_PER_FIGURE by name."""
    return sorted(members)[:MAX_SAMPLES_PER_FIGURE]


KINDS = ("polarisation", "tafel", "eta_tafel_summary", "specific_activity", "cdl", "nyquist", "arrhenius")


def _empty(name):
    from echem.workflow.tables import frame

    return frame([], name)


def member_tables(results_dir: Path, members: list[str]) -> dict:
    """The members' per-sample tables, concatenated per table name."""
    from echem.workflow.tables import concat_tables

    return {name: concat_tables([p for s in members
                                 if (p := results_dir / "samples" / s / "tables" / f"{name}.csv").is_file()], name)
            for name in ("overpotentials", "tafel", "ecsa", "eis", "conductivity", "arrhenius")}


def draw_series(results_dir: Path, series: str, members: list[str], out: Path, formats,
                settings: Mapping[str, Any], run, cut: bool = False) -> None:
    """All comparative figures of one series into ``out/<series>_<kind>.<fmt>``."""
    from echem.plots.figure import save

    shown = shown_members(members)
    cut = cut or len(members) > len(shown)
    if cut:
        run.warning(f"series {series} has more samples than a figure shows; it shows the first {len(shown)} by name")
    tables = member_tables(results_dir, shown)
    for kind in KINDS:
        painter = globals()[f"_{kind}" if kind != "eta_tafel_summary" else "_summary"]
        try:
            fig = painter(results_dir, series, shown, tables, settings)
        except Exception as exc:  # noqa: BLE001 - one figure must not cost the others
            run.warning(f"{series} {kind}: figure not drawn ({type(exc).__name__}: {exc})")
            continue
        if fig is None:
            continue
        if cut:
            fig.text(0.99, 0.01, f"first {len(shown)} samples of the series by name", ha="right",
                     va="bottom", fontsize=6)
        save(fig, out / f"{series}_{kind}", formats)
        run.info(f"{series}_{kind} drawn")


#: How a flagged number is drawn (bars hatched, markers hollow, lines dashed), and the
#: legend entry that says so.
FLAGGED_HATCH = "////"
FLAGGED_NOTE = "hatched / hollow / dashed: flagged, see warnings.csv"


def _flagged(table, sample, **match) -> bool:
    """Whether the sample's row(s) of a table carry a flag (matching ``match`` columns)."""
    from echem.flags import split

    if "flags" not in table.columns:
        return False
    rows = table[table["sample"] == sample]
    for col, value in match.items():
        if isinstance(value, float):
            rows = rows[rows[col].astype(float) == value]
        else:
            rows = rows[rows[col].astype(str) == str(value)]
    return any(split(c) for c in rows["flags"])


def _bars(ax, x, heights, errors, colours, flagged) -> None:
    """Bars with error bars; flagged ones hatched and pale, with a legend entry saying so."""
    from matplotlib.patches import Patch

    bars = ax.bar(x, heights, yerr=errors, color=colours, capsize=2)
    for bar, flag in zip(bars, flagged):
        if flag:
            bar.set_hatch(FLAGGED_HATCH)
            bar.set_alpha(0.45)
            bar.set_edgecolor("0.2")
    if any(flagged):
        ax.legend(handles=[Patch(facecolor="white", edgecolor="0.2", hatch=FLAGGED_HATCH, label=FLAGGED_NOTE)],
                  fontsize=6, frameon=False, loc="upper left")


def _colours(members):
    from echem.plots.figure import colour_for

    return {s: colour_for(s, members) for s in members}


def _curves(results_dir: Path, sample: str):
    import pandas as pd

    path = results_dir / "samples" / sample / "lsv_curves.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def _polarisation(results_dir, series, members, tables, settings):
    from echem.plots.figure import new_figure

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
    for target in settings["lsv"]["targets_mA_cm2"][:1]:
        sign = -1 if (tables["overpotentials"]["reaction"] == "HER").any() else 1
        ax.axhline(sign * target, color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("E / V vs RHE (iR-corrected)")
    ax.set_ylabel("j / mA cm$^{-2}$")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"{series}: polarisation curves", fontsize=9)
    return fig


def _tafel(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.plots.figure import new_figure

    colours = _colours(members)
    tafel = tables["tafel"]
    fig, ax = new_figure(4.8, 3.6, layout="constrained")
    drawn = False
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
            xs = np.linspace(x.min(), x.max(), 20)
            flagged = _flagged(tafel, s, file=row["file"])
            ax.plot(xs, row["slope_mV_dec"] * (xs - np.log10(row["j0_mA_cm2"])), color=colours[s], lw=2.2,
                    ls="--" if flagged else "-",
                    label=f"{s}: {row['slope_mV_dec']:.1f} mV dec$^{{-1}}$" + (" (flagged)" if flagged else ""))
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("log$_{10}$(|j| / mA cm$^{-2}$)")
    ax.set_ylabel("η / mV")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"{series}: Tafel plots (thick: fitted window; dashed: flagged)", fontsize=9)
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
    fig.suptitle(f"{series}: overpotential at {target:g} mA cm$^{{-2}}$ and Tafel slope", fontsize=9)
    return fig


def _specific_activity(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.plots.figure import new_figure

    ecsa = tables["ecsa"]
    rows = ecsa[ecsa["sample"].isin(members)].dropna(subset=["sa_mA_cm2"])
    if rows.empty:
        return None
    colours = _colours(members)
    fig, ax = new_figure(4.8, 3.4, layout="constrained")
    names = list(rows["sample"])
    x = np.arange(len(names))
    _bars(ax, x, rows["sa_mA_cm2"].astype(float), rows["sa_err_mA_cm2"].astype(float).fillna(0),
          [colours[s] for s in names], [_flagged(ecsa, s) for s in names])
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
    eta = float(rows["sa_eta_mV"].iloc[0])
    ax.set_ylabel(f"specific activity at η = {eta:g} mV / mA cm$^{{-2}}_{{ECSA}}$")
    ax.set_title(f"{series}: specific activity", fontsize=9)
    return fig


def _cdl(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.plots.figure import new_figure

    colours = _colours(members)
    fig, ax = new_figure(4.8, 3.6, layout="constrained")
    drawn = False
    for s in members:
        path = results_dir / "samples" / s / "audit" / "ecsa" / "ecsa__sample.json"
        if not path.is_file():
            continue
        rec = json.loads(path.read_text(encoding="utf-8"))
        pts = rec["method"]["points"]
        v = np.array([p["scan_rate_V_s"] for p in pts]) * 1e3
        di = np.array([(p["i_anodic_A"] - p["i_cathodic_A"]) / 2 for p in pts]) * 1e3
        cdl_mF = rec["result"]["cdl_mF"]
        flagged = _flagged(tables["ecsa"], s)
        ax.plot(v, di, "o", color=colours[s], ms=4, mfc="none" if flagged else colours[s])
        vs = np.linspace(0, v.max() * 1.05, 10)
        intercept = np.mean(di - cdl_mF * v * 1e-3)
        ax.plot(vs, intercept + cdl_mF * vs * 1e-3, color=colours[s], lw=1.2, ls="--" if flagged else "-",
                label=f"{s}: {cdl_mF:.3g} mF" + (" (flagged)" if flagged else ""))
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("scan rate / mV s$^{-1}$")
    ax.set_ylabel("(i$_a$ − i$_c$)/2 / mA")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"{series}: double-layer capacitance", fontsize=9)
    return fig


def _nyquist(results_dir, series, members, tables, settings):
    import numpy as np
    import pandas as pd

    from echem.plots.figure import new_figure

    colours = _colours(members)
    fig, ax = new_figure(4.8, 3.8, layout="constrained")
    drawn = False
    for s in members:
        fits_path = results_dir / "samples" / s / "eis_fits.json"
        ingest_path = results_dir / "samples" / s / "ingest.json"
        if not fits_path.is_file():
            continue
        fits = json.loads(fits_path.read_text(encoding="utf-8"))["fits"]
        if not fits:
            continue
        # the spectrum nearest room temperature (or the first) represents the sample
        fit = min(fits, key=lambda f: abs((f.get("temperature_C") or 25.0) - 25.0))
        files = {r["file"]: r for r in json.loads(ingest_path.read_text(encoding="utf-8"))["files"]}
        rec = files.get(fit["source_file"])
        if not rec or rec.get("status") != "ok":
            continue
        data = pd.read_parquet(results_dir / "samples" / s / rec["canonical"])
        if "#" in fit["file"] and "cycle" in data.columns:
            data = data[data["cycle"] == int(fit["file"].rsplit("#", 1)[1])]
        ax.plot(data["Z_re_ohm"], -data["Z_im_ohm"], "o", ms=2.5, color=colours[s], label=f"{s}: {fit['file']}")
        try:
            from impedance.models.circuits import CustomCircuit

            values = [p["value"] for p in fit["params"].values()]
            model = CustomCircuit(fit["circuit"], initial_guess=values)
            f = np.logspace(np.log10(data["freq_Hz"].min()), np.log10(data["freq_Hz"].max()), 200)
            Z = model.predict(f, use_initial=True)
            ax.plot(Z.real, -Z.imag, "-", color=colours[s], lw=1.0)
        except Exception:  # noqa: BLE001 - the data are still worth showing
            pass
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("Z' / Ω")
    ax.set_ylabel("−Z'' / Ω")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=6, frameon=False)
    ax.set_title(f"{series}: Nyquist plots with fits", fontsize=9)
    return fig


def _arrhenius(results_dir, series, members, tables, settings):
    import numpy as np

    from echem.arrhenius import ArrheniusResult
    from echem.plots.arrhenius import plot_arrhenius
    from echem.plots.figure import colour_for, new_figure

    series_data, colours = {}, {}
    for s in members:
        records = sorted((results_dir / "samples" / s / "audit" / "arrhenius").glob("*.json"))
        recs = {json.loads(p.read_text(encoding="utf-8"))["metadata"]["run"]: p for p in records}
        # one curve per sample: the heating run when there is one (the usual published run)
        run_label = "heating" if "heating" in recs else "single" if "single" in recs else next(iter(sorted(recs)), None)
        if run_label is None:
            continue
        rec = json.loads(recs[run_label].read_text(encoding="utf-8"))
        pts = rec["method"]["points"]
        res = ArrheniusResult(**rec["result"])
        series_data[s] = (np.array([p["T_C"] for p in pts]), np.array([p["sigma"] for p in pts]), res)
        colours[s] = colour_for(s, members)
    if not series_data:
        return None
    fig, ax = new_figure(5.0, 4.0, layout="constrained")
    plot_arrhenius(ax, series_data, colours=colours)
    ax.set_title(f"{series}: Arrhenius plot", fontsize=9)
    return fig
