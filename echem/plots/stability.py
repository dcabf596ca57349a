"""Figures of the stability stage: η(t) (or j(t)) of long CP/CA runs and before/after LSVs.

Object-oriented matplotlib only (callers pass an ``Axes``); no pyplot, because the
workflow draws in threads. Numerics live in :mod:`echem.stability`.

Long runs (3 million points) are drawn from a min/max envelope (:func:`minmax_envelope`):
per time bin the smallest and the largest value, so a single-point bubble spike survives
the downsampling that a mean or a stride would lose; interruptions break the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Bins of the drawing envelope (two points each): far more than a figure's pixels need.
ENVELOPE_BINS = 1500

LABELS = {"eta_mV": "η / mV (iR-corrected)", "j_mA_cm2": "|j| / mA cm$^{-2}$"}


def minmax_envelope(t, y, n_bins: int = ENVELOPE_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Downsample ``y(t)`` for drawing: per time bin its minimum and maximum.

    ``t`` must be non-decreasing. Returns ``(t_out, y_out)``: two points per non-empty bin,
    both at the bin's mean time, minimum first; a NaN point between bins separated by an
    empty one (an interruption), so the line breaks there. Records with at most
    ``2·n_bins`` finite points are returned as they are.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(t) & np.isfinite(y)
    if not ok.all():
        t, y = t[ok], y[ok]
    if t.size <= 2 * n_bins or t.size < 2 or t[-1] <= t[0]:
        return t.copy(), y.copy()
    edges = np.linspace(t[0], t[-1], n_bins + 1)
    starts = np.searchsorted(t, edges[:-1], "left")
    stops = np.append(starts[1:], t.size)
    full = stops > starts
    starts, stops = starts[full], stops[full]
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    counts = stops - starts
    tc = np.add.reduceat(t, starts) / counts
    bin_index = np.flatnonzero(full)
    broken = np.diff(bin_index) > 1
    t_out = np.column_stack([tc, tc]).ravel()
    y_out = np.column_stack([lo, hi]).ravel()
    if broken.any():
        at = 2 * (np.flatnonzero(broken) + 1)
        t_out = np.insert(t_out, at, np.nan)
        y_out = np.insert(y_out, at, np.nan)
    return t_out, y_out


def plot_run(ax, t_h, value, *, quantity: str = "eta_mV", start_window_h: Sequence[float] | None = None,
             end_window_h: Sequence[float] | None = None, start: float | None = None, end: float | None = None,
             fit: Mapping[str, float] | None = None, label: str | None = None, colour: str | None = None,
             note: str | None = None):
    """One run against time in hours: the min/max envelope, the start/end windows shaded with
    their values as black bars, and the drift line (``fit``: ``slope`` per hour,
    ``intercept_at_centre``, ``x_centre`` in hours) dashed; ``note`` (e.g. the values) in a box
    at the upper left. Returns ``ax``."""
    x, y = minmax_envelope(t_h, value)
    (line,) = ax.plot(x, y, lw=0.7, color=colour, label=label)
    colour = line.get_color()
    for window, v in ((start_window_h, start), (end_window_h, end)):
        if window is None:
            continue
        ax.axvspan(window[0], window[1], color="0.5", alpha=0.25, lw=0)
        if v is not None and np.isfinite(v):
            ax.plot(list(window), [v, v], color="k", lw=2.2, solid_capstyle="butt", zorder=5)
    if note:
        ax.text(0.02, 0.97, note, transform=ax.transAxes, ha="left", va="top", fontsize=7,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.7", "alpha": 0.85})
    if fit is not None and np.isfinite(fit.get("slope", np.nan)):
        finite = np.asarray(t_h, float)[np.isfinite(np.asarray(t_h, float))]
        xs = np.array([finite.min(), finite.max()])
        ys = fit["intercept_at_centre"] + fit["slope"] * (xs - fit["x_centre"])
        ax.plot(xs, ys, "--", color="k", lw=0.9, alpha=0.8)
    ax.set_xlabel("time / h")
    ax.set_ylabel(LABELS.get(quantity, quantity))
    _robust_ylim(ax, value)
    return ax


def _robust_ylim(ax, *values) -> None:
    """Y limits that show the run, not its one largest spike: the 0.1–99.9 % range of the
    data widened by 30 % (a spike beyond is cut at the frame)."""
    y = np.concatenate([np.asarray(v, float).ravel() for v in values]) if values else np.empty(0)
    y = y[np.isfinite(y)]
    if y.size < 10:
        return
    lo, hi = np.quantile(y, [0.001, 0.999])
    pad = 0.3 * (hi - lo) or 1.0
    ax.set_ylim(lo - pad, hi + pad)


def plot_runs(ax, traces: Mapping[str, tuple[Any, Any]], *, quantity: str = "eta_mV",
              colours: Mapping[str, str] | None = None):
    """Several runs on one axis (e.g. every sample of a series): ``traces`` maps a label to
    ``(t_h, value)``; each is drawn as its min/max envelope. Returns ``ax``."""
    values = []
    for label, (t_h, value) in traces.items():
        x, y = minmax_envelope(t_h, value)
        ax.plot(x, y, lw=0.7, color=(colours or {}).get(label), label=str(label))
        values.append(y)
    ax.set_xlabel("time / h")
    ax.set_ylabel(LABELS.get(quantity, quantity))
    if values:
        _robust_ylim(ax, *values)
        ax.legend(fontsize=7, frameon=False)
    return ax


def plot_lsv_overlay(ax, before, after, targets_mA_cm2: Sequence[float] = (10,), shifts=None,
                     colour: str | None = None, label: str | None = None, text_row: int = 0,
                     annotate: bool = True):
    """Polarisation curves before (solid) and after (dashed) the stability test, ``j`` against
    ``E`` (V vs RHE, iR-corrected), from :func:`echem.lsv.analyse_lsv` curves (columns
    ``E_RHE_corr_V`` and ``j_mA_cm2``); dotted lines at the targets, and each target's
    ``Δη`` (``shifts``: rows with ``target_mA_cm2``, ``delta_eta_mV``, ``delta_eta_err_mV``)
    written beside it (``text_row``: how many lines above the target line), or, with
    ``annotate=False`` (several samples on one axis), the first target's Δη in the legend.
    Returns ``ax``."""
    name = f"{label}: " if label else ""
    by_target = {float(r["target_mA_cm2"]): r for r in (shifts or [])}
    first = by_target.get(float(targets_mA_cm2[0])) if len(targets_mA_cm2) else None
    after_label = f"{name}after"
    if not annotate and first is not None and np.isfinite(first.get("delta_eta_mV", np.nan)):
        after_label += f" (Δη$_{{{float(targets_mA_cm2[0]):g}}}$ = {first['delta_eta_mV']:.1f} mV)"
    (line,) = ax.plot(before["E_RHE_corr_V"], before["j_mA_cm2"], lw=1.3, color=colour, label=f"{name}before")
    colour = line.get_color()
    ax.plot(after["E_RHE_corr_V"], after["j_mA_cm2"], lw=1.3, ls="--", color=colour, label=after_label)
    j = np.asarray(before["j_mA_cm2"], float)
    finite = j[np.isfinite(j)]
    sign = 1 if finite.size and finite[np.argmax(np.abs(finite))] >= 0 else -1
    for target in targets_mA_cm2:
        y = sign * float(target)
        ax.axhline(y, color="0.6", lw=0.7, ls=":", zorder=0)
        row = by_target.get(float(target))
        if annotate and row is not None and np.isfinite(row.get("delta_eta_mV", np.nan)):
            err = row.get("delta_eta_err_mV")
            text = (f"{label}: " if label else "") + f"Δη$_{{{float(target):g}}}$ = {row['delta_eta_mV']:.1f}" + \
                (f" ± {_err(err)}" if err is not None and np.isfinite(err) else "") + " mV"
            # where the curves leave room: HER below the line at the right, OER above it at the left
            ax.annotate(text, xy=(0.97 if sign < 0 else 0.03, y), xycoords=("axes fraction", "data"),
                        xytext=(0, (-3 - 9 * text_row) if sign < 0 else (3 + 9 * text_row)),
                        textcoords="offset points", ha="right" if sign < 0 else "left",
                        va="top" if sign < 0 else "bottom", fontsize=7, color=colour)
    ax.axhline(0.0, color="0.85", lw=0.5, zorder=0)
    _focus(ax, [before, after], 2.0 * max(float(t) for t in targets_mA_cm2) if len(targets_mA_cm2) else None, sign)
    ax.set_xlabel("E / V vs RHE (iR-corrected)")
    ax.set_ylabel("j / mA cm$^{-2}$")
    ax.legend(fontsize=7, frameon=False)
    return ax


def _err(value: float) -> str:
    """An error with one decimal, or two significant digits when smaller than 0.1."""
    return f"{value:.1f}" if abs(value) >= 0.1 else f"{value:.2g}"


def _focus(ax, curves, j_limit: float | None, sign: int) -> None:
    """Show the curves up to ``j_limit`` (twice the largest target) when they go far beyond it:
    the targets, not the last volts of the sweep, are what the overlay compares. Keeps the
    axis limits of curves drawn earlier on the same axis."""
    if not j_limit:
        return
    E_in, beyond = [], False
    for c in curves:
        j = np.asarray(c["j_mA_cm2"], float)
        E = np.asarray(c["E_RHE_corr_V"], float)
        inside = np.isfinite(j) & np.isfinite(E) & (np.abs(j) <= j_limit)
        beyond |= bool(np.nanmax(np.abs(j)) > j_limit) if j.size else False
        E_in.append(E[inside])
    E_in = np.concatenate(E_in) if E_in else np.empty(0)
    if not beyond or E_in.size < 2:
        return
    lo, hi = float(E_in.min()), float(E_in.max())
    pad = 0.05 * (hi - lo or 0.01)
    if getattr(ax, "_stability_focus", None):
        lo0, hi0, j0 = ax._stability_focus
        lo, hi, j_limit = min(lo, lo0), max(hi, hi0), max(j_limit, j0)
    ax._stability_focus = (lo, hi, j_limit)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(*sorted((sign * 1.05 * j_limit, -sign * 0.08 * j_limit)))


# --------------------------------------------------------------------------- per series


def _read_parquet(path: Path):
    import pandas as pd

    return pd.read_parquet(path) if path.is_file() else None


def series_stability(results_dir, series, members, tables, settings):
    """All samples' η(t) (CP) or j(t) (CA) of a series on one axis, one panel per mode, from
    each sample's ``stability_traces.parquet`` (the envelopes the stage stored). None when no
    sample of the series has a run. Signature of :mod:`echem.plots.compare`'s painters."""
    from echem.plots.figure import colour_for, new_figure

    per_mode: dict[str, dict[str, tuple[Any, Any]]] = {}
    for s in members:
        traces = _read_parquet(Path(results_dir) / "samples" / s / "stability_traces.parquet")
        if traces is None or traces.empty:
            continue
        for (file, mode), g in traces.groupby(["file", "mode"], sort=True):
            label = s if (traces["file"].nunique() == 1) else f"{s}: {file}"
            per_mode.setdefault(mode, {})[label] = (g["t_h"].to_numpy(float), g["value"].to_numpy(float))
    if not per_mode:
        return None
    modes = sorted(per_mode)
    fig, axes = new_figure(5.2 * len(modes), 3.6, ncols=len(modes), layout="constrained")
    for k, mode in enumerate(modes):
        ax = axes[0, k] if len(modes) > 1 else axes
        colours = {lab: colour_for(lab.split(": ")[0], list(members)) for lab in per_mode[mode]}
        plot_runs(ax, per_mode[mode], quantity="eta_mV" if mode == "CP" else "j_mA_cm2", colours=colours)
        ax.set_title(f"{series}: {'chronopotentiometry' if mode == 'CP' else 'chronoamperometry'}", fontsize=9)
    return fig


def series_lsv_shift(results_dir, series, members, tables, settings):
    """Before/after polarisation curves of every sample of a series on one axis (the first
    before/after pair of each), from each sample's ``stability_curves.parquet``; Δη at the
    first target in the legend. None when no sample has a pair."""
    from echem.plots.figure import colour_for, new_figure

    pairs = []
    for s in members:
        curves = _read_parquet(Path(results_dir) / "samples" / s / "stability_curves.parquet")
        if curves is None or curves.empty:
            continue
        pair = sorted(curves["pair"].unique())[0]
        c = curves[curves["pair"] == pair]
        before, after = c[c["role"] == "before"], c[c["role"] == "after"]
        if before.empty or after.empty:
            continue
        pairs.append((s, before, after))
    if not pairs:
        return None
    targets = list((settings or {}).get("stability", {}).get("targets_mA_cm2", [10]))[:1]
    shift_table = (tables or {}).get("stability_lsv_shift")
    fig, ax = new_figure(5.0, 3.8, layout="constrained")
    for s, before, after in pairs:
        rows = []
        if shift_table is not None and not shift_table.empty:
            sel = shift_table[(shift_table["sample"] == s) & (shift_table["before_file"] == before["file"].iloc[0])
                              & (shift_table["after_file"] == after["file"].iloc[0])]
            rows = sel.to_dict("records")
        plot_lsv_overlay(ax, before, after, targets, rows, colour=colour_for(s, list(members)), label=s,
                         annotate=False)
    ax.set_title(f"{series}: LSV before (solid) and after (dashed) the stability test", fontsize=8)
    return fig
