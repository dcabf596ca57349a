"""Turning points and sweep segments of a noisy triangle-wave potential (known vertices)."""

from __future__ import annotations

import numpy as np
import pytest

from echem.sweeps import sweep_segments, turning_points


def triangle(n_sweeps: int, points: int = 200, noise_V: float = 1e-4, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """0 -> 1 V -> 0 ... with ``points`` per sweep and Gaussian noise; returns E and vertex indices."""
    rng = np.random.default_rng(seed)
    up = np.linspace(0.0, 1.0, points, endpoint=False)
    sweeps = [up if k % 2 == 0 else 1.0 - up for k in range(n_sweeps)]
    E = np.concatenate(sweeps + [np.array([1.0 if n_sweeps % 2 else 0.0])])
    vertices = [points * k for k in range(1, n_sweeps)]
    return E + rng.normal(0, noise_V, E.size), vertices


@pytest.mark.parametrize("seed", range(5))
def test_vertices_found_within_noise(seed):
    E, vertices = triangle(5, seed=seed)
    turns = turning_points(E, tol_V=0.02)
    assert len(turns) == len(vertices)
    # noise of 0.1 mV on 5 mV steps: the extreme is the vertex itself or its neighbour
    assert all(abs(t - v) <= 1 for t, v in zip(turns, vertices))


def test_a_first_retreat_is_a_sweep_only_when_larger_than_the_tolerance():
    big = np.concatenate([np.linspace(0.5, 0.3, 50), np.linspace(0.3, 1.0, 100)])
    assert turning_points(big, 0.02) == [50]        # 0.2 V down, then up: two sweeps
    small = np.concatenate([np.linspace(0.5, 0.49, 5), np.linspace(0.49, 1.0, 100)])
    assert turning_points(small, 0.02) == []        # a 10 mV dip before the sweep is noise


def test_segments_count_sweeps_and_nan_takes_the_previous_segment():
    E, vertices = triangle(4, noise_V=0.0)
    E[10] = np.nan
    seg = sweep_segments(E)
    assert seg.max() == 3 and seg[10] == seg[9] == 0
    # the vertex belongs to the segment it ends
    assert [seg[v] for v in vertices] == [0, 1, 2] and [seg[v + 1] for v in vertices] == [1, 2, 3]
