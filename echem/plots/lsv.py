"""Figures of the LSV and Tafel stages: polarisation curves and the Tafel plot.

Object-oriented matplotlib only (callers pass an ``Axes``); no pyplot, because the
workflow draws in threads. Numerics live in :mod:`echem.lsv` and :mod:`echem.tafel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


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
        for k, target in enumerate(targets_mA_cm2):
            ax.axhline(sign * float(target), color="0.55", lw=0.8, ls="--", zorder=0)
            ax.annotate(f"{sign * float(target):g}", xy=(1.0, sign * float(target)),
                        xycoords=("axes fraction", "data"), xytext=(2, 0), textcoords="offset points",
                        va="center", ha="left", fontsize=7, color="0.4")
    ax.axhline(0.0, color="0.85", lw=0.5, zorder=0)
    ax.set_xlabel("E / V vs RHE (iR-corrected)")
    ax.set_ylabel("j / mA cm$^{-2}$")
    if curves:
        ax.legend(fontsize=7, frameon=False)
    return ax


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
                label=(f"{name}{result.slope_mV_dec:.1f} ± {_err(result.slope_err_mV_dec)} mV dec$^{{-1}}$, "
                       f"window {result.eta_lo_mV:.0f}–{result.eta_hi_mV:.0f} mV"))
    ax.axhspan(result.eta_lo_mV, result.eta_hi_mV, color=colour, alpha=0.08, lw=0)
    ax.set_xlabel("log$_{10}$(|j| / mA cm$^{-2}$)")
    ax.set_ylabel("η / mV")
    ax.legend(fontsize=7, frameon=False)
    return ax


def _err(value: float) -> str:
    """An error with one decimal, or two significant digits when smaller than 0.1."""
    return f"{value:.1f}" if abs(value) >= 0.1 else f"{value:.2g}"
