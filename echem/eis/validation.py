"""Kramers-Kronig validation of impedance spectra (Lin-KK, Schönleber et al. 2014).

A spectrum is causal, linear and stable only if it can be reproduced by a
Kramers-Kronig compliant circuit. The Lin-KK test fits

    Z_KK(ω) = R_ohm + jωL + 1/(jωC) + Σ_k R_k / (1 + jωτ_k)

with M time constants τ_k fixed and log-spaced between 1/ω_max and 1/ω_min, so the
fit is linear in (R_ohm, R_k, L, 1/C) and takes one least-squares solve per M.
Residuals are relative to |Z|: Δ_re = (Z' − Z'_KK)/|Z|, Δ_im = (Z'' − Z''_KK)/|Z|.

Choice of M. Schönleber et al. (and impedance.py) raise M until
µ = 1 − Σ_{R_k<0}|R_k| / Σ_{R_k≥0}|R_k| drops to 0.85. On spectra with CPE-like arcs µ
dips below 0.85 at small M while the residual is still 5–20 % (it oscillates with
M), which would flag clean data. Here every M in 1..max_M is solved and M is the
smallest whose residual RMS is within :data:`PLATEAU_FACTOR` of the best; µ at that M
is reported.

The fit is ``impedance.validation.fit_linKK(fit_type='complex', add_cap=True)``,
vectorised. impedance.py's own ``linKK`` builds and ``eval``s a string per element
(slow, and in 1.7.1 broken under numpy 2: the string holds ``np.float64(...)``);
``tests/test_eis.py`` checks that the coefficients agree with ``fit_linKK``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from echem.results import Result, Value, axis

#: Default acceptance threshold for the Lin-KK residuals, in % of |Z|.
#: A spectrum passes when no *systematic* residual exceeds it: the residuals, real
#: and imaginary separately, are averaged over :data:`KK_WINDOW` consecutive
#: frequencies (noise averages out, a distortion does not) and the largest
#: |average| must be <= the threshold. With 0.5 % proportional noise clean spectra
#: reach at most ~0.55 %; a 5 % non-causal bump, or Rct drifting by 50 % during the
#: sweep, reach 1.2–4.8 % (tests/test_eis.py).
KK_THRESHOLD_PCT = 1.0
KK_WINDOW = 7
#: M is the smallest number of RC elements whose residual is within this factor of the best.
PLATEAU_FACTOR = 1.25


@dataclass
class LinKKResult:
    """Outcome of :func:`lin_kk`.

    Attributes
    ----------
    M: number of RC elements used. mu: the µ reached. Z_fit: KK-compliant fit (Ω).
    resid_re, resid_im: relative residuals (dimensionless, not %).
    params: fitted (R_ohm, R_1..R_M, 1/C, L) in Ω, Ω, F⁻¹, H.
    """

    M: int
    mu: float
    tau_s: np.ndarray
    Z_fit: np.ndarray
    resid_re: np.ndarray
    resid_im: np.ndarray
    params: np.ndarray

    @property
    def rms_pct(self) -> float:
        r = np.concatenate([self.resid_re, self.resid_im])
        return float(100 * np.sqrt(np.mean(r**2)))

    @property
    def max_pct(self) -> float:
        return float(100 * max(np.max(np.abs(self.resid_re)), np.max(np.abs(self.resid_im))))

    @property
    def mean_pct(self) -> float:
        return float(100 * np.mean(np.abs(np.concatenate([self.resid_re, self.resid_im]))))

    def systematic(self, window: int = KK_WINDOW) -> np.ndarray:
        """Per point, max(|running mean of Δ_re|, |running mean of Δ_im|) over ``window`` points."""
        k = np.ones(int(window))
        count = np.convolve(np.ones_like(self.resid_re), k, mode="same")
        re = np.convolve(self.resid_re, k, mode="same") / count
        im = np.convolve(self.resid_im, k, mode="same") / count
        return np.maximum(np.abs(re), np.abs(im))

    @property
    def systematic_max_pct(self) -> float:
        return float(100 * np.max(self.systematic()))

    @property
    def chi2(self) -> float:
        """Σ(Δ_re² + Δ_im²)/(2N − (M + 3)): the noise floor a circuit fit can reach."""
        n = self.resid_re.size
        dof = max(2 * n - (self.M + 3), 1)
        return float((np.sum(self.resid_re**2) + np.sum(self.resid_im**2)) / dof)


def tau_distribution(freq_Hz: np.ndarray, M: int) -> np.ndarray:
    """M time constants (s) log-spaced from 1/(2π f_max) to 1/(2π f_min)."""
    t_min = 1 / (2 * np.pi * np.max(freq_Hz))
    t_max = 1 / (2 * np.pi * np.min(freq_Hz))
    if M == 1:
        return np.array([t_min])
    return np.logspace(np.log10(t_min), np.log10(t_max), M)


def _design(omega: np.ndarray, tau: np.ndarray, absZ: np.ndarray, add_cap: bool):
    """Real and imaginary design matrices, columns (R_ohm, R_k..., [1/C], L), rows / |Z|."""
    wt = omega[:, None] * tau[None, :]
    k = 1.0 / (1.0 + 1j * wt)  # RC element with R = 1
    n, M = omega.size, tau.size
    cols = M + 2 + int(add_cap)
    a_re = np.zeros((n, cols))
    a_im = np.zeros((n, cols))
    a_re[:, 0] = 1.0
    a_re[:, 1 : M + 1] = k.real
    a_im[:, 1 : M + 1] = k.imag
    if add_cap:
        a_im[:, -2] = -1.0 / omega
    a_im[:, -1] = omega
    return a_re / absZ[:, None], a_im / absZ[:, None]


def _stacked_design(omega: np.ndarray, tau: np.ndarray, inv_absZ: np.ndarray, add_cap: bool) -> np.ndarray:
    """:func:`_design` stacked: rows Re then Im, divided by |Z| (real arithmetic:
    1/(1 + jωτ) = (1 − jωτ)/(1 + (ωτ)²))."""
    n, M = omega.size, tau.size
    wt = omega[:, None] * tau[None, :]
    re = 1.0 / (1.0 + wt * wt)
    A = np.zeros((2 * n, M + 2 + int(add_cap)))
    A[:n, 0] = inv_absZ
    A[:n, 1 : M + 1] = re * inv_absZ[:, None]
    A[n:, 1 : M + 1] = -(wt * re) * inv_absZ[:, None]
    if add_cap:
        A[n:, -2] = -inv_absZ / omega
    A[n:, -1] = omega * inv_absZ
    return A


def lin_kk(
    freq_Hz: np.ndarray,
    Z: np.ndarray,
    *,
    M: int | None = None,
    max_M: int = 50,
    add_cap: bool = True,
) -> LinKKResult:
    """Lin-KK test (complex fit) of one spectrum; see the module docstring.

    ``freq_Hz`` (Hz) and ``Z`` (Ω, complex, physical sign) of equal length, any order.
    ``add_cap`` adds the series capacitance that spectra without a low-frequency
    intercept (blocking electrodes, diffusion) need. ``M`` fixes the number of RC
    elements; by default it is chosen as in the module docstring (max_M at most N − 3).
    """
    f = np.asarray(freq_Hz, float)
    Z = np.asarray(Z, complex)
    omega = 2 * np.pi * f
    absZ = np.abs(Z)
    b_re, b_im = Z.real / absZ, Z.imag / absZ
    max_M = int(max(1, min(max_M, f.size - 3)))

    inv_absZ = 1.0 / absZ
    b = np.concatenate([b_re, b_im])

    def solve(M: int):
        tau = tau_distribution(f, M)
        A = _stacked_design(omega, tau, inv_absZ, add_cap)
        # normal equations scaled to unit-norm columns: ~10x faster than lstsq (SVD),
        # and accurate enough for residuals (the test's output) at these condition numbers
        G = A.T @ A
        norm = np.sqrt(np.diagonal(G))
        norm = np.where(norm == 0, 1.0, norm)
        try:
            x = np.linalg.solve(G / np.outer(norm, norm), (A.T @ b) / norm) / norm
        except np.linalg.LinAlgError:
            x, *_ = np.linalg.lstsq(A, b, rcond=None)
        r = A @ x - b
        return tau, x, float(np.sqrt(r @ r / (2 * Z.size)))

    if M is not None:
        M = int(M)
        tau, x, _ = solve(M)
    else:
        # Schönleber's rule raises M until mu <= c. On CPE-like spectra mu dips below
        # c at small M while the fit is still poor (the residual of successive M
        # oscillates between 1 % and 20 %), so the rule would flag clean data. Here
        # M is the smallest number of elements whose residual is within
        # PLATEAU_FACTOR of the best residual over 1..max_M: a KK-compliant model
        # cannot absorb a non-causal distortion whatever M, so the plateau residual
        # is the test, and the smallest M on it avoids fitting the noise.
        sols = [solve(m) for m in range(1, max_M + 1)]
        rms = np.array([s[2] for s in sols])
        plateau = np.nonzero(rms <= PLATEAU_FACTOR * rms.min())[0]
        M = int(plateau[0]) + 1
        tau, x, _ = sols[M - 1]
    rk = x[1 : M + 1]
    pos = np.sum(rk[rk >= 0])
    neg = -np.sum(rk[rk < 0])
    mu = 1.0 - neg / pos if pos > 0 else -np.inf
    a_re, a_im = _design(omega, tau, np.ones_like(absZ), add_cap)
    Z_fit = a_re @ x + 1j * (a_im @ x)
    err = (Z - Z_fit) / absZ
    return LinKKResult(
        M=M, mu=float(mu), tau_s=tau, Z_fit=Z_fit, resid_re=err.real, resid_im=err.imag, params=x
    )


def kk_summary(result: LinKKResult, threshold_pct: float = KK_THRESHOLD_PCT) -> dict:
    """JSON-friendly summary and the pass/fail decision (see :data:`KK_THRESHOLD_PCT`)."""
    sys_max = result.systematic_max_pct
    return {
        "ok": bool(sys_max <= threshold_pct),
        "systematic_max_pct": round(sys_max, 4),
        "rms_pct": round(result.rms_pct, 4),
        "max_pct": round(result.max_pct, 4),
        "mean_pct": round(result.mean_pct, 4),
        "M": int(result.M),
        "mu": round(float(result.mu), 4),
        "threshold_pct": float(threshold_pct),
        "rule": f"ok when the running mean over {KK_WINDOW} consecutive frequencies of the "
        "relative Lin-KK residuals (real and imaginary separately) stays within threshold_pct",
        "method": "Lin-KK (Schönleber 2014), complex fit, series R, L and C; M = smallest "
        f"with residual within {PLATEAU_FACTOR}x of the best over 1..max_M",
    }


@dataclass(repr=False)
class KKTest(Result):
    """A Lin-KK test of one spectrum as a result (:func:`kramers_kronig`): the summary of
    :func:`kk_summary` (``ok``, residuals in % of |Z|), the fit itself, the frequencies."""

    summary: dict
    fit: LinKKResult
    freq_Hz: np.ndarray

    title = "Kramers-Kronig test (Lin-KK)"

    @property
    def ok(self) -> bool:
        return bool(self.summary["ok"])

    def quantities(self) -> list[Value]:
        s = self.summary
        return [Value("ok", s["ok"]), Value("systematic_max", s["systematic_max_pct"], None, "%"),
                Value("rms", s["rms_pct"], None, "%"), Value("M", s["M"])]

    def method(self) -> str:
        return f"{self.summary['method']}; {self.summary['rule']} ({self.summary['threshold_pct']:g} %)"

    @property
    def flags(self) -> list:
        from echem.flags import Flag

        return [] if self.ok else [Flag("kk_failed", (
            f"Lin-KK residuals reach {self.summary['systematic_max_pct']:.3g} % of |Z| (limit "
            f"{self.summary['threshold_pct']:g} %): drift, noise or a non-stationary cell"))]

    def __getitem__(self, key):  # the summary's keys, as kk_summary gives them
        return self.summary[key]

    def plot(self, ax=None):
        """Relative residuals (%) of the real and imaginary parts against frequency."""
        ax = axis(ax)
        order = np.argsort(self.freq_Hz)
        f = self.freq_Hz[order]
        ax.plot(f, 100 * self.fit.resid_re[order], "o-", ms=3, label="Z'")
        ax.plot(f, 100 * self.fit.resid_im[order], "s-", ms=3, label="Z''")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("f / Hz")
        ax.set_ylabel("Lin-KK residual / %")
        ax.legend(fontsize=7, frameon=False)
        return ax


def kramers_kronig(freq_Hz, Z, threshold_pct: float = KK_THRESHOLD_PCT) -> KKTest:
    """Lin-KK test of one spectrum (:func:`lin_kk`, :func:`kk_summary`) as a :class:`KKTest`."""
    f = np.asarray(freq_Hz, float)
    fit = lin_kk(f, np.asarray(Z, complex))
    return KKTest(summary=kk_summary(fit, threshold_pct), fit=fit, freq_Hz=f)
