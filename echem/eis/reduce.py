"""Degenerate circuit fits and the simpler circuits they reduce to.

A fitted circuit can describe a spectrum with one element impersonating another:

* a CPE ``Z = 1/(Q (jω)^n)`` with ``n → 1`` is a capacitor ``C = Q`` (F) (degenerate
  at ``n ≥ 0.999``; from 0.99 the circuit with a capacitor is merely worth comparing);
* a CPE with ``n → 0`` is a resistor ``R = 1/Q`` (Ω): ``p(R1,CPE1)-CPE2`` with
  ``n₂ ≈ 0.01`` "fits" ``R0-p(R1,CPE1)`` with CPE2 standing in for R0, which then
  goes missing from the table and from the iR correction;
* two arcs ``p(R1,CPE1)-p(R2,CPE2)`` whose time constants ``τ = (R Q)^(1/n)`` lie
  within a factor :data:`TAU_RATIO_MIN` are one arc split in two: their labels could
  be swapped and their parameters are not determined separately;
* a member of the series chain whose impedance stays below :data:`NEGLIGIBLE_FRACTION`
  of |Z| at every measured frequency is not in the data (it fits the noise).

:func:`degeneracies` names each case for a fit; :func:`reduce` rewrites the circuit
into the simpler one it stands for (with starting values from the fit), so that the
circuit choice (:func:`echem.eis.select_circuit`) can compare the two and the simpler
one wins whenever it describes the data as well. Series resistors are merged and
named ``R0`` at the front of the chain, so a reduced circuit reads like the usual
candidates (``p(R1,CPE1)-CPE2`` with ``n₂ → 0`` becomes ``R0-p(R1,CPE1)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from echem.eis.circuit import simulate

#: A CPE exponent at or above this is a capacitor (phase within 0.9° of 90°): the
#: circuit with a C in its place is fitted too, and the lower BIC wins.
CPE_N_CAPACITIVE = 0.99
#: ... at or above this the exponent sits at its bound (the fit wants n > 1): the fit is
#: degenerate and loses to the circuit with the capacitor.
CPE_N_AT_BOUND = 0.999
#: A CPE exponent at or below this is a resistor in disguise (phase below 18°): degenerate.
CPE_N_RESISTIVE = 0.2
#: A member of the series chain whose impedance stays below this fraction of |Z| at every
#: measured frequency is not in the data: degenerate (twice the 0.5 % noise of a good
#: spectrum would show it; a tenth of that cannot).
NEGLIGIBLE_FRACTION = 0.001
#: Two parallel R-CPE (R-C) arcs whose time constants differ by less than this factor
#: are one arc split in two, with interchangeable labels: degenerate. (Arcs further
#: apart are kept or merged by the BIC: at 0.5 % noise two arcs a factor 2.6 apart are
#: still clearly resolved.)
TAU_RATIO_MIN = 1.5


@dataclass(frozen=True)
class Degeneracy:
    """One element impersonating another in a fit."""

    kind: str       # "capacitive_cpe", "resistive_cpe", "merged_arcs"
    elements: tuple[str, ...]
    reason: str
    #: the fit is degenerate (it loses to its reduction); False: the reduction is merely
    #: worth comparing (a CPE with 0.99 <= n < 0.999)
    disqualifies: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "elements": list(self.elements), "reason": self.reason,
                "disqualifies": self.disqualifies}


def _values(model, values: Sequence[float]) -> dict[str, list[float]]:
    out = {}
    for name, (spec, i0) in model.elements.items():
        out[name] = [float(v) for v in values[i0:i0 + spec.n]]
    return out


def _arcs(model, vals) -> list[tuple[str, str, float]]:
    """(R name, C/CPE name, τ in s) of every top-level-series ``p(R, C|CPE)`` block."""
    nodes = model.tree[1] if model.tree[0] == "s" else [model.tree]
    arcs = []
    for node in nodes:
        if node[0] != "p" or len(node[1]) != 2 or any(child[0] != "e" for child in node[1]):
            continue
        kinds = {child[2]: child[1] for child in node[1]}
        if set(kinds) == {"R", "CPE"}:
            R, (Q, n) = vals[kinds["R"]][0], vals[kinds["CPE"]]
            tau = math.exp(math.log(R * Q) / n) if n > 0 and R * Q > 0 and math.log(R * Q) / n < 700 else math.nan
            arcs.append((kinds["R"], kinds["CPE"], tau))
        elif set(kinds) == {"R", "C"}:
            arcs.append((kinds["R"], kinds["C"], vals[kinds["R"]][0] * vals[kinds["C"]][0]))
    return arcs


def arc_time_constants(model, values: Sequence[float]) -> list[tuple[str, str, float]]:
    """(R name, C/CPE name, τ in s) of every ``p(R, C|CPE)`` arc in the top-level series
    chain of a fit of ``model``; the arc's apex lies at f = 1/(2πτ)."""
    return _arcs(model, _values(model, values))


def _negligible(model, values, freq_Hz) -> list[Degeneracy]:
    """Members of the top-level series chain whose impedance stays below
    :data:`NEGLIGIBLE_FRACTION` of |Z| at every measured frequency: they are not in the data
    (a CPE of a few milliohm beside 10 ohm "fitting" the noise of a pure resistor)."""
    if model.tree[0] != "s" or freq_Hz is None:
        return []
    f = np.asarray(freq_Hz, float)
    with np.errstate(all="ignore"):
        total = np.abs(model.impedance(values, f))
        found = []
        for node in model.tree[1]:
            names = _names(node)
            params = [v for n in names for v in _values(model, values)[n]]
            part = np.abs(np.asarray(simulate(_to_string(node), params, f)))
            share = float(np.max(part / total)) if np.all(np.isfinite(part / total)) else math.inf
            if share < NEGLIGIBLE_FRACTION:
                found.append(Degeneracy("negligible", tuple(names), (
                    f"{_to_string(node)} is at most {share:.2%} of |Z| at every measured frequency: it is not "
                    "in the data")))
    return found


def degeneracies(model, values: Sequence[float], freq_Hz=None) -> list[Degeneracy]:
    """The degenerate elements of a fit of ``model`` (an :class:`echem.eis.CircuitModel`);
    with the measured ``freq_Hz``, also series members too small to be in the data."""
    vals = _values(model, values)
    found = _negligible(model, values, freq_Hz)
    for name, (spec, _) in model.elements.items():
        if name in vals and len(vals[name]) == 2 and _kind(model, name) == "CPE":
            Q, n = vals[name]
            if n >= CPE_N_CAPACITIVE:
                found.append(Degeneracy("capacitive_cpe", (name,), (
                    f"{name}_1 = {n:.4f}: the CPE is a capacitor (C = {Q:.3g} F)"), n >= CPE_N_AT_BOUND))
            elif n <= CPE_N_RESISTIVE:
                found.append(Degeneracy("resistive_cpe", (name,), (
                    f"{name}_1 = {n:.3f}: the CPE is a resistor in disguise (1/Q = {1 / Q:.3g} Ohm)")))
    arcs = [a for a in _arcs(model, vals) if math.isfinite(a[2]) and a[2] > 0]
    for i in range(len(arcs)):
        for j in range(i + 1, len(arcs)):
            (r1, c1, t1), (r2, c2, t2) = arcs[i], arcs[j]
            ratio = max(t1, t2) / min(t1, t2)
            if ratio < TAU_RATIO_MIN:
                found.append(Degeneracy("merged_arcs", (r1, c1, r2, c2), (
                    f"p({r1},{c1}) and p({r2},{c2}) have time constants within a factor {ratio:.2g} "
                    f"(< {TAU_RATIO_MIN:g}): one arc split in two, their parameters interchangeable")))
    return found


def _kind(model, name: str) -> str:
    """Element type of an element name (``CPE2`` -> ``CPE``), as impedance.py names them."""
    return "".join(ch for ch in name if ch not in "0123456789_")


# ------------------------------------------------------------------------- rewriting


def _to_string(node) -> str:
    if node[0] == "e":
        return node[1]
    inner = [_to_string(child) for child in node[1]]
    return "-".join(inner) if node[0] == "s" else "p(" + ",".join(inner) + ")"


def reduce(model, values: Sequence[float], freq_Hz=None) -> tuple[str, list[float], list[Degeneracy]] | None:
    """The simpler circuit a degenerate fit stands for, with starting values, or None.

    Capacitive CPEs become capacitors (``C = Q``), resistive CPEs resistors
    (``R = 1/Q``), an arc merged with another is dropped and its resistance added to the
    other's (the other keeps its Q and n, τ being similar); then resistors in parallel
    are combined, resistors in series merged into one ``R0`` at the front of the chain.
    """
    found = degeneracies(model, values, freq_Hz)
    if not found:
        return None
    vals = _values(model, values)
    used = set(model.elements)
    new_vals: dict[str, list[float]] = {}
    replace: dict[str, tuple] = {}
    drop: set[str] = set()

    def fresh(prefix: str, number: str) -> str:
        name = prefix + number
        k = 0
        while name in used:
            name = f"{prefix}{k}"
            k += 1
        used.add(name)
        return name

    for d in found:
        if d.kind in ("capacitive_cpe", "resistive_cpe"):
            cpe = d.elements[0]
            if cpe in replace or cpe in drop:
                continue
            number = cpe[len("CPE"):]
            Q = vals[cpe][0]
            if d.kind == "capacitive_cpe":
                name = fresh("C", number)
                replace[cpe] = ("e", name, "C")
                new_vals[name] = [Q]
            else:
                name = fresh("R", number)
                replace[cpe] = ("e", name, "R")
                new_vals[name] = [1.0 / Q]
    for d in found:
        if d.kind == "negligible":
            drop.update(d.elements)
    for d in found:
        if d.kind == "merged_arcs":
            r1, c1, r2, c2 = d.elements
            if {r1, c1, r2, c2} & (drop | set(replace)):
                continue
            keep_r, keep_c, gone_r, gone_c = (r1, c1, r2, c2) if vals[r1][0] >= vals[r2][0] else (r2, c2, r1, c1)
            new_vals[keep_r] = [vals[r1][0] + vals[r2][0]]
            drop.update({gone_r, gone_c})
            del keep_c  # keeps its Q and n

    def rewrite(node):
        if node[0] == "e":
            if node[1] in drop:
                return None
            return replace.get(node[1], node)
        children = [c for c in (rewrite(child) for child in node[1]) if c is not None]
        if not children:
            return None
        if node[0] == "p":
            bare_r = [c for c in children if c[0] == "e" and c[2] == "R"]
            if len(bare_r) > 1:  # resistors in parallel: one resistor
                g = sum(1.0 / _value_of(c[1]) for c in bare_r)
                name = bare_r[0][1]
                new_vals[name] = [1.0 / g]
                children = [bare_r[0]] + [c for c in children if c not in bare_r]
        if len(children) == 1:
            return children[0]
        return (node[0], children)

    def _value_of(name: str) -> float:
        return (new_vals.get(name) or vals[name])[0]

    tree = rewrite(model.tree)
    if tree is None:
        return None
    chain = tree[1] if tree[0] == "s" else [tree]
    # flatten nested series chains (a parallel that collapsed to a series)
    flat = []
    for c in chain:
        flat.extend(c[1] if c[0] == "s" else [c])
    bare_r = [c for c in flat if c[0] == "e" and c[2] == "R"]
    rest = [c for c in flat if c not in bare_r]
    if bare_r:
        total = sum(_value_of(c[1]) for c in bare_r)
        names_elsewhere = {n for c in rest for n in _names(c)}
        name = "R0" if "R0" not in names_elsewhere else bare_r[0][1]
        new_vals[name] = [total]
        lead = [c for c in rest[:1] if c[0] == "e" and c[2] in ("L", "La")]  # an inductor stays first
        flat = lead + [("e", name, "R")] + rest[len(lead):]
    tree = flat[0] if len(flat) == 1 else ("s", flat)
    names = _names(tree)
    start = [v for n in names for v in (new_vals.get(n) or vals[n])]
    return _to_string(_renumber(tree)), start, found


def _renumber(tree):
    """Name elements as the candidate circuits do: a resistor or inductor at the front of
    the chain gets number 0, every other element the next number of its kind from 1, in
    circuit order (``R0-p(R1,CPE1)-p(R2,CPE2)``, ``p(R1,CPE1)-CPE2``)."""
    counters: dict[str, int] = {}
    seen: set[str] = set()
    chain = tree[1] if tree[0] == "s" else [tree]
    front = {id(c) for c in chain[:2] if c[0] == "e" and c[2] in ("R", "L")}

    def walk(node):
        if node[0] == "e":
            kind = node[2]
            if id(node) in front and f"{kind}0" not in seen:
                seen.add(f"{kind}0")
                return ("e", f"{kind}0", kind)
            counters[kind] = counters.get(kind, 0) + 1
            return ("e", f"{kind}{counters[kind]}", kind)
        return (node[0], [walk(child) for child in node[1]])

    return walk(tree)


def _names(node) -> list[str]:
    if node[0] == "e":
        return [node[1]]
    return [n for child in node[1] for n in _names(child)]
