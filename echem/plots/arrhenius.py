"""Arrhenius plot: log10 conductivity against 1000/T, with a °C axis on top.

Object-oriented matplotlib only (no pyplot): the caller owns the Figure/Axes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from echem.arrhenius import T0_K, ArrheniusResult

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")


def inv_kK_from_C(T_C):
    """``1000 / T`` in 1/K (the abscissa) from T in °C; NaN at or below 0 K."""
    T_K = np.asarray(T_C, dtype=float) + T0_K
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(T_K > 0, 1000.0 / T_K, np.nan)


def C_from_inv_kK(x):
    """T in °C from ``1000 / T`` in 1/K (inverse of :func:`inv_kK_from_C`); NaN for x <= 0."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, 1000.0 / x - T0_K, np.nan)


def plot_arrhenius(ax, series: Mapping[str, tuple], *, colours: Mapping[str, str] | None = None,
                   top_axis: bool = True, styles: Mapping[str, Mapping] | None = None,
                   legend: bool = True):
    """Draw one or more Arrhenius series on ``ax``.

    ``series`` maps a label (sample, or sample + run such as ``"A heating"``) to
    ``(T_C, sigma_S_cm, result)`` where ``result`` is an
    :class:`~echem.arrhenius.ArrheniusResult` or ``None`` (points only). Points used in
    the fit are filled markers; points in ``result.excluded`` are drawn open and named
    "excluded" in the legend. The fit line spans the fitted temperature range; for
    law ``sigma_T`` it is ``log10(A exp(-Ea/(k_B T)) / T)``, slightly curved on this
    abscissa. ``Ea`` in the legend is rounded to its error's significant digits.

    ``styles`` maps a label to ``marker``, ``linestyle`` and ``ms`` (e.g. heating and
    cooling runs of one sample: one colour, two markers).

    ``T_C`` and ``sigma_S_cm`` must be the arrays given to :func:`fit_arrhenius` (the
    ``index`` of an excluded point refers to them).

    Abscissa ``1000 T⁻¹ / K⁻¹``, ordinate ``log₁₀(σ / S cm⁻¹)``; with ``top_axis`` a
    secondary x-axis on top reads ``T / °C``. Returns the secondary axis (or ``None``).
    """
    from echem.report.numbers import fmt_pm

    for k, (label, item) in enumerate(series.items()):
        T_C, sigma, result = item
        T_C = np.asarray(T_C, dtype=float)
        sigma = np.asarray(sigma, dtype=float)
        colour = (colours or {}).get(label) or f"C{k % 10}"
        style = dict((styles or {}).get(label) or {})
        marker = style.get("marker", _MARKERS[k % len(_MARKERS)])
        ms = style.get("ms", 6)
        ok = np.isfinite(T_C) & np.isfinite(sigma) & (sigma > 0)

        excluded_idx: set[int] = set()
        if isinstance(result, ArrheniusResult):
            excluded_idx = {int(e["index"]) for e in result.excluded
                            if e.get("index") is not None and e["index"] < T_C.size}
        used = ok.copy()
        used[list(excluded_idx)] = False
        dropped = ok & ~used

        text = label
        if isinstance(result, ArrheniusResult) and np.isfinite(result.Ea_eV):
            text = f"{label}: E$_a$ = {fmt_pm(result.Ea_eV, result.Ea_err_eV)} eV"
        ax.plot(inv_kK_from_C(T_C[used]), np.log10(sigma[used]), linestyle="none",
                marker=marker, ms=ms, color=colour, label=text)
        if dropped.any():
            ax.plot(inv_kK_from_C(T_C[dropped]), np.log10(sigma[dropped]), linestyle="none",
                    marker=marker, ms=ms, markerfacecolor="none", color=colour,
                    label=f"{label}: excluded")
        if isinstance(result, ArrheniusResult) and used.sum() >= 2:
            t_lo, t_hi = T_C[used].min(), T_C[used].max()
            t_line = np.linspace(t_lo, t_hi, 100)
            ax.plot(inv_kK_from_C(t_line), np.log10(result.sigma_S_cm(t_line)),
                    linestyle=style.get("linestyle", "-"), color=colour, linewidth=1.0)

    ax.set_xlabel("1000 T$^{-1}$ / K$^{-1}$")
    ax.set_ylabel(r"log$_{10}$($\sigma$ / S cm$^{-1}$)")
    if series and legend:
        ax.legend(fontsize="small", frameon=False)
    if not top_axis:
        return None
    ax.tick_params(top=False, labeltop=False)
    secax = ax.secondary_xaxis("top", functions=(C_from_inv_kK, inv_kK_from_C))
    secax.set_xlabel("T / °C")
    secax.tick_params(direction="in")
    return secax
