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

The fit cannot remove a distortion present throughout the data: with a charging current
``j_c`` and a limiting current ``j_lim`` the local slope exceeds ``b`` by about
``100·(j_c/j + j/j_lim)`` %, so a clean decade needs ``j_c ≪ j ≪ j_lim`` (slow scans).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from echem.errors import AnalysisError, MetadataError
from echem.jsonsafe import jsonable

GRID_DEC = 0.05
MIN_POINTS = 5
NOISE_FLOOR_FACTOR = 10.0
PART_SLOPE_REL_TOL = 0.01
PART_SLOPE_SIGMAS = 3.0


@dataclass
class TafelResult:
    """Tafel fit. Slopes in mV dec⁻¹, current densities in mA cm⁻², window in mV."""

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


# --------------------------------------------------------------------------- main


def fit_tafel(
    eta_mV,
    j_mA_cm2,
    *,
    min_decades: float = 1.0,
    r2_min: float = 0.999,
    window_mV: tuple[float, float] | None = None,
    exclude_below_mV: float | None = None,
) -> TafelResult:
    """Fit ``eta = a + b·log10|j|`` on the iR-corrected curve (module docstring).

    ``eta_mV`` is the overpotential in the reaction's direction (as in the LSV curve),
    ``j_mA_cm2`` the current density (either sign; the reaction's sign is that of the
    current at the highest overpotentials). ``window_mV=(lo, hi)`` fixes the window in
    overpotential; ``exclude_below_mV`` drops points below that overpotential before the
    automatic search.

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
        return _result(x, eta[sel], eta[sel], audit)

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
    return _result(xs[sel], ys[sel], ys[sel], audit)


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
