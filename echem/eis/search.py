"""The fit problem of one circuit on one spectrum, and its multi-start search.

The problem is least squares in fit space x (log p for positive parameters, p for
exponents) with the weighted residuals of :data:`WEIGHTINGS`; the search tries the
data-derived starting points (:mod:`echem.eis.guess`) in order of their starting cost
and stops once chi2 is within 1.5x the Lin-KK noise floor or after :data:`PATIENCE`
starts that do not improve it (module docstring of :mod:`echem.eis`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from echem.eis.circuit import CircuitModel, circuit_model
from echem.eis.elements import EXPONENT_MIN, Omega
from echem.eis.guess import guess_candidates
from echem.errors import AnalysisError

WEIGHTINGS = ("modulus", "proportional", "unit")

#: Multi-start stops after this many starts in a row that improve chi2 by < 0.1 %.
PATIENCE = 2


def chi2_modulus(Z: np.ndarray, Z_fit: np.ndarray, n_params: int) -> float:
    """Σ[((Z'−Ẑ')/|Z|)² + ((Z''−Ẑ'')/|Z|)²]/(2N − p): the goodness of fit of every EISFit."""
    r = (Z - Z_fit) / np.abs(Z)
    dof = max(2 * Z.size - n_params, 1)
    return float((np.sum(r.real**2) + np.sum(r.imag**2)) / dof)


def _weights(Z: np.ndarray, weighting: str) -> tuple[np.ndarray, np.ndarray]:
    absZ = np.abs(Z)
    if weighting == "modulus":
        return 1 / absZ, 1 / absZ
    if weighting == "proportional":
        floor = 1e-3 * absZ
        return 1 / np.maximum(np.abs(Z.real), floor), 1 / np.maximum(np.abs(Z.imag), floor)
    if weighting == "unit":
        return np.ones_like(absZ), np.ones_like(absZ)
    raise AnalysisError(f"weighting {weighting!r} is unknown; use one of {', '.join(WEIGHTINGS)}")


def default_bounds(circuit: str, freq_Hz: np.ndarray, Z: np.ndarray) -> tuple[list[float], list[float]]:
    """Physical bounds (lower, upper) for every parameter, from the data's scales.

    Resistances and Warburg/Gerischer resistances: [1e-9, 1e8] × max|Z|
    (an arc that never closes drives its R to the upper end); time
    constants: [1e-4/ω_max, 1e4/ω_min]; exponents: [0, 1] as in impedance.py (a
    CPE exponent below 0.5 is reported as suspicious, not forbidden, so that the fit
    stays the least-squares optimum of the circuit asked for);
    capacitances, CPE Q, inductances, Warburg coefficients and anything else:
    [1e-20, 1e10] (they span too many decades to bound from the data; the log
    parameterisation keeps them positive).
    """
    m = circuit_model(circuit)
    zmax = float(np.max(np.abs(Z)))
    wmin, wmax = 2 * np.pi * float(np.min(freq_Hz)), 2 * np.pi * float(np.max(freq_Hz))
    lo, hi = [], []
    for kind, unit, el in zip(m.kinds, m.units, m.element_of):
        if kind == "exp":
            lo.append(0.0 if el == "La" else EXPONENT_MIN)
            hi.append(1.0)
        elif unit == "Ohm":
            lo.append(1e-9 * zmax)
            hi.append(1e8 * zmax)
        elif unit == "sec":
            lo.append(1e-4 / wmax)
            hi.append(1e4 / wmin)
        else:
            lo.append(1e-20)
            hi.append(1e10)
    return lo, hi


class Problem:
    """Least-squares problem in fit space x: log p for positive parameters, p for exponents.

    Residuals are interleaved (Re, Im per point). ``resid`` evaluates the circuit and
    its Jacobian together and keeps the Jacobian for the ``jac`` call that the
    optimiser makes at the same x after accepting a step (one circuit pass per step).
    """

    def __init__(self, model: CircuitModel, f, Z, weighting, lo, hi):
        self.model = model
        self.f = f
        self.omega = 2 * np.pi * f
        self.om = Omega(self.omega)
        self.Z = Z
        self.w_re, self.w_im = _weights(Z, weighting)
        # one weight per point for both components (modulus, unit): complex arithmetic
        self.w = self.w_re if weighting != "proportional" else None
        self.is_log = np.array([k == "pos" for k in model.kinds])
        self.lo = np.where(self.is_log, np.log(np.maximum(lo, 1e-300)), lo)
        self.hi = np.where(self.is_log, np.log(hi), hi)
        self._last = None  # (x, p, dZ/dp) of the last resid call

    def to_x(self, p):
        p = np.asarray(p, float)
        x = np.where(self.is_log, np.log(np.maximum(p, 1e-300)), p)
        # strictly inside the bounds: trf needs a feasible start
        span = self.hi - self.lo
        return np.clip(x, self.lo + 1e-9 * span, self.hi - 1e-9 * span)

    def to_p(self, x):
        return np.where(self.is_log, np.exp(x), x)

    def _model(self, x, with_jac: bool):
        p = self.to_p(x)
        jac = np.empty((self.model.n_params, self.omega.size), complex) if with_jac else None
        with np.errstate(all="ignore"):
            Zm = self.model.evaluate(p.tolist(), self.om, jac)
        return p, Zm, jac

    def _resid(self, Zm):
        d = Zm - self.Z
        if self.w is not None:
            r = (d * self.w).view(np.float64)
        else:
            r = np.empty(2 * d.size)
            r[0::2] = d.real * self.w_re
            r[1::2] = d.imag * self.w_im
        return r if np.isfinite(r).all() else np.where(np.isfinite(r), r, 1e10)

    def resid(self, x):
        p, Zm, jac = self._model(x, True)
        self._last = (np.array(x, float), p, jac)
        return self._resid(Zm)

    def jac(self, x):
        last = self._last
        if last is not None and np.array_equal(last[0], x):
            _, p, J = last
        else:
            p, _, J = self._model(x, True)
        J = J * np.where(self.is_log, p, 1.0)[:, None]
        if self.w is not None:
            J *= self.w
            out = J.view(np.float64).T
        else:
            out = np.empty((J.shape[0], 2 * J.shape[1]))
            out[:, 0::2] = J.real * self.w_re
            out[:, 1::2] = J.imag * self.w_im
            out = out.T
        return out if np.isfinite(out).all() else np.where(np.isfinite(out), out, 0.0)

    def cost(self, p) -> float:
        r = self._resid(self._model(self.to_x(p), False)[1])
        return float(r @ r)


class Stall:
    """``least_squares`` callback: stop a fit that has stopped making progress.

    Raises StopIteration (scipy status -2) once the cost fell by less than a
    fraction ``rel`` over the last ``window`` iterations: the fit is crawling
    along a flat valley (typically a resistance creeping towards 0 in log
    space, see :func:`unstick`); over those iterations AIC and BIC (n ln RSS)
    moved by less than about n·rel.
    """

    def __init__(self, window: int, rel: float):
        self.window, self.rel = window, rel
        self.costs: list[float] = []

    def __call__(self, intermediate_result):
        costs = self.costs
        costs.append(float(intermediate_result.cost))
        if len(costs) > self.window and costs[-1] > (1.0 - self.rel) * costs[-1 - self.window]:
            raise StopIteration


def local_fit(problem: Problem, p0, max_nfev: int, stall: tuple[int, float] | None = None):
    """scipy's trust-region reflective least squares from ``p0`` (physical units), in fit space.

    ``stall = (window, rel)`` stops a fit early with status -2 (:class:`Stall`).
    """
    from scipy.optimize import least_squares

    return least_squares(
        problem.resid,
        problem.to_x(p0),
        jac=problem.jac,
        bounds=(problem.lo, problem.hi),
        method="trf",
        x_scale="jac",
        ftol=1e-8,
        xtol=1e-8,
        gtol=1e-10,
        max_nfev=max_nfev,
        callback=None if stall is None else Stall(*stall),
    )


def unstick(problem: Problem, res, start, max_nfev: int, stall: tuple[int, float] | None = None):
    """A fit that ran out of evaluations while positive parameters crept towards 0.

    In log space a parameter that the data want at 0 (R0 of a spectrum without
    series resistance) moves a fraction of a decade per step. Parameters that fell
    by more than a decade from the start are put on their lower bound and the fit
    is restarted from there; the better of the two results is kept.
    """
    x0 = problem.to_x(start)
    creeping = problem.is_log & (res.x < x0 - math.log(10.0))
    if not creeping.any():
        return res
    x = res.x.copy()
    x[creeping] = problem.lo[creeping]
    try:
        res2 = local_fit(problem, problem.to_p(x), max_nfev, stall)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return res
    best = res2 if res2.cost < res.cost else res
    best.nfev = res.nfev + res2.nfev  # both runs count
    return best


def param_stderr(problem: Problem, res) -> np.ndarray:
    J = res.jac
    n, P = J.shape
    dof = max(n - P, 1)
    s2 = float(res.fun @ res.fun) / dof
    try:
        _, sv, vt = np.linalg.svd(J, full_matrices=False)
        keep = sv > sv[0] * 1e-12
        cov = (vt[keep].T / sv[keep] ** 2) @ vt[keep] * s2
        sx = np.sqrt(np.abs(np.diag(cov)))
        if not keep.all():
            sx = np.where(np.abs(vt[~keep]).max(axis=0) > 1e-6, np.inf, sx)
    except np.linalg.LinAlgError:
        sx = np.full(P, np.inf)
    p = problem.to_p(res.x)
    return np.where(problem.is_log, p * sx, sx)


class Search:
    """A resumable multi-start fit of one circuit to prepared data.

    Starts are tried in order; the search is *done* once chi2 is within
    ``floor`` (1.5× the Lin-KK noise floor: no circuit can do much better) or
    after :data:`PATIENCE` starts in a row that do not improve chi2 by 0.1 %.
    ``run(n)`` tries starts until n have been tried in total, so a search run
    with 1 start and later with 3 ends exactly where one run with 3 would.
    """

    def __init__(self, problem: Problem, candidates: list, floor: float, max_nfev: int,
                 stall: tuple[int, float] | None = None):
        self.problem = problem
        self.candidates = candidates
        self.floor = floor
        self.max_nfev = max_nfev
        self.stall = stall
        self.polished = False
        self.starts: list[dict] = []
        self.best = None  # (chi2, res, start values, explanation)
        self.stale = 0
        self.next = 0
        self.stopped = False  # a stopping rule fired
        self.cpu_s = 0.0
        self.nfev = 0
        self.reduction = None  # (circuit, start values, degeneracies) of a degenerate best fit

    def complete(self, n_starts: int) -> bool:
        """Whether more starts would be tried with a budget of ``n_starts``."""
        return self.stopped or self.next >= min(max(n_starts, 1), len(self.candidates))

    def run(self, n_starts: int) -> "Search":
        t0 = time.process_time()
        problem, model = self.problem, self.problem.model
        while not self.complete(n_starts):
            values, how = self.candidates[self.next]
            self.next += 1
            label = how.get("label", how.get("method"))
            try:
                res = local_fit(problem, values, self.max_nfev, self.stall)
                if res.status in (0, -2):  # out of evaluations, or stalled
                    res = unstick(problem, res, values, self.max_nfev, self.stall)
            except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                self.starts.append({"start": label, "error": str(exc)})
                continue
            self.nfev += int(res.nfev)
            c2 = self._chi2(res)
            self.starts.append(
                {
                    "start": label,
                    "initial": [float(v) for v in values],
                    "chi2": c2,
                    "nfev": int(res.nfev),
                    "status": int(res.status),
                }
            )
            best = self.best
            if np.isfinite(c2) and (best is None or c2 < best[0]):
                self.stale = 0 if best is None or c2 < (1 - 1e-3) * best[0] else self.stale + 1
                self.best = (c2, res, values, how)
            else:
                self.stale += 1
            if self.best is not None and self.best[0] <= self.floor:
                self.stopped = True  # as good as a KK-compliant fit: no better minimum to find
            elif self.stale >= PATIENCE:
                self.stopped = True  # further starts keep landing in the same minimum
        self.cpu_s += time.process_time() - t0
        return self

    def _chi2(self, res) -> float:
        problem = self.problem
        return chi2_modulus(problem.Z, problem._model(res.x, False)[1], problem.model.n_params)

    @property
    def stalled(self) -> bool:
        """Whether the best start was stopped by the stall rule and not yet polished."""
        return self.best is not None and self.best[1].status == -2 and not self.polished

    def polish(self) -> "Search":
        """Continue the best start without the stall rule if it was stopped by it.

        The stall rule (:class:`Stall`) is for scoring candidates; the fit that is
        reported is run to scipy's own convergence criteria (or ``max_nfev``).
        """
        if not self.stalled:
            return self
        self.polished = True
        t0 = time.process_time()
        problem = self.problem
        _, res, values, how = self.best
        try:
            res2 = local_fit(problem, problem.to_p(res.x), self.max_nfev)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            res2 = None
        if res2 is not None:
            self.nfev += int(res2.nfev)
            c2 = self._chi2(res2)
            self.starts.append(
                {"start": "polish of the best start", "chi2": c2, "nfev": int(res2.nfev), "status": int(res2.status)}
            )
            if res2.cost <= res.cost:
                res2.nfev += res.nfev
                self.best = (c2, res2, values, how)
        self.cpu_s += time.process_time() - t0
        return self

    def at_bound(self) -> list[str]:
        res, pr = self.best[1], self.problem
        return [
            n
            for n, x, a, b in zip(pr.model.names, res.x, pr.lo, pr.hi)
            if abs(x - a) <= 1e-6 * max(1.0, abs(a)) or abs(x - b) <= 1e-6 * max(1.0, abs(b))
        ]


def search_for(model, f, Zd, kk_res, *, weighting, n_starts, bounds, initial_guess, max_nfev, features=None,
                stall=None):
    """The bounds, the problem and the ordered starts of one circuit: a :class:`Search`."""
    if bounds is None:
        lo, hi = default_bounds(model.circuit, f, Zd)
        bounds_source = "default_bounds (data scales)"
    else:
        lo, hi = (list(map(float, b)) for b in bounds)
        if len(lo) != model.n_params or len(hi) != model.n_params:
            raise AnalysisError(
                f"bounds must have {model.n_params} values each for {model.circuit} ({', '.join(model.names)})"
            )
        lo = [max(v, 1e-300) if k == "pos" else v for v, k in zip(lo, model.kinds)]
        bounds_source = "user"
    problem = Problem(model, f, Zd, weighting, np.array(lo), np.array(hi))
    problem.bounds = (lo, hi, bounds_source)

    if initial_guess is not None:
        if len(initial_guess) != model.n_params:
            raise AnalysisError(
                f"initial_guess has {len(initial_guess)} values; {model.circuit} needs "
                f"{model.n_params} ({', '.join(model.names)})"
            )
        candidates = [(list(map(float, initial_guess)), {"method": "user"})]
        candidates += guess_candidates(f, Zd, model.circuit, features)[: max(n_starts - 1, 0)]
    else:
        candidates = guess_candidates(f, Zd, model.circuit, features)
    # data-derived starts in order of their starting cost (a user guess stays first)
    head = 1 if initial_guess is not None else 0
    rest = sorted(candidates[head:], key=lambda c: problem.cost(c[0]))
    return Search(problem, candidates[:head] + rest, 1.5 * kk_res.chi2, max_nfev, stall)
