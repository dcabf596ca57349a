"""LSV stage: RHE scale, iR correction, sweep selection, overpotential at target |j|.

Equations (units in the names):

* current density ``j_mA_cm2 = 1000 · I_A / area_cm2`` (geometric area);
* RHE scale ``E_RHE_V = E_V + offset_to_rhe_V`` (offset from :mod:`echem.reference`);
* iR correction ``E_RHE_corr_V = E_RHE_V − f · I_A · Ru_ohm`` with
  ``f = ir_compensation − instrument_ir_compensation`` (the part of Ru the instrument did
  not already compensate during the run; ``f`` may be 0 or negative);
* overpotential in the reaction's direction ``eta_mV = s · (E_RHE_corr_V − E_eq) · 1000``
  with ``E_eq = 0 V`` and ``s = −1`` for the HER (cathodic current, negative potentials)
  and ``E_eq = 1.23 V`` and ``s = +1`` for the OER. ``eta_mV`` is therefore positive for
  both reactions wherever the reaction is driven (it equals ``|E_RHE_corr − E_eq|``
  there); it is negative only on the other side of the equilibrium potential, which
  the Tafel stage ignores.

Sign conventions: IUPAC, anodic current positive. The HER current is negative, the OER
current positive; targets are magnitudes of ``j`` in the reaction's direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from echem.errors import AnalysisError, MetadataError
from echem.flags import Flag
from echem.jsonsafe import jsonable
from echem.results import Result, Value, axis
from echem.sweeps import turning_points

#: Equilibrium potential of each reaction on the RHE scale, V.
E_EQ_RHE_V = {"HER": 0.0, "OER": 1.23}
#: Sign of the reaction current and of the sweep direction that drives the reaction.
REACTION_SIGN = {"HER": -1, "OER": +1}

#: A sweep shorter than this fraction of the longest one is a fragment (glitch, pre-step).
FRAGMENT_FRACTION = 0.1
#: A sweep at least this fraction of the longest one in its direction is "full".
FULL_FRACTION = 0.8


# --------------------------------------------------------------------------- basics


def current_density_mA_cm2(I_A, area_cm2: float) -> np.ndarray:
    """``j = 1000 · I / area`` in mA cm⁻² (I in A, geometric area in cm²)."""
    area = _positive(area_cm2, "area_cm2")
    return np.asarray(I_A, dtype=float) * 1e3 / area


def ir_correct_V(E_V, I_A, ru_ohm: float | None, fraction: float) -> np.ndarray:
    """``E_corr = E − fraction · I · Ru`` in V (``Ru`` in Ω, ``I`` in A).

    ``fraction = ir_compensation − instrument_ir_compensation``. With ``ru_ohm`` None
    (no Ru known) the potentials are returned unchanged.
    """
    E = np.asarray(E_V, dtype=float)
    if ru_ohm is None:
        return E.copy()
    ru = _ru(ru_ohm)
    f = _fraction(fraction)
    return E - f * np.asarray(I_A, dtype=float) * ru


def _positive(value, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise MetadataError(f"{name} must be a positive number, got {value!r}; set it in sample.yaml") from None
    if not math.isfinite(x) or x <= 0:
        raise MetadataError(f"{name} must be a positive number, got {value!r}; set it in sample.yaml")
    return x


def _ru(value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise MetadataError(f"ru_ohm must be a number of ohms, got {value!r}; correct ru_ohm in sample.yaml") from None
    if not math.isfinite(x) or x < 0:
        raise MetadataError(f"ru_ohm must be >= 0, got {value!r}; correct ru_ohm in sample.yaml")
    return x


def _fraction(value) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise MetadataError(f"the iR fraction must be a number, got {value!r}") from None
    if not math.isfinite(f) or not -1.0 <= f <= 1.0:
        raise MetadataError(
            f"the iR fraction ir_compensation - instrument_ir_compensation = {value!r} is outside "
            "-1..1; both settings are fractions 0..1 in sample.yaml"
        )
    return f


def _reaction(reaction: str) -> str:
    r = str(reaction).strip().upper() if reaction is not None else ""
    if r not in E_EQ_RHE_V:
        raise MetadataError(
            f"LSV analysis needs reaction HER or OER, got {reaction!r}; set `reaction` in sample.yaml"
        )
    return r


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class Sweep:
    """One monotonic stretch of the potential record (indices inclusive, in file order)."""

    start: int
    stop: int
    direction: int  # +1 anodic (E increasing), -1 cathodic
    E_start_V: float
    E_stop_V: float

    @property
    def span_V(self) -> float:
        return abs(self.E_stop_V - self.E_start_V)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "stop": self.stop,
                "direction": "anodic" if self.direction > 0 else "cathodic",
                "E_start_V": self.E_start_V, "E_stop_V": self.E_stop_V}


def _noise_sd(x: np.ndarray) -> float:
    """Robust white-noise s.d. of a smooth series from its second differences."""
    if x.size < 5:
        return 0.0
    d2 = np.diff(x, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6.0))


def reversal_tolerance_V(E_V) -> float:
    """How far E must retreat from its running extreme to count as a reversal.

    ``max(2 % of the potential range, 5 mV, 8 × the noise s.d. of E)``: far above noise and
    the steps of staircase instruments, far below any real sweep of an LSV or CV.
    """
    E = np.asarray(E_V, dtype=float)
    E = E[np.isfinite(E)]
    if E.size == 0:
        return 0.005
    return max(0.02 * float(np.ptp(E)), 0.005, 8.0 * _noise_sd(E))


def split_sweeps(E_V, tol_V: float | None = None) -> list[Sweep]:
    """Split a potential record into monotonic sweeps at its reversals.

    A reversal is where E retreats by more than ``tol_V`` (default
    :func:`reversal_tolerance_V`) from its running extreme (a zig-zag filter), so noise
    and staircase steps never split a sweep. The extreme belongs to both sweeps.
    Non-finite potentials are skipped. A record without a reversal is one sweep.
    """
    E_all = np.asarray(E_V, dtype=float)
    idx = np.flatnonzero(np.isfinite(E_all))
    if idx.size < 2:
        return []
    E = E_all[idx]
    tol = reversal_tolerance_V(E) if tol_V is None else float(tol_V)
    pivots = [0, *turning_points(E, tol)]
    if pivots[-1] != E.size - 1:
        pivots.append(E.size - 1)
    sweeps = []
    for a, b in zip(pivots[:-1], pivots[1:]):
        if b <= a:
            continue
        direction = 1 if E[b] >= E[a] else -1
        sweeps.append(Sweep(int(idx[a]), int(idx[b]), direction, float(E[a]), float(E[b])))
    return sweeps


@dataclass
class _Selection:
    mask: np.ndarray
    sweep: Sweep
    info: dict[str, Any]


def _select(E_V, I_A, reaction, which="last", cycle=None, cycle_numbers=None,
            sweep_direction="reaction") -> _Selection:
    reaction = _reaction(reaction)
    if sweep_direction not in ("reaction", "reverse"):
        raise MetadataError(f"sweep_direction must be 'reaction' or 'reverse', got {sweep_direction!r}")
    E = np.asarray(E_V, dtype=float)
    I = np.asarray(I_A, dtype=float)
    if E.shape != I.shape or E.ndim != 1:
        raise AnalysisError(f"E_V and I_A must be 1-D arrays of equal length, got {E.shape} and {I.shape}")
    finite = np.isfinite(E) & np.isfinite(I)
    rows = finite.copy()
    warnings: list[str] = []
    cycle_note = None
    if cycle is not None and cycle_numbers is not None:
        cyc = np.asarray(cycle_numbers)
        if cyc.shape != E.shape:
            raise AnalysisError("cycle_numbers must have one entry per data point")
        available = sorted({int(c) for c in cyc[np.isfinite(cyc.astype(float))]})
        rows &= cyc == int(cycle)
        if not rows.any():
            raise AnalysisError(
                f"the record has no rows of cycle {cycle} (cycles: {available}); "
                "set the LSV cycle to one of these"
            )
        cycle_note = f"rows of cycle {int(cycle)} (from the file's cycle column)"
    if rows.sum() < 5:
        raise AnalysisError(
            f"only {int(rows.sum())} finite (E, I) points to analyse; the LSV needs a sweep of many points"
        )
    E_sel = np.where(rows, E, np.nan)
    E_rows = E[rows]
    if E_rows.size >= 20 and _noise_sd(E_rows) > 0.05 * float(np.ptp(E_rows)):
        raise AnalysisError(
            f"the potential jumps from row to row by a large part of its range (point-to-point scatter "
            f"{_noise_sd(E_rows) * 1e3:.0f} mV over a {np.ptp(E_rows) * 1e3:.0f} mV range): the rows are not a "
            "sweep in time order (sorted or shuffled by a spreadsheet?); export the file again"
        )
    sweeps = split_sweeps(E_sel)
    if not sweeps:
        raise AnalysisError("the potential does not change; this is not a sweep (LSV/CV)")
    if len(sweeps) > max(20, int(rows.sum()) // 10):
        raise AnalysisError(
            f"the potential reverses direction {len(sweeps) - 1} times in {int(rows.sum())} points: the rows "
            "are not a sweep in time order (sorted or shuffled by a spreadsheet?); export the file again"
        )
    longest = max(s.span_V for s in sweeps)
    fragments = [s for s in sweeps if s.span_V < FRAGMENT_FRACTION * longest]
    if fragments:
        warnings.append(
            f"{len(fragments)} short potential excursion(s) (< {FRAGMENT_FRACTION:.0%} of the "
            "longest sweep) ignored, e.g. a glitch or a pre-step"
        )
    direction = REACTION_SIGN[reaction] * (1 if sweep_direction == "reaction" else -1)
    candidates = [s for s in sweeps if s.direction == direction and s not in fragments]
    word = "cathodic (E decreasing)" if direction < 0 else "anodic (E increasing)"
    if not candidates:
        ranges = "; ".join(f"{s.E_start_V:.3f} -> {s.E_stop_V:.3f} V" for s in sweeps)
        raise AnalysisError(
            f"no {word} sweep for the {reaction} in this record (sweeps: {ranges}); "
            "check `reaction` in sample.yaml"
            + ("" if sweep_direction == "reverse" else
               " (a curve recorded towards the equilibrium potential on purpose, e.g. an OER "
               "backward sweep that avoids the Ni redox peak, needs sweep_direction='reverse')")
        )
    longest_dir = max(s.span_V for s in candidates)
    full = [s for s in candidates if s.span_V >= FULL_FRACTION * longest_dir]
    if cycle is not None and cycle_numbers is None:
        k = int(cycle)
        if not 1 <= k <= len(candidates):
            raise AnalysisError(
                f"cycle {cycle} requested but the record has {len(candidates)} {word} sweep(s); "
                f"choose a cycle between 1 and {len(candidates)}"
            )
        chosen = candidates[k - 1]
        cycle_note = f"{word} sweep number {k} (cycles counted from the sweeps)"
        how = f"cycle {k}"
    else:
        how = which
        if isinstance(which, str):
            which = which.strip().lower()
            if which.lstrip("-").isdigit():
                which = int(which)
        if which == "last":
            chosen = full[-1]
        elif which == "first":
            chosen = full[0]
        elif isinstance(which, (int, np.integer)) and not isinstance(which, bool):
            if not -len(candidates) <= int(which) < len(candidates):
                raise AnalysisError(
                    f"sweep index {which} requested but the record has {len(candidates)} {word} "
                    f"sweep(s) (indices 0..{len(candidates) - 1} or negative from the end)"
                )
            chosen = candidates[int(which)]
        else:
            raise MetadataError(f"lsv sweep must be 'last', 'first' or an integer index, got {which!r}")
        partial_after = [s for s in candidates if s.start > chosen.start and s not in full]
        if which == "last" and partial_after:
            warnings.append(
                f"the record ends with {len(partial_after)} partial {word} sweep(s); the last full one is used"
            )
    mask = np.zeros(E.shape, dtype=bool)
    mask[chosen.start: chosen.stop + 1] = True
    mask &= rows
    info = {
        "requested": how if not isinstance(how, np.integer) else int(how),
        "sweep_direction": sweep_direction,
        "cycle": None if cycle is None else int(cycle),
        "cycle_rows": cycle_note,
        "n_sweeps": len(sweeps),
        "n_reaction_sweeps": len(candidates),
        "n_full_reaction_sweeps": len(full),
        "chosen_index": candidates.index(chosen),
        "chosen": chosen.to_dict(),
        "sweeps": [s.to_dict() for s in sweeps],
        "reversal_tolerance_V": reversal_tolerance_V(E[rows]),
        "n_points": int(mask.sum()),
    }
    return _Selection(mask=mask, sweep=chosen, info={"sweep": info, "warnings": warnings})


def select_sweep(E_V, I_A, reaction: str, which: str | int = "last", cycle: int | None = None,
                 cycle_numbers=None, sweep_direction: str = "reaction") -> np.ndarray:
    """Boolean mask of the sweep to analyse.

    The record is split into monotonic sweeps (:func:`split_sweeps`); sweeps going in the
    reaction's direction (HER: cathodic, E decreasing; OER: anodic) are candidates, and
    short fragments (< 10 % of the longest sweep) are ignored. ``which``:

    * ``"last"`` (default) / ``"first"``: the last/first *full* candidate (a sweep covering
      at least 80 % of the longest candidate's range, so an aborted final sweep is skipped);
    * an integer: that candidate, 0-based in time order (negative counts from the end).

    ``cycle`` (1-based) restricts the record to one cycle: the rows whose
    ``cycle_numbers`` (the file's ``cycle`` column) equal it, or, without
    ``cycle_numbers``, the ``cycle``-th candidate sweep. A pure one-direction LSV is one
    sweep. Rows with non-finite E or I are never selected.

    ``sweep_direction="reverse"`` selects sweeps going *towards* the equilibrium potential
    instead (e.g. OER curves read on the backward sweep to avoid a Ni²⁺/Ni³⁺ oxidation
    peak); their charging current opposes the reaction current.

    Raises
    ------
    AnalysisError
        No sweep in the reaction's direction, or the requested one does not exist.
    """
    return _select(E_V, I_A, reaction, which, cycle, cycle_numbers, sweep_direction).mask


# --------------------------------------------------------------------------- targets


def _local_fit(x: np.ndarray, y: np.ndarray, x0: float) -> tuple[float, float, float]:
    """Least-squares line y(x) at x0: (value, standard error of the value, residual s.d.)."""
    n = x.size
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    slope = float(np.sum((x - xm) * (y - ym)) / sxx)
    value = ym + slope * (x0 - xm)
    resid = y - (ym + slope * (x - xm))
    s = math.sqrt(float(np.sum(resid**2)) / (n - 2)) if n > 2 else 0.0
    se = s * math.sqrt(1.0 / n + (x0 - xm) ** 2 / sxx)
    return float(value), float(se), s


def _window(k: int, n: int, lo: int, hi: int) -> tuple[int, int]:
    """``n`` consecutive indices around the crossing between k-1 and k, within [lo, hi]."""
    a = k - (n + 1) // 2
    b = a + n - 1
    if a < lo:
        a, b = lo, min(hi, lo + n - 1)
    if b > hi:
        a, b = max(lo, hi - n + 1), hi
    return a, b


def _value_at(y_driver: np.ndarray, y_out: np.ndarray, target: float, window: int, log: bool):
    """Where ``y_driver`` (increasing along the sweep) reaches ``target``: ``y_out`` there.

    Uses the monotonic part of the sweep: up to the maximum of ``y_driver``; the crossing is
    the last upward crossing of ``target`` before that maximum (an early charging spike
    above the target is thereby skipped). ``y_out`` is estimated by a least-squares line
    through the ``window`` points around the crossing: against log10(y_driver) when
    ``log`` (and all are > 0; exact for Tafel kinetics), else against y_driver. Returns
    ``None`` when never reached, else a dict with value, its noise standard error, and the
    neighbours used.
    """
    n = y_driver.size
    imax = int(np.argmax(y_driver))
    if y_driver[imax] < target:
        return None
    below = y_driver[: imax + 1] < target
    ks = np.flatnonzero(below[:-1] & ~below[1:]) + 1
    if ks.size == 0:
        return {"value": math.nan, "err": math.nan, "method": "starts beyond target",
                "neighbours": [], "crossings": 0}
    k = int(ks[-1])
    # two-point linear interpolation in y_driver, for the audit
    x1, x2 = y_driver[k - 1], y_driver[k]
    two_point = float(y_out[k - 1] + (target - x1) * (y_out[k] - y_out[k - 1]) / (x2 - x1))
    a, b = _window(k, max(int(window), 2), 0, imax)
    xs, ys = y_driver[a: b + 1], y_out[a: b + 1]
    method = "two-point linear interpolation in j"
    value, err = two_point, math.nan
    if xs.size >= 3:
        use_log = log and np.all(xs > 0)
        xx = np.log10(xs) if use_log else xs
        x0 = math.log10(target) if use_log else target
        if np.ptp(xx) > 0:
            value, err, _ = _local_fit(xx, ys, x0)
            method = (f"least-squares line through {xs.size} points around the crossing, "
                      f"against {'log10|j|' if use_log else '|j|'}")
    if not math.isfinite(err):
        err = abs(float(y_out[k] - y_out[k - 1])) / 2.0
    return {"value": value, "err": err, "two_point": two_point, "method": method,
            "neighbours": [int(a), int(b)], "crossings": int(ks.size), "k": k}


# --------------------------------------------------------------------------- main entry


@dataclass(repr=False)
class LSVResult(Result):
    """Result of :func:`analyse_lsv`.

    ``rows``: one dict per target with keys ``reaction, target_mA_cm2, eta_mV, eta_err_mV,
    E_RHE_V, ru_ohm, ir_fraction, reached`` (``E_RHE_V`` is the iR-corrected potential at
    the target) and ``flags``, a list of :class:`~echem.flags.Flag`. ``curve``: the
    selected sweep with columns ``E_V, E_RHE_V, E_RHE_corr_V, I_A, j_mA_cm2, eta_mV``.
    ``audit``: JSON-serialisable record of the choices made. Prints its overpotentials
    rounded to their errors; :meth:`report`, :meth:`plot`, :meth:`to_dict` as every result
    (:mod:`echem.results`).
    """

    rows: list[dict[str, Any]]
    curve: pd.DataFrame
    audit: dict[str, Any] = field(default_factory=dict)

    title = "polarisation curve"

    def quantities(self) -> list[Value]:
        out = [Value(f"eta{r['target_mA_cm2']:g}", r["eta_mV"] if r["reached"] else "not reached",
                     r["eta_err_mV"] if r["reached"] else None, "mV" if r["reached"] else "")
               for r in self.rows]
        ru = self.audit.get("ru_ohm")
        out.append(Value("Ru", ru if ru is not None else "none (not iR-corrected)",
                         self.audit.get("ru_err_ohm") if ru is not None else None, "Ohm" if ru is not None else ""))
        return out

    def method(self) -> str:
        a = self.audit
        return (f"{a.get('reaction')} on the RHE scale (offset {a.get('offset_to_rhe_V', 0):+.4f} V), "
                f"iR fraction {a.get('ir_fraction', 0):g}; {a.get('sweep', {}).get('requested', '')} sweep; "
                "eta at each target from a local line in log|j|")

    @property
    def flags(self) -> list[Flag]:
        """The flags of every row, each once."""
        seen, out = set(), []
        for r in self.rows:
            for f in r.get("flags", []):
                if (f.code, f.message) not in seen:
                    seen.add((f.code, f.message))
                    out.append(f)
        return out

    def table(self) -> pd.DataFrame:
        """The rows as overpotentials.csv has them (flags as codes)."""
        from echem.flags import codes

        return pd.DataFrame([{**r, "flags": codes(r.get("flags", []))} for r in self.rows])

    def plot(self, ax=None, label: str = "iR-corrected"):
        """The polarisation curve with the target lines (:func:`echem.plots.lsv.plot_polarisation`)."""
        from echem.plots.lsv import plot_polarisation

        ax = axis(ax)
        return plot_polarisation(ax, {label: self.curve}, [r["target_mA_cm2"] for r in self.rows])


def _bends_back(eta_mV: np.ndarray, j_r: np.ndarray) -> tuple[float, float] | None:
    """Where the iR-corrected curve bends back (eta falls while the current in the
    reaction's direction rises), beyond its noise: ``(fall in mV, |j| there)`` or None.

    On a driven sweep the overpotential rises with the current; a fall of more than
    max(5 mV, 5 × the point-to-point noise of eta) below its running maximum, at a higher
    current than that maximum, is what subtracting too large an ``f·I·Ru`` does.
    """
    order = np.argsort(j_r, kind="stable")
    e, jj = eta_mV[order], j_r[order]
    keep = jj > 0
    e, jj = e[keep], jj[keep]
    if e.size < 10:
        return None
    tol = max(5.0, 5.0 * _noise_sd(e))
    fall = np.maximum.accumulate(e) - e
    k = int(np.argmax(fall))
    return (float(fall[k]), float(jj[k])) if fall[k] > tol else None


def analyse_lsv(
    E_V,
    I_A,
    *,
    area_cm2: float,
    reaction: str,
    offset_to_rhe_V: float,
    targets_mA_cm2: Sequence[float] = (10, 100),
    ru_ohm: float | None = None,
    ru_err_ohm: float | None = 0.0,
    ir_fraction: float = 0.0,
    sweep: str | int = "last",
    cycle: int | None = None,
    noise_window: int = 7,
    cycle_numbers=None,
    sweep_direction: str = "reaction",
    ru_flags: Sequence[Flag] = (),
    eta_max_mV: float = 1000.0,
) -> LSVResult:
    """Overpotential at each target current density from one polarisation curve.

    Steps: select the sweep (:func:`select_sweep`); ``j = 1000·I/area``;
    ``E_RHE = E + offset``; ``E_RHE_corr = E_RHE − f·I·Ru`` with ``f = ir_fraction``
    (``ir_compensation − instrument_ir_compensation``); ``eta = s·(E_RHE_corr − E_eq)``
    (module docstring). For each target ``|j|`` (mA cm⁻², in the reaction's direction) the
    iR-corrected potential is found on the monotonic part of the sweep by a local
    least-squares line of ``E_RHE_corr`` against ``log10|j|`` through ``noise_window``
    points around the crossing (linear in log|j| so that the curvature of Tafel kinetics
    does not bias the value; the plain two-point interpolation in ``j`` is in the audit).

    ``eta_err_mV = sqrt(noise² + (|I_target| · |f| · ru_err_ohm)²)``, where the noise term is
    the standard error of that local line at the target (the scatter of E about the line,
    i.e. the current noise seen through dE/dj), and ``I_target = target · area``.

    Without ``ru_ohm`` the curve is not corrected: ``ru_ohm`` is None and ``ir_fraction``
    0 in the rows, flagged ``no_ir`` when a non-zero fraction was asked for. ``ru_flags``
    (how Ru was found, e.g. ``ru_extrapolated`` or ``ru_bound_only``) are added to every
    row. Rows are flagged ``not_reached``, ``eta_negative``, ``multiple_crossings``,
    ``ir_dominant`` where the correction ``f·|I|·Ru`` exceeds the corrected overpotential,
    and ``eta_out_of_range`` above ``eta_max_mV`` (no catalyst needs a volt of
    overpotential: a wrong reference electrode or pH is far more likely).

    ``sweep``, ``cycle``, ``cycle_numbers`` (the file's cycle column) and
    ``sweep_direction`` choose the sweep as in :func:`select_sweep`.

    Raises
    ------
    MetadataError
        Invalid area, reaction, Ru, fraction or target.
    AnalysisError
        No usable sweep in the reaction's direction.
    """
    reaction = _reaction(reaction)
    area = _positive(area_cm2, "area_cm2")
    try:
        offset = float(offset_to_rhe_V)
    except (TypeError, ValueError):
        offset = math.nan
    if not math.isfinite(offset):
        raise MetadataError(f"offset_to_rhe_V must be a finite number of volts, got {offset_to_rhe_V!r}")
    targets = []
    for t in targets_mA_cm2:
        try:
            tf = float(t)
        except (TypeError, ValueError):
            tf = math.nan
        if not math.isfinite(tf) or tf <= 0:
            raise MetadataError(f"lsv targets_mA_cm2 must be positive current densities, got {t!r}")
        targets.append(tf)
    window = int(noise_window)
    if window < 3:
        raise MetadataError(f"noise_window must be at least 3 points, got {noise_window!r}")

    sel = _select(E_V, I_A, reaction, sweep, cycle, cycle_numbers, sweep_direction)
    warnings = list(sel.info["warnings"])
    fraction_requested = _fraction(ir_fraction)
    if ru_ohm is not None and not (isinstance(ru_ohm, float) and math.isnan(ru_ohm)):
        ru = _ru(ru_ohm)
        f = fraction_requested
        ru_err = 0.0 if ru_err_ohm is None or not math.isfinite(float(ru_err_ohm)) else abs(float(ru_err_ohm))
    else:
        ru, f, ru_err = None, 0.0, 0.0
    common_flags = list(ru_flags)
    if ru is None and fraction_requested != 0.0:
        common_flags.append(Flag(
            "no_ir", f"iR correction of {fraction_requested:g}·Ru asked for but no Ru is known; the curve "
                     "is NOT iR-corrected (ru_ohm empty, ir_fraction 0)"))

    E = np.asarray(E_V, dtype=float)[sel.mask]
    I = np.asarray(I_A, dtype=float)[sel.mask]
    j = current_density_mA_cm2(I, area)
    E_rhe = E + offset
    E_corr = ir_correct_V(E_rhe, I, ru, f) if ru is not None else E_rhe.copy()
    s = REACTION_SIGN[reaction]
    E_eq = E_EQ_RHE_V[reaction]
    eta = s * (E_corr - E_eq) * 1e3
    j_r = s * j
    curve = pd.DataFrame({
        "E_V": E, "E_RHE_V": E_rhe, "E_RHE_corr_V": E_corr, "I_A": I, "j_mA_cm2": j, "eta_mV": eta,
    })
    curve.attrs["reaction"] = reaction
    bend = _bends_back(eta, j_r) if ru is not None and f > 0 else None
    if bend is not None:
        common_flags.append(Flag("ir_overcorrected", (
            f"after the iR correction eta falls by {bend[0]:.0f} mV while |j| rises to {bend[1]:.3g} mA/cm2: "
            f"f·Ru = {f:g} x {ru:g} Ohm is too large (did the potentiostat already compensate part of Ru? "
            "set instrument_ir_compensation)")))

    rows, target_audit = [], []
    for t in targets:
        if sweep_direction == "reverse":  # analyse in order of increasing driving force
            hit = _value_at(j_r[::-1], E_corr[::-1], t, window, log=True)
            if hit is not None and hit.get("neighbours"):
                a_, b_ = hit["neighbours"]
                hit["neighbours"] = [j_r.size - 1 - b_, j_r.size - 1 - a_]
        else:
            hit = _value_at(j_r, E_corr, t, window, log=True)
        row_flags = list(common_flags)
        row = {"reaction": reaction, "target_mA_cm2": t, "eta_mV": math.nan, "eta_err_mV": math.nan,
               "E_RHE_V": math.nan, "ru_ohm": ru, "ir_fraction": f, "reached": hit is not None,
               "flags": row_flags}
        entry: dict[str, Any] = {"target_mA_cm2": t, "reached": hit is not None}
        if hit is None:
            entry["note"] = f"|j| in the reaction's direction never reaches {t:g} mA/cm2 (max {np.max(j_r):.4g})"
            row_flags.append(Flag("not_reached", f"{t:g} mA/cm2 never reached in the selected sweep "
                                                 f"(largest |j| {np.max(j_r):.3g} mA/cm2)"))
        elif not math.isfinite(hit["value"]):
            row["reached"] = False
            row_flags.append(Flag("not_reached", f"the sweep starts with |j| above {t:g} mA/cm2; the "
                                                 "overpotential at this target cannot be read from it"))
            entry["note"] = hit["method"]
        else:
            noise_mV = hit["err"] * 1e3
            ru_mV = (t * area * 1e-3) * abs(f) * ru_err * 1e3
            row["E_RHE_V"] = hit["value"]
            row["eta_mV"] = s * (hit["value"] - E_eq) * 1e3
            row["eta_err_mV"] = math.hypot(noise_mV, ru_mV)
            if row["eta_mV"] < 0:
                row_flags.append(Flag(
                    "eta_negative", f"the target {t:g} mA/cm2 is reached on the far side of the equilibrium "
                                    "potential (negative overpotential): check the reference electrode, pH "
                                    "and reaction"))
            if row["eta_mV"] > eta_max_mV:
                row_flags.append(Flag(
                    "eta_out_of_range", f"eta = {row['eta_mV']:.0f} mV at {t:g} mA/cm2 is above {eta_max_mV:g} mV: "
                                        "check the reference electrode, the pH, the reaction and the iR correction"))
            if hit["crossings"] > 1:
                row_flags.append(Flag(
                    "multiple_crossings", f"|j| crosses {t:g} mA/cm2 {hit['crossings']} times before its "
                                          "maximum (noise, bubbles or a peak); the last crossing is used"))
            ir_mV = (t * area * 1e-3) * abs(f) * (ru or 0.0) * 1e3
            if ru is not None and ir_mV > abs(row["eta_mV"]):
                row_flags.append(Flag(
                    "ir_dominant", f"at {t:g} mA/cm2 the iR correction ({ir_mV:.0f} mV) exceeds the corrected "
                                   f"overpotential ({row['eta_mV']:.0f} mV): the value rests on Ru"))
            entry["ir_correction_mV"] = ir_mV
            entry.update({
                "method": hit["method"], "neighbours": hit["neighbours"],
                "E_two_point_V": hit["two_point"], "noise_err_mV": noise_mV, "ru_err_mV": ru_mV,
                "crossings": hit["crossings"],
            })
        rows.append(row)
        target_audit.append(entry)

    audit = {
        "reaction": reaction,
        "E_eq_RHE_V": E_eq,
        "offset_to_rhe_V": offset,
        "area_cm2": area,
        "ru_ohm": ru,
        "ru_err_ohm": ru_err if ru is not None else None,
        "ir_fraction": f,
        "ir_fraction_requested": fraction_requested,
        "equations": {
            "j": "j_mA_cm2 = 1000 * I_A / area_cm2",
            "rhe": "E_RHE_V = E_V + offset_to_rhe_V",
            "ir": "E_RHE_corr_V = E_RHE_V - ir_fraction * I_A * ru_ohm",
            "eta": f"eta_mV = {s:+d} * (E_RHE_corr_V - {E_eq:g}) * 1000",
            "eta_err": "sqrt(noise_err_mV^2 + (target*area/1000 * |ir_fraction| * ru_err_ohm * 1000)^2)",
        },
        "noise_window": window,
        "j_max_mA_cm2": float(np.max(j_r)),
        "targets": target_audit,
        "flags": {f"{r['target_mA_cm2']:g}": [fl.to_dict() for fl in r["flags"]] for r in rows},
        **sel.info,
        "warnings": warnings,
    }
    return LSVResult(rows=rows, curve=curve, audit=jsonable(audit))


def infer_reaction(E_V, I_A) -> str:
    """HER or OER from the data: the sign of the current where it is largest in magnitude
    (IUPAC: cathodic negative)."""
    I = np.asarray(I_A, float)
    k = int(np.nanargmax(np.abs(I)))
    return "HER" if I[k] < 0 else "OER"


def overpotentials(
    measurement,
    *,
    area_cm2: float,
    reference_electrode: Any = "RHE",
    pH: float | None = None,
    reaction: str = "auto",
    ru_ohm: float | None = None,
    ru_err_ohm: float | None = 0.0,
    ir_compensation: float = 1.0,
    instrument_ir_compensation: float = 0.0,
    targets_mA_cm2: Sequence[float] = (10, 100),
    sweep: str | int = "last",
    temperature_C: float | None = None,
    ru_flags: Sequence[Flag] = (),
    eta_max_mV: float = 1000.0,
) -> LSVResult:
    """Overpotentials of a polarisation curve read by :func:`echem.read` (or any
    :class:`~echem.measurement.Measurement` with ``E_V`` and ``I_A``).

    The reference electrode (a name or ``{name, E_vs_SHE_V}``, :mod:`echem.reference`) and
    the pH give the RHE offset at ``temperature_C`` (default: the file's, else 25 °C);
    ``reaction="auto"`` takes the sign of the largest current (negative: HER); the iR
    correction uses ``f = ir_compensation − instrument_ir_compensation`` of ``ru_ohm``.
    Then :func:`analyse_lsv`. The workflow's LSV stage calls this same function.

    Example::

        m = echem.read("raw/PtMG_UV50J/lsv_5mVs.mpt")
        lsv = echem.overpotentials(m, area_cm2=0.196, reference_electrode="Hg/HgO (1 M KOH)",
                                   pH=14, ru_ohm=2.6, instrument_ir_compensation=0.96)
    """
    from echem.reference import resolve_reference, rhe_conversion

    data = measurement.data
    E = data["E_V"].to_numpy(float)
    I = data["I_A"].to_numpy(float)
    reference = resolve_reference(reference_electrode)
    if temperature_C is None:
        temperature_C = measurement.meta.get("temperature_C") or 25.0
    conversion = rhe_conversion(reference, pH, temperature_C=float(temperature_C))
    reaction_source = "given"
    if str(reaction).lower() == "auto":
        reaction, reaction_source = infer_reaction(E, I), "inferred from the current's sign"
    result = analyse_lsv(
        E, I, area_cm2=area_cm2, reaction=reaction, offset_to_rhe_V=conversion["offset_V"],
        targets_mA_cm2=targets_mA_cm2, ru_ohm=ru_ohm, ru_err_ohm=ru_err_ohm,
        ir_fraction=float(ir_compensation or 0.0) - float(instrument_ir_compensation or 0.0), sweep=sweep,
        cycle_numbers=data["cycle"].to_numpy() if "cycle" in data.columns else None,
        ru_flags=ru_flags, eta_max_mV=eta_max_mV,
    )
    result.audit["rhe_conversion"] = jsonable(conversion)
    result.audit["reference_resolved"] = jsonable(reference.to_dict())
    result.audit["reaction_source"] = reaction_source
    result.audit["temperature_C"] = float(temperature_C)
    result.audit["warnings"] = list(conversion.get("warnings", [])) + list(result.audit.get("warnings", []))
    return result


def current_at_overpotential(curve: pd.DataFrame, eta_mV: float, *, ru_err_ohm: float = 0.0,
                             ir_fraction: float = 0.0, window: int = 7) -> tuple[float, float]:
    """iR-corrected current (A) at the overpotential ``eta_mV`` on an :func:`analyse_lsv` curve.

    Returns ``(I_A, I_err_A)``: the magnitude of the current in the reaction's direction
    (positive for HER and OER), from a least-squares line of log10|I| against eta through
    ``window`` points around where the curve reaches ``eta_mV`` (linear in eta if |I| is
    not positive there). The error combines the standard error of that line with the Ru
    uncertainty (``ΔE = |I|·|ir_fraction|·ru_err_ohm`` seen through dI/deta). ``(nan, nan)``
    when the sweep never reaches ``eta_mV`` or starts beyond it.
    """
    eta = curve["eta_mV"].to_numpy(float)
    I = curve["I_A"].to_numpy(float)
    ok = np.isfinite(eta) & np.isfinite(I)
    eta, I = eta[ok], I[ok]
    if eta.size < 3:
        return math.nan, math.nan
    reaction = curve.attrs.get("reaction")
    if reaction in REACTION_SIGN:
        sign = REACTION_SIGN[reaction]
    else:  # the reaction current grows with eta
        top = eta >= np.quantile(eta, 0.9)
        sign = 1 if np.median(I[top]) >= 0 else -1
    I_r = sign * I
    if not np.isfinite(eta_mV) or eta.max() < eta_mV:
        return math.nan, math.nan
    # eta rises along the sweep (up to noise from the iR correction): find the crossing
    k_all = np.flatnonzero((eta[:-1] < eta_mV) & (eta[1:] >= eta_mV)) + 1
    if k_all.size == 0:
        return math.nan, math.nan
    k = int(k_all[-1])
    a, b = _window(k, max(int(window), 3), 0, eta.size - 1)
    xs, ys = eta[a: b + 1], I_r[a: b + 1]
    if np.ptp(xs) <= 0:
        return math.nan, math.nan
    if np.all(ys > 0):
        logv, logse, _ = _local_fit(xs, np.log10(ys), eta_mV)
        value = 10.0**logv
        err = value * math.log(10.0) * logse
        dlnI_deta = float(np.polyfit(xs, np.log(ys), 1)[0])  # 1/mV
        dI_deta = value * dlnI_deta
    else:
        value, err, _ = _local_fit(xs, ys, eta_mV)
        dI_deta = float(np.polyfit(xs, ys, 1)[0])
    ru_eta_mV = abs(value) * abs(float(ir_fraction)) * abs(float(ru_err_ohm or 0.0)) * 1e3
    err = math.hypot(err, abs(dI_deta) * ru_eta_mV)
    return float(value), float(err)
