"""Distribution of relaxation times (DRT) of an impedance spectrum, and its peaks.

Model (Tikhonov-regularised non-negative deconvolution, Ciucci & Chen 2015; Wan et al. 2015):

    Z(ω) = R∞ + jωL + 1/(Q(jω)^n) + A_W·√2/√(jω) + ∫ γ(ln τ) / (1 + jωτ) d ln τ

γ ≥ 0 on a grid of :data:`POINTS_PER_DECADE` log-spaced τ from half a decade below
1/ω_max to a decade above 1/ω_min (collocation: γ constant over each grid cell); R∞, L, 1/Q
and A_W ≥ 0 are free of the penalty. The series term 1/(Q(jω)^n) is a capacitor (n = 1),
which takes what lies beyond the grid's slow end (every relaxation much slower than the
lowest frequency acts as a capacitor there), or, when the spectrum ends in a blocking tail
(:func:`lf_tail`), a CPE whose n minimises the penalised objective near the tail's angle
(whose DRT, γ ∝ τⁿ, would otherwise pile up at the slow end as a false peak); the Warburg term takes a semi-infinite
diffusion tail, whose DRT (γ ∝ √τ) would otherwise shift the last peak. The fit minimises

    Σ_i |Z_i − Ẑ_i|²/|Z_i|² + λ (‖D₂γ‖² + μ‖γ‖²)

(D₂ second differences, μ = :data:`RIDGE`): relative residuals as the circuit fits'
modulus weighting, non-negativity by non-negative least squares (Lawson–Hanson on the
normal equations, warm-started).

**λ, chosen automatically** (recorded): the discrepancy principle (Morozov) with the
noise level the Lin-KK test measures — the largest λ whose residual sum of squares stays
within :data:`DISCREPANCY` × that of the noise (2N·χ²_KK, or of the least-regularised
DRT when that is larger). The smoothest DRT the data allow: generalised cross-validation
picks 10–1000× smaller λ on spectra with 0.5 % noise and splits every CPE arc into
several peaks (measured on the known-answer spectra of ``tests/test_eis_drt.py``).

**Peaks** are the local maxima of γ that the data need: a maximum is merged into its
neighbour when the DRT with γ made monotone from the neighbour's maximum over the
candidate's interval (a shape-constrained NNLS) fits the data within
:data:`PEAK_PENALTY` × χ²_KK of the free DRT (a separate peak costs about three
parameters). The remaining peaks are described by Cole–Cole (R‖CPE) distributions,
``γ(x) = R/(2π)·sin((1−n)π)/(cosh(n(x − ln τ₀)) − cos((1−n)π))``, fitted to γ together
(plus a √τ background): τ₀ is the peak's time constant (f = 1/(2πτ₀)), R its polarisation
resistance (the area under it), n its width (an R‖CPE's exponent, lowered by the
regularisation). **R_err** = √(σ_noise² + σ_λ²): σ_noise the data's noise propagated
linearly through the DRT at the free (positive) grid points, σ_λ the largest change of R
when λ is multiplied or divided by √10 (the regularisation's share, usually the larger).
A peak whose τ lies outside 1/(2π f_max)..1/(2π f_min) is flagged ``drt_outside_range``.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from echem.errors import AnalysisError

#: Grid density of ln τ (points per decade).
POINTS_PER_DECADE = 7
#: Grid extension beyond the measured time constants (decades): fast end, slow end.
EXTEND_DECADES = (0.5, 1.0)
#: Weight μ of the ridge (‖γ‖²) beside the curvature (‖D₂γ‖²) in the penalty.
RIDGE = 0.1
#: λ is the largest whose residual sum of squares is within this factor of the noise's.
DISCREPANCY = 1.0
#: A maximum is a peak when merging it costs more than this many χ²_KK.
PEAK_PENALTY = 15.0
#: λ range searched (dimensionless: residuals relative to |Z|, γ in units of max|Z|).
LAMBDA_RANGE = (1e-6, 1e6)
#: The noise level assumed at least (relative to |Z|): below it Lin-KK measures its own model
#: error, not noise (a simulated spectrum), and every wiggle of γ would count as a peak.
NOISE_FLOOR = 1e-3
#: A peak whose resistance is below this fraction of |Z| at its own frequency is not told
#: apart from the mismatch of the terms around it (a blocking tail 30x larger there).
VISIBLE_FRACTION = 0.03
#: A maximum holding less than this fraction of the DRT's area is a wiggle: merged untested.
TINY_FRACTION = 0.01
#: At most this many peaks are described (the largest by area).
MAX_PEAKS = 6


@dataclass
class DRTPeak:
    """One peak of a DRT: time constant τ (s), its frequency f = 1/(2πτ) (Hz), polarisation
    resistance R (Ω) with its error, the Cole–Cole width n, and whether τ lies within the
    measured frequencies."""

    tau_s: float
    R_ohm: float
    R_err_ohm: float
    n: float
    in_range: bool
    tau_bounds_s: tuple[float, float]
    flags: list = field(default_factory=list)

    @property
    def f_Hz(self) -> float:
        return 1.0 / (2 * math.pi * self.tau_s)

    def to_dict(self) -> dict[str, Any]:
        return {"tau_s": self.tau_s, "f_Hz": self.f_Hz, "R_ohm": self.R_ohm, "R_err_ohm": self.R_err_ohm,
                "n": self.n, "in_range": self.in_range, "tau_bounds_s": list(self.tau_bounds_s),
                "flags": [f.to_dict() for f in self.flags]}


@dataclass
class DRTResult:
    """Result of :func:`fit_drt`: γ(τ) (Ω per unit ln τ) on the grid ``tau_s`` with its
    noise error, the penalty-free terms, the chosen λ, the peaks and an audit record."""

    tau_s: np.ndarray
    gamma_ohm: np.ndarray
    gamma_err_ohm: np.ndarray
    R_inf_ohm: float
    L_H: float
    Q_tail: float       # series capacitance (F) or blocking CPE's Q (S s^n); inf when absent
    n_tail: float       # its exponent (1: a capacitor)
    A_W: float          # Warburg coefficient, Ohm sec^-1/2 (impedance.py's W)
    lam: float
    peaks: list[DRTPeak]
    freq_Hz: np.ndarray
    Z: np.ndarray
    Z_fit: np.ndarray
    audit: dict

    @property
    def resolved(self) -> list[DRTPeak]:
        """Peaks within the measured frequencies, fastest first."""
        return [p for p in self.peaks if p.in_range]

    def rows(self) -> list[dict[str, Any]]:
        """``drt_peaks.csv`` rows without sample/file: peak (1 = fastest), tau_s, f_Hz, R_ohm,
        R_err_ohm, flags (a list of :class:`echem.flags.Flag`)."""
        return [{"peak": k + 1, "tau_s": p.tau_s, "f_Hz": p.f_Hz, "R_ohm": p.R_ohm, "R_err_ohm": p.R_err_ohm,
                 "flags": list(p.flags)} for k, p in enumerate(self.peaks)]

    def curve(self):
        """The DRT as a table: tau_s, f_Hz, gamma_ohm, gamma_err_ohm."""
        import pandas as pd

        return pd.DataFrame({"tau_s": self.tau_s, "f_Hz": 1.0 / (2 * math.pi * self.tau_s),
                             "gamma_ohm": self.gamma_ohm, "gamma_err_ohm": self.gamma_err_ohm})

    def impedance_of(self, freq_Hz) -> np.ndarray:
        """The DRT model's impedance at ``freq_Hz``."""
        w = 2 * math.pi * np.asarray(freq_Hz, float)
        d = math.log(self.tau_s[-1] / self.tau_s[0]) / (self.tau_s.size - 1)
        k = 1.0 / (1.0 + 1j * w[:, None] * self.tau_s[None, :])
        Z = self.R_inf_ohm + 1j * w * self.L_H + (k @ self.gamma_ohm) * d
        if math.isfinite(self.Q_tail):
            Z = Z + 1.0 / (self.Q_tail * (1j * w) ** self.n_tail)
        return Z + self.A_W * (1 - 1j) / np.sqrt(w)


# --------------------------------------------------------------------------------- numerics


@functools.lru_cache(maxsize=1)
def _openblas_thread_setters() -> tuple:
    """``openblas_set_num_threads_local`` of the OpenBLAS builds numpy and scipy ship (none
    when they use another BLAS)."""
    import ctypes
    import glob
    import os

    import scipy

    out = []
    for pkg in (np, scipy):
        libs = os.path.join(os.path.dirname(os.path.dirname(pkg.__file__)), pkg.__name__ + ".libs")
        for path in sorted(glob.glob(os.path.join(libs, "*openblas*.so*"))):
            try:
                fn = ctypes.CDLL(path).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
            out.append(fn)
    return tuple(out)


@contextlib.contextmanager
def single_threaded_blas():
    """OpenBLAS on one thread (of the calling thread only) inside the block. The DRT's
    ~100×100 products and factorisations are too small to gain from threads; on a loaded
    machine OpenBLAS's waiting threads made them 3–10× slower (measured)."""
    setters = _openblas_thread_setters()
    previous = [fn(1) for fn in setters]
    try:
        yield
    finally:
        for fn, n in zip(setters, previous):
            fn(n)


def nnls_normal(Q: np.ndarray, q: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
    """argmin ½xᵀQx − qᵀx subject to x ≥ 0, Q symmetric positive definite: with Q = LLᵀ
    (Cholesky) the same as min ‖Lᵀx − L⁻¹q‖², x ≥ 0, solved by scipy's compiled
    Lawson–Hanson NNLS on the square system. (``x0`` is accepted for interface stability
    and ignored.)"""
    from scipy.linalg import solve_triangular
    from scipy.optimize import nnls

    try:
        L = np.linalg.cholesky(Q)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(Q + 1e-12 * np.trace(Q) / q.size * np.eye(q.size))
    rhs = solve_triangular(L, q, lower=True, check_finite=False)
    return nnls(L.T, rhs, maxiter=10 * q.size)[0]


def _solve_pd(Q, q):
    """Q⁻¹q for a symmetric positive definite Q (Cholesky; LinAlgError when it is not)."""
    from scipy.linalg import cho_factor, cho_solve

    return cho_solve(cho_factor(Q, check_finite=False), q, check_finite=False)


@dataclass
class _System:
    """The weighted DRT least-squares system: A x ≈ b, penalty ‖P x‖², x ≥ 0."""

    A: np.ndarray
    b: np.ndarray
    P: np.ndarray
    tau: np.ndarray
    M: int
    d: float
    scale: float
    omega: np.ndarray
    names: list[str]

    def __post_init__(self):
        self.G = self.A.T @ self.A
        self.H = self.P.T @ self.P
        self.c = self.A.T @ self.b

    def with_tail(self, n: float) -> "_System":
        """The same system with the series term 1/(Q (jω)^n) of exponent ``n`` (column M+2):
        one column and its Gram row replaced, nothing rebuilt."""
        import copy

        new = copy.copy(self)
        j = self.M + 2
        tail = (1j * self.omega / self.omega.min()) ** -n
        col = np.concatenate([tail.real, tail.imag]) * self.row_weight * self.scale
        new.A = self.A.copy()
        new.A[:, j] = col
        new.G = self.G.copy()
        g = new.A.T @ col
        new.G[:, j] = g
        new.G[j, :] = g
        new.c = self.c.copy()
        new.c[j] = col @ self.b
        return new

    def solve(self, lam: float, x0=None) -> tuple[np.ndarray, float]:
        x = nnls_normal(self.G + lam * self.H, self.c, x0)
        r = self.A @ x - self.b
        return x, float(r @ r)

    def solve_reparametrised(self, lam: float, block: np.ndarray, T: np.ndarray, x0: np.ndarray,
                             full: bool = False):
        """rss of the DRT with x[block] = T y, y ≥ 0 (a shape constraint), warm-started from
        the free solution ``x0`` (its block mapped through T⁻¹ and clipped at 0); with
        ``full``, (x, rss)."""
        n = self.A.shape[1]
        other = np.ones(n, bool)
        other[block] = False
        k = int(other.sum())
        B = np.zeros((n, k + T.shape[1]))
        B[np.nonzero(other)[0], np.arange(k)] = 1.0
        B[np.ix_(block, np.arange(k, B.shape[1]))] = T
        Q = B.T @ (self.G + lam * self.H) @ B
        y0 = np.concatenate([x0[other], np.maximum(np.linalg.solve(T, x0[block]), 0.0)])
        y = nnls_normal(Q, B.T @ self.c, y0)
        x = B @ y
        r = self.A @ x - self.b
        return (x, float(r @ r)) if full else float(r @ r)


#: A rising low-frequency end steeper than this (degrees in the Nyquist plane) is a blocking
#: (capacitive) tail; from :data:`DIFFUSION_ANGLE` up to it, a diffusion tail.
BLOCKING_ANGLE = 60.0
DIFFUSION_ANGLE = 30.0


def lf_tail(freq_Hz, Z, decades: float = 0.5) -> dict[str, Any]:
    """The low-frequency end of a spectrum: ``{"kind", "angle_deg"}`` with kind ``"blocking"``
    (a capacitive tail steeper than :data:`BLOCKING_ANGLE` in the Nyquist plane),
    ``"diffusion"`` (a tail between :data:`DIFFUSION_ANGLE` and that: 45° is semi-infinite
    diffusion), ``"closing"`` (−Z'' falls towards the lowest frequency: an arc closes) or
    None. The angle is that of the total-least-squares line through the points of the
    lowest ``decades`` (at least 3), where Z' and −Z'' both rise towards low frequency."""
    f = np.asarray(freq_Hz, float)
    Z = np.asarray(Z, complex)
    order = np.argsort(f)
    f, Z = f[order], Z[order]
    sel = f <= f[0] * 10 ** decades
    sel[:3] = True
    x, y = Z.real[sel], -Z.imag[sel]
    if y[0] <= 0:
        return {"kind": None, "angle_deg": None}
    if y[0] < y[-1]:
        return {"kind": "closing", "angle_deg": None}
    if not x[0] > x[-1]:
        return {"kind": "blocking", "angle_deg": 90.0}
    _, _, vt = np.linalg.svd(np.column_stack([x - x.mean(), y - y.mean()]), full_matrices=False)
    angle = math.degrees(math.atan2(abs(vt[0][1]), abs(vt[0][0])))
    kind = "blocking" if angle >= BLOCKING_ANGLE else "diffusion" if angle >= DIFFUSION_ANGLE else None
    return {"kind": kind, "angle_deg": round(angle, 2)}


def _system(f: np.ndarray, Z: np.ndarray, tail_n: float = 1.0) -> _System:
    w = 2 * math.pi * f
    lo = math.log10(1 / w.max()) - EXTEND_DECADES[0]
    hi = math.log10(1 / w.min()) + EXTEND_DECADES[1]
    M = int(math.ceil((hi - lo) * POINTS_PER_DECADE)) + 1
    tau = np.logspace(lo, hi, M)
    d = math.log(tau[-1] / tau[0]) / (M - 1)
    wt = w[:, None] * tau[None, :]
    k_re = d / (1 + wt * wt)
    k_im = -wt * k_re
    wmin, wmax = w.min(), w.max()
    warburg = (1j * w / wmin) ** -0.5
    extra_re = np.column_stack([np.ones_like(w), np.zeros_like(w), np.zeros_like(w), warburg.real])
    tail = (1j * w / wmin) ** -tail_n  # a capacitor (n = 1) or the blocking CPE of the data's tail
    extra_re[:, 2] = tail.real
    extra_im = np.column_stack([np.zeros_like(w), w / wmax, tail.imag, warburg.imag])
    A = np.vstack([np.hstack([k_re, extra_re]), np.hstack([k_im, extra_im])])
    inv = 1.0 / np.abs(Z)
    scale = float(np.max(np.abs(Z)))
    A *= np.concatenate([inv, inv])[:, None] * scale
    b = np.concatenate([Z.real * inv, Z.imag * inv])
    n = A.shape[1]
    D = np.zeros((M - 2, n))
    rows = np.arange(M - 2)
    D[rows, rows], D[rows, rows + 1], D[rows, rows + 2] = 1.0, -2.0, 1.0
    R = np.zeros((M, n))
    R[np.arange(M), np.arange(M)] = math.sqrt(RIDGE)
    system = _System(A, b, np.vstack([D, R]), tau, M, d, scale, w, ["R_inf", "L", "C", "W"])
    system.row_weight = np.concatenate([inv, inv])
    return system


#: λ at which a blocking tail's exponent is chosen (strong: a mismatched tail must cost).
TAIL_LAMBDA = 10.0


def _tail_exponent(f, Z, n0: float) -> float:
    """The exponent of a blocking tail: the n within ±0.05 of the tail's angle/90° (in 0.5..1)
    that minimises the DRT's penalised objective at :data:`TAIL_LAMBDA`. A tail that dominates
    |Z| over decades must be matched to about 0.002 (the angle is not that precise): the
    slow end of the DRT would otherwise take up the mismatch as a false peak, which the
    penalty makes costly."""
    from scipy.optimize import minimize_scalar

    lo, hi = max(0.5, n0 - 0.05), min(1.0, n0 + 0.05)
    if hi - lo < 1e-3:
        return min(max(n0, 0.5), 1.0)
    base = _system(f, Z, n0)

    def objective(n):
        s = base.with_tail(n)
        x, rss = s.solve(TAIL_LAMBDA)
        return rss + TAIL_LAMBDA * float(np.sum((s.P @ x) ** 2))

    res = minimize_scalar(objective, bounds=(lo, hi), method="bounded", options={"xatol": 2e-3, "maxiter": 8})
    return float(res.x)


def _discrepancy(sys_: _System, s2: float) -> tuple[float, np.ndarray, float, dict]:
    """The largest λ (bisection on log λ) whose rss stays within :data:`DISCREPANCY` × the
    noise's (2N·s², or the least-regularised DRT's rss when larger)."""
    n = sys_.A.shape[0]
    lo, hi = (math.log10(v) for v in LAMBDA_RANGE)
    x_lo, rss_lo = sys_.solve(10 ** lo)
    target = DISCREPANCY * max(n * s2, rss_lo)
    x_hi, rss_hi = sys_.solve(10 ** hi, x_lo)
    if rss_hi <= target:
        return 10 ** hi, x_hi, rss_hi, {"target_rss": target, "at_limit": "largest"}
    best = (10 ** lo, x_lo, rss_lo)
    x_warm = x_lo
    for _ in range(7):
        mid = 0.5 * (lo + hi)
        x, rss = sys_.solve(10 ** mid, x_warm)
        if rss <= target:
            lo, best, x_warm = mid, (10 ** mid, x, rss), x
        else:
            hi = mid
    info = {"target_rss": target, "noise_rss": n * s2, "least_regularised_rss": rss_lo}
    if best[0] == 10 ** math.log10(LAMBDA_RANGE[0]):
        info["at_limit"] = "smallest"
    return best[0], best[1], best[2], info


def _maxima(g: np.ndarray) -> list[int]:
    M = g.size
    idx = [k for k in range(1, M - 1) if g[k] > g[k - 1] and g[k] >= g[k + 1] and g[k] > 0]
    if M > 1 and g[0] > g[1]:
        idx.insert(0, 0)
    if M > 1 and g[-1] > g[-2]:
        idx.append(M - 1)
    return idx


def _bounds(g: np.ndarray, idx: list[int]) -> list[tuple[int, int]]:
    """Grid intervals of the peaks: from minimum to minimum of γ between neighbours."""
    out = []
    for j, k in enumerate(idx):
        lo = 0 if j == 0 else idx[j - 1] + int(np.argmin(g[idx[j - 1]:k + 1]))
        hi = g.size - 1 if j == len(idx) - 1 else k + int(np.argmin(g[k:idx[j + 1] + 1]))
        out.append((lo, hi))
    return out


def _merge_cost(sys_: _System, lam: float, x, idx, j, rss, s2) -> float:
    """Δrss/s² of the DRT without maximum j: γ monotone from a neighbour's maximum across j's
    interval (the cheaper neighbour)."""
    bs = _bounds(x[:sys_.M], idx)
    lo, hi = bs[j]
    best = math.inf
    for m in (j - 1, j + 1):
        if not 0 <= m < len(idx):
            continue
        if m < j:  # non-increasing from the left neighbour's maximum to the end of j's interval
            s, e = idx[m], hi
            T = np.triu(np.ones((e - s + 1, e - s + 1)))
        else:  # non-decreasing from the start of j's interval to the right neighbour's maximum
            s, e = lo, idx[m]
            T = np.tril(np.ones((e - s + 1, e - s + 1)))
        rss2 = sys_.solve_reparametrised(lam, np.arange(s, e + 1), T, x)
        best = min(best, (rss2 - rss) / s2)
    return best


def _peaks_of(sys_: _System, lam: float, x, rss: float, s2: float, Zd) -> tuple[list[int], list, list]:
    """(maxima, their grid intervals, log) of the DRT ``x``: the maxima the data need."""
    M = sys_.M
    g = x[:M]
    # maxima the data need: wiggles under 1 % of the DRT's area (or a third of the visible size)
    # are merged untested
    idx = _maxima(g)
    merge_log = []
    if len(idx) > 1:
        absZ_k = np.interp(np.log(sys_.tau[idx]), np.log(1 / sys_.omega[::-1]), np.abs(Zd)[::-1])
        areas = [g[lo:hi + 1].sum() * sys_.d * sys_.scale for lo, hi in _bounds(g, idx)]
        total = sum(areas)
        tiny = [a < TINY_FRACTION * total or a < VISIBLE_FRACTION / 3 * z for a, z in zip(areas, absZ_k)]
        if not all(tiny):
            if any(tiny):
                merge_log.append({"tau_s": [float(sys_.tau[k]) for k, t in zip(idx, tiny) if t],
                                  "merged": f"area below {TINY_FRACTION:.0%} of the DRT's or "
                                            f"{VISIBLE_FRACTION / 3:.0%} of |Z|, untested"})
            idx = [k for k, t in zip(idx, tiny) if not t]
    costs = [_merge_cost(sys_, lam, x, idx, j, rss, s2) for j in range(len(idx))] if len(idx) > 1 else []
    while len(idx) > 1:
        j = int(np.argmin(costs))
        merge_log.append({"tau_s": [float(sys_.tau[k]) for k in idx], "merge_cost_chi2": [round(c, 2) for c in costs]})
        if costs[j] >= PEAK_PENALTY:
            break
        del idx[j], costs[j]
        for m in (j - 1, j):  # the neighbours' intervals changed
            if 0 <= m < len(idx):
                costs[m] = _merge_cost(sys_, lam, x, idx, m, rss, s2) if len(idx) > 1 else math.inf
    # maxima too small to be told from the mismatch of a tail that dominates |Z| there: dropped,
    # their intervals belong to no peak
    bs = _bounds(g, idx)
    if idx:
        absZ = np.interp(np.log(sys_.tau[idx]), np.log(1 / sys_.omega[::-1]), np.abs(Zd)[::-1])
        small = [j for j, ((lo, hi), z) in enumerate(zip(bs, absZ))
                 if g[lo:hi + 1].sum() * sys_.d * sys_.scale < VISIBLE_FRACTION * z]
        if len(small) < len(idx):
            for j in reversed(small):
                merge_log.append({"tau_s": float(sys_.tau[idx[j]]), "dropped": f"R below {VISIBLE_FRACTION:.0%} of |Z|"})
                del idx[j], bs[j]
    return idx, bs, merge_log


def _tail_merge(sys_: _System, lam: float, x, idx, rss: float, s2: float, n0: float):
    """(n, Δrss/s², x) of the DRT with γ non-increasing from the second-slowest maximum to the
    slow end, the blocking tail's exponent re-chosen within ±0.02 of ``n0``."""
    from scipy.optimize import minimize_scalar

    s = idx[-2]
    block = np.arange(s, sys_.M)
    T = np.triu(np.ones((block.size, block.size)))

    def cost(n):
        return sys_.with_tail(n).solve_reparametrised(lam, block, T, x)

    lo, hi = max(0.5, n0 - 0.02), min(1.0, n0 + 0.02)
    res = minimize_scalar(cost, bounds=(lo, hi), method="bounded", options={"xatol": 5e-4, "maxiter": 10})
    n_best = float(res.x)
    x_mono, rss_mono = sys_.with_tail(n_best).solve_reparametrised(lam, block, T, x, full=True)
    return n_best, (rss_mono - rss) / s2, x_mono


def _cole_cole(x, R, x0, n):
    """γ(x) of an R‖CPE (Cole–Cole distribution) of resistance R, ln τ₀ = x0, exponent n."""
    n = min(max(n, 1e-3), 1 - 1e-9)
    a = (1 - n) * math.pi
    return R / (2 * math.pi) * math.sin(a) / (np.cosh(n * (x - x0)) - math.cos(a))


#: A peak's τ may move this far (decades) from its maximum in the Cole–Cole fit.
PEAK_SHIFT_DECADES = 0.5


def _fit_peaks(sys_: _System, gamma: np.ndarray, idx: list[int], bs: list[tuple[int, int]],
               start=None) -> list[tuple[float, float, float]]:
    """(R, τ, n) of Cole–Cole distributions (+ a √τ background) fitted to γ (Ω), one per
    maximum ``idx`` with its grid interval ``bs``, on the points of the intervals within a
    decade of the maxima; parameters ln R, ln τ (held within :data:`PEAK_SHIFT_DECADES` of
    the maximum by a tanh), logit n; analytic Jacobian."""
    from scipy.optimize import least_squares

    lt_all = np.log(sys_.tau)
    ln10 = math.log(10.0)
    sel = np.zeros(lt_all.size, bool)
    for (lo, hi), k in zip(bs, idx):
        near = np.abs(lt_all - lt_all[k]) <= ln10
        near[:lo] = False
        near[hi + 1:] = False
        sel |= near
    lt, gam = lt_all[sel], gamma[sel]
    scale = max(float(gam.max()), 1e-300)
    centre = [float(lt_all[k]) for k in idx]
    h = PEAK_SHIFT_DECADES * ln10
    if start is None:
        start = []
        for (lo, hi), k in zip(bs, idx):
            R = max(float(gamma[lo:hi + 1].sum() * sys_.d), 1e-12 * scale)
            n0 = 1 - 2 / math.pi * math.atan(R / (2 * math.pi * max(float(gamma[k]), 1e-300)))
            start.append((R, float(sys_.tau[k]), min(max(n0, 0.3), 0.98)))
    th0 = []
    for (R, tau, n), c in zip(start, centre):
        n = min(max(n, 0.02), 0.995)
        u = min(max((math.log(tau) - c) / h, -0.99), 0.99)
        th0 += [math.log(max(R, 1e-300)), math.atanh(u), math.log(n / (1 - n))]
    th0.append(math.log(1e-3 * scale) - 0.5 * lt[-1])
    K = len(start)
    root = np.exp(0.5 * lt)

    def parts(th):
        model = math.exp(min(th[-1], 700.0)) * root
        J = np.empty((lt.size, th.size))
        J[:, -1] = model
        for j in range(K):
            R = math.exp(min(th[3 * j], 700.0))
            t = math.tanh(th[3 * j + 1])
            x0 = centre[j] + h * t
            n = 1 / (1 + math.exp(-min(max(th[3 * j + 2], -30.0), 30.0)))
            n = min(max(n, 1e-6), 1 - 1e-9)
            a = (1 - n) * math.pi
            S, C = math.sin(a), math.cos(a)
            u = lt - x0
            with np.errstate(over="ignore"):
                ch, sh = np.cosh(n * u), np.sinh(n * u)
            den = ch - C
            g = R / (2 * math.pi) * S / den
            model = model + g
            J[:, 3 * j] = g
            J[:, 3 * j + 1] = R / (2 * math.pi) * S * n * sh / den ** 2 * h * (1 - t * t)
            J[:, 3 * j + 2] = R / (2 * math.pi) * (-math.pi * C / den - S * (u * sh - math.pi * S) / den ** 2) * n * (1 - n)
        return model, J

    def fun(th):
        return (parts(th)[0] - gam) / scale

    def jac(th):
        J = parts(th)[1] / scale
        return np.where(np.isfinite(J), J, 0.0)

    try:
        with np.errstate(all="ignore"):
            th = least_squares(fun, np.asarray(th0), jac=jac, method="lm", ftol=1e-6, xtol=1e-6,
                               max_nfev=20 * len(th0)).x
    except (ValueError, FloatingPointError, OverflowError):
        th = np.asarray(th0)
    out = []
    for j, ((lo, hi), k) in enumerate(zip(bs, idx)):
        R = math.exp(min(th[3 * j], 700.0))
        tau = math.exp(centre[j] + h * math.tanh(th[3 * j + 1]))
        n = 1 / (1 + math.exp(-min(max(th[3 * j + 2], -30.0), 30.0)))
        area = float(gamma[lo:hi + 1].sum() * sys_.d)
        if not (area / 3 <= R <= 3 * area) or not math.isfinite(R):  # the fit ran off: the peak's own numbers
            R, tau, n = area, float(sys_.tau[k]), start[j][2]
        out.append((R, tau, n))
    return out


def fit_drt(freq_Hz, Z, *, noise_chi2: float | None = None) -> DRTResult:
    """The DRT of one spectrum and its peaks (module docstring).

    ``freq_Hz`` (Hz) and ``Z`` (Ω, complex, physical sign), any order; non-finite points are
    dropped. ``noise_chi2``: the Lin-KK chi2 of these points (:attr:`LinKKResult.chi2
    <echem.eis.validation.LinKKResult.chi2>`), computed here when not given. Whether the
    spectrum is Kramers-Kronig consistent is the caller's question: a DRT of an
    inconsistent spectrum describes an artefact.
    """
    import time

    from echem.eis.spectrum import prepare
    from echem.eis.validation import lin_kk
    from echem.flags import Flag

    with single_threaded_blas():
        return _fit_drt(freq_Hz, Z, noise_chi2)


def _fit_drt(freq_Hz, Z, noise_chi2) -> DRTResult:
    import time

    from echem.eis.spectrum import prepare
    from echem.eis.validation import lin_kk
    from echem.flags import Flag

    t0 = time.perf_counter()
    f, Zd, _ = prepare(freq_Hz, Z)
    if f.size < 8:
        raise AnalysisError(f"only {f.size} usable points: a DRT needs at least 8 frequencies")
    s2 = float(lin_kk(f, Zd).chi2 if noise_chi2 is None else noise_chi2)
    s2 = max(s2, NOISE_FLOOR ** 2)
    tail = lf_tail(f, Zd)
    tail_n = _tail_exponent(f, Zd, tail["angle_deg"] / 90.0) if tail["kind"] == "blocking" else 1.0
    tail["n"] = round(tail_n, 4)
    sys_ = _system(f, Zd, tail_n)
    lam, x, rss, lam_info = _discrepancy(sys_, s2)
    M = sys_.M
    g = x[:M]

    idx, bs, merge_log = _peaks_of(sys_, lam, x, rss, s2, Zd)
    if tail["kind"] == "blocking" and len(idx) > 1:
        # the slowest maximum may be the tail's exponent, not a process: merged when a DRT
        # monotone from its neighbour to the slow end fits as well with the exponent re-chosen
        n_best, cost, x_mono = _tail_merge(sys_, lam, x, idx, rss, s2, tail_n)
        merge_log.append({"tau_s": float(sys_.tau[idx[-1]]), "tail_merge_cost_chi2": round(cost, 2),
                          "tail_n": round(n_best, 4)})
        if cost < PEAK_PENALTY:
            sys_, tail_n, x = sys_.with_tail(n_best), n_best, x_mono
            tail["n"] = round(n_best, 4)
            r = sys_.A @ x - sys_.b
            rss = float(r @ r)
            g = x[:M]
            idx, bs, more = _peaks_of(sys_, lam, x, rss, s2, Zd)
            merge_log += more
    if len(idx) > MAX_PEAKS:
        areas = [g[lo:hi + 1].sum() for lo, hi in bs]
        keep = sorted(np.argsort(areas)[-MAX_PEAKS:])
        idx, bs = [idx[k] for k in keep], [bs[k] for k in keep]

    gamma = g * sys_.scale
    fitted = _fit_peaks(sys_, gamma, idx, bs) if idx else []

    # uncertainty: noise through the free grid points, and the spread over λ·10^±0.5
    n_res = sys_.A.shape[0]
    free = np.nonzero(x > 0)[0]
    cov = np.zeros((x.size, x.size))
    if free.size:
        Af = sys_.A[:, free]
        Hf = Af.T @ Af + lam * sys_.H[np.ix_(free, free)]
        try:
            Hi = np.linalg.inv(Hf)
            s2_fit = rss / max(n_res - float(np.trace(Hi @ (Af.T @ Af))), 1.0)
            cov[np.ix_(free, free)] = s2_fit * Hi @ (Af.T @ Af) @ Hi
        except np.linalg.LinAlgError:
            pass
    spreads = [[0.0] * len(idx)]
    for fac in (10 ** -0.5, 10 ** 0.5):
        xs, _ = sys_.solve(lam * fac, x)
        other = _fit_peaks(sys_, xs[:M] * sys_.scale, idx, bs, start=fitted) if idx else []
        spreads.append([abs(o[0] - r[0]) for o, r in zip(other, fitted)])
    wmin, wmax = float(sys_.omega.min()), float(sys_.omega.max())
    peaks = []
    for j, ((lo, hi), k, (R, tau, n)) in enumerate(zip(bs, idx, fitted)):
        t_lo, t_hi = float(sys_.tau[lo]), float(sys_.tau[hi])
        wv = np.zeros(x.size)
        wv[lo:hi + 1] = sys_.d * sys_.scale
        noise = math.sqrt(max(float(wv @ cov @ wv), 0.0))
        area = float(gamma[lo:hi + 1].sum() * sys_.d)  # between the minima: the overlap's share
        R_err = math.sqrt(noise ** 2 + max(s[j] for s in spreads) ** 2 + (R - area) ** 2)
        in_range = 1 / wmax <= tau <= 1 / wmin
        flags = []
        if not in_range:
            flags.append(Flag("drt_outside_range", (
                f"DRT peak at tau = {tau:.3g} s (f = {1 / (2 * math.pi * tau):.3g} Hz) lies outside the measured "
                f"{wmin / (2 * math.pi):.3g}-{wmax / (2 * math.pi):.3g} Hz: its tau and R are extrapolations")))
        if not R_err <= R:
            flags.append(Flag("stderr_large", f"DRT peak R = {R:.4g} ± {R_err:.2g} Ohm: not determined by the data"))
        peaks.append(DRTPeak(tau_s=float(tau), R_ohm=float(R), R_err_ohm=float(R_err), n=float(n), in_range=in_range,
                             tau_bounds_s=(t_lo, t_hi), flags=flags))
    order = np.argsort([p.tau_s for p in peaks])
    peaks = [peaks[i] for i in order]

    gamma_err = np.sqrt(np.maximum(np.diag(cov)[:M], 0.0)) * sys_.scale
    xe = x[M:] * sys_.scale
    R_inf, L, c_t, c_w = float(xe[0]), float(xe[1] / wmax), float(xe[2]), float(xe[3])
    Q_tail = 1.0 / (c_t * wmin ** tail_n) if c_t > 0 else math.inf
    A_W = c_w * math.sqrt(wmin) / math.sqrt(2.0)
    result = DRTResult(tau_s=sys_.tau, gamma_ohm=gamma, gamma_err_ohm=gamma_err, R_inf_ohm=R_inf, L_H=L, Q_tail=Q_tail,
                       n_tail=tail_n,
                       A_W=A_W, lam=float(lam), peaks=peaks, freq_Hz=f, Z=Zd, Z_fit=np.zeros(0), audit={})
    result.Z_fit = result.impedance_of(f)
    rel = (Zd - result.Z_fit) / np.abs(Zd)
    result.audit = {
        "method": "Tikhonov-regularised non-negative deconvolution (echem.eis.drt): gamma >= 0 on "
                  f"{POINTS_PER_DECADE} points per decade of tau, plus R_inf, L, series C and Warburg terms; "
                  "penalty lambda (||D2 gamma||^2 + mu ||gamma||^2), residuals relative to |Z|",
        "lambda": float(lam),
        "lambda_rule": f"discrepancy principle: the largest lambda with rss <= {DISCREPANCY} x max(2N chi2_KK, rss "
                       "of the least-regularised DRT) (bisection on log lambda)",
        "lambda_search": {k: float(v) if isinstance(v, (int, float)) else v for k, v in lam_info.items()},
        "ridge_mu": RIDGE,
        "noise_chi2_kk": s2,
        "chi2": float(rss / max(n_res, 1)),
        "residuals_rms_pct": float(100 * np.sqrt(np.mean(np.concatenate([rel.real, rel.imag]) ** 2))),
        "grid": {"tau_min_s": float(sys_.tau[0]), "tau_max_s": float(sys_.tau[-1]), "points": int(M)},
        "terms": {"R_inf_ohm": R_inf, "L_H": L, "Q_tail": Q_tail if math.isfinite(Q_tail) else None,
                  "n_tail": tail_n, "A_W": A_W},
        "lf_tail": tail,
        "peak_rule": f"a local maximum is merged into its neighbour unless a DRT monotone across it fits worse by "
                     f">= {PEAK_PENALTY} chi2_KK; peaks described by Cole-Cole distributions fitted to gamma",
        "merges": merge_log,
        "R_err": "sqrt(noise^2 + lambda spread^2): noise propagated through the free grid points; spread: the "
                 "largest change of R with lambda x 10^(+-0.5)",
        "peaks": [p.to_dict() for p in peaks],
        "elapsed_s": round(time.perf_counter() - t0, 4),
    }
    return result
