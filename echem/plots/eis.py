"""EIS figures: Nyquist, Bode and relative residuals, on axes the caller owns.

Object-oriented matplotlib only (no pyplot): jobs run in threads. Every function
draws on the axes it is given and returns them; :func:`eis_figure` builds a complete
2×2 figure on an Agg canvas for one fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from echem.eis import EISFit


def _spectrum(obj: Any) -> tuple[np.ndarray, np.ndarray, "EISFit | None"]:
    """(freq_Hz, Z, fit or None) from an EISFit, a (freq_Hz, Z) pair or a Measurement."""
    if hasattr(obj, "Z_fit") and hasattr(obj, "freq_Hz"):
        return np.asarray(obj.freq_Hz, float), np.asarray(obj.Z, complex), obj
    if hasattr(obj, "data") and hasattr(obj, "meta"):
        d = obj.data
        return (
            d["freq_Hz"].to_numpy(float),
            d["Z_re_ohm"].to_numpy(float) + 1j * d["Z_im_ohm"].to_numpy(float),
            None,
        )
    f, Z = obj
    return np.asarray(f, float), np.asarray(Z, complex), None


def _dense(fit: "EISFit", n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    f = np.logspace(np.log10(fit.freq_Hz.min()), np.log10(fit.freq_Hz.max()), n)
    return f, fit.predict(f)


def impedance_unit(*Zs) -> tuple[float, str]:
    """``(factor, "kΩ")``: the engineering unit for impedances up to the largest |Z'|, |Z''|."""
    from echem.report.numbers import si_prefix

    mags = [float(np.nanmax(np.abs(np.concatenate([np.real(z), np.imag(z)])))) for z in Zs
            if np.size(z) and np.isfinite(np.abs(z)).any()]
    factor, prefix = si_prefix(max(mags) if mags else 1.0)
    return factor, f"{prefix}Ω"


def plot_nyquist(ax, fit_or_spectrum, label: str | None = None, *, color=None, show_fit: bool = True,
                 unit: tuple[float, str] | None = None):
    """Nyquist plot: −Z'' against Z', equal scales, in an engineering unit (Ω, kΩ, MΩ, GΩ)
    chosen from the data (or ``unit = (factor, name)``).

    Data as markers; for an :class:`~echem.eis.EISFit` also the fitted circuit as a
    line over the fitted frequency range. Points removed by the fit (inductive tail,
    drift, duplicates) are not shown.
    """
    f, Z, fit = _spectrum(fit_or_spectrum)
    factor, name = unit or impedance_unit(Z)
    pts = ax.plot(Z.real / factor, -Z.imag / factor, "o", ms=3.5, mfc="none", color=color, label=label)[0]
    if fit is not None and show_fit:
        _, Zd = _dense(fit)
        ax.plot(Zd.real / factor, -Zd.imag / factor, "-", lw=1.2, color=pts.get_color(),
                label=f"{label} fit" if label else f"fit {fit.circuit}")
    ax.set_xlabel(f"Z' / {name}")
    ax.set_ylabel(f"−Z'' / {name}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.axhline(0, color="0.7", lw=0.6, zorder=0)
    return ax


def log_axis(axis) -> None:
    """Readable log ticks: labels at 1, 2, 5 × 10ⁿ when the data span less than two decades
    (plain numbers), at powers of ten otherwise; never minor labels like ``3×10¹``."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    lo, hi = sorted(axis.get_view_interval())
    if lo > 0 and hi / lo < 100:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        fmt = ScalarFormatter()
        fmt.set_scientific(lo < 1e-3 or hi >= 1e5)
        axis.set_major_formatter(fmt)
    else:
        axis.set_major_locator(LogLocator(base=10, numticks=8))
    axis.set_minor_formatter(NullFormatter())


def plot_bode(ax_mag, ax_phase, fit_or_spectrum, label: str | None = None, *, color=None, marker: str = "o",
              ms: float = 3.5):
    """Bode plot: |Z| (Ohm, log) and −phase (degrees) against frequency (Hz, log)."""
    f, Z, fit = _spectrum(fit_or_spectrum)
    pts = ax_mag.loglog(f, np.abs(Z), marker, ls="none", ms=ms, mfc="none", color=color, label=label)[0]
    c = pts.get_color()
    ax_phase.semilogx(f, -np.degrees(np.angle(Z)), marker, ls="none", ms=ms, mfc="none", color=c, label=label)
    if fit is not None:
        fd, Zd = _dense(fit)
        ax_mag.loglog(fd, np.abs(Zd), "-", lw=1.2, color=c)
        ax_phase.semilogx(fd, -np.degrees(np.angle(Zd)), "-", lw=1.2, color=c)
    ax_mag.set_xlabel("f / Hz")
    ax_mag.set_ylabel("|Z| / Ω")
    ax_phase.set_xlabel("f / Hz")
    ax_phase.set_ylabel("−phase / °")
    for axis in (ax_mag.xaxis, ax_mag.yaxis, ax_phase.xaxis):
        axis.axes.autoscale_view()
        log_axis(axis)
    return ax_mag, ax_phase


def plot_residuals(ax, fit: "EISFit", *, show_kk: bool = True):
    """Relative residuals (Z − Ẑ)/|Z| in % against frequency, real and imaginary.

    With ``show_kk`` the Lin-KK residuals are drawn as thin lines and the KK
    threshold as a grey band, so that a fit residual larger than the KK one shows
    a circuit that misses a feature of the data.
    """
    f = fit.freq_Hz
    ax.semilogx(f, 100 * fit.residuals_rel_re, "o", ms=3, label="Δ' fit")
    ax.semilogx(f, 100 * fit.residuals_rel_im, "s", ms=3, label="Δ'' fit")
    if show_kk and fit.Z_kk is not None:
        r = (fit.Z - fit.Z_kk) / np.abs(fit.Z)
        ax.semilogx(f, 100 * r.real, "-", lw=0.8, color="0.35", label="Δ' Lin-KK")
        ax.semilogx(f, 100 * r.imag, "--", lw=0.8, color="0.35", label="Δ'' Lin-KK")
        t = fit.kk.get("threshold_pct")
        if t:
            ax.axhspan(-t, t, color="0.9", zorder=0)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel("f / Hz")
    ax.set_ylabel("residual / % of |Z|")
    ax.legend(fontsize="x-small", ncol=2)
    return ax


def eis_figure(fit: "EISFit", label: str | None = None, layout: str | None = None):
    """A 2×2 figure (Nyquist, residuals, |Z|, phase) for one fit, on an Agg canvas."""
    from echem.plots.figure import new_figure

    fig, axes = new_figure(8, 6.5, ncols=2, nrows=2, layout=layout)
    n_lines = 1 + param_text(fit.params).count("\n") + 1
    if layout is None:
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.08, top=0.955 - 0.03 * n_lines, wspace=0.3, hspace=0.3)
    plot_nyquist(axes[0, 0], fit, label)
    plot_residuals(axes[0, 1], fit)
    plot_bode(axes[1, 0], axes[1, 1], fit, label)
    kk = "Lin-KK ok" if fit.kk_ok else "Lin-KK FAILED"
    fig.suptitle(f"{label + ': ' if label else ''}{fit.circuit}   χ² = {fit.chi2:.2g}   {kk}\n"
                 + param_text(fit.params), fontsize="small")
    return fig


def param_text(params, per_line: int = 3) -> str:
    """``R0 = 2.600 ± 0.003 Ω, R1 = 9.41 ± 0.02 Ω, CPE1_0 = ... S·s^n`` (values rounded to
    their errors, engineering units for resistances), ``per_line`` parameters a line."""
    from echem.report.numbers import display_unit, fmt_pm, fmt_si

    items = []
    for p in params:
        unit = p.get("unit") or ""
        if unit == "Ohm":
            text = fmt_si(p["value"], p.get("stderr"), unit)
        else:
            text = fmt_pm(p["value"], p.get("stderr"), display_unit(unit))
        items.append(f"{p['param']} = {text}")
    lines = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
    return "\n".join(lines)
