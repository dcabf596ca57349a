"""Circuit elements: impedance and analytic derivatives (impedance.py 1.7.1 names,
parameter counts and units).

Each element is ``f(p, om) -> (Z, [dZ/dp_j] or None)`` with ``p`` the element's
parameters (python floats) and ``om`` an :class:`Omega`; a bare R returns scalars
(broadcast by the caller). ``None`` for the derivatives means "use finite differences".
An element registered with impedance.py but unknown here (user-defined) is evaluated
through impedance.py (:func:`impedance_py_element`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from echem.errors import AnalysisError

#: Lower bound of CPE / Zarc / TLMQ exponents: 0 as in impedance.py. Fits with an
#: exponent below :data:`echem.eis.fit.EXPONENT_SUSPICIOUS` get a warning in the audit.
EXPONENT_MIN = 0.0


class Omega:
    """Angular frequencies ω (rad/s) and the factors of ω the elements use, each computed
    once per frequency set (a fit evaluates the circuit hundreds of times at one set)."""

    def __init__(self, omega: np.ndarray):
        self.w = omega

    @functools.cached_property
    def lj(self):  # ln(jω)
        return np.log(self.w) + 0.5j * np.pi

    @functools.cached_property
    def jw(self):
        return 1j * self.w

    @functools.cached_property
    def inv_jw(self):
        return 1.0 / (1j * self.w)

    @functools.cached_property
    def warburg(self):  # (1 − j)/√ω
        return (1 - 1j) / np.sqrt(self.w)


# Each element: f(p, om) -> (Z, [dZ/dp_j] or None) with p the element's parameters
# (python floats) and om an Omega. A bare R returns scalars (broadcast by the caller).


def _el_R(p, om):
    return p[0], [1.0]


def _el_C(p, om):
    Z = om.inv_jw / p[0]
    return Z, [-Z / p[0]]


def _el_L(p, om):
    return om.jw * p[0], [om.jw]


def _el_W(p, om):
    return p[0] * om.warburg, [om.warburg]


def _el_Wo(p, om):
    z0, tau = p
    s = np.sqrt(om.jw * tau)
    t = np.tanh(s)
    g = 1.0 / (s * t)
    dg_ds = -(t + s * (1 - t * t)) * g * g
    return z0 * g, [g, z0 * dg_ds * s / (2 * tau)]


def _el_Ws(p, om):
    z0, tau = p
    s = np.sqrt(om.jw * tau)
    t = np.tanh(s)
    g = t / s
    dg_ds = (s * (1 - t * t) - t) / (s * s)
    return z0 * g, [g, z0 * dg_ds * s / (2 * tau)]


def _el_CPE(p, om):
    q, a = p
    lj = om.lj
    Z = np.exp(-a * lj) / q
    return Z, [-Z / q, -Z * lj]


def _el_La(p, om):
    L, a = p
    lj = math.log(L) + om.lj
    Z = np.exp(a * lj)
    return Z, [a * Z / L, Z * lj]


def _el_G(p, om):
    r, t = p
    u = 1 + om.jw * t
    su = np.sqrt(u)
    return r / su, [1 / su, -0.5 * r * om.jw / (u * su)]


def _el_K(p, om):
    r, t = p
    u = 1 + om.jw * t
    return r / u, [1 / u, -r * om.jw / (u * u)]


def _el_Zarc(p, om):
    r, t, g = p
    lj = math.log(t) + om.lj
    v = np.exp(g * lj)
    d = 1 + v
    return r / d, [1 / d, -r * g * v / (t * d * d), -r * v * lj / (d * d)]


def _el_Gs(p, om):
    r, t, phi = p
    u = np.sqrt(1 + om.jw * t)
    return r / (u * np.tanh(phi * u)), None


def _el_TLMQ(p, om):
    rion, qs, gamma = p
    zs = 1.0 / (qs * np.exp(gamma * om.lj))
    return np.sqrt(rion * zs) / np.tanh(np.sqrt(rion / zs)), None


def _el_T(p, om):
    A, B, a, b = p
    beta = np.sqrt(a + om.jw * b)
    with np.errstate(over="ignore"):
        sinh = np.where(beta.real < 100, np.sinh(beta), 1e10)
    return A / (beta * np.tanh(beta)) + B / (beta * sinh), None


@dataclass(frozen=True)
class Element:
    n: int
    units: tuple[str, ...]
    kinds: tuple[str, ...]  # "pos": positive, fitted as log; "exp": exponent in [EXPONENT_MIN, 1]
    func: Callable  # (params, Omega) -> (Z, [dZ/dp_j] or None)


ELEMENTS: dict[str, Element] = {
    "R": Element(1, ("Ohm",), ("pos",), _el_R),
    "C": Element(1, ("F",), ("pos",), _el_C),
    "L": Element(1, ("H",), ("pos",), _el_L),
    "W": Element(1, ("Ohm sec^-1/2",), ("pos",), _el_W),
    "Wo": Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_Wo),
    "Ws": Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_Ws),
    "CPE": Element(2, ("Ohm^-1 sec^a", ""), ("pos", "exp"), _el_CPE),
    "La": Element(2, ("H sec", ""), ("pos", "exp"), _el_La),
    "G": Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_G),
    "Gs": Element(3, ("Ohm", "sec", ""), ("pos", "pos", "pos"), _el_Gs),
    "K": Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_K),
    "Zarc": Element(3, ("Ohm", "sec", ""), ("pos", "pos", "exp"), _el_Zarc),
    "TLMQ": Element(3, ("Ohm", "F sec^(gamma - 1)", ""), ("pos", "pos", "exp"), _el_TLMQ),
    "T": Element(4, ("Ohm-m^2", "Ohm-m^2", "", "sec"), ("pos", "pos", "pos", "pos"), _el_T),
}


def impedance_py_element(kind: str) -> Element:
    """An element registered with impedance.py but unknown here (user-defined)."""
    try:
        from impedance.models.circuits.elements import circuit_elements
    except ImportError as exc:  # pragma: no cover - impedance is a dependency
        raise AnalysisError(f"circuit element {kind!r} is unknown and impedance.py is not installed") from exc
    if kind not in circuit_elements or kind in ("s", "p"):
        raise AnalysisError(
            f"circuit element {kind!r} is not an impedance.py element; use one of "
            f"{', '.join(sorted(ELEMENTS))} (e.g. 'R0-p(R1,CPE1)')"
        )
    func = circuit_elements[kind]

    def call(p, om):
        return np.asarray(func([float(x) for x in p], (om.w / (2 * np.pi)).tolist()), complex), None

    return Element(func.num_params, tuple(func.units), ("pos",) * func.num_params, call)
