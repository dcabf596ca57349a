"""Potential sweeps: where a voltammogram turns.

Shared by the readers (cycle numbers for files that have none), technique detection
(one sweep is an LSV, a sweep that comes back is a CV) and the analysis stages.
"""

from __future__ import annotations

import numpy as np


def sweep_segments(E_V: np.ndarray, tol_V: float | None = None) -> np.ndarray:
    """Index (0, 1, 2...) of the sweep segment each point belongs to.

    A new segment starts after each turning point of the potential. A turn counts only
    once the potential has come back by more than ``tol_V`` from its extreme (default:
    five median steps or 0.5 % of the span, whichever is larger), so noise on a measured
    potential does not split a sweep. The turning point belongs to the segment it ends.
    """
    E = np.asarray(E_V, dtype=float)
    seg = np.zeros(E.size, dtype=np.int64)
    if E.size < 3:
        return seg
    if tol_V is None:
        steps = np.abs(np.diff(E))
        steps = steps[np.isfinite(steps) & (steps > 0)]
        median_step = float(np.median(steps)) if steps.size else 0.0
        span = float(np.nanmax(E) - np.nanmin(E)) if np.isfinite(E).any() else 0.0
        tol_V = max(5 * median_step, 0.005 * span)
    k, direction = 0, 0
    start = E[0]
    extreme, extreme_at = E[0], 0
    for i in range(1, E.size):
        e = E[i]
        if not np.isfinite(e):
            seg[i] = k
            continue
        if direction == 0:
            if abs(e - start) > tol_V:
                direction = 1 if e > start else -1
                extreme, extreme_at = e, i
        elif (e - extreme) * direction >= 0:
            extreme, extreme_at = e, i
        elif abs(e - extreme) > tol_V:
            k += 1
            seg[extreme_at + 1 : i] = k
            direction = -direction
            extreme, extreme_at = e, i
        seg[i] = k
    return seg
