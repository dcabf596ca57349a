"""Potential sweeps: where a voltammogram turns.

Shared by the readers (cycle numbers for files that have none), technique detection
(one sweep is an LSV, a sweep that comes back is a CV) and the analysis stages.
"""

from __future__ import annotations

import numpy as np


def turning_points(E_V: np.ndarray, tol_V: float) -> list[int]:
    """Indices of the vertices of a potential record (a zig-zag filter with hysteresis).

    A vertex is the running extreme of a sweep, recorded once the potential has moved back
    from it by more than ``tol_V`` (V), so noise and staircase steps are never taken for
    reversals. The first direction is set once the range seen so far exceeds ``tol_V``, so
    a dip smaller than ``tol_V`` before the first sweep is not a vertex. ``E_V`` must be
    finite.
    """
    E = np.asarray(E_V, dtype=float)
    turns: list[int] = []
    direction = 0
    hi = lo = ext = 0
    for i in range(1, E.size):
        e = E[i]
        if direction == 0:
            if e > E[hi]:
                hi = i
            if e < E[lo]:
                lo = i
            if E[hi] - E[lo] > tol_V:
                direction, ext = (1, hi) if hi > lo else (-1, lo)
        elif direction > 0:
            if e >= E[ext]:
                ext = i
            elif E[ext] - e > tol_V:
                turns.append(ext)
                direction, ext = -1, i
        else:
            if e <= E[ext]:
                ext = i
            elif e - E[ext] > tol_V:
                turns.append(ext)
                direction, ext = 1, i
    return turns


def sweep_segments(E_V: np.ndarray, tol_V: float | None = None) -> np.ndarray:
    """Index (0, 1, 2...) of the sweep segment each point belongs to.

    A new segment starts after each turning point of the potential
    (:func:`turning_points`; ``tol_V`` defaults to five median steps or 0.5 % of the span,
    whichever is larger), so noise on a measured potential does not split a sweep. The
    turning point belongs to the segment it ends; a non-finite potential takes the
    segment of the point before it.
    """
    E = np.asarray(E_V, dtype=float)
    seg = np.zeros(E.size, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(E))
    if ok.size < 3:
        return seg
    Ef = E[ok]
    if tol_V is None:
        steps = np.abs(np.diff(Ef))
        steps = steps[steps > 0]
        median_step = float(np.median(steps)) if steps.size else 0.0
        tol_V = max(5 * median_step, 0.005 * float(np.ptp(Ef)))
    turns = np.asarray(turning_points(Ef, tol_V), dtype=np.int64)
    seg_f = np.searchsorted(turns, np.arange(Ef.size), side="left")
    # each point takes the segment of the last finite point at or before it
    last_ok = np.maximum.accumulate(np.where(np.isfinite(E), np.arange(E.size), -1))
    at = np.searchsorted(ok, np.maximum(last_ok, ok[0]))
    return seg_f[at].astype(np.int64)
