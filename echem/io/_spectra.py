"""Impedance spectra in one file: which rows belong to which frequency sweep.

Instruments write several spectra into one file in several ways: EC-Lab counts loops
in ``cycle number`` (and Modulo Bat files hold several sweeps per cycle, separated by
battery-cycling rows whose frequency is 0); a generic CSV simply repeats the frequency
sweep; spreadsheets put one spectrum per sheet. :func:`number_spectra` numbers the sweeps
of any impedance table the same way, so that every reader reports the same number of
spectra for the same data (``meta["n_spectra"]``) and the EIS stage, which groups by the
``cycle`` column, analyses each.

A new sweep starts at an impedance row (frequency > 0) where

* the row before it is not an impedance point (a gap of non-impedance rows), or
* the file's own cycle/spectrum counter changes, or
* the frequency jumps back against the sweep direction by more than half the file's
  log-frequency span (a reset: 1 Hz -> 100 kHz in a falling sweep), or
* the sweep turns round at the end of its range and runs back over at least half of
  it (a falling sweep followed by a rising one).

Small backward steps (a point measured again, noise in a logged frequency) do not start
a sweep. pyimpspec splits at every change of direction; echem agrees with it on every
sweep that is monotonic, which is what instruments write.
"""

from __future__ import annotations

import numpy as np


def spectrum_starts(freq_Hz: np.ndarray) -> np.ndarray:
    """Boolean mask of rows where a new sweep starts by a frequency reset or a turn.

    Only rows with a finite frequency above 0 take part; the others are never starts.
    """
    freq = np.asarray(freq_Hz, dtype=float)
    starts = np.zeros(freq.size, dtype=bool)
    ok = np.isfinite(freq) & (freq > 0)
    if ok.sum() < 3:
        return starts
    idx = np.flatnonzero(ok)
    logf = np.log10(freq[idx])
    steps = np.diff(logf)
    moving = steps[steps != 0]
    if moving.size == 0:
        return starts
    direction = np.sign(np.median(moving)) or 1.0
    span = logf.max() - logf.min()
    jumps = (steps * direction < 0) & (np.abs(steps) > 0.5 * span)
    starts[idx[1:][jumps]] = True
    if span == 0:
        return starts
    # turns: inside the stretches between resets, a monotonic run covering more than
    # half the span followed by one running back over more than half the span
    signs = np.sign(steps)
    signs[jumps] = 0
    breaks = np.flatnonzero(jumps)
    for lo, hi in zip(np.concatenate(([0], breaks + 1)), np.concatenate((breaks, [steps.size]))):
        runs: list[tuple[int, int, float]] = []  # (first step, last step, sign) of monotonic runs
        k = lo
        while k < hi:
            if signs[k] == 0:
                k += 1
                continue
            j = k
            while j + 1 < hi and signs[j + 1] in (0, signs[k]):
                j += 1
            runs.append((k, j, signs[k]))
            k = j + 1
        for (a0, a1, sa), (b0, b1, sb) in zip(runs, runs[1:]):
            if sa == sb:
                continue
            if abs(logf[a1 + 1] - logf[a0]) > 0.5 * span and abs(logf[b1 + 1] - logf[b0]) > 0.5 * span:
                # point b0 ends the first sweep (10 kHz .. 1 Hz, then 1.4 Hz ..), unless it
                # repeats the point before it (.. 1 Hz, 1 Hz, 1.4 Hz ..): then it starts the next
                repeated = b0 > 0 and logf[b0] == logf[b0 - 1]
                starts[idx[b0] if repeated else idx[b0 + 1]] = True
    return starts


def _is_sweep(logf: np.ndarray) -> bool:
    """At least 3 points running one way in log f (a point measured again may step back once)."""
    if logf.size < 3:
        return False
    moving = np.diff(logf)
    moving = moving[moving != 0]
    if moving.size == 0:
        return False
    direction = np.sign(logf[-1] - logf[0]) or np.sign(np.median(moving))
    return int(np.sum(moving * direction < 0)) <= max(1, int(0.1 * moving.size))


def _are_sweeps(pieces: list[np.ndarray]) -> bool:
    """Pieces of log f that repeated sweeps make: each a sweep, none much shorter than the
    longest, except a last one that repeats the start of the sweep before it (a loop
    stopped during its last sweep)."""
    longest = max(p.size for p in pieces)
    if not all(_is_sweep(p) and p.size >= 0.5 * longest for p in pieces[:-1]):
        return False
    last, before = pieces[-1], pieces[-2]
    if _is_sweep(last) and last.size >= 0.5 * longest:
        return True
    k = last.size
    return 3 <= k <= before.size and bool(np.allclose(last, before[:k], rtol=0, atol=np.log10(1.02)))


def number_spectra(freq_Hz: np.ndarray, cycle: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, str, str | None]:
    """Sweep number per row, which rows are impedance points, how they were numbered, a note.

    Impedance points are the rows with a finite frequency above 0; the numbers of other
    rows mean nothing. What the file says (a gap of non-impedance rows, a change of its
    cycle number) always starts a sweep. What only the frequencies say (a reset, a turn)
    does when the pieces it makes are sweeps (:func:`_are_sweeps`): a spectrum written in
    shuffled order, or a sweep followed by a few points measured again, is one spectrum
    with frequencies measured more than once, and the note (for ``meta["warnings"]``) says
    so. When the file's own ``cycle`` numbers already tell exactly these sweeps apart (one
    number per sweep, none shared), they are kept; otherwise the sweeps are numbered 1..n
    in file order. ``how`` says which (for ``meta["columns_used"]``).
    """
    freq = np.asarray(freq_Hz, dtype=float)
    imp = np.isfinite(freq) & (freq > 0)
    rows = np.flatnonzero(imp)
    index = np.zeros(freq.size, dtype=np.int64)
    if rows.size == 0:
        return index, imp, "no impedance rows", None
    hard = np.zeros(freq.size, dtype=bool)
    hard[rows[0]] = True
    previous = np.zeros(freq.size, dtype=bool)
    previous[1:] = imp[:-1]
    hard |= imp & ~previous  # after a gap of non-impedance rows
    if cycle is not None:
        cyc = np.asarray(cycle)
        changed = np.zeros(freq.size, dtype=bool)
        changed[rows[1:]] = cyc[rows[1:]] != cyc[rows[:-1]]
        hard |= changed
    soft = spectrum_starts(freq) & ~hard
    new = hard.copy()
    rejected = 0
    block_starts = np.flatnonzero(hard[rows])
    for lo, hi in zip(block_starts, np.r_[block_starts[1:], rows.size]):
        block = rows[lo:hi]
        cuts = np.flatnonzero(soft[block])
        if cuts.size == 0:
            continue
        pieces = np.split(np.log10(freq[block]), cuts)
        if _are_sweeps(pieces):
            new[block[cuts]] = True
        else:
            rejected += int(cuts.size)
    note = None
    if rejected:
        note = (f"the frequency jumps back {rejected} time(s) where no new sweep starts (the pieces are not "
                "sweeps: rows out of order, or a few points measured again): read as one spectrum in which "
                "some frequencies may appear twice")
    index[rows] = np.cumsum(new[rows])
    n = int(index[rows].max())
    how = "sweeps numbered in file order (gaps, frequency resets" + (", cycle changes" if cycle is not None else "") + ")"
    if cycle is not None:
        cyc = np.asarray(cycle)[rows].astype(np.int64)
        first = cyc[new[rows]]
        # the file's numbers name the same sweeps: one value per sweep, all different
        if np.unique(first).size == n and np.array_equal(cyc, first[index[rows] - 1]):
            out = np.zeros(freq.size, dtype=np.int64)
            out[rows] = cyc
            return out, imp, "the file's cycle numbers", note
        how += "; the file's cycle numbers do not tell the sweeps apart"
    return index, imp, how, note
