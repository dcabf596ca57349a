"""Tafel stage: slope and exchange current density from the iR-corrected polarisation curve.

Model (lmfit): ``eta_mV = a + b · log10(|j| / (mA cm⁻²))``, ``b`` the Tafel slope in
mV dec⁻¹; exchange current density ``log10 j0 = −a / b`` (mA cm⁻²), its error propagated
from the covariance of ``a`` and ``b``.

Automatic window (:func:`fit_tafel` with ``window_mV=None``), on the points where the
reaction is driven (``eta > 0``, current in the reaction's direction):

1. *Noise floor.* Points with ``|j| < 10 σ_j`` are dropped, ``σ_j`` the white-noise s.d.
   of j estimated from its second differences along the low-current half of the sweep.
2. *Near equilibrium.* Points with ``eta < b`` are dropped (``b`` from a first pass, then
   iterated): the reverse reaction contributes ``10^(−eta/b_f − eta/b_r) < 10 %`` of the
   current there for any reverse slope, and < 1 % for a symmetric barrier. The
   double-layer charging current, a constant offset in ``j``, is excluded by step 3.
3. *Windows.* Every contiguous range of ``log10|j|`` on a 0.05-decade grid that spans at
   least ``min_decades`` and holds ≥ 5 points is fitted by least squares. A constant
   charging current (bottom), the reverse reaction (bottom), mass transport and residual
   resistance (top) all bend the line, which shows as curvature: the slopes fitted to the
   lower, middle and upper thirds of the window differ. (Thirds, not halves, so that a
   window bent at both ends is caught too.)
4. *Criterion.* A window is acceptable when ``R² ≥ r2_min``, its slope is positive and
   the three third-window slopes agree within ``max(3 σ, 1 %)`` (σ the standard error of
   their largest difference); among those the one with the **lowest slope standard
   error** is chosen (the longest straight stretch, weighing length against scatter).
   If none is acceptable, the window with the highest R² is used and the audit says so
   in a warning. The slope spread (min, max, s.d.) over all acceptable windows is
   recorded in the audit as the sensitivity of the result to the choice.

A straight window cannot remove a distortion present throughout the data: with a
charging current ``j_c`` and a limiting current ``j_lim`` the local slope exceeds ``b`` by
about ``100·(j_c/j + j/j_lim)`` %, so a clean decade needs ``j_c ≪ j ≪ j_lim``; for a fast
catalyst (b = 30 mV/dec, j_lim = 0.3 A/cm²) no such decade exists. Therefore the whole
curve is also fitted with a kinetic model (:func:`fit_kinetic_model`)::

    j = j_c + j_k · (1 − θ · x / (1 + x)),   x = j_k / j_b,
    j_k = j0 · (10^(η/b) − 10^(−η/b_r))

(Butler–Volmer with its reverse branch of slope ``b_r``; a bend at high current that
saturates at ``θ = 1``, mass transport to ``j_lim = j_b``, or at a partial blocking
``θ < 1`` of the surface by gas bubbles; ``j_c`` the double-layer charging current). When the
model describes the curve to its noise (robust s.d. of the noise-normalised residuals
≤ :data:`MODEL_NOISE_RATIO`), its ``b`` is the reported kinetic slope and its ``j0`` the
exchange current density, the window being the stretch of curve fitted; where it does
not, the top of the curve is cut a quarter decade at a time (the window kept below the
bend) while at least ``min_decades`` remain; failing that, the straight window above is
reported. The audit records which (``criterion``), with the other result beside it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from echem.errors import AnalysisError, MetadataError
from echem.jsonsafe import jsonable
from echem.results import Result, Value, axis

#: The kinetic model describes a curve when the robust s.d. of its noise-normalised
#: residuals is at most this (1 for a perfect model; spikes are discounted by the robust
#: s.d. and by the soft-L1 loss of the fit).
MODEL_NOISE_RATIO = 1.5
#: The top of a curve that the model does not describe is cut in steps of this (decades).
MODEL_CUT_DEC = 0.25

GRID_DEC = 0.05
MIN_POINTS = 5
NOISE_FLOOR_FACTOR = 10.0
PART_SLOPE_REL_TOL = 0.01
PART_SLOPE_SIGMAS = 3.0


@dataclass
class KineticFit:
    """Result of :func:`fit_kinetic_model` (slopes mV/dec, current densities mA/cm²)."""

    slope_mV_dec: float
    slope_err_mV_dec: float
    j0_mA_cm2: float
    j0_err_mA_cm2: float
    reverse_slope_mV_dec: float
    bend_mA_cm2: float            # j_b; inf when the curve does not bend
    theta: float                  # 1: mass transport, < 1: partial blocking (bubbles)
    jc_mA_cm2: float
    eta_lo_mV: float
    eta_hi_mV: float
    r2: float
    n_points: int
    noise_ratio: float
    cut_above_mA_cm2: float | None
    audit: dict[str, Any] = field(default_factory=dict)


@dataclass(repr=False)
class TafelResult(Result):
    """Tafel fit. Slopes in mV dec⁻¹, current densities in mA cm⁻², window in mV.

    Prints its slope and j0 rounded to their errors; :meth:`report`, :meth:`plot` (the
    curve with the window and line), :meth:`to_dict` as every result (:mod:`echem.results`).
    """

    slope_mV_dec: float
    slope_err_mV_dec: float
    intercept_mV: float
    j0_mA_cm2: float
    j0_err_mA_cm2: float
    eta_lo_mV: float
    eta_hi_mV: float
    r2: float
    n_points: int
    audit: dict[str, Any] = field(default_factory=dict)
    #: doubts about the slope (:class:`echem.flags.Flag`): tafel_r2_low, tafel_out_of_range ...
    flags: list = field(default_factory=list)
    #: the (eta_mV, j_mA_cm2) the fit was given, for :meth:`plot`
    data: tuple | None = None

    title = "Tafel fit"

    def quantities(self) -> list[Value]:
        return [Value("slope", self.slope_mV_dec, self.slope_err_mV_dec, "mV/dec"),
                Value("j0", self.j0_mA_cm2, self.j0_err_mA_cm2, "mA/cm2"),
                Value("window", f"{self.eta_lo_mV:.0f}-{self.eta_hi_mV:.0f}", None, "mV"),
                Value("r2", self.r2), Value("n_points", self.n_points)]

    def plot(self, ax=None, label: str | None = None):
        """eta against log10|j| with the window shaded and the line (:func:`echem.plots.lsv.plot_tafel`)."""
        from echem.plots.lsv import plot_tafel

        if self.data is None:
            raise ValueError("this TafelResult holds no data to plot (made outside fit_tafel)")
        return plot_tafel(axis(ax), self.data[0], self.data[1], self, label)

    def row(self) -> dict[str, Any]:
        """The ``tafel.csv`` columns this stage owns (the workflow adds sample and file)."""
        return {"slope_mV_dec": self.slope_mV_dec, "slope_err_mV_dec": self.slope_err_mV_dec,
                "j0_mA_cm2": self.j0_mA_cm2, "eta_lo_mV": self.eta_lo_mV,
                "eta_hi_mV": self.eta_hi_mV, "r2": self.r2, "n_points": self.n_points}


# --------------------------------------------------------------------------- helpers


def _noise_sd(x: np.ndarray) -> float:
    if x.size < 5:
        return 0.0
    d2 = np.diff(x, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6.0))


def _prepare(eta_mV, j_mA_cm2):
    """Driven points in sweep order: eta > 0 and j in the reaction's direction."""
    eta = np.asarray(eta_mV, dtype=float).ravel()
    j = np.asarray(j_mA_cm2, dtype=float).ravel()
    if eta.shape != j.shape:
        raise AnalysisError(f"eta_mV and j_mA_cm2 differ in length ({eta.size} vs {j.size})")
    ok = np.isfinite(eta) & np.isfinite(j)
    eta, j = eta[ok], j[ok]
    if eta.size < MIN_POINTS:
        raise AnalysisError(f"only {eta.size} finite points; a Tafel fit needs a polarisation curve")
    top = eta >= np.quantile(eta, 0.9)
    sign = 1.0 if np.median(j[top]) >= 0 else -1.0
    driven = (eta > 0) & (sign * j > 0)
    return eta, sign * j, driven, sign


def _linfit_stats(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    n = x.size
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    syy = float(np.sum((y - ym) ** 2))
    sxy = float(np.sum((x - xm) * (y - ym)))
    b = sxy / sxx
    ssr = max(syy - b * sxy, 0.0)
    return {"b": b, "a": ym - b * xm, "se_b": math.sqrt(ssr / (n - 2) / sxx) if n > 2 else math.inf,
            "r2": 1.0 - ssr / syy if syy > 0 else 0.0}


def _scan(x: np.ndarray, y: np.ndarray, min_decades: float) -> dict[str, np.ndarray]:
    """Least-squares stats of every grid window [lo, hi] (x sorted ascending), vectorised.

    Each window is also split in thirds of its x range to compare the slopes of the parts.
    """
    cx = np.concatenate([[0.0], np.cumsum(x)])
    cy = np.concatenate([[0.0], np.cumsum(y)])
    cxx = np.concatenate([[0.0], np.cumsum(x * x)])
    cxy = np.concatenate([[0.0], np.cumsum(x * y)])
    cyy = np.concatenate([[0.0], np.cumsum(y * y)])
    n_grid = int(math.floor((x[-1] - x[0]) / GRID_DEC)) + 1
    grid = x[0] + GRID_DEC * np.arange(n_grid + 1)
    grid[-1] = max(grid[-1], x[-1])
    lo_g, hi_g = np.meshgrid(grid, grid, indexing="ij")
    keep = hi_g - lo_g >= min_decades - 1e-9
    lo_g, hi_g = lo_g[keep], hi_g[keep]
    a = np.searchsorted(x, lo_g, side="left")
    b = np.searchsorted(x, hi_g + 1e-12, side="right")
    m1 = np.searchsorted(x, lo_g + (hi_g - lo_g) / 3.0, side="left")
    m2 = np.searchsorted(x, lo_g + 2.0 * (hi_g - lo_g) / 3.0, side="left")

    def stats(i, k):
        n = (k - i).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            sx, sy = cx[k] - cx[i], cy[k] - cy[i]
            sxx = cxx[k] - cxx[i] - sx * sx / n
            syy = cyy[k] - cyy[i] - sy * sy / n
            sxy = cxy[k] - cxy[i] - sx * sy / n
            slope = sxy / sxx
            ssr = np.maximum(syy - slope * sxy, 0.0)
            se = np.sqrt(ssr / (n - 2) / sxx)
            r2 = 1.0 - ssr / syy
            intercept = (sy - slope * sx) / n
        return n, slope, se, r2, intercept

    n, slope, se, r2, intercept = stats(a, b)
    parts = [stats(a, m1), stats(m1, m2), stats(m2, b)]
    n_part = np.min([p[0] for p in parts], axis=0)
    s_part = np.array([p[1] for p in parts])
    se_part = np.array([p[2] for p in parts])
    # largest pairwise difference of the three part slopes, and its standard error
    diff = np.zeros_like(slope)
    tol_se = np.zeros_like(slope)
    for p, q in ((0, 1), (1, 2), (0, 2)):
        with np.errstate(invalid="ignore"):
            d = np.abs(s_part[p] - s_part[q])
            bigger = d > diff
        diff = np.where(bigger, d, diff)
        tol_se = np.where(bigger, np.hypot(se_part[p], se_part[q]), tol_se)
    return {"lo": lo_g, "hi": hi_g, "i": a, "k": b, "n": n, "slope": slope, "se": se, "r2": r2,
            "intercept": intercept, "n_part": n_part, "part_diff": diff, "part_se": tol_se}


def _lmfit_line(x: np.ndarray, y: np.ndarray):
    """eta = a + b·x with lmfit; returns (a, b, var_a, var_b, cov_ab, r2)."""
    import lmfit

    def line(x, a, b):
        return a + b * x

    model = lmfit.Model(line)
    guess = _linfit_stats(x, y)
    params = model.make_params(a=guess["a"], b=guess["b"])
    res = model.fit(y, params, x=x)
    a, b = res.params["a"].value, res.params["b"].value
    cov = res.covar
    if cov is None:
        raise AnalysisError(
            "the Tafel line fit returned no covariance (the window's points are degenerate); "
            "widen the window or check the curve"
        )
    resid = y - (a + b * x)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 0.0
    names = list(res.var_names)
    ia, ib = names.index("a"), names.index("b")
    return a, b, float(cov[ia, ia]), float(cov[ib, ib]), float(cov[ia, ib]), r2


def _result(x, y, eta_sel, audit) -> TafelResult:
    if x.size < 3 or np.ptp(x) <= 0:
        raise AnalysisError(
            f"the Tafel window holds {x.size} point(s) with no spread in log|j|; choose a wider window"
        )
    a, b, va, vb, cab, r2 = _lmfit_line(x, y)
    if b == 0 or not math.isfinite(b):
        raise AnalysisError("the Tafel slope is zero: the current does not depend on the potential here")
    log_j0 = -a / b
    var_log = va / b**2 + a**2 * vb / b**4 - 2.0 * a * cab / b**3
    j0 = 10.0**log_j0
    j0_err = j0 * math.log(10.0) * math.sqrt(max(var_log, 0.0))
    audit["fit"] = {
        "model": "eta_mV = a + b * log10(|j|/(mA/cm2))", "a_mV": a, "b_mV_dec": b,
        "a_err_mV": math.sqrt(va), "b_err_mV_dec": math.sqrt(vb), "cov_ab": cab,
        "log10_j0": log_j0, "log10_j0_err": math.sqrt(max(var_log, 0.0)),
        "residual_sd_mV": float(np.std(y - (a + b * x), ddof=2)) if x.size > 2 else None,
        "decades": float(np.ptp(x)),
    }
    return TafelResult(
        slope_mV_dec=float(b), slope_err_mV_dec=float(math.sqrt(vb)), intercept_mV=float(a),
        j0_mA_cm2=float(j0), j0_err_mA_cm2=float(j0_err),
        eta_lo_mV=float(np.min(eta_sel)), eta_hi_mV=float(np.max(eta_sel)),
        r2=float(r2), n_points=int(x.size), audit=jsonable(audit),
    )


# --------------------------------------------------------------------------- kinetic model


def _kinetic_j(pv: dict[str, float], eta: np.ndarray) -> np.ndarray:
    """The model of the module docstring, j (mA/cm²) at ``eta`` (mV)."""
    with np.errstate(over="ignore", invalid="ignore"):
        jk = 10.0 ** pv["log_j0"] * (10.0 ** (eta / pv["b"]) - 10.0 ** (-eta / 10.0 ** pv["log_br"]))
        x = jk * 10.0 ** pv["log_inv_jb"]
        # 1 − θx/(1+x) written without the cancellation of 1 − x/(1+x) at θ = 1, x ≫ 1
        return jk * ((1.0 - pv["theta"]) + pv["theta"] / (1.0 + x)) + pv["jc"]


#: Model evaluations a kinetic fit may take. With the analytic Jacobian a fit that converges
#: takes 20–400; one that needs more is crawling along a valley of a parameter the data do
#: not determine (the reverse slope, the bend), which the refit with that parameter fixed
#: (:func:`_fit_kinetic_once`) resolves in a few dozen.
MAX_NFEV = 600


def _kinetic_dj(pv: dict[str, float], eta: np.ndarray) -> dict[str, np.ndarray]:
    """∂j/∂p of :func:`_kinetic_j` for each parameter p, in mA/cm² per unit of p.

    With ``A = 10^(η/b)``, ``B = 10^(−η/b_r)``, ``j_k = j0·(A − B)``, ``x = j_k/j_b`` and
    ``g = 1 − θx/(1+x)``: ``∂j/∂j_k = g − θx/(1+x)²``; ``∂j_k/∂log j0 = ln10·j_k``,
    ``∂j_k/∂b = −ln10·j0·A·η/b²``, ``∂j_k/∂log b_r = −ln10²·j0·B·η/b_r``;
    ``∂j/∂log(1/j_b) = −ln10·θ·j_k·x/(1+x)²``, ``∂j/∂θ = −j_k·x/(1+x)``, ``∂j/∂j_c = 1``;
    ``∂j/∂j_k`` is evaluated as ``(1 − θ) + θ/(1+x)²``, free of cancellation at θ = 1.
    """
    ln10 = math.log(10.0)
    j0 = 10.0 ** pv["log_j0"]
    b, br = pv["b"], 10.0 ** pv["log_br"]
    theta = pv["theta"]
    with np.errstate(over="ignore", invalid="ignore"):
        a_f = 10.0 ** (eta / b)
        b_r = 10.0 ** (-eta / br)
        jk = j0 * (a_f - b_r)
        x = jk * 10.0 ** pv["log_inv_jb"]
        s = x / (1.0 + x)
        dj_djk = (1.0 - theta) + theta / (1.0 + x) ** 2
        return {"log_j0": dj_djk * ln10 * jk,
                "b": dj_djk * (-ln10 * j0 * a_f * eta / b**2),
                "log_br": dj_djk * (-(ln10**2) * j0 * b_r * eta / br),
                "log_inv_jb": -ln10 * theta * jk * s / (1.0 + x),
                "theta": -jk * s,
                "jc": np.ones_like(eta)}


def _determined(par) -> bool:
    """Whether lmfit gave the parameter a standard error (finite: a singular covariance gives
    None or, inverted in floating point, a NaN)."""
    return par.stderr is not None and bool(np.isfinite(par.stderr))


#: The fraction of the current the bend takes away at the top of the data below which the
#: bend is not in the data (θ or j_b then undetermined, and of no consequence).
BEND_NEGLIGIBLE = 1e-3


def _bend_within(params, j_top_mA_cm2: float) -> bool:
    """Whether the fitted bend acts on the data: ``θ·x/(1 + x) > BEND_NEGLIGIBLE`` at the
    highest current, ``x = j_top/j_b`` (the fraction of j_k it removes there)."""
    x = j_top_mA_cm2 * 10.0 ** params["log_inv_jb"].value
    return params["theta"].value * x / (1.0 + x) > BEND_NEGLIGIBLE


def _fit_kinetic_once(eta, j, sigma_ln, b0, j00, theta0, jb0):
    import lmfit

    p = lmfit.Parameters()
    p.add("log_j0", value=math.log10(j00))
    p.add("b", value=b0, min=5.0, max=2000.0)
    p.add("log_br", value=math.log10(max(b0, 10.0)), min=1.0, max=3.5)  # 10 .. 3000 mV/dec
    p.add("log_inv_jb", value=-math.log10(jb0), min=-12.0, max=3.0)
    p.add("theta", value=theta0, min=0.0, max=1.0)
    p.add("jc", value=0.0)
    lnj = np.log(j)

    def resid(params):
        m = _kinetic_j(params.valuesdict(), eta)
        return (np.log(np.where(m > 0, m, 1e-300)) - lnj) / sigma_ln

    def jac(params):
        """∂resid/∂p for the varied parameters (columns in lmfit's order): (∂j/∂p)/(j·σ_ln)."""
        pv = params.valuesdict()
        m = _kinetic_j(pv, eta)
        scale = np.where(m > 0, 1.0 / (np.where(m > 0, m, 1.0) * sigma_ln), 0.0)
        dj = _kinetic_dj(pv, eta)
        names = [n for n, par in params.items() if par.vary]
        return np.column_stack([dj[n] * scale for n in names])

    with warnings.catch_warnings():  # lmfit's sqrt of a negative variance: the refit below handles it
        warnings.simplefilter("ignore", RuntimeWarning)
        res = lmfit.minimize(resid, p, method="least_squares", loss="soft_l1", f_scale=3.0, max_nfev=MAX_NFEV,
                             jac=jac)
    # lmfit's covariance is singular when a part of the model is not in the data: fix that
    # part and fit again (a bend beyond the highest current; a reverse branch without
    # near-equilibrium points, whose slope then does not matter)
    for fix in (("theta", "log_inv_jb"), ("log_br",)):
        if all(_determined(res.params[n]) for n in ("b", "log_j0")):
            break
        q = res.params.copy()
        if fix[0] == "theta":
            if _bend_within(q, float(np.max(j))):
                continue  # the bend is in the data: not this part
            q["theta"].set(value=0.0, vary=False)
            q["log_inv_jb"].set(value=q["log_inv_jb"].min, vary=False)
        else:
            q["log_br"].set(vary=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = lmfit.minimize(resid, q, method="least_squares", loss="soft_l1", f_scale=3.0,
                                 max_nfev=MAX_NFEV, jac=jac)
    return res


#: Bins along log j in which :func:`_systematic` looks for a residual trend.
MODEL_BINS = 6


def _systematic(r: np.ndarray, j: np.ndarray) -> float:
    """A misfit concentrated in part of the curve, on the scale of the noise ratio.

    The noise-normalised residuals ``r`` are split into :data:`MODEL_BINS` bins of equal
    width in log j; in each, the median residual is compared with its standard error
    (≈ 1.25/√n for unit-variance noise). Returns ``max |median| / (2.5 · 1.25/√n)``
    over the bins: below 1 (and below :data:`MODEL_NOISE_RATIO`) when the model follows
    the curve everywhere to within its noise, above when it bends away somewhere.
    """
    x = np.log10(j)
    edges = np.linspace(x.min(), x.max(), MODEL_BINS + 1)
    worst = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (x >= a) & (x <= b)
        n = int(sel.sum())
        if n >= 5:
            worst = max(worst, abs(float(np.median(r[sel]))) / (2.5 * 1.25 / math.sqrt(n)))
    return worst


def fit_kinetic_model(eta_mV, j_mA_cm2, *, b_start_mV_dec: float, j0_start_mA_cm2: float,
                      floor_mA_cm2: float, min_decades: float = 1.0) -> tuple[KineticFit | None, dict[str, Any]]:
    """Fit the kinetic model of the module docstring to a driven polarisation curve.

    ``eta_mV`` > 0 and ``j_mA_cm2`` > 0 in the reaction's direction (sweep order or any);
    points below ``floor_mA_cm2`` (the noise floor) are not used. Residuals are
    ``(ln j_model − ln j)/σ_ln`` with ``σ_ln² = s_rel² + (σ_j/j)²``: the relative noise
    ``s_rel`` of the upper half of the curve and the absolute noise ``σ_j`` of its lower
    half, both from second differences; the fit (lmfit, scipy least squares, soft-L1 loss
    so that bubble spikes do not pull it) starts from the window fit's slope and j0 with
    the bend as mass transport beyond the data (θ = 1, j_b ten times the top current) and
    as partial blocking within it (θ = 0.5, j_b a third of it); the lowest-cost start is
    kept. The blocking start is skipped when the first one already describes the curve to
    its noise with θ > 0.95 or with a bend that takes less than ``BEND_NEGLIGIBLE`` of the
    current at the top of the data (no bend within the data).

    Returns ``(fit, record)``: ``fit`` None when the model does not describe the curve or
    what is left of it after cutting the top (module docstring), ``record`` says why.
    """
    eta = np.asarray(eta_mV, float)
    j = np.asarray(j_mA_cm2, float)
    ok = np.isfinite(eta) & np.isfinite(j) & (eta > 0) & (j > floor_mA_cm2) & (j > 0)
    order = np.argsort(eta[ok], kind="stable")
    eta, j = eta[ok][order], j[ok][order]
    record: dict[str, Any] = {"model": "j = jc + jk*(1 - theta*x/(1+x)), x = jk/jb, "
                                       "jk = j0*(10^(eta/b) - 10^(-eta/b_r))",
                              "n_input": int(eta.size), "attempts": []}
    if eta.size < 12 or np.ptp(np.log10(j)) < min_decades:
        record["rejected"] = "fewer than 12 points or less than min_decades of current above the noise floor"
        return None, record
    lnj = np.log(j)
    upper = lnj[eta.size // 2:]
    d2 = np.diff(upper, 2)
    s_rel = max(float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6.0)), 1e-4)
    sigma_j = _noise_sd(j[: max(5, eta.size // 2)])
    record["noise"] = {"relative": s_rel, "absolute_mA_cm2": sigma_j}
    j_top = float(j.max())
    def fit_below(cut):
        """The best start's (result, noise ratio, cost, points used) below ``cut`` (None: all)."""
        use = j <= cut if cut is not None else np.ones(j.size, bool)
        e_u, j_u = eta[use], j[use]
        if e_u.size < 12 or np.ptp(np.log10(j_u)) < min_decades:
            return None
        sigma_ln = np.sqrt(s_rel**2 + (sigma_j / j_u) ** 2)
        best = None
        top = float(j_u.max())
        # the bend as mass transport beyond the data, and as blocking within it; the best
        # (lowest cost) of the starts is kept
        for theta0, jb0 in ((1.0, 10.0 * top), (0.5, top / 3.0)):
            try:
                res = _fit_kinetic_once(e_u, j_u, sigma_ln, b_start_mV_dec, j0_start_mA_cm2, theta0, jb0)
            except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                record["attempts"].append({"cut_above_mA_cm2": cut, "theta0": theta0, "error": str(exc)})
                continue
            r = np.asarray(res.residual)
            ratio = max(float(1.4826 * np.median(np.abs(r - np.median(r)))), _systematic(r, j_u))
            cost = float(np.sum(np.log1p(r * r / 9.0)))  # the soft-L1-like cost, comparable across starts
            record["attempts"].append({"cut_above_mA_cm2": cut, "theta0": theta0, "jb0_mA_cm2": jb0,
                                       "b_mV_dec": res.params["b"].value, "noise_ratio": ratio,
                                       "nfev": int(res.nfev)})
            if best is None or cost < best[2]:
                best = (res, ratio, cost, e_u, j_u)
            if ratio <= MODEL_NOISE_RATIO and (res.params["theta"].value > 0.95
                                               or not _bend_within(res.params, top)):
                break  # mass transport, or no bend within the data, describes it: no need to try blocking
        return best

    def agree(a, b) -> bool:
        pa, pb_ = a[0].params["b"], b[0].params["b"]
        sa, sb = pa.stderr or math.inf, pb_.stderr or math.inf
        return abs(pa.value - pb_.value) <= max(2.0 * math.hypot(sa, sb), 0.01 * pa.value)

    cut, candidate = None, None
    while True:
        found = fit_below(cut)
        if found is None:
            record["rejected"] = (
                "too few points" if cut is None else
                f"the model does not describe the curve to its noise, not even below {cut:.3g} mA/cm2 "
                f"where less than {min_decades:g} decades are left" if candidate is None else
                f"below {candidate[4].max():.3g} mA/cm2 the model fits, but its slope changes when the top "
                "is cut further: the curve bends in a way the model does not describe")
            return None, record
        if found[1] <= MODEL_NOISE_RATIO:
            if cut is None:
                break  # the whole curve: nothing to confirm
            if candidate is not None and agree(candidate, found):
                found = candidate  # confirmed by the fit a quarter decade lower
                break
            candidate = found  # a fit below a cut: confirm it one cut lower
        cut = (cut if cut is not None else j_top) / 10**MODEL_CUT_DEC
    best = found
    cut = None if best[4].max() >= j_top else float(best[4].max())
    e_u, j_u = best[3], best[4]
    res, ratio = best[0], best[1]
    pb = res.params["b"]
    plj = res.params["log_j0"]
    if not (_determined(pb) and _determined(plj)) or pb.stderr > 0.2 * pb.value:
        record["rejected"] = "the model's slope is not determined by the data (no or a large standard error)"
        return None, record
    pv = res.params.valuesdict()
    j0 = 10.0 ** pv["log_j0"]
    model = _kinetic_j(pv, e_u)
    ln_res = np.log(np.where(model > 0, model, 1e-300)) - np.log(j_u)
    ss_tot = float(np.sum((np.log(j_u) - np.log(j_u).mean()) ** 2))
    r2 = 1.0 - float(np.sum(ln_res**2)) / ss_tot if ss_tot > 0 else 0.0
    inv_jb = 10.0 ** pv["log_inv_jb"]
    fit = KineticFit(
        slope_mV_dec=float(pb.value), slope_err_mV_dec=float(pb.stderr),
        j0_mA_cm2=float(j0), j0_err_mA_cm2=float(j0 * math.log(10.0) * plj.stderr),
        reverse_slope_mV_dec=float(10.0 ** pv["log_br"]),
        bend_mA_cm2=float(1.0 / inv_jb) if inv_jb > 1e-11 else math.inf, theta=float(pv["theta"]),
        jc_mA_cm2=float(pv["jc"]), eta_lo_mV=float(e_u.min()), eta_hi_mV=float(e_u.max()),
        r2=float(r2), n_points=int(e_u.size), noise_ratio=ratio, cut_above_mA_cm2=cut,
    )
    record.update({"accepted": True, "params": {k: (float(v.value), None if v.stderr is None else float(v.stderr))
                                                for k, v in res.params.items()},
                   "noise_ratio": ratio, "cut_above_mA_cm2": cut, "n_points": int(e_u.size)})
    fit.audit = record
    return fit, record


# --------------------------------------------------------------------------- main


def fit_tafel(
    eta_mV,
    j_mA_cm2,
    *,
    min_decades: float = 1.0,
    r2_min: float = 0.999,
    window_mV: tuple[float, float] | None = None,
    exclude_below_mV: float | None = None,
    kinetic_model: bool = True,
    slope_range_mV_dec: tuple[float, float] = (20.0, 300.0),
) -> TafelResult:
    """Fit ``eta = a + b·log10|j|`` on the iR-corrected curve (module docstring).

    ``eta_mV`` is the overpotential in the reaction's direction (as in the LSV curve),
    ``j_mA_cm2`` the current density (either sign; the reaction's sign is that of the
    current at the highest overpotentials). ``window_mV=(lo, hi)`` fixes the window in
    overpotential; ``exclude_below_mV`` drops points below that overpotential before the
    automatic search. With ``kinetic_model`` (default) the automatic search also fits the
    kinetic model (:func:`fit_kinetic_model`) and reports its slope where it describes the
    curve. ``slope_range_mV_dec`` is the physically plausible range (2.303RT/(αF) with an
    apparent transfer coefficient α of 0.2..3 at 25 °C): a slope outside it is flagged
    ``tafel_out_of_range``. Flags (:attr:`TafelResult.flags`): also ``tafel_r2_low`` (no
    straight window), ``tafel_short_window`` and ``tafel_near_equilibrium``.

    Raises
    ------
    AnalysisError
        No window spanning ``min_decades`` decades of |j| above the noise floor, or too
        few points.
    MetadataError
        Invalid settings.
    """
    try:
        min_dec = float(min_decades)
        r2min = float(r2_min)
    except (TypeError, ValueError):
        raise MetadataError(f"tafel min_decades/r2_min must be numbers, got {min_decades!r}, {r2_min!r}") from None
    if not (min_dec > 0 and math.isfinite(min_dec)):
        raise MetadataError(f"tafel min_decades must be > 0, got {min_decades!r}")
    if not 0.0 <= r2min <= 1.0:
        raise MetadataError(f"tafel r2_min must be within 0..1, got {r2_min!r}")
    eta, jr, driven, sign = _prepare(eta_mV, j_mA_cm2)
    audit: dict[str, Any] = {
        "settings": {"min_decades": min_dec, "r2_min": r2min,
                     "window_mV": None if window_mV is None else [float(v) for v in window_mV],
                     "exclude_below_mV": exclude_below_mV},
        "reaction_current_sign": int(sign),
        "n_input": int(eta.size), "n_driven": int(driven.sum()),
        "warnings": [],
    }

    if window_mV is not None:
        try:
            lo, hi = (float(v) for v in window_mV)
        except (TypeError, ValueError):
            raise MetadataError(f"tafel_window_mV must be [low, high] in mV, got {window_mV!r}") from None
        if not lo < hi:
            raise MetadataError(f"tafel_window_mV must have low < high, got {window_mV!r}")
        sel = driven & (eta >= lo) & (eta <= hi)
        if sel.sum() < 3:
            raise AnalysisError(
                f"the fixed Tafel window {lo:g}-{hi:g} mV holds {int(sel.sum())} point(s) of the driven "
                f"curve (its overpotentials span {eta[driven].min() if driven.any() else float('nan'):.0f}-"
                f"{eta[driven].max() if driven.any() else float('nan'):.0f} mV); "
                "correct tafel_window_mV in sample.yaml"
            )
        x = np.log10(jr[sel])
        audit["criterion"] = "fixed window from sample.yaml (tafel_window_mV)"
        audit["window_decades"] = float(np.ptp(x))
        if np.ptp(x) < min_dec:
            audit["warnings"].append(
                f"the fixed window spans {np.ptp(x):.2f} decades of |j|, less than min_decades = {min_dec:g}"
            )
        return _flagged(_result(x, eta[sel], eta[sel], audit), slope_range_mV_dec, min_dec, (eta_mV, j_mA_cm2))

    # ---- automatic window
    if exclude_below_mV is not None:
        driven = driven & (eta >= float(exclude_below_mV))
    order_sweep = np.argsort(eta[driven], kind="stable")
    eta_d = eta[driven][order_sweep]
    j_d = jr[driven][order_sweep]
    if eta_d.size < MIN_POINTS:
        raise AnalysisError(
            f"only {eta_d.size} point(s) with the reaction driven (eta > 0, current in the reaction's "
            "direction); check the reaction, the reference electrode and the pH"
        )
    # noise floor from the low-current half in sweep order
    low_half = j_d[: max(MIN_POINTS, eta_d.size // 2)]
    sigma_j = _noise_sd(low_half)
    floor = NOISE_FLOOR_FACTOR * sigma_j
    audit["noise_sd_mA_cm2"] = sigma_j
    audit["noise_floor_mA_cm2"] = floor
    above = j_d > floor

    b_est = None
    chosen = None
    for _ in range(4):
        keep = above.copy()
        cut = b_est if b_est is not None and b_est > 0 else None
        if cut is not None:
            keep &= eta_d >= cut
        xs, ys = np.log10(j_d[keep]), eta_d[keep]
        order = np.argsort(xs, kind="stable")
        xs, ys = xs[order], ys[order]
        span = float(xs[-1] - xs[0]) if xs.size else 0.0
        if xs.size < MIN_POINTS or span < min_dec:
            if chosen is not None:  # keep the previous pass, and say so
                audit["warnings"].append(
                    f"above eta = b = {cut:.0f} mV the curve spans only {span:.2f} decades; the window "
                    "may include the near-equilibrium region where the reverse reaction lowers the slope"
                )
                break
            raise AnalysisError(
                f"the iR-corrected curve spans only {span:.2f} decades of current above the noise "
                f"floor ({floor:.3g} mA/cm2){' and above eta = b' if b_est else ''}; "
                f"lower tafel.min_decades (now {min_dec:g}) or measure to higher current"
            )
        found = _choose(xs, ys, min_dec, r2min)
        if found is None:
            if chosen is not None:
                audit["warnings"].append(
                    f"no window of >= {MIN_POINTS} points above eta = b = {cut:.0f} mV; the window may "
                    "include the near-equilibrium region"
                )
                break
            raise AnalysisError(
                f"no window of >= {MIN_POINTS} points spans {min_dec:g} decades of current; "
                "lower tafel.min_decades or record the curve with more points"
            )
        new_b = found["slope"]
        done = chosen is not None and b_est is not None and abs(new_b - b_est) < 0.5
        chosen, b_est = found, new_b
        chosen["x"], chosen["y"] = xs, ys
        chosen["eta_min_rule_mV"] = cut
        if done:
            break

    xs, ys = chosen["x"], chosen["y"]
    sel = (xs >= chosen["lo"] - 1e-12) & (xs <= chosen["hi"] + 1e-12)
    audit["criterion"] = chosen["criterion"]
    audit["near_equilibrium_cut_mV"] = chosen["eta_min_rule_mV"]
    audit["window_log10_j"] = [float(chosen["lo"]), float(chosen["hi"])]
    audit["alternatives"] = chosen["alternatives"]
    audit["warnings"].extend(chosen["warnings"])
    window = _result(xs[sel], ys[sel], ys[sel], audit)
    if not kinetic_model:
        return _flagged(window, slope_range_mV_dec, min_dec, (eta_mV, j_mA_cm2))
    kin, record = fit_kinetic_model(eta_d, j_d, b_start_mV_dec=window.slope_mV_dec,
                                    j0_start_mA_cm2=window.j0_mA_cm2, floor_mA_cm2=floor, min_decades=min_dec)
    if kin is None:
        window.audit["kinetic_model"] = jsonable(record)
        return _flagged(window, slope_range_mV_dec, min_dec, (eta_mV, j_mA_cm2))
    return _flagged(_from_kinetic(kin, window), slope_range_mV_dec, min_dec, (eta_mV, j_mA_cm2))


def _from_kinetic(kin: KineticFit, window: TafelResult) -> TafelResult:
    """The TafelResult of an accepted kinetic-model fit, with the straight window's beside it."""
    cut = (f", the top above {kin.cut_above_mA_cm2:.3g} mA/cm2 left out (the model does not describe "
           "the bend there: the window is kept below it)" if kin.cut_above_mA_cm2 is not None else "")
    corrected = []
    if math.isfinite(kin.bend_mA_cm2):
        corrected.append(f"a bend at high current ({'mass transport' if kin.theta > 0.95 else 'partial blocking, e.g. by gas bubbles'}"
                         f", j_b = {kin.bend_mA_cm2:.3g} mA/cm2, theta = {kin.theta:.2f})")
    corrected.append(f"the charging current (j_c = {kin.jc_mA_cm2:.3g} mA/cm2)")
    corrected.append(f"the reverse reaction (b_r = {kin.reverse_slope_mV_dec:.3g} mV/dec)")
    audit = {
        **{k: window.audit[k] for k in ("settings", "reaction_current_sign", "n_input", "n_driven",
                                        "noise_sd_mA_cm2", "noise_floor_mA_cm2") if k in window.audit},
        "criterion": "kinetic model fit of the whole driven curve above the noise floor" + cut
                     + "; the slope is corrected for " + ", ".join(corrected),
        "kinetic_model": kin.audit,
        "window_fit": {"slope_mV_dec": window.slope_mV_dec, "slope_err_mV_dec": window.slope_err_mV_dec,
                       "j0_mA_cm2": window.j0_mA_cm2, "eta_lo_mV": window.eta_lo_mV,
                       "eta_hi_mV": window.eta_hi_mV, "r2": window.r2, "n_points": window.n_points,
                       "audit": window.audit},
        "warnings": [],
    }
    return TafelResult(
        slope_mV_dec=kin.slope_mV_dec, slope_err_mV_dec=kin.slope_err_mV_dec,
        intercept_mV=-kin.slope_mV_dec * math.log10(kin.j0_mA_cm2),
        j0_mA_cm2=kin.j0_mA_cm2, j0_err_mA_cm2=kin.j0_err_mA_cm2,
        eta_lo_mV=kin.eta_lo_mV, eta_hi_mV=kin.eta_hi_mV, r2=kin.r2, n_points=kin.n_points,
        audit=jsonable(audit),
    )


def _flagged(res: TafelResult, slope_range_mV_dec, min_dec: float, data=None) -> TafelResult:
    """Attach the flags of :func:`fit_tafel`'s docstring (and the data fitted) to a result."""
    if data is not None:
        res.data = (np.asarray(data[0], float), np.asarray(data[1], float))
    from echem.flags import Flag

    flags = []
    criterion = str(res.audit.get("criterion", ""))
    if criterion.startswith("fallback"):
        flags.append(Flag("tafel_r2_low", f"no window spanning {min_dec:g} decades is straight; the one with the "
                                          f"highest R² ({res.r2:.4f}) is reported"))
    for w in res.audit.get("warnings", []):
        if "near-equilibrium" in w:
            flags.append(Flag("tafel_near_equilibrium", w))
        elif "less than min_decades" in w:
            flags.append(Flag("tafel_short_window", w))
    lo, hi = (float(v) for v in slope_range_mV_dec)
    if not lo <= res.slope_mV_dec <= hi:
        flags.append(Flag("tafel_out_of_range", f"Tafel slope {res.slope_mV_dec:.4g} mV/dec outside the plausible "
                                                f"{lo:g}-{hi:g} mV/dec: check the reference, the iR correction "
                                                "and whether the curve has a Tafel region at all"))
    res.flags = flags
    res.audit["flags"] = [f.to_dict() for f in flags]
    return res


def _choose(x: np.ndarray, y: np.ndarray, min_dec: float, r2min: float) -> dict[str, Any] | None:
    """Pick a window by the criterion of the module docstring; None if no window qualifies."""
    sc = _scan(x, y, min_dec)
    valid = (sc["n"] >= MIN_POINTS) & (sc["n_part"] >= 3) & np.isfinite(sc["se"])
    valid &= np.isfinite(sc["r2"])
    if not valid.any():
        return None
    part_se = np.where(np.isfinite(sc["part_se"]), sc["part_se"], np.inf)
    tol = np.maximum(PART_SLOPE_SIGMAS * part_se, PART_SLOPE_REL_TOL * np.abs(sc["slope"]))
    straight = sc["part_diff"] <= tol
    positive = sc["slope"] > 0
    ok = valid & positive & (sc["r2"] >= r2min) & straight
    warnings = []
    if ok.any():
        idx = np.flatnonzero(ok)
        best = int(idx[np.argmin(sc["se"][idx])])
        criterion = (f"lowest slope standard error among windows spanning >= {min_dec:g} decades with "
                     f"R^2 >= {r2min:g} and the slopes of its lower, middle and upper thirds agreeing "
                     f"within max({PART_SLOPE_SIGMAS:g} sigma, {PART_SLOPE_REL_TOL:.0%})")
    else:
        pool = valid & positive if (valid & positive).any() else valid
        idx = np.flatnonzero(pool)
        best = int(idx[np.argmax(sc["r2"][idx])])
        criterion = f"fallback: highest R^2 among windows spanning >= {min_dec:g} decades"
        warnings.append(
            f"no window spanning {min_dec:g} decades is straight (R^2 >= {r2min:g} and equal slopes "
            f"in its thirds); the best has R^2 = {sc['r2'][best]:.4f}: the curve may have no clean Tafel region"
        )
    slopes = sc["slope"][idx]
    alternatives = {
        "n_acceptable": int(ok.sum()),
        "n_scanned": int(valid.sum()),
        "slope_min_mV_dec": float(np.min(slopes)),
        "slope_max_mV_dec": float(np.max(slopes)),
        "slope_sd_mV_dec": float(np.std(slopes)),
        "best": [
            {"log10_j": [float(sc["lo"][i]), float(sc["hi"][i])], "slope_mV_dec": float(sc["slope"][i]),
             "slope_err_mV_dec": float(sc["se"][i]), "r2": float(sc["r2"][i]), "n": int(sc["n"][i])}
            for i in idx[np.argsort(sc["se"][idx])][:5]
        ],
    }
    return {"lo": float(sc["lo"][best]), "hi": float(sc["hi"][best]), "slope": float(sc["slope"][best]),
            "criterion": criterion, "alternatives": alternatives, "warnings": warnings}
