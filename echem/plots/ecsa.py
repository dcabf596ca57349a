"""Figures of the ECSA stage: the CV scan-rate series and the Cdl line.

Object-oriented matplotlib only (callers pass an ``Axes``); no pyplot, because the
workflow draws in threads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from echem.report.numbers import fmt_pm


def current_unit(max_abs_A: float) -> tuple[float, str]:
    """Scale factor and label so currents read as 1-1000 of the unit."""
    for factor, unit in ((1e9, "nA"), (1e6, "µA"), (1e3, "mA")):
        if max_abs_A * factor < 1000:
            return factor, unit
    return 1.0, "A"


def plot_cv_overlay(ax, cvs: Sequence[tuple[float, np.ndarray, np.ndarray]], E_mid_V: float | None = None,
                    reference: str | dict | None = None):
    """Overlay CVs of a scan-rate series, coloured by scan rate (viridis, slow = dark).

    ``cvs`` holds ``(scan_rate_V_s, E_V, I_A)`` per CV. ``E_mid_V``, if given, is marked
    with a dotted vertical line (the potential the charging currents were read at).
    ``reference``: the reference electrode the potentials are against (the axis then
    reads ``E / V vs Hg/HgO (1 M KOH)``; else ``vs ref.``). Returns ``ax``.
    """
    from matplotlib import colormaps

    cvs = sorted(cvs, key=lambda c: c[0])
    if not cvs:
        return ax
    peak = max(float(np.nanmax(np.abs(np.asarray(i, float)))) for _, _, i in cvs)
    factor, unit = current_unit(peak)
    cmap = colormaps["viridis"]
    n = len(cvs)
    for k, (v, E, I) in enumerate(cvs):
        colour = cmap(0.9 * k / max(n - 1, 1))
        ax.plot(np.asarray(E, float), np.asarray(I, float) * factor, color=colour, lw=1.0,
                label=f"{v * 1e3:g} mV/s")
    if E_mid_V is not None:
        ax.axvline(E_mid_V, color="0.4", ls=":", lw=0.8)
    ax.axhline(0.0, color="0.8", lw=0.5, zorder=0)
    if isinstance(reference, dict):  # {name: ..., E_vs_SHE_V: ...} of sample.yaml
        reference = reference.get("name")
    ax.set_xlabel(f"E / V vs {reference}" if reference else "E / V vs ref.")
    ax.set_ylabel(f"I / {unit}")
    # outside the window's rectangle: inside, the legend sits on the CVs
    ax.legend(fontsize=6.5, frameon=False, title="scan rate", title_fontsize=6.5, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig = ax.figure
    if fig.get_layout_engine() is None and fig.subplotpars.right > 0.8:
        fig.subplots_adjust(right=0.78)  # fixed margins (per-sample figures): room for the legend
    return ax


def plot_cdl_fit(ax, result, scan_rates, i_a, i_c):
    """Charging current against scan rate with the fitted Cdl line.

    Filled circles: ``(i_a - i_c)/2`` and its line (slope ``Cdl``); open triangles:
    ``i_a`` and ``-i_c`` with dashed lines (their slopes should agree with ``Cdl``).
    ``result`` is a :class:`echem.ecsa.CdlResult`. Returns ``ax``.
    """
    v = np.asarray(scan_rates, float)
    ia = np.asarray(i_a, float)
    ic = np.asarray(i_c, float)
    charging = 0.5 * (ia - ic)
    factor, unit = current_unit(float(np.nanmax(np.abs(np.concatenate([ia, ic])))))
    v_mV = v * 1e3
    grid = np.linspace(0.0, float(v.max()) * 1.05, 50)

    audit = getattr(result, "audit", {}) or {}
    ax.plot(v_mV, charging * factor, "o", color="#0072B2", ms=5, label="(i$_a$ − i$_c$)/2")
    ax.plot(grid * 1e3, (result.cdl_F * grid + result.intercept_A) * factor, "-", color="#0072B2",
            lw=1.2, label=f"C$_{{dl}}$ = {fmt_pm(result.cdl_F * 1e3, result.cdl_err_F * 1e3)} mF, "
                          f"R² = {result.r2:.4f}")
    for key, y, colour, marker, name in (
        ("anodic_fit", ia, "#D55E00", "^", "i$_a$"),
        ("cathodic_fit", -ic, "#009E73", "v", "−i$_c$"),
    ):
        fit = audit.get(key, {})
        slope = fit.get("slope_F")
        ax.plot(v_mV, y * factor, marker, mfc="none", color=colour, ms=5,
                label=name if slope is None else f"{name}: {slope * 1e3:.3g} mF")
        if slope is not None:
            ax.plot(grid * 1e3, (slope * grid + fit.get("intercept_A", 0.0)) * factor, "--",
                    color=colour, lw=0.8)
    ax.set_xlim(left=0)
    ax.set_xlabel("scan rate / mV s$^{-1}$")
    ax.set_ylabel(f"charging current / {unit}")
    ax.legend(fontsize=7, frameon=False)
    return ax


_current_unit = current_unit  # the former name

__all__ = ["current_unit", "plot_cv_overlay", "plot_cdl_fit"]
