"""Spectrum helpers shared by the fit, the guesses and the DRT: cleaning (finite points,
sorted, no duplicate frequencies), the inductive high-frequency tail, and where the
spectrum meets the real axis at high frequency."""

from __future__ import annotations

import numpy as np

from echem.errors import AnalysisError


def hf_intercept_ohm(freq_Hz: np.ndarray, Z: np.ndarray) -> float:
    """High-frequency real-axis intercept of the spectrum (Ohm).

    Scanning from the highest frequency down, if −Z'' changes sign (inductive above,
    capacitive below), Z' is interpolated linearly to Z'' = 0 between the two points
    around the first crossing. Otherwise the spectrum is still capacitive at f_max:
    a line Z' = a + b(−Z'') through the three highest-frequency points is extrapolated
    to −Z'' = 0 (exact for an RQ arc near its intercept, whose Nyquist curve is
    asymptotically straight), clamped to [0, Z'(f_max)]. Returns Z'(f_max) when the
    points do not approach the real axis (b ≤ 0).
    """
    f = np.asarray(freq_Hz, float)
    Z = np.asarray(Z, complex)
    ok = np.isfinite(f) & np.isfinite(Z.real) & np.isfinite(Z.imag)
    f, Z = f[ok], Z[ok]
    if f.size == 0:
        raise AnalysisError("no finite impedance points; cannot find the high-frequency intercept")
    order = np.argsort(-f)
    Z = Z[order]
    y = -Z.imag  # positive on a capacitive arc
    if f.size == 1:
        return float(Z.real[0])
    for i in range(min(Z.size - 1, max(3, Z.size // 3))):
        if (y[i] <= 0) != (y[i + 1] <= 0) or y[i] == 0:
            if y[i] == 0:
                return float(Z.real[i])
            t = y[i] / (y[i] - y[i + 1])
            return float(Z.real[i] + t * (Z.real[i + 1] - Z.real[i]))
        if y[i] > 0:
            break  # capacitive at the top: extrapolate
    if y[0] <= 0:  # inductive everywhere near the top and no crossing: use the smallest Z'
        return float(np.min(Z.real[: max(3, Z.size // 3)]))
    k = min(3, Z.size)
    yy, xx = y[:k], Z.real[:k]
    if np.ptp(yy) <= 0:
        return float(xx[0])
    b, a = np.polyfit(yy, xx, 1)
    if b <= 0:  # the arc is seen from its low-frequency side only: intercept out of reach
        return float(xx[0])
    return float(min(max(a, 0.0), xx[0]))


def hf_intercept_reached(freq_Hz: np.ndarray, Z: np.ndarray) -> bool:
    """Whether the high-frequency end approaches the real axis (so that
    :func:`hf_intercept_ohm` is an intercept, not just Z' at f_max)."""
    f = np.asarray(freq_Hz, float)
    Z = np.asarray(Z, complex)
    order = np.argsort(-f)
    Z = Z[order]
    y = -Z.imag
    if Z.size < 3 or np.any(y[:3] <= 0) or np.ptp(y[:3]) <= 0:
        return True  # inductive crossing or flat: the intercept is measured
    b, _ = np.polyfit(y[:3], Z.real[:3], 1)
    return bool(b > 0)


def prepare(freq_Hz, Z) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    f = np.asarray(freq_Hz, float).ravel()
    Z = np.asarray(Z, complex).ravel()
    if f.size != Z.size:
        raise AnalysisError(f"freq_Hz has {f.size} values but Z has {Z.size}; pass one Z per frequency")
    trimmed: list[dict] = []
    bad = ~(np.isfinite(f) & (f > 0) & np.isfinite(Z.real) & np.isfinite(Z.imag) & (np.abs(Z) > 0))
    if bad.any():
        trimmed.append(
            {"reason": "non-finite value, Z = 0 or frequency <= 0", "freq_Hz": f[bad].tolist(), "n": int(bad.sum())}
        )
        f, Z = f[~bad], Z[~bad]
    order = np.argsort(f, kind="stable")
    f, Z = f[order], Z[order]
    dup = np.zeros(f.size, bool)
    dup[1:] = f[1:] == f[:-1]
    if dup.any():
        trimmed.append(
            {
                "reason": "duplicate frequency (first measurement kept)",
                "freq_Hz": f[dup].tolist(),
                "n": int(dup.sum()),
            }
        )
        f, Z = f[~dup], Z[~dup]
    return f, Z, trimmed


def refuse_all_inductive(Z: np.ndarray, why: str) -> None:
    """Raise when every point has Z'' > 0: a flipped sign far more often than a real cell."""
    if Z.size and np.all(Z.imag > 0):
        raise AnalysisError(
            f"every one of the {Z.size} points has Z'' > 0: the spectrum is inductive throughout, or the "
            f"export flipped the sign of Im(Z) (check whether its column is Im(Z) or -Im(Z)); {why}: fix "
            "the export, or name a circuit with an inductor (e.g. 'L0-R0-p(R1,CPE1)') in sample.yaml if "
            "the cell really is inductive"
        )


def trim_inductive_tail(f, Z) -> tuple[np.ndarray, np.ndarray, dict | None]:
    """Drop the contiguous run of points with Z'' > 0 at the high-frequency end."""
    n = 0
    while n < f.size and Z.imag[f.size - 1 - n] > 0:
        n += 1
    if n == 0:
        return f, Z, None
    keep = f.size - n
    record = {
        "reason": "inductive high-frequency tail (Z_im > 0) not described by the circuit",
        "freq_Hz": f[keep:].tolist(),
        "n": int(n),
    }
    return f[:keep], Z[:keep], record
