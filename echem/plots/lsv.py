"""Figures of the LSV and Tafel stages: polarisation curves and the Tafel plot.

Object-oriented matplotlib only (callers pass an ``Axes``); no pyplot, because the
workflow draws in threads. Numerics live in :mod:`echem.lsv` and :mod:`echem.tafel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from echem.report.numbers import fmt_pm


def plot_polarisation(ax, curves: Mapping[str, "object"], targets_mA_cm2: Sequence[float] = (10, 100)):
    """iR-corrected polarisation curves ``j`` against ``E`` (V vs RHE), one line per label.

    ``curves`` maps a label to a curve DataFrame of :func:`echem.lsv.analyse_lsv`
    (columns ``E_RHE_corr_V`` and ``j_mA_cm2``). The target current densities are drawn as
    dashed horizontal lines on the side of the reaction's current (negative for the HER).
    Returns ``ax``.
    """
    signs = set()
    for label, curve in curves.items():
        E = curve["E_RHE_corr_V"].to_numpy(float)
        j = curve["j_mA_cm2"].to_numpy(float)
        ax.plot(E, j, lw=1.3, label=str(label))
        finite = j[np.isfinite(j)]
        if finite.size:
            signs.add(1 if finite[np.argmax(np.abs(finite))] >= 0 else -1)
    for sign in sorted(signs) or [1]:
        for target in targets_mA_cm2:
            target_line(ax, sign * float(target))
    ax.axhline(0.0, color="0.85", lw=0.5, zorder=0)
    ax.set_xlabel("E / V vs RHE (iR-corrected)")
    ax.set_ylabel("j / mA cm$^{-2}$")
    if curves:
        # the HER's curve runs to the lower left, the OER's to the upper right: the legend
        # goes to the corner the curve leaves free
        ax.legend(fontsize=7, frameon=False, loc="lower right" if -1 in signs else "upper left")
    return ax


def target_line(ax, j_mA_cm2: float, **kw):
    """A dashed guide line at a target current density, labelled inside the axes (right end,
    on the side away from zero), e.g. ``−10 mA cm⁻²``."""
    ax.axhline(j_mA_cm2, color="0.55", lw=0.8, ls="--", zorder=0, **kw)
    text = f"{j_mA_cm2:g}".replace("-", "−") + " mA cm$^{-2}$"
    ax.annotate(text, xy=(0.985, j_mA_cm2), xycoords=("axes fraction", "data"),
                xytext=(0, -2 if j_mA_cm2 < 0 else 2), textcoords="offset points",
                va="top" if j_mA_cm2 < 0 else "bottom", ha="right", fontsize=6.5, color="0.35")


def plot_tafel(ax, eta_mV, j_mA_cm2, result, label: str | None = None):
    """Tafel plot: ``eta`` against ``log10|j|``, the fitted window highlighted with its line.

    ``result`` is a :class:`echem.tafel.TafelResult`: the points inside
    ``[eta_lo_mV, eta_hi_mV]`` are drawn solid, the rest faint, the fitted line
    ``eta = b·(log10|j| − log10 j0)`` is drawn over the window, and the window is shaded.
    Returns ``ax``.
    """
    eta = np.asarray(eta_mV, float)
    j = np.abs(np.asarray(j_mA_cm2, float))
    ok = np.isfinite(eta) & np.isfinite(j) & (j > 0) & (eta > 0)
    x, y = np.log10(j[ok]), eta[ok]
    name = "" if label is None else f"{label}: "
    (line,) = ax.plot(x, y, ".", ms=2.5, alpha=0.35, label=None)
    colour = line.get_color()
    inside = (y >= result.eta_lo_mV) & (y <= result.eta_hi_mV)
    if inside.any():
        ax.plot(x[inside], y[inside], ".", ms=3.5, color=colour)
        xs = np.linspace(x[inside].min(), x[inside].max(), 50)
        ax.plot(xs, result.slope_mV_dec * (xs - np.log10(result.j0_mA_cm2)), "-", lw=2.0, color="k", alpha=0.8,
                label=(f"{name}{fmt_pm(result.slope_mV_dec, result.slope_err_mV_dec)} mV dec$^{{-1}}$\n"
                       f"window η = {result.eta_lo_mV:.0f}–{result.eta_hi_mV:.0f} mV"))
    ax.axhspan(result.eta_lo_mV, result.eta_hi_mV, color=colour, alpha=0.08, lw=0)
    ax.set_xlabel("log$_{10}$(|j| / mA cm$^{-2}$)")
    ax.set_ylabel("η / mV")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return ax
