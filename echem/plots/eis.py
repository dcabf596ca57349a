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


def plot_nyquist(ax, fit_or_spectrum, label: str | None = None, *, color=None, show_fit: bool = True):
    """Nyquist plot: −Z'' against Z' (Ohm), equal scales.

    Data as markers; for an :class:`~echem.eis.EISFit` also the fitted circuit as a
    line over the fitted frequency range. Points removed by the fit (inductive tail,
    drift, duplicates) are not shown.
    """
    f, Z, fit = _spectrum(fit_or_spectrum)
    pts = ax.plot(Z.real, -Z.imag, "o", ms=3.5, mfc="none", color=color, label=label)[0]
    if fit is not None and show_fit:
        _, Zd = _dense(fit)
        ax.plot(Zd.real, -Zd.imag, "-", lw=1.2, color=pts.get_color(),
                label=f"{label} fit" if label else f"fit {fit.circuit}")
    ax.set_xlabel("Z' / Ω")
    ax.set_ylabel("−Z'' / Ω")
    ax.set_aspect("equal", adjustable="datalim")
    ax.axhline(0, color="0.7", lw=0.6, zorder=0)
    return ax


def plot_bode(ax_mag, ax_phase, fit_or_spectrum, label: str | None = None, *, color=None):
    """Bode plot: |Z| (Ohm, log) and −phase (degrees) against frequency (Hz, log)."""
    f, Z, fit = _spectrum(fit_or_spectrum)
    pts = ax_mag.loglog(f, np.abs(Z), "o", ms=3.5, mfc="none", color=color, label=label)[0]
    c = pts.get_color()
    ax_phase.semilogx(f, -np.degrees(np.angle(Z)), "s", ms=3.5, mfc="none", color=c, label=label)
    if fit is not None:
        fd, Zd = _dense(fit)
        ax_mag.loglog(fd, np.abs(Zd), "-", lw=1.2, color=c)
        ax_phase.semilogx(fd, -np.degrees(np.angle(Zd)), "-", lw=1.2, color=c)
    ax_mag.set_xlabel("f / Hz")
    ax_mag.set_ylabel("|Z| / Ω")
    ax_phase.set_xlabel("f / Hz")
    ax_phase.set_ylabel("−phase / °")
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
    if layout is None:
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.08, top=0.88, wspace=0.3, hspace=0.3)
    plot_nyquist(axes[0, 0], fit, label)
    plot_residuals(axes[0, 1], fit)
    plot_bode(axes[1, 0], axes[1, 1], fit, label)
    params = ", ".join(f"{p['param']}={p['value']:.3g}" for p in fit.params)
    kk = "KK ok" if fit.kk_ok else "KK FAILED"
    fig.suptitle(f"{label + ': ' if label else ''}{fit.circuit}  χ²={fit.chi2:.2e}  {kk}\n{params}", fontsize="small")
    return fig
