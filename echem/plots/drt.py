"""DRT figures: γ(τ) of one spectrum with its peaks, and the DRTs of a temperature series
coloured by temperature (the figure solid-state ionics papers show).

Object-oriented matplotlib only (no pyplot): jobs run in threads. γ is drawn in an
engineering unit of Ω (per unit ln τ) chosen from the data; the τ axis is logarithmic, with
the measured range shaded: outside it the DRT is an extrapolation.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def _gamma_unit(*gammas) -> tuple[float, str]:
    from echem.plots.eis import impedance_unit

    peak = max(float(np.max(g)) for g in gammas if np.size(g))
    return impedance_unit(np.array([peak]))


def plot_drt(ax, drt, label: str | None = None, *, color=None, unit: tuple[float, str] | None = None,
             peaks: bool = True, band: bool = True):
    """γ(τ) on ``ax`` (log τ), with the noise band (±1 σ) and the peaks marked and numbered."""
    from echem.plots.eis import log_axis

    factor, name = unit or _gamma_unit(drt.gamma_ohm)
    tau, g = drt.tau_s, drt.gamma_ohm / factor
    line = ax.semilogx(tau, g, "-", lw=1.3, color=color, label=label)[0]
    if band:
        err = drt.gamma_err_ohm / factor
        ax.fill_between(tau, np.maximum(g - err, 0), g + err, color=line.get_color(), alpha=0.18, lw=0)
    if peaks:
        for k, p in enumerate(drt.peaks, start=1):
            y = float(np.interp(math.log(p.tau_s), np.log(tau), g))
            ax.plot([p.tau_s], [y], "v", ms=5, color=line.get_color(), mfc="none" if not p.in_range else None)
            ax.annotate(str(k), (p.tau_s, y), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize="x-small", color=line.get_color())
    f = np.asarray(drt.freq_Hz, float)
    lo, hi = 1 / (2 * math.pi * f.max()), 1 / (2 * math.pi * f.min())
    ax.axvspan(tau[0], lo, color="0.93", zorder=0, lw=0)
    ax.axvspan(hi, tau[-1], color="0.93", zorder=0, lw=0)
    ax.set_xlim(tau[0], tau[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("τ / s")
    ax.set_ylabel(f"γ / {name}")
    log_axis(ax.xaxis)
    return ax


def drt_figure(drt, label: str | None = None):
    """One spectrum's DRT (left) and the data with the DRT model in the Nyquist plane (right),
    the peaks listed in the title (τ, f, R ± error)."""
    from echem.plots.eis import impedance_unit
    from echem.plots.figure import new_figure
    from echem.report.numbers import fmt_si

    fig, axes = new_figure(8, 3.6, ncols=2)
    lines = min(len(drt.peaks), 4)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.86 - 0.045 * lines, wspace=0.28)
    plot_drt(axes[0, 0], drt)
    ax = axes[0, 1]
    factor, unit = impedance_unit(drt.Z)
    ax.plot(drt.Z.real / factor, -drt.Z.imag / factor, "o", ms=3, mfc="none", label="data")
    ax.plot(drt.Z_fit.real / factor, -drt.Z_fit.imag / factor, "-", lw=1.0, color="0.2", label="DRT model")
    ax.set_aspect("equal", adjustable="datalim")
    ax.axhline(0, color="0.7", lw=0.6, zorder=0)
    ax.set_xlabel(f"Z' / {unit}")
    ax.set_ylabel(f"−Z'' / {unit}")
    ax.legend(fontsize="x-small")
    peaks = [f"{k}: τ = {p.tau_s:.3g} s ({p.f_Hz:.3g} Hz), R = {fmt_si(p.R_ohm, p.R_err_ohm, 'Ohm')}"
             + ("" if p.in_range else " (outside the measured range)")
             for k, p in enumerate(drt.peaks[:4], start=1)]
    more = f" (+{len(drt.peaks) - 4} more)" if len(drt.peaks) > 4 else ""
    fig.suptitle((f"{label}: " if label else "") + f"DRT, λ = {drt.lam:.2g}{more}\n" + "\n".join(peaks),
                 fontsize="small")
    return fig


def drt_temperature_figure(items: Sequence[tuple[str, float, Any]], title: str | None = None):
    """DRTs of a temperature series, one curve per spectrum coloured by temperature
    (``items``: (label, temperature °C, DRTResult)), over the measured time constants. γ is
    scaled to each curve's largest peak within the measured range (the resistances span
    decades between temperatures), so that the peak's motion with temperature shows; a
    spectrum of a cooling run (``cool`` in its name) is dashed."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    from echem.plots.eis import log_axis
    from echem.plots.figure import new_figure

    items = sorted(items, key=lambda it: it[1])
    fig, ax = new_figure(5.2, 3.6)
    fig.subplots_adjust(left=0.12, right=0.86, bottom=0.15, top=0.9)
    temps = [t for _, t, _ in items]
    norm = Normalize(min(temps), max(temps) if max(temps) > min(temps) else min(temps) + 1)
    cmap = colormaps["plasma"]
    t_lo, t_hi = math.inf, 0.0
    for label, T, drt in items:
        f = np.asarray(drt.freq_Hz, float)
        lo, hi = 1 / (2 * math.pi * f.max()), 1 / (2 * math.pi * f.min())
        t_lo, t_hi = min(t_lo, lo), max(t_hi, hi)
        inside = (drt.tau_s >= lo) & (drt.tau_s <= hi)
        peaks = [float(np.interp(math.log(p.tau_s), np.log(drt.tau_s), drt.gamma_ohm)) for p in drt.resolved]
        scale = max(peaks) if peaks else float(np.max(drt.gamma_ohm[inside], initial=0.0))
        g = drt.gamma_ohm / max(scale, 1e-300)
        colour = cmap(0.85 * norm(T))
        ax.semilogx(drt.tau_s[inside], g[inside], "--" if "cool" in label.lower() else "-", lw=1.1, color=colour)
        for p in drt.resolved:
            ax.plot([p.tau_s], [float(np.interp(math.log(p.tau_s), np.log(drt.tau_s), g))], "v", ms=3.5,
                    color=colour)
    ax.set_xlim(t_lo, t_hi)
    ax.set_ylim(0, 1.3)
    ax.set_xlabel("τ / s")
    ax.set_ylabel("γ / γ(largest peak)")
    log_axis(ax.xaxis)
    sm = ScalarMappable(norm=Normalize(norm.vmin, norm.vmin + (norm.vmax - norm.vmin) / 0.85), cmap=cmap)
    bar = fig.colorbar(sm, ax=ax, fraction=0.05, pad=0.02)
    bar.ax.set_ylim(norm.vmin, norm.vmax)
    bar.set_label("T / °C")
    cooling = any("cool" in label.lower() for label, _, _ in items)
    ax.set_title(f"{title + ': ' if title else ''}DRT against τ by temperature" + (" (dashed: cooling)" if cooling else ""),
                 fontsize="small")
    return fig
