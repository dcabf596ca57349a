"""Stability stage: long chronopotentiometry (CP) and chronoamperometry (CA) runs, and the
shift of the polarisation curve recorded before and after them.

A durability figure in an electrocatalysis paper shows the potential (CP, constant current)
or the current (CA, constant potential) over many hours, and the polarisation curves
before and after. This module turns such records into the numbers behind that figure.

Equations (units in the names; the LSV stage's conventions, :mod:`echem.lsv`):

* time: ``t_s`` from the run's first point. Files (segments) of one run are placed by their
  start times, ``t = start_time − start_time(first segment) + time_s``; without start
  times they are chained, each one ``dt`` after the previous. A clock that runs backwards
  inside a file (a restarted loop) is chained the same way.
* CP: ``eta_mV(t) = s · (E_V + offset_to_rhe_V − f · I_A · Ru_ohm − E_eq) · 1000`` with
  ``s = −1, E_eq = 0 V`` (HER) and ``s = +1, E_eq = 1.23 V`` (OER), ``f = ir_compensation −
  instrument_ir_compensation``: the iR-corrected overpotential, positive for both reactions
  (as ``eta_mV`` in overpotentials.csv). A CP file without a current column is corrected
  with the set current.
* CA: ``j_mA_cm2(t) = s · 1000 · I_A / area_cm2``: the current density in the reaction's
  direction, positive while the reaction runs.

Per run (:func:`analyse_stability`), with ``y`` the CP overpotential or the CA current density:

* **interruptions**: with ``dt`` the median time step, a step longer than ``gap_factor · dt``
  and than ``min_gap_s`` is a gap (the floor keeps a clock written with few digits, e.g. whole
  seconds at 10 points/s, from looking like thousands of pauses); ``interrupted_fraction = Σ (step − dt) / (t_last − t_first)`` over the gaps
  (pauses inside a file, between loops, between joined files). Restarts whose pause is
  unknown (a clock reset) count as events, not as time.
* **settling**: the first ``settle_min`` minutes after the start and after every gap, restart
  or file join are left out of every number below (double-layer charging, bubble layer
  forming); they are drawn.
* **spikes** (gas bubbles): a point is a spike when ``|y − b| > spike_threshold · σ``, with
  ``b`` the running median (medians of consecutive bins of 25 points, interpolated) and
  ``σ = 1.4826 · MAD(y − b)``. Spikes are left out of every number below; they are drawn.
* **start / end**: the mean of the points left within ``[settle, settle + window]`` and
  ``[t_last − window, t_last]`` (``window = window_h``); their standard error is
  ``sd/√n_eff``, ``n_eff = n (1 − ρ)/(1 + ρ)`` with ``ρ`` the lag-1 autocorrelation of the
  residuals about the window's own straight line.
* **drift**: a robust straight line ``y = a + b·t_h`` (``b`` in mV/h for CP). The points are
  averaged in ``fit_bins`` (500) equal time bins first; a Huber M-estimator (``c = 1.345``,
  95 % efficiency for Gaussian noise; scale: MAD, re-estimated each iteration) is fitted to
  the bin means, weighted by their point counts, by iteratively reweighted least squares.
  The standard error is Huber's sandwich covariance (``K² · Σψ²/(n−p) / (Σψ'/n)² · s² ·
  (XᵀWX)⁻¹``, the ``H1`` form of statsmodels' RLM) multiplied by ``(1 + ρ)/(1 − ρ)``, ``ρ``
  the lag-1 autocorrelation of ``ψ`` over consecutive bins (clipped to 0..0.95): slow
  wander (bubble cycles, temperature) would otherwise make the error far too small.
  Why not ``scipy.optimize.least_squares(loss='soft_l1')``: its Jacobian is rescaled by the
  loss at the solution, so ``(JᵀJ)⁻¹·s²`` is not the M-estimator's covariance, and a line
  needs no general optimiser: the IRLS of two parameters on ≤ 500 bins is exact and costs
  nothing, whatever the length of the run. For CA the drift is relative, in %/h of the start
  value: ``drift = 100 · b / j_start``.
* **largest excursion**: the bin mean (bins of ``excursion_min`` minutes) furthest from the
  drift line, signed (positive: above the line; mV for CP, mA/cm² for CA): a sustained
  departure, not a single spike.
* **set value**: CP: the set current density (``set_mA_cm2`` in sample.yaml, else the
  reader's ``set_current_A``, else the median measured current); CA: the set potential (V vs
  the reference; ``set_E_V``, else ``set_potential_V``, else the median measured potential).
  The controlled quantity is compared with it point by point.

Before/after polarisation curves (:func:`lsv_shift`): ``Δη = η_after − η_before`` at each
target current density, both from :func:`echem.lsv.analyse_lsv`. Its error is the two
curves' noise errors in quadrature; the Ru error cancels when both curves are corrected with
the same Ru (``∂Δη/∂Ru = f·I·(1 − 1) = 0`` at the same current), else it is added too.

Flags (:data:`STABILITY_FLAGS`; the LSV flags ``no_ir``, ``not_reached`` … come through from
:mod:`echem.flags`) mark numbers that deserve a look; each carries its own message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import numpy as np

from echem.errors import AnalysisError, MetadataError
from echem.flags import FLAGS, Flag
from echem.jsonsafe import jsonable
from echem.lsv import E_EQ_RHE_V, REACTION_SIGN, ir_correct_V

#: Flag codes of stability.csv and stability_lsv_shift.csv (defined with the others in echem.flags).
STABILITY_FLAGS: dict[str, str] = {code: FLAGS[code] for code in (
    "stopped_early", "off_set_value", "control_lost", "interrupted", "many_spikes", "windows_overlap",
    "no_window_data", "order_mismatch",
)}

#: Points per bin of the running median behind the spike test.
SPIKE_BIN_POINTS = 25
#: Huber's tuning constant (95 % efficiency for Gaussian noise).
HUBER_C = 1.345


# --------------------------------------------------------------------------- flags


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class StabilitySettings:
    """Thresholds and windows of :func:`analyse_stability` (config ``stability:``)."""

    window_h: float = 1.0
    settle_min: float = 5.0
    spike_threshold: float = 5.0
    gap_factor: float = 5.0
    min_gap_s: float = 10.0
    excursion_min: float = 5.0
    fit_bins: int = 500
    set_tolerance_pct: float = 2.0
    set_tolerance_mV: float = 5.0
    max_off_set_fraction: float = 0.01
    max_interrupted_fraction: float = 0.02
    max_spike_fraction: float = 0.05
    early_stop_tolerance: float = 0.02

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> "StabilitySettings":
        """The known keys of a config block (others, e.g. ``targets_mA_cm2``, are ignored)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in (settings or {}).items() if k in names}
        out = cls(**values)
        for f in fields(cls):
            v = getattr(out, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise MetadataError(f"stability.{f.name} must be a number >= 0, got {v!r}")
        if out.window_h <= 0 or out.gap_factor <= 1 or out.spike_threshold <= 0 or out.fit_bins < 3:
            raise MetadataError("stability: window_h and spike_threshold must be > 0, gap_factor > 1, "
                                "fit_bins >= 3")
        return out


# --------------------------------------------------------------------------- time axis


@dataclass
class Timeline:
    """A run's time axis after joining its segments (see the module docstring).

    ``time_s`` (from the first point, non-decreasing) and ``block`` (stretches without a gap,
    restart or file join) are in time order; ``order`` maps them to the input rows.
    """

    time_s: np.ndarray
    order: np.ndarray
    block: np.ndarray
    block_start_s: np.ndarray
    dt_s: float
    span_s: float
    interrupted_s: float
    events: list[dict[str, Any]]

    @property
    def interrupted_fraction(self) -> float:
        return self.interrupted_s / self.span_s if self.span_s > 0 else 0.0


def join_segments(time_s, segment=None, segment_starts_s: Sequence[float | None] | None = None,
                  gap_factor: float = 5.0, min_gap_s: float = 10.0) -> Timeline:
    """Join the segments of one run on one time axis and find its interruptions.

    ``time_s``: each row's time as its file gives it; ``segment``: an integer label per row
    (default: all 0); ``segment_starts_s``: per label, the segment's start time in seconds
    on a common clock (e.g. from the files' start times), or None when unknown. With every
    start known a segment is placed at ``start + time_s``, else right after the previous one.
    A step longer than ``gap_factor`` median steps and than ``min_gap_s`` is a gap. Rows with a
    non-finite time are dropped.

    Raises
    ------
    AnalysisError
        Fewer than 3 timed points, or segments that overlap in time (the same data twice,
        or files that are not consecutive parts of one run).
    """
    t_in = np.asarray(time_s, dtype=float)
    if t_in.ndim != 1:
        raise AnalysisError("time_s must be a 1-D array")
    seg = np.zeros(t_in.shape, dtype=np.int64) if segment is None else np.asarray(segment).astype(np.int64)
    if seg.shape != t_in.shape:
        raise AnalysisError("segment must have one label per row")
    if t_in.size < 3 or np.count_nonzero(np.isfinite(t_in)) < 3:
        raise AnalysisError("fewer than 3 timed points: a stability run needs a time column with data")
    if segment is None:
        labels = np.zeros(1, dtype=np.int64)
    else:
        labels, first = np.unique(seg, return_index=True)
        labels = labels[np.argsort(first)]
    starts = None
    if segment_starts_s is not None:
        starts = {int(lab): segment_starts_s[int(lab)] for lab in labels}
        if any(v is None or not math.isfinite(float(v)) for v in starts.values()):
            starts = None
    if starts is not None:
        labels = sorted(labels, key=lambda lab: starts[int(lab)])

    pieces = []
    positive_steps = []
    for lab in labels:
        idx = np.flatnonzero(seg == lab) if len(labels) > 1 else np.arange(t_in.size)
        t = t_in[idx]
        ok = np.isfinite(t)
        if not ok.all():
            idx, t = idx[ok], t[ok]
        if t.size == 0:
            continue
        d = np.diff(t)
        sample = _strided(d)
        positive_steps.append(sample[sample > 0])
        pieces.append((int(lab), idx, t, d))
    steps_all = np.concatenate(positive_steps) if positive_steps else np.empty(0)
    dt = float(np.median(steps_all)) if steps_all.size else 1.0

    events: list[dict[str, Any]] = []
    out_t, out_idx, marks, joins = [], [], [], set()
    prev_end = None
    n_done = 0
    for k, (lab, idx, t, d) in enumerate(pieces):
        back = np.flatnonzero(d < 0)
        if back.size:  # a clock reset inside the file: chain the rest after the last point
            shift = np.zeros(t.size)
            shift[back + 1] = t[back] + dt - t[back + 1]
            t = t + np.cumsum(shift)
            for b in back:
                events.append({"kind": "restart", "segment": lab, "at_s": float(t[b + 1]),
                               "lost_s": None, "note": "clock reset inside the file; pause unknown"})
                marks.append(n_done + int(b) + 1)
        if starts is not None:
            t_abs = float(starts[lab]) + t
        else:
            t_abs = t - t[0] + (prev_end + dt if prev_end is not None else 0.0)
        if prev_end is not None:
            if t_abs[0] < prev_end - 2.0 * dt:
                raise AnalysisError(
                    f"segment {k + 1} of the run starts {prev_end - t_abs[0]:.4g} s before the previous one "
                    "ends: the files overlap in time and are not consecutive parts of one run; name the "
                    "run's files in sample.yaml (stability: {run: [...]})")
            events.append({"kind": "join", "segment": lab, "at_s": float(t_abs[0]),
                           "lost_s": float(max(t_abs[0] - prev_end - dt, 0.0)) if starts is not None else None})
            marks.append(n_done)
            joins.add(n_done)
        prev_end = float(t_abs[-1])
        out_t.append(t_abs)
        out_idx.append(idx)
        n_done += t.size
    t_all = np.concatenate(out_t) if len(out_t) > 1 else out_t[0]
    order = np.concatenate(out_idx) if len(out_idx) > 1 else out_idx[0]
    origin = float(t_all[0])
    t_all = t_all - origin
    for e in events:
        e["at_s"] -= origin
    steps = np.diff(t_all)
    gaps = np.flatnonzero(steps > max(gap_factor * dt, min_gap_s))
    lost = steps[gaps] - dt
    interrupted = float(lost.sum())
    for g, lost_s in zip(gaps, lost):
        if int(g) + 1 not in joins:
            events.append({"kind": "gap", "at_s": float(t_all[g]), "lost_s": float(lost_s)})
    boundary = np.zeros(t_all.size, dtype=bool)
    boundary[gaps + 1] = True
    if marks:
        boundary[np.asarray(marks, dtype=np.int64)] = True
    boundary[0] = False
    block = np.cumsum(boundary)
    block_starts = np.concatenate(([0], np.flatnonzero(boundary)))
    events.sort(key=lambda e: e["at_s"])
    return Timeline(time_s=t_all, order=order, block=block, block_start_s=t_all[block_starts], dt_s=dt,
                    span_s=float(t_all[-1]), interrupted_s=interrupted, events=events)


# --------------------------------------------------------------------------- robust pieces


def running_median(y, block=None, bin_points: int = SPIKE_BIN_POINTS) -> np.ndarray:
    """A running median of ``y``: medians of consecutive bins of ``bin_points`` points,
    linearly interpolated between the bins' centres, separately within each ``block``."""
    y = np.asarray(y, dtype=float)
    out = np.empty_like(y)
    if block is None or y.size == 0:
        bounds = [(0, y.size)]
    else:
        cut = np.flatnonzero(np.diff(block)) + 1
        edges = np.concatenate(([0], cut, [y.size]))
        bounds = list(zip(edges[:-1], edges[1:]))
    B = max(int(bin_points), 1)
    for a, b in bounds:
        m = b - a
        nb = m // B
        if nb < 2:
            out[a:b] = np.median(y[a:b]) if m else np.nan
            continue
        full = y[a: a + nb * B].reshape(nb, B)
        med = np.median(full, axis=1)
        centres = np.arange(nb) * B + (B - 1) / 2.0
        rest = m - nb * B
        if rest:
            med = np.append(med, np.median(y[a + nb * B: b]))
            centres = np.append(centres, nb * B + (rest - 1) / 2.0)
        out[a:b] = np.interp(np.arange(m, dtype=float), centres, med)
    return out


#: Robust scales and the median time step of longer records are taken from an evenly strided
#: subsample of this many values (a median of 200 000 values is exact to ~0.3 % of the s.d.).
ROBUST_SAMPLE = 200_000


def _strided(x: np.ndarray, limit: int = ROBUST_SAMPLE) -> np.ndarray:
    return x[:: -(-x.size // limit)] if x.size > limit else x


def robust_sd(x) -> float:
    """``1.4826 · median(|x − median(x)|)`` (the s.d. for Gaussian data), of the finite values
    (of an evenly strided subsample of :data:`ROBUST_SAMPLE` values for longer records)."""
    x = _strided(np.asarray(x, dtype=float))
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def find_spikes(y, block=None, threshold: float = 5.0) -> tuple[np.ndarray, float]:
    """Spikes (bubbles): ``|y − running median| > threshold · σ``, ``σ = 1.4826 · MAD``.

    Returns ``(mask, σ)``. Non-finite points are not spikes (they are not used either). A
    record quantised to a constant (MAD = 0) uses the residuals' s.d. instead.
    """
    y = np.asarray(y, dtype=float)
    r = y - running_median(y, block)
    sigma = robust_sd(r)
    if not sigma > 0:
        finite = r[np.isfinite(r)]
        sigma = float(np.std(finite)) if finite.size else 0.0
    if not sigma > 0:
        return np.zeros(y.shape, dtype=bool), 0.0
    with np.errstate(invalid="ignore"):
        return np.abs(r) > threshold * sigma, sigma


def lag1_autocorrelation(x) -> float:
    """``Σ x_i x_(i+1) / Σ x_i²`` of a series (mean removed); 0 for fewer than 3 values."""
    x = np.asarray(x, dtype=float)
    if x.size < 3:
        return 0.0
    x = x - x.mean()
    den = float(np.dot(x, x))
    return float(np.dot(x[:-1], x[1:]) / den) if den > 0 else 0.0


@dataclass
class LineFit:
    """A straight line ``y = intercept + slope·(x − x_centre)`` with its covariance."""

    intercept: float
    slope: float
    x_centre: float
    cov: np.ndarray
    scale: float
    rho: float
    n: int
    iterations: int
    inflation: float

    @property
    def slope_err(self) -> float:
        return float(math.sqrt(max(self.cov[1, 1], 0.0)))

    def __call__(self, x):
        return self.intercept + self.slope * (np.asarray(x, dtype=float) - self.x_centre)

    def to_dict(self) -> dict[str, Any]:
        return {"intercept_at_centre": self.intercept, "slope": self.slope, "slope_err": self.slope_err,
                "x_centre": self.x_centre, "cov": self.cov.tolist(), "scale": self.scale,
                "lag1_autocorrelation": self.rho, "variance_inflation": self.inflation, "n": self.n,
                "iterations": self.iterations}


def huber_line(x, y, weights=None, c: float = HUBER_C, max_iter: int = 100, tol: float = 1e-10) -> LineFit:
    """Huber M-estimate of a straight line by iteratively reweighted least squares.

    ``weights`` are prior precisions (e.g. the number of points behind a bin mean): the
    standardised residual is ``u = r·√w / s``, with the scale ``s = 1.4826·MAD(r·√w)``
    re-estimated each iteration; Huber's weight ``min(1, c/|u|)`` multiplies the prior.
    The covariance is Huber's sandwich form (statsmodels RLM ``H1``)::

        cov = K² · [Σψ(u)² / (n − 2)] / [Σψ'(u)/n]² · s² · (Xᵀ W X)⁻¹,
        K   = 1 + (2/n) · var(ψ') / mean(ψ')²

    times ``(1 + ρ)/(1 − ρ)``, ρ the lag-1 autocorrelation of ψ(u) in the order given
    (clipped to 0..0.95): for a smooth regressor such as time this is the variance
    inflation of AR(1)-correlated residuals.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w0 = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    n = x.size
    if n < 3:
        raise AnalysisError(f"a line needs at least 3 points, got {n}")
    xc = float(np.average(x, weights=w0))
    dx = x - xc
    sw = np.sqrt(w0)

    def wls(w):
        S0, S1, S2 = w.sum(), np.dot(w, dx), np.dot(w, dx * dx)
        T0, T1 = np.dot(w, y), np.dot(w, dx * y)
        det = S0 * S2 - S1 * S1
        if not det > 0:
            raise AnalysisError("the points span no time: no drift can be fitted")
        return (S2 * T0 - S1 * T1) / det, (S0 * T1 - S1 * T0) / det

    a, b = wls(w0)
    s = 0.0
    it = 0
    for it in range(1, max_iter + 1):
        ur = (y - a - b * dx) * sw
        s = robust_sd(ur)
        if not s > 0:
            break
        u = ur / s
        hw = np.minimum(1.0, c / np.maximum(np.abs(u), 1e-300))
        a_new, b_new = wls(w0 * hw)
        done = abs(a_new - a) <= tol * (abs(a) + s) and abs(b_new - b) * (np.ptp(dx) or 1.0) <= tol * (abs(a) + s)
        a, b = a_new, b_new
        if done:
            break
    ur = (y - a - b * dx) * sw
    if not s > 0:
        s = float(np.sqrt(np.dot(ur, ur) / max(n - 2, 1))) or 1e-300
    u = ur / s
    psi = np.clip(u, -c, c)
    dpsi = (np.abs(u) <= c).astype(float)
    m = float(dpsi.mean()) or 1.0 / n
    K = 1.0 + (2.0 / n) * float(dpsi.var()) / m**2
    X = np.column_stack([sw, sw * dx])
    xtx_inv = np.linalg.inv(X.T @ X)
    cov = K**2 * (float(np.dot(psi, psi)) / max(n - 2, 1)) / m**2 * s**2 * xtx_inv
    rho = min(max(lag1_autocorrelation(psi), 0.0), 0.95)
    inflation = (1.0 + rho) / (1.0 - rho)
    return LineFit(intercept=float(a), slope=float(b), x_centre=xc, cov=cov * inflation, scale=float(s),
                   rho=rho, n=n, iterations=it, inflation=inflation)


def binned_means(t, y, width: float, t0: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means of ``y`` and ``t`` in consecutive time bins ``[t0 + k·width, t0 + (k+1)·width)``.

    Returns ``(t_mean, y_mean, count)`` of the non-empty bins, in time order.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.size == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    k = np.floor((t - t0) / width).astype(np.int64)
    k -= k.min()
    count = np.bincount(k)
    keep = count > 0
    ts = np.bincount(k, weights=t)[keep]
    ys = np.bincount(k, weights=y)[keep]
    c = count[keep].astype(float)
    return ts / c, ys / c, c


def window_mean(t, y, lo: float, hi: float) -> dict[str, float]:
    """Mean of ``y`` over ``lo <= t <= hi`` with its standard error (AR(1)-corrected, see the
    module docstring); ``value`` NaN when the window holds no point."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    a, b = np.searchsorted(t, lo, "left"), np.searchsorted(t, hi, "right")
    tw, yw = t[a:b], y[a:b]
    n = int(yw.size)
    if n == 0:
        return {"value": math.nan, "err": math.nan, "n": 0, "lo": lo, "hi": hi}
    value = float(yw.mean())
    if n < 3:
        return {"value": value, "err": math.nan, "n": n, "lo": lo, "hi": hi}
    if np.ptp(tw) > 0:
        resid = yw - np.polyval(np.polyfit(tw - tw.mean(), yw, 1), tw - tw.mean())
    else:
        resid = yw - value
    rho = min(max(lag1_autocorrelation(resid), 0.0), 0.95)
    n_eff = n * (1.0 - rho) / (1.0 + rho)
    return {"value": value, "err": float(np.std(yw, ddof=1) / math.sqrt(max(n_eff, 1.0))), "n": n,
            "lo": lo, "hi": hi, "lag1_autocorrelation": rho}


# --------------------------------------------------------------------------- traces


def _reaction(reaction) -> str:
    r = str(reaction).strip().upper() if reaction is not None else ""
    if r not in E_EQ_RHE_V:
        raise MetadataError(f"a stability run needs reaction HER or OER, got {reaction!r}; set `reaction` "
                            "in sample.yaml")
    return r


def overpotential_mV(E_V, I_A, *, reaction: str, offset_to_rhe_V: float, ru_ohm: float | None,
                     ir_fraction: float) -> np.ndarray:
    """``eta_mV = s·(E_V + offset − f·I_A·Ru − E_eq)·1000`` (:func:`echem.lsv.ir_correct_V`)."""
    reaction = _reaction(reaction)
    E_rhe = np.asarray(E_V, dtype=float) + float(offset_to_rhe_V)
    E_corr = ir_correct_V(E_rhe, I_A, ru_ohm, ir_fraction) if ru_ohm is not None else E_rhe
    return REACTION_SIGN[reaction] * (E_corr - E_EQ_RHE_V[reaction]) * 1e3


def reaction_current_density_mA_cm2(I_A, *, reaction: str, area_cm2: float) -> np.ndarray:
    """``s · 1000 · I_A / area_cm2``: positive while the reaction runs (HER: cathodic current)."""
    reaction = _reaction(reaction)
    return REACTION_SIGN[reaction] * np.asarray(I_A, dtype=float) * 1e3 / float(area_cm2)


def planned_hours_from_name(name: str) -> float | None:
    """``84`` for ``cp_84h.mpt`` (a stem ending in ``_<number>h``), else None."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", str(name))
    m = re.search(r"(?:^|[_\-\s])(\d+(?:\.\d+)?)\s*h(?:ours?)?$", stem, flags=re.I)
    return float(m.group(1)) if m else None


# --------------------------------------------------------------------------- one run


@dataclass
class StabilityResult:
    """Result of :func:`analyse_stability`.

    Table values: ``mode`` (CP/CA), ``set_value`` with ``set_unit`` (CP: mA/cm², signed as
    measured; CA: V vs RHE, not iR-corrected), ``duration_h``, ``start``/``end`` (CP: η in mV;
    CA: j in mA/cm²), ``drift`` (CP: mV/h; CA: %/h of the start) with ``drift_err``,
    ``max_excursion`` (CP: mV; CA: mA/cm²), ``interrupted_fraction`` and ``flags``.
    Arrays in time order for the figures: ``time_h``, ``value``, ``used`` (neither spike nor
    settling), ``spike``. ``fit`` is the drift line (value against hours).
    """

    mode: str
    reaction: str
    set_value: float
    set_unit: str
    duration_h: float
    start: float
    start_err: float
    end: float
    end_err: float
    drift: float
    drift_err: float
    max_excursion: float
    interrupted_fraction: float
    flags: list[Any]
    time_h: np.ndarray
    value: np.ndarray
    used: np.ndarray
    spike: np.ndarray
    fit: LineFit
    start_window_h: tuple[float, float]
    end_window_h: tuple[float, float]
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def quantity(self) -> str:
        return "eta_mV" if self.mode == "CP" else "j_mA_cm2"

    def row(self) -> dict[str, Any]:
        """The stability.csv columns from ``mode`` on (without sample, file, flags)."""
        return {"mode": self.mode, "set_value": self.set_value, "set_unit": self.set_unit,
                "duration_h": self.duration_h, "eta_start_mV": self.start, "eta_end_mV": self.end,
                "drift_mV_h": self.drift, "drift_err_mV_h": self.drift_err,
                "max_excursion_mV": self.max_excursion, "interrupted_fraction": self.interrupted_fraction}


CP_UNIT = "mA/cm2"
CA_UNIT = "V vs RHE (CA: eta_* columns hold j in mA/cm2, drift in %/h, excursion in mA/cm2)"


def analyse_stability(
    time_s,
    E_V,
    I_A,
    *,
    mode: str,
    area_cm2: float,
    reaction: str,
    offset_to_rhe_V: float,
    ru_ohm: float | None = None,
    ru_err_ohm: float | None = 0.0,
    ir_fraction: float = 0.0,
    segment=None,
    segment_starts_s: Sequence[float | None] | None = None,
    set_value: float | None = None,
    set_source: str | None = None,
    planned_h: float | None = None,
    planned_source: str | None = None,
    aborted: bool = False,
    settings: StabilitySettings | Mapping[str, Any] | None = None,
    ru_flags: Sequence[Any] = (),
) -> StabilityResult:
    """Analyse one CP or CA run (the module docstring gives every equation).

    ``time_s``, ``E_V``, ``I_A``: the run's rows (several files concatenated, labelled by
    ``segment``, placed by ``segment_starts_s``; see :func:`join_segments`). CP: ``I_A`` may be
    None (no current column): the set current is then used for the iR correction. CA:
    ``E_V`` may be None. ``set_value``: CP the set current density in mA/cm² (signed, as the
    current: negative for the HER), CA the set potential in V vs the reference; None: the
    median of the controlled quantity. ``planned_h``: the planned duration, for
    ``stopped_early``; ``aborted``: the file says the run was stopped. ``ru_ohm`` None: no iR
    correction (flagged ``no_ir`` when ``ir_fraction`` asks for one). ``ru_flags`` (how Ru
    was found) are passed through to the CP result.

    Raises
    ------
    MetadataError
        Invalid mode, reaction, area, set value or settings.
    AnalysisError
        Too few points, overlapping segments, no usable point left for the drift.
    """
    cfg = settings if isinstance(settings, StabilitySettings) else StabilitySettings.from_mapping(settings)
    mode = str(mode).upper()
    if mode not in ("CP", "CA"):
        raise MetadataError(f"mode must be CP or CA, got {mode!r}")
    reaction = _reaction(reaction)
    try:
        area = float(area_cm2)
    except (TypeError, ValueError):
        area = math.nan
    if not (math.isfinite(area) and area > 0):
        raise MetadataError(f"area_cm2 must be a positive number, got {area_cm2!r}; set it in sample.yaml")
    offset = float(offset_to_rhe_V)
    s = REACTION_SIGN[reaction]
    flags: list[Any] = []

    tl = join_segments(time_s, segment, segment_starts_s, gap_factor=cfg.gap_factor, min_gap_s=cfg.min_gap_s)
    o = tl.order
    n = o.size
    E = None if E_V is None else np.asarray(E_V, dtype=float)[o]
    I = None if I_A is None else np.asarray(I_A, dtype=float)[o]
    if mode == "CP" and E is None:
        raise AnalysisError("a CP run needs the potential (E_V); the file has none")
    if mode == "CA" and I is None:
        raise AnalysisError("a CA run needs the current (I_A); the file has none")

    # ---- the set value and how well the instrument held it
    control = I if mode == "CP" else E
    control_audit: dict[str, Any] = {}
    if set_value is None:
        if control is None:
            raise MetadataError("the run has no current column and no set current: give set_mA_cm2 under "
                                "stability in sample.yaml" if mode == "CP" else
                                "the run has no potential column and no set potential: give set_E_V under "
                                "stability in sample.yaml")
        finite = control[np.isfinite(control)]
        if finite.size == 0:
            raise AnalysisError("the controlled quantity has no finite value")
        set_native = float(np.median(finite))
        set_source = "median of the measured " + ("current" if mode == "CP" else "potential")
    else:
        try:
            set_native = float(set_value) * (area * 1e-3 if mode == "CP" else 1.0)
        except (TypeError, ValueError):
            set_native = math.nan
        if not math.isfinite(set_native) or (mode == "CP" and set_native == 0):
            raise MetadataError(f"the set value must be a non-zero number, got {set_value!r}")
        set_source = set_source or "given"
    if control is not None:
        ok = np.isfinite(control)
        dev = control[ok] - set_native
        if mode == "CP":
            tol = cfg.set_tolerance_pct / 100.0 * abs(set_native)
            median_dev = float(np.median(dev)) / abs(set_native) * 100.0 if dev.size else math.nan
            dev_text = f"{median_dev:+.2f} % of the set current"
            off_median = abs(median_dev) > cfg.set_tolerance_pct
        else:
            tol = cfg.set_tolerance_mV * 1e-3
            median_dev = float(np.median(dev)) * 1e3 if dev.size else math.nan
            dev_text = f"{median_dev:+.2f} mV from the set potential"
            off_median = abs(median_dev) > cfg.set_tolerance_mV
        off_fraction = float(np.count_nonzero(np.abs(dev) > tol) / max(dev.size, 1))
        control_audit = {"median_deviation": median_dev, "median_deviation_unit": "%" if mode == "CP" else "mV",
                         "off_fraction": off_fraction, "tolerance_native": tol}
        what = "current" if mode == "CP" else "potential"
        if off_median and set_value is not None:
            flags.append(Flag("off_set_value", (
                f"the median {what} is {dev_text} ({set_source}); the run was not at its set point "
                f"(tolerance {cfg.set_tolerance_pct if mode == 'CP' else cfg.set_tolerance_mV:g} "
                f"{'%' if mode == 'CP' else 'mV'})")))
        if off_fraction > cfg.max_off_set_fraction:
            flags.append(Flag("control_lost", (
                f"the {what} is off the set value by more than the tolerance on {off_fraction:.1%} of the "
                f"points (limit {cfg.max_off_set_fraction:.1%}): compliance limit, contact or range")))
    else:
        control_audit = {"note": "no current column: the set current is used for the iR correction"}

    # ---- the trace
    ru = None if ru_ohm is None or (isinstance(ru_ohm, float) and math.isnan(ru_ohm)) else float(ru_ohm)
    f = float(ir_fraction) if ru is not None else 0.0
    if ru is None and float(ir_fraction) != 0.0 and mode == "CP":
        flags.append(Flag("no_ir", f"iR correction of {float(ir_fraction):g}·Ru asked for but no Ru is "
                                        "known: the overpotential is NOT iR-corrected"))
    if mode == "CP":
        flags.extend(ru_flags)
    if mode == "CP":
        I_for_ir = I if I is not None else np.full(n, set_native)
        y = overpotential_mV(E, I_for_ir, reaction=reaction, offset_to_rhe_V=offset, ru_ohm=ru, ir_fraction=f)
        set_out, set_unit = set_native / area * 1e3, CP_UNIT
    else:
        y = reaction_current_density_mA_cm2(I, reaction=reaction, area_cm2=area)
        set_out, set_unit = set_native + offset, CA_UNIT

    t = tl.time_s
    settle_s = cfg.settle_min * 60.0
    settling = (t - tl.block_start_s[tl.block]) < settle_s
    spike, sigma = find_spikes(y, tl.block, cfg.spike_threshold)
    finite = np.isfinite(y)
    used = finite & ~spike & ~settling
    n_spikes = int(np.count_nonzero(spike & ~settling))
    n_considered = max(int(np.count_nonzero(finite & ~settling)), 1)
    spike_fraction = n_spikes / n_considered
    if spike_fraction > cfg.max_spike_fraction:
        flags.append(Flag("many_spikes", (
            f"{spike_fraction:.1%} of the points are spikes (more than {cfg.max_spike_fraction:.0%}): bubbles or "
            "noise; start, end and drift use the points between them")))
    if np.count_nonzero(used) < 3:
        raise AnalysisError("fewer than 3 usable points after removing settling periods and spikes; "
                            "lower stability.settle_min or check the record")
    tu, yu = t[used], y[used]
    t_h_u = tu / 3600.0

    # ---- start and end
    span = tl.span_s
    window_s = cfg.window_h * 3600.0
    start_w = window_mean(tu, yu, settle_s, settle_s + window_s)
    end_w = window_mean(tu, yu, span - window_s, span)
    if span < settle_s + 2.0 * window_s:
        flags.append(Flag("windows_overlap", (
            f"the run lasts {span / 3600:.3g} h, less than the settling time plus two {cfg.window_h:g} h "
            "windows: start and end values share points (lower stability.window_h)")))
    for name, w in (("start", start_w), ("end", end_w)):
        if w["n"] == 0:
            flags.append(Flag("no_window_data", (
                f"no usable point in the {name} window {w['lo'] / 3600:.3g}..{w['hi'] / 3600:.3g} h")))

    # ---- drift
    fit_width = max(span / cfg.fit_bins, tl.dt_s)
    tb, yb, cb = binned_means(tu, yu, fit_width)
    if tb.size < 3:
        raise AnalysisError("the usable points fall into fewer than 3 time bins: no drift can be fitted")
    fit = huber_line(tb / 3600.0, yb, cb)
    halves = {}
    mid = span / 2.0 / 3600.0
    for name, sel in (("first_half", tb / 3600.0 <= mid), ("second_half", tb / 3600.0 > mid)):
        if np.count_nonzero(sel) >= 3 and np.ptp(tb[sel]) > 0:
            h = huber_line(tb[sel] / 3600.0, yb[sel], cb[sel])
            halves[name] = {"slope": h.slope, "slope_err": h.slope_err}
    if mode == "CP":
        drift, drift_err = fit.slope, fit.slope_err
    else:
        ref = start_w["value"] if math.isfinite(start_w["value"]) and start_w["value"] != 0 else float(fit(0.0))
        drift, drift_err = 100.0 * fit.slope / abs(ref), 100.0 * fit.slope_err / abs(ref)

    # ---- largest sustained excursion from the line
    te, ye, ce = binned_means(tu, yu, max(cfg.excursion_min * 60.0, tl.dt_s))
    enough = ce >= min(3.0, float(ce.max()))
    dev = ye - fit(te / 3600.0)
    dev = np.where(enough, dev, 0.0)
    k = int(np.argmax(np.abs(dev)))
    max_excursion = float(dev[k])

    # ---- duration, interruptions, early stop
    duration_h = span / 3600.0
    if tl.interrupted_fraction > cfg.max_interrupted_fraction:
        flags.append(Flag("interrupted", (
            f"{tl.interrupted_fraction:.1%} of the run's {duration_h:.3g} h is missing "
            f"({sum(e['kind'] == 'gap' for e in tl.events)} gap(s), "
            f"{sum(e['kind'] == 'join' for e in tl.events)} file join(s); limit "
            f"{cfg.max_interrupted_fraction:.0%})")))
    if planned_h is not None and duration_h < (1.0 - cfg.early_stop_tolerance) * float(planned_h):
        flags.append(Flag("stopped_early", (
            f"the run lasts {duration_h:.3g} h of the {float(planned_h):g} h planned ({planned_source}); "
            "the end value is not the planned end")))
    elif aborted:
        flags.append(Flag("stopped_early", "the file says the run was aborted before its end"))

    unit = "mV" if mode == "CP" else "mA/cm2"
    audit = {
        "mode": mode,
        "reaction": reaction,
        "quantity": "eta_mV (iR-corrected overpotential)" if mode == "CP"
        else "j_mA_cm2 (current density in the reaction's direction)",
        "equations": {
            "eta": f"eta_mV = {s:+d} * (E_V + {offset:g} - {f:g} * I_A * Ru - {E_EQ_RHE_V[reaction]:g}) * 1000",
            "j": f"j_mA_cm2 = {s:+d} * 1000 * I_A / {area:g}",
            "drift": "Huber IRLS line through time-bin means (weights: counts); error: sandwich x (1+rho)/(1-rho)"
            + ("" if mode == "CP" else "; drift_%/h = 100 * slope / j_start"),
            "excursion": f"largest |bin mean - drift line| over {cfg.excursion_min:g}-min bins (signed)",
        },
        "settings": {f_.name: getattr(cfg, f_.name) for f_ in fields(cfg)},
        "offset_to_rhe_V": offset,
        "area_cm2": area,
        "ru_ohm": ru,
        "ru_err_ohm": ru_err_ohm if ru is not None else None,
        "ir_fraction": f,
        "set_value": set_out,
        "set_unit": set_unit,
        "set_source": set_source,
        "control": control_audit,
        "planned_h": planned_h,
        "planned_source": planned_source,
        "aborted": aborted,
        "points": n,
        "time_step_s": tl.dt_s,
        "interrupted_s": tl.interrupted_s,
        "events": tl.events[:100],
        "n_events": len(tl.events),
        "blocks": int(tl.block[-1]) + 1 if n else 0,
        "settling_points": int(np.count_nonzero(settling)),
        "spikes": {"n": n_spikes, "fraction": spike_fraction, "sigma": sigma, "threshold": cfg.spike_threshold,
                   "largest": float(np.max(np.abs(y[spike] - np.median(yu)))) if n_spikes else None,
                   "unit": unit},
        "start": start_w,
        "end": end_w,
        "fit": {**fit.to_dict(), "x": "hours", "bins": int(tb.size), "bin_width_s": fit_width, **halves},
        "drift": drift, "drift_err": drift_err,
        "drift_unit": "mV/h" if mode == "CP" else "%/h",
        "max_excursion": max_excursion,
        "max_excursion_at_h": float(te[k] / 3600.0),
        "max_excursion_unit": unit,
        "flags": [fl.to_dict() for fl in flags],
    }
    return StabilityResult(
        mode=mode, reaction=reaction, set_value=set_out, set_unit=set_unit, duration_h=duration_h,
        start=start_w["value"], start_err=start_w["err"], end=end_w["value"], end_err=end_w["err"],
        drift=float(drift), drift_err=float(drift_err), max_excursion=max_excursion,
        interrupted_fraction=tl.interrupted_fraction, flags=flags, time_h=t / 3600.0, value=y, used=used,
        spike=spike, fit=fit, start_window_h=(settle_s / 3600.0, (settle_s + window_s) / 3600.0),
        end_window_h=((span - window_s) / 3600.0, span / 3600.0), audit=jsonable(audit))


# --------------------------------------------------------------------------- before / after


@dataclass
class ShiftResult:
    """Result of :func:`lsv_shift`: one row per target (``target_mA_cm2, eta_before_mV,
    eta_after_mV, delta_eta_mV, delta_eta_err_mV`` and ``flags``), and the audit."""

    rows: list[dict[str, Any]]
    audit: dict[str, Any]


def lsv_shift(before, after) -> ShiftResult:
    """``Δη = η_after − η_before`` at each target of two :func:`echem.lsv.analyse_lsv` results.

    ``delta_eta_err_mV = sqrt(noise_b² + noise_a²)`` (each curve's noise error at the target,
    from its audit); when the two curves were corrected with different Ru or fractions the
    Ru errors are added in quadrature too (with the same Ru they cancel: the correction
    ``f·I·Ru`` is the same at the same current). A target either curve does not reach has
    empty values and carries ``not_reached``; the curves' other row flags come through.
    """
    tb = [r["target_mA_cm2"] for r in before.rows]
    ta = [r["target_mA_cm2"] for r in after.rows]
    if tb != ta:
        raise AnalysisError(f"before and after curves were analysed at different targets ({tb} vs {ta})")
    same_ru = (before.audit.get("ru_ohm") == after.audit.get("ru_ohm")
               and before.audit.get("ir_fraction") == after.audit.get("ir_fraction"))
    a_targets = {e["target_mA_cm2"]: e for e in after.audit.get("targets", [])}
    b_targets = {e["target_mA_cm2"]: e for e in before.audit.get("targets", [])}
    rows, notes = [], []
    for rb, ra in zip(before.rows, after.rows):
        t = rb["target_mA_cm2"]
        flags = [*rb.get("flags", []), *ra.get("flags", [])]
        row = {"target_mA_cm2": t, "eta_before_mV": rb["eta_mV"], "eta_after_mV": ra["eta_mV"],
               "delta_eta_mV": math.nan, "delta_eta_err_mV": math.nan}
        eb, ea = b_targets.get(t, {}), a_targets.get(t, {})
        if rb.get("reached") and ra.get("reached") and math.isfinite(rb["eta_mV"]) and math.isfinite(ra["eta_mV"]):
            row["delta_eta_mV"] = ra["eta_mV"] - rb["eta_mV"]
            terms = [eb.get("noise_err_mV") or 0.0, ea.get("noise_err_mV") or 0.0]
            if not same_ru:
                terms += [eb.get("ru_err_mV") or 0.0, ea.get("ru_err_mV") or 0.0]
            row["delta_eta_err_mV"] = float(math.sqrt(sum(x * x for x in terms)))
        elif not any(getattr(fl, "code", None) == "not_reached" for fl in flags):
            flags.append(Flag("not_reached", f"{t:g} mA/cm2 not reached in both curves"))
        row["flags"] = flags
        rows.append(row)
        notes.append({"target_mA_cm2": t, "noise_err_before_mV": eb.get("noise_err_mV"),
                      "noise_err_after_mV": ea.get("noise_err_mV"), "ru_err_before_mV": eb.get("ru_err_mV"),
                      "ru_err_after_mV": ea.get("ru_err_mV")})
    audit = {
        "equation": "delta_eta_mV = eta_after_mV - eta_before_mV",
        "error": "sqrt(noise_before^2 + noise_after^2)" + ("" if same_ru else " + both Ru errors in quadrature"),
        "same_ru": same_ru,
        "ru_ohm": {"before": before.audit.get("ru_ohm"), "after": after.audit.get("ru_ohm")},
        "targets": notes,
        "flags": {f"{r['target_mA_cm2']:g}": [fl.to_dict() for fl in r["flags"]] for r in rows},
    }
    return ShiftResult(rows=rows, audit=jsonable(audit))


# --------------------------------------------------------------------------- roles of the files


BEFORE_WORDS = ("before", "initial", "pre", "fresh", "begin", "start", "first")
AFTER_WORDS = ("after", "post", "final", "end", "aged", "last")


@dataclass
class FileInfo:
    """What role assignment needs of one file: name, technique, start time (ISO 8601 or None)."""

    file: str
    technique: str | None
    start_time: str | None = None


@dataclass
class Roles:
    """Which files are the stability run(s) and the before/after polarisation curves.

    ``runs``: lists of files, each one run (files of one run are joined in time);
    ``before``/``after``: LSV files; ``source``: how each was decided; ``notes``: messages
    for the log; ``flags``: :data:`STABILITY_FLAGS` for the shift rows (``order_mismatch``).
    """

    runs: list[list[str]]
    before: list[str]
    after: list[str]
    source: dict[str, str]
    notes: list[str] = field(default_factory=list)
    flags: list[Any] = field(default_factory=list)


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def file_words(name: str) -> set[str]:
    """The words of a file name without its extension, lower case: ``lsv_after_80h.mpt`` -> {lsv, after, h}."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", name).lower()
    return {w for w in re.split(r"[^a-z]+", stem) if w}


def assign_roles(files: Sequence[FileInfo], spec: Mapping[str, Any] | None = None) -> Roles:
    """Decide the run(s) and the before/after LSVs of a sample.

    ``spec``: the ``stability`` mapping of sample.yaml (``run``, ``before``, ``after``: a file
    or a list of files); a role it names wins. Defaults, for the roles it leaves out:

    * runs: every CP and CA file, in start-time order (else name order); consecutive files of
      the same technique (LSVs between them allowed) are candidates for one run — the caller
      splits them where the set values differ (:func:`group_runs`);
    * before: the last LSV that started before the first run started; after: every LSV that
      started after it. Without start times, by name: ``before``/``initial``/``pre``/``fresh``…
      and ``after``/``post``/``final``/``aged``… as words of the file name (also when the
      sample has no run, e.g. an accelerated durability test by CV cycling).

    Raises
    ------
    MetadataError
        sample.yaml names a file the sample does not have, or a file with the wrong technique.
    """
    spec = dict(spec or {})
    by_name = {f.file: f for f in files}
    source: dict[str, str] = {}
    notes: list[str] = []
    flags: list[Any] = []
    available = ", ".join(sorted(by_name)) or "none"
    for key, wanted in (("run", ("CP", "CA")), ("before", ("LSV",)), ("after", ("LSV",))):
        for name in spec.get(key) or []:
            if name not in by_name:
                raise MetadataError(f"sample.yaml stability.{key} names {name!r}, which is not a readable file of "
                                    f"the sample (files: {available})")
            tech = by_name[name].technique
            if tech not in wanted:
                raise MetadataError(f"sample.yaml stability.{key} names {name!r}, a {tech or 'unrecognised'} file; "
                                    f"{key} must be {' or '.join(wanted)}")

    def key_of(f: FileInfo):
        t = _time(f.start_time)
        return (0, t, f.file) if t is not None else (1, datetime.min, f.file)

    ordered = sorted(files, key=key_of)
    timed = all(_time(f.start_time) is not None for f in files)

    if spec.get("run"):
        runs = [list(spec["run"])]
        source["run"] = "sample.yaml stability.run"
    else:
        runs, current, tech = [], [], None
        for f in ordered:
            if f.technique in ("CP", "CA"):
                if current and f.technique != tech:
                    runs.append(current)
                    current = []
                current.append(f.file)
                tech = f.technique
        if current:
            runs.append(current)
        source["run"] = ("CP/CA files in start-time order" if timed else "CP/CA files in name order") \
            + " (consecutive files of one technique joined)"
    run_files = {x for r in runs for x in r}
    lsvs = [f for f in ordered if f.technique == "LSV"]
    run_starts = [_time(by_name[x].start_time) for x in run_files]
    first_run = min(run_starts) if run_starts and all(t is not None for t in run_starts) else None

    def by_time(role):
        if first_run is None or not lsvs or not all(_time(f.start_time) is not None for f in lsvs):
            return None
        if role == "before":
            earlier = [f.file for f in lsvs if _time(f.start_time) < first_run]
            return earlier[-1:]
        return [f.file for f in lsvs if _time(f.start_time) > first_run]

    def by_words(role):
        words = BEFORE_WORDS if role == "before" else AFTER_WORDS
        other = AFTER_WORDS if role == "before" else BEFORE_WORDS
        return [f.file for f in lsvs if file_words(f.file) & set(words) and not file_words(f.file) & set(other)]

    roles = {}
    for role in ("before", "after"):
        if spec.get(role):
            roles[role] = list(spec[role])
            source[role] = f"sample.yaml stability.{role}"
            if first_run is not None:
                for name in roles[role]:
                    t = _time(by_name[name].start_time)
                    if t is not None and ((role == "before" and t > first_run) or (role == "after" and t < first_run)):
                        flags.append(Flag("order_mismatch", (
                            f"sample.yaml calls {name} '{role}' the run, but it started "
                            f"{'after' if role == 'before' else 'before'} the run ({t.isoformat()} vs "
                            f"{first_run.isoformat()})")))
            continue
        found = by_time(role)
        if found is not None:
            roles[role], source[role] = found, "start times (LSVs before / after the first run's start)"
        else:
            roles[role], source[role] = by_words(role), "file names (before/initial/pre... vs after/post/final...)"
    if runs and lsvs and not roles["after"]:
        notes.append("no LSV recorded after the run: no before/after shift (name the files in sample.yaml "
                     "stability: {before: ..., after: ...})")
    if runs and roles["after"] and not roles["before"]:
        notes.append("no LSV recorded before the run: no before/after shift")
    return Roles(runs=runs, before=roles["before"], after=roles["after"], source=source, notes=notes, flags=flags)


def group_runs(files: Sequence[str], set_values: Sequence[float], tolerance: float) -> list[list[str]]:
    """Split consecutive files into runs where the (signed) set value changes by more than
    ``tolerance`` (relative, e.g. 0.02): a CP at 10 then at 100 mA/cm² are two runs."""
    groups: list[list[str]] = []
    last = None
    for name, value in zip(files, set_values):
        same = last is not None and math.isfinite(value) and math.isfinite(last) and \
            abs(value - last) <= tolerance * max(abs(value), abs(last), 1e-30)
        if groups and same:
            groups[-1].append(name)
        else:
            groups.append([name])
        last = value
    return groups
