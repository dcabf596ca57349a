"""Equivalent-circuit fitting of impedance spectra, with a Kramers-Kronig check.

Circuits are written in impedance.py's syntax (``R0-p(R1,CPE1)``: ``-`` in series,
``p(a,b)`` in parallel) and parameters carry impedance.py's names and units
(``R0`` Ohm, ``CPE1_0`` Ohm^-1 sec^a, ``CPE1_1`` dimensionless). Results therefore
read like impedance.py's, and ``impedance.models.circuits.CustomCircuit`` with the
same circuit and parameters predicts the same impedance (tested).

What is different from a plain ``CustomCircuit.fit``, and why:

* The circuit is compiled once into vectorised numpy code with an analytic
  Jacobian (impedance.py ``eval``s a generated string at every call), and
  impedance.py itself is not imported on this path (it pulls in matplotlib and
  altair, seconds per process). Elements are the ones of impedance.py 1.7.1;
  any other element registered with impedance.py is evaluated through impedance.py
  with a finite-difference Jacobian.
* The fit runs in log-parameter space (every parameter except exponents is
  positive and spans decades), with scipy's trust-region least squares.
* The starting point comes from the data (:mod:`echem.eis_guess`), not from the
  user, and several starts are tried when the first does not reach the noise floor
  that the Lin-KK test reveals (a fit much worse than a KK-compliant fit is a local
  minimum or the wrong circuit).

Weighting (residual r_i for data Z_i, model Ẑ_i, both components stacked):

* ``"modulus"`` (default): r = (Ẑ − Z)/|Z| — every point counts as a relative error,
  the usual choice when the instrument's error is proportional to |Z|.
* ``"proportional"``: r' = (Ẑ' − Z')/|Z'|, r'' = (Ẑ'' − Z'')/|Z''|, each divisor floored
  at 1e-3 |Z| so that points where a component crosses zero do not dominate.
* ``"unit"``: r = Ẑ − Z in Ohm (large impedances dominate).

Goodness of fit, the same for every weighting so that fits can be compared:

    chi2 = Σ_i [((Z'_i − Ẑ'_i)/|Z_i|)² + ((Z''_i − Ẑ''_i)/|Z_i|)²] / (2N − p)

with N points and p free parameters; for 0.5 % proportional noise chi2 ≈ 2.5e-5.
Standard errors are sqrt(diag(s² (JᵀJ)⁻¹)) with s² = Σr²/(2N − p) of the weighted
residuals, J the Jacobian in fit space, mapped to physical units by the delta
method (σ_p = p σ_log p).
"""

from __future__ import annotations

import functools
import math
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from echem.eis_reduce import arc_time_constants, degeneracies, reduce
from echem.errors import AnalysisError

#: Default circuit for catalyst electrodes in liquid electrolyte: solution resistance
#: in series with a charge-transfer resistance parallel to a double-layer CPE.
CATALYST_CIRCUIT = "R0-p(R1,CPE1)"
#: Default circuit for solid-electrolyte films between blocking electrodes: bulk
#: resistance parallel to the geometric CPE, in series with the electrode CPE.
FILM_CIRCUIT = "p(R1,CPE1)-CPE2"

WEIGHTINGS = ("modulus", "proportional", "unit")

#: Multi-start stops after this many starts in a row that improve chi2 by < 0.1 %.
PATIENCE = 2

#: Lower bound of CPE / Zarc / TLMQ exponents: 0 as in impedance.py. Fits with an
#: exponent below :data:`EXPONENT_SUSPICIOUS` get a warning in the audit.
EXPONENT_MIN = 0.0
EXPONENT_SUSPICIOUS = 0.5

# --------------------------------------------------------------------------------------
# Elements (impedance.py 1.7.1 names, parameter counts and units)
# --------------------------------------------------------------------------------------


class _Omega:
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
# (python floats) and om an _Omega. A bare R returns scalars (broadcast by the caller).


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
class _Element:
    n: int
    units: tuple[str, ...]
    kinds: tuple[str, ...]  # "pos": positive, fitted as log; "exp": exponent in [EXPONENT_MIN, 1]
    func: Callable  # (params, _Omega) -> (Z, [dZ/dp_j] or None)


ELEMENTS: dict[str, _Element] = {
    "R": _Element(1, ("Ohm",), ("pos",), _el_R),
    "C": _Element(1, ("F",), ("pos",), _el_C),
    "L": _Element(1, ("H",), ("pos",), _el_L),
    "W": _Element(1, ("Ohm sec^-1/2",), ("pos",), _el_W),
    "Wo": _Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_Wo),
    "Ws": _Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_Ws),
    "CPE": _Element(2, ("Ohm^-1 sec^a", ""), ("pos", "exp"), _el_CPE),
    "La": _Element(2, ("H sec", ""), ("pos", "exp"), _el_La),
    "G": _Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_G),
    "Gs": _Element(3, ("Ohm", "sec", ""), ("pos", "pos", "pos"), _el_Gs),
    "K": _Element(2, ("Ohm", "sec"), ("pos", "pos"), _el_K),
    "Zarc": _Element(3, ("Ohm", "sec", ""), ("pos", "pos", "exp"), _el_Zarc),
    "TLMQ": _Element(3, ("Ohm", "F sec^(gamma - 1)", ""), ("pos", "pos", "exp"), _el_TLMQ),
    "T": _Element(4, ("Ohm-m^2", "Ohm-m^2", "", "sec"), ("pos", "pos", "pos", "pos"), _el_T),
}


def _impedance_py_element(kind: str) -> _Element:
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

    return _Element(func.num_params, tuple(func.units), ("pos",) * func.num_params, call)


# --------------------------------------------------------------------------------------
# Circuit parsing and compiled evaluation
# --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"p\(|[A-Za-z]+[0-9_]*|[-,()]")


def element_kind(name: str) -> str:
    return "".join(ch for ch in name if ch not in "0123456789_")


def parse_circuit(circuit: str):
    """Parse an impedance.py circuit string into a tree.

    Nodes: ``("s", [children])``, ``("p", [children])``, ``("e", name, kind)``.
    """
    text = circuit.replace(" ", "")
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text or not text:
        raise AnalysisError(
            f"cannot parse circuit {circuit!r}; write it in impedance.py syntax, "
            "e.g. 'R0-p(R1,CPE1)' ('-' series, 'p(a,b)' parallel)"
        )
    pos = 0

    def series():
        nonlocal pos
        items = [term()]
        while pos < len(tokens) and tokens[pos] == "-":
            pos += 1
            items.append(term())
        return items[0] if len(items) == 1 else ("s", items)

    def term():
        nonlocal pos
        if pos >= len(tokens):
            raise AnalysisError(f"circuit {circuit!r} ends unexpectedly")
        tok = tokens[pos]
        if tok == "p(":
            pos += 1
            items = [series()]
            while pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                items.append(series())
            if pos >= len(tokens) or tokens[pos] != ")":
                raise AnalysisError(f"circuit {circuit!r}: unbalanced parenthesis")
            pos += 1
            return items[0] if len(items) == 1 else ("p", items)
        if tok in "-,()":
            raise AnalysisError(f"circuit {circuit!r}: unexpected {tok!r}")
        pos += 1
        return ("e", tok, element_kind(tok))

    tree = series()
    if pos != len(tokens):
        raise AnalysisError(f"circuit {circuit!r}: unexpected {tokens[pos]!r}")
    return tree


class CircuitModel:
    """A compiled circuit: parameter names/units and Z(params, f) with its Jacobian.

    The tree is compiled once into nested closures (no per-call parsing or name
    lookups). Each subtree's parameters are contiguous in impedance.py order, so
    the Jacobian rows of a parallel branch are a slice: for Z = 1/ΣY_i,
    dZ/dθ = (Z/Z_i)² dZ_i/dθ is applied to that slice in place.
    """

    def __init__(self, circuit: str):
        self.circuit = circuit.replace(" ", "")
        self.tree = parse_circuit(self.circuit)
        self.names: list[str] = []
        self.units: list[str] = []
        self.kinds: list[str] = []
        self.element_of: list[str] = []  # element type of each parameter
        self.elements: dict[str, tuple[_Element, int]] = {}  # name -> (spec, first index)
        self._collect(self.tree)
        self.n_params = len(self.names)
        self._run = self._compile(self.tree)

    def _collect(self, node):
        if node[0] == "e":
            name, kind = node[1], node[2]
            if name in self.elements:
                raise AnalysisError(f"circuit {self.circuit!r} uses the element name {name!r} twice")
            spec = ELEMENTS.get(kind) or _impedance_py_element(kind)
            self.elements[name] = (spec, len(self.names))
            for j in range(spec.n):
                self.names.append(f"{name}_{j}" if spec.n > 1 else name)
                self.units.append(spec.units[j])
                self.kinds.append(spec.kinds[j])
                self.element_of.append(kind)
        else:
            for child in node[1]:
                self._collect(child)

    def _span(self, node) -> tuple[int, int]:
        """(first, end) parameter index of a subtree (contiguous by construction)."""
        idx = self._indices(node)
        return (idx[0], idx[-1] + 1) if idx else (0, 0)

    def _compile(self, node) -> Callable:
        """run(p, om, jac) -> Z: p a list of floats, om an _Omega, jac a (P, N) complex
        array filled in place (or None)."""
        if node[0] == "e":
            spec, i0 = self.elements[node[1]]
            n, func = spec.n, spec.func

            def element(p, om, jac):
                pe = p[i0 : i0 + n]
                Z, dZ = func(pe, om)
                if jac is not None:
                    if dZ is None:  # no analytic derivative: forward differences
                        dZ = []
                        for j in range(n):
                            q = list(pe)
                            h = 1e-6 * q[j]
                            q[j] += h
                            dZ.append((func(q, om)[0] - Z) / h)
                    for j in range(n):
                        jac[i0 + j] = dZ[j]
                return Z

            return element
        children = [self._compile(child) for child in node[1]]
        if node[0] == "s":

            def series(p, om, jac):
                Z = children[0](p, om, jac)
                for child in children[1:]:
                    Z = Z + child(p, om, jac)
                return Z

            return series
        spans = [self._span(child) for child in node[1]]

        def parallel(p, om, jac):
            parts = [child(p, om, jac) for child in children]
            with np.errstate(divide="ignore", invalid="ignore"):
                Y = 0.0
                for z in parts:
                    Y = Y + 1.0 / np.asarray(z) if isinstance(z, float) else Y + 1.0 / z
                Z = 1.0 / Y
                if jac is not None:
                    for (a, b), z in zip(spans, parts):
                        if b > a:
                            jac[a:b] *= (Z / z) ** 2
            return Z

        return parallel

    def _indices(self, node) -> list[int]:
        if node[0] == "e":
            spec, i0 = self.elements[node[1]]
            return list(range(i0, i0 + spec.n))
        out: list[int] = []
        for child in node[1]:
            out.extend(self._indices(child))
        return out

    def _check(self, p) -> list[float]:
        p = np.asarray(p, float).ravel()
        if p.size != self.n_params:
            raise AnalysisError(
                f"circuit {self.circuit} has {self.n_params} parameters ({', '.join(self.names)}), "
                f"got {p.size} values"
            )
        return p.tolist()

    def evaluate(self, params, om: _Omega, jac: np.ndarray | None = None) -> np.ndarray:
        """Z (complex, shape of ``om.w``) and, when ``jac`` is given, dZ/dp written into it."""
        Z = self._run(params, om, jac)
        if np.ndim(Z) == 0:  # a circuit of resistors
            Z = np.full(om.w.shape, Z, dtype=complex)
        return Z

    def impedance(self, params: Sequence[float], freq_Hz: np.ndarray) -> np.ndarray:
        """Z (Ohm, complex) at ``freq_Hz`` for parameters in impedance.py order."""
        w = 2 * np.pi * np.asarray(freq_Hz, float)
        p = self._check(params)
        with np.errstate(all="ignore"):
            return np.asarray(self.evaluate(p, _Omega(w)), complex).reshape(w.shape)

    def impedance_jac(self, params: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Z, dZ/dp) at angular frequencies ``omega``; dZ/dp has shape (P, N)."""
        omega = np.asarray(omega, float)
        jac = np.empty((self.n_params, omega.size), complex)
        with np.errstate(all="ignore"):
            Z = self.evaluate(self._check(params), _Omega(omega), jac)
        return np.asarray(Z, complex), jac

    def series_resistor(self) -> str | None:
        """Name of the first bare R directly in the top-level series chain, if any."""
        nodes = self.tree[1] if self.tree[0] == "s" else [self.tree]
        for node in nodes:
            if node[0] == "e" and node[2] == "R":
                return node[1]
        return None

    def has_inductor(self) -> bool:
        return any(kind in ("L", "La") for kind in self.element_of)


_MODEL_CACHE: dict[str, CircuitModel] = {}


def circuit_model(circuit: str) -> CircuitModel:
    """Compiled :class:`CircuitModel` for ``circuit`` (cached)."""
    key = circuit.replace(" ", "")
    model = _MODEL_CACHE.get(key)
    if model is None:
        model = _MODEL_CACHE[key] = CircuitModel(key)
    return model


def simulate(circuit: str, params: Sequence[float], freq_Hz: np.ndarray) -> np.ndarray:
    """Impedance (Ohm, complex, physical sign) of ``circuit`` with ``params`` at ``freq_Hz``."""
    return circuit_model(circuit).impedance(params, freq_Hz)


def param_names(circuit: str) -> tuple[list[str], list[str]]:
    """(names, units) of the circuit's parameters, as impedance.py's ``get_param_names``."""
    m = circuit_model(circuit)
    return list(m.names), list(m.units)


# --------------------------------------------------------------------------------------
# Spectrum helpers
# --------------------------------------------------------------------------------------


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


def _prepare(freq_Hz, Z) -> tuple[np.ndarray, np.ndarray, list[dict]]:
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


def _note(notes: list[str], message: str) -> None:
    """A caveat of a fit: kept for its audit and warned about now."""
    notes.append(message)
    warnings.warn(message, stacklevel=3)


def _refuse_all_inductive(Z: np.ndarray, why: str) -> None:
    """Raise when every point has Z'' > 0: a flipped sign far more often than a real cell."""
    if Z.size and np.all(Z.imag > 0):
        raise AnalysisError(
            f"every one of the {Z.size} points has Z'' > 0: the spectrum is inductive throughout, or the "
            f"export flipped the sign of Im(Z) (check whether its column is Im(Z) or -Im(Z)); {why}: fix "
            "the export, or name a circuit with an inductor (e.g. 'L0-R0-p(R1,CPE1)') in sample.yaml if "
            "the cell really is inductive"
        )


def _trim_inductive(f, Z) -> tuple[np.ndarray, np.ndarray, dict | None]:
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


# --------------------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------------------


@dataclass
class EISFit:
    """Result of :func:`fit_spectrum`.

    ``params`` is a list of ``{"param", "value", "stderr", "unit"}`` in impedance.py
    order; ``freq_Hz``/``Z`` are the points actually fitted (sorted, trimmed);
    ``Z_fit`` the model there; ``residuals_rel_re/im`` = (Z − Ẑ)/|Z| per component.
    """

    circuit: str
    params: list[dict]
    chi2: float
    kk_ok: bool
    kk: dict
    freq_Hz: np.ndarray
    Z: np.ndarray
    Z_fit: np.ndarray
    residuals_rel_re: np.ndarray
    residuals_rel_im: np.ndarray
    trimmed: list[dict]
    audit: dict
    warnings: list[str] = field(default_factory=list)
    Z_kk: np.ndarray | None = None
    #: doubts about the whole fit (kk_failed, no_sane_circuit), :class:`echem.flags.Flag`
    flags: list = field(default_factory=list)
    #: doubts about single parameters: name -> [Flag] (param_at_bound, cpe_n_at_bound, stderr_large)
    param_flags: dict = field(default_factory=dict)

    def flags_of(self, name: str) -> list:
        """Every flag of one parameter's row in eis.csv: the fit's and the parameter's own."""
        return [*self.flags, *self.param_flags.get(name, [])]

    def value(self, name: str) -> float:
        for p in self.params:
            if p["param"] == name:
                return p["value"]
        raise KeyError(f"{name} is not a parameter of {self.circuit}")

    def stderr(self, name: str) -> float:
        for p in self.params:
            if p["param"] == name:
                return p["stderr"]
        raise KeyError(f"{name} is not a parameter of {self.circuit}")

    @property
    def values(self) -> list[float]:
        return [p["value"] for p in self.params]

    def series_resistance(self, freq_Hz=None, Z=None):
        """Ru for iR correction (:func:`echem.series_resistance.from_fit`): the fitted series
        resistor when the data determine it, else the high-frequency intercept of
        ``freq_Hz``/``Z`` (default: the fitted points), else only a bound."""
        from echem.series_resistance import from_fit

        return from_fit(self.params, circuit_model(self.circuit).series_resistor(),
                        self.audit["result"]["at_bound"],
                        self.freq_Hz if freq_Hz is None else freq_Hz, self.Z if Z is None else Z)

    @property
    def Rs_ohm(self) -> float:
        """Series resistance for iR correction (Ohm); NaN when the spectrum only bounds it
        (see :meth:`series_resistance`)."""
        rs = self.series_resistance()
        return float(rs.value_ohm) if rs.known else math.nan

    @property
    def Rs_source(self) -> str:
        return self.series_resistance().source

    def predict(self, freq_Hz: np.ndarray) -> np.ndarray:
        return simulate(self.circuit, self.values, freq_Hz)

    def rows(self) -> list[dict]:
        """Long-form rows for eis.csv (without sample/file): circuit, param, value, stderr, unit, chi2,
        kk_ok, flags (a list of :class:`echem.flags.Flag`)."""
        return [
            {
                "circuit": self.circuit,
                "param": p["param"],
                "value": p["value"],
                "stderr": p["stderr"],
                "unit": p["unit"],
                "chi2": self.chi2,
                "kk_ok": self.kk_ok,
                "flags": self.flags_of(p["param"]),
            }
            for p in self.params
        ]


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


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("echem", "impedance", "scipy", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


class _Problem:
    """Least-squares problem in fit space x: log p for positive parameters, p for exponents.

    Residuals are interleaved (Re, Im per point). ``resid`` evaluates the circuit and
    its Jacobian together and keeps the Jacobian for the ``jac`` call that the
    optimiser makes at the same x after accepting a step (one circuit pass per step).
    """

    def __init__(self, model: CircuitModel, f, Z, weighting, lo, hi):
        self.model = model
        self.f = f
        self.omega = 2 * np.pi * f
        self.om = _Omega(self.omega)
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


class _Stall:
    """``least_squares`` callback: stop a fit that has stopped making progress.

    Raises StopIteration (scipy status -2) once the cost fell by less than a
    fraction ``rel`` over the last ``window`` iterations: the fit is crawling
    along a flat valley (typically a resistance creeping towards 0 in log
    space, see :func:`_unstick`); over those iterations AIC and BIC (n ln RSS)
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


def _local_fit(problem: _Problem, p0, max_nfev: int, stall: tuple[int, float] | None = None):
    """scipy's trust-region reflective least squares from ``p0`` (physical units), in fit space.

    ``stall = (window, rel)`` stops a fit early with status -2 (:class:`_Stall`).
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
        callback=None if stall is None else _Stall(*stall),
    )


def _unstick(problem: _Problem, res, start, max_nfev: int, stall: tuple[int, float] | None = None):
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
        res2 = _local_fit(problem, problem.to_p(x), max_nfev, stall)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return res
    best = res2 if res2.cost < res.cost else res
    best.nfev = res.nfev + res2.nfev  # both runs count
    return best


def _stderr(problem: _Problem, res) -> np.ndarray:
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


def fit_spectrum(
    freq_Hz: np.ndarray,
    Z: np.ndarray,
    circuit: str = CATALYST_CIRCUIT,
    *,
    weighting: str = "modulus",
    kk_threshold_pct: float | None = None,
    trim_inductive: bool = True,
    trim_lf_drift: bool = False,
    n_starts: int = 6,
    bounds: tuple[Sequence[float], Sequence[float]] | None = None,
    initial_guess: Sequence[float] | None = None,
    max_nfev: int = 200,
) -> EISFit:
    """Fit an equivalent circuit to one impedance spectrum.

    Parameters
    ----------
    freq_Hz, Z:
        Frequencies (Hz) and complex impedance (Ohm, physical sign: Z'' < 0 on a
        capacitive arc), any order.
    circuit:
        impedance.py circuit string; defaults: :data:`CATALYST_CIRCUIT`, :data:`FILM_CIRCUIT`.
    weighting:
        ``"modulus"`` (default), ``"proportional"`` or ``"unit"`` (module docstring).
    kk_threshold_pct:
        Lin-KK acceptance threshold, % of |Z|, on the residual averaged over 7
        consecutive frequencies (default :data:`echem.eis_validation.KK_THRESHOLD_PCT`
        = 1 %). Failing it sets ``kk_ok=False`` and warns; the fit is still made.
    trim_inductive:
        Drop the run of Z'' > 0 points at the high-frequency end (cable inductance)
        unless the circuit has an inductor (L, La). Recorded in ``trimmed``.
    trim_lf_drift:
        When the KK check fails, drop the run of lowest-frequency points whose
        systematic Lin-KK residual exceeds the threshold (drift during the slow end
        of the sweep), and test again. Recorded.
    n_starts:
        At most this many starting points from
        :func:`echem.eis_guess.guess_candidates`, lowest starting cost first (a
        user ``initial_guess`` before them). The search stops once chi2 is within 1.5× the Lin-KK noise
        floor (the chi2 of the KK-compliant fit: no circuit can do much better), or
        after :data:`PATIENCE` starts in a row that do not improve it by 0.1 %.
    bounds:
        ``(lower, upper)`` in physical units, impedance.py order; default
        :func:`default_bounds`. Lower bounds of positive parameters are raised to 1e-300.
    initial_guess:
        Starting values (impedance.py order); default: from the data.
    max_nfev:
        Model evaluations per start (least_squares). Fits converge in 10–60; only
        a parameter creeping towards 0 (e.g. R0 of a spectrum without series
        resistance) uses them all, at a chi2 within 1e-5 of its limit.

    Raises
    ------
    AnalysisError
        Fewer points than parameters + 1, an unknown circuit element, or no start
        produced a finite fit.
    """
    from echem.eis_validation import KK_THRESHOLD_PCT, kk_summary, lin_kk

    t_start = time.perf_counter()
    threshold = KK_THRESHOLD_PCT if kk_threshold_pct is None else float(kk_threshold_pct)
    model = circuit_model(circuit)
    if weighting not in WEIGHTINGS:
        raise AnalysisError(f"weighting {weighting!r} is unknown; use one of {', '.join(WEIGHTINGS)}")
    f, Zd, trimmed = _prepare(freq_Hz, Z)
    notes: list[str] = []
    if not model.has_inductor():
        _refuse_all_inductive(Zd, f"{model.circuit} cannot describe it")
    if trim_inductive and not model.has_inductor():
        f_t, Z_t, rec = _trim_inductive(f, Zd)
        if rec and f_t.size >= model.n_params + 2:
            f, Zd = f_t, Z_t
            trimmed.append(rec)
        elif rec:
            _note(notes,
                  f"{rec['n']} of {f.size} points are inductive (Z'' > 0) from the high-frequency end; "
                  f"too many to trim for {model.circuit}: kept. Use a circuit with an inductor "
                  "(e.g. 'L0-R0-p(R1,CPE1)') or check the cell connections")
    if f.size < model.n_params + 2:
        raise AnalysisError(
            f"only {f.size} usable points for the {model.n_params} parameters of {model.circuit}; "
            "measure more frequencies or use a simpler circuit"
        )
    kk_res = lin_kk(f, Zd)
    kk = kk_summary(kk_res, threshold)
    if trim_lf_drift and not kk["ok"]:
        # drop low-frequency points while their systematic KK residual exceeds the threshold
        sys_pct = kk_res.systematic() * 100
        n = 0
        while n < f.size - model.n_params - 2 and sys_pct[n] > threshold:
            n += 1
        if n:
            trimmed.append(
                {
                    "reason": f"low-frequency drift: systematic Lin-KK residual > {threshold} %",
                    "freq_Hz": f[:n].tolist(),
                    "n": int(n),
                }
            )
            f, Zd = f[n:], Zd[n:]
            kk_res = lin_kk(f, Zd)
            kk = kk_summary(kk_res, threshold)
    kk_ok = kk["ok"]
    if not kk_ok:
        _note(notes,
              f"Lin-KK: systematic residual up to {kk['systematic_max_pct']:.2f} % of |Z| "
              f"(threshold {threshold} %): the spectrum is not Kramers-Kronig consistent "
              "(drift, non-linearity or an instrument artefact); check the low-frequency end "
              "(trim_lf_drift=True) or re-measure")

    return _fit_core(
        model, f, Zd, trimmed, kk_res, kk, notes,
        weighting=weighting, n_starts=n_starts, bounds=bounds, initial_guess=initial_guess,
        max_nfev=max_nfev, t_start=t_start,
    )


class _Search:
    """A resumable multi-start fit of one circuit to prepared data.

    Starts are tried in order; the search is *done* once chi2 is within
    ``floor`` (1.5× the Lin-KK noise floor: no circuit can do much better) or
    after :data:`PATIENCE` starts in a row that do not improve chi2 by 0.1 %.
    ``run(n)`` tries starts until n have been tried in total, so a search run
    with 1 start and later with 3 ends exactly where one run with 3 would.
    """

    def __init__(self, problem: _Problem, candidates: list, floor: float, max_nfev: int,
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

    def run(self, n_starts: int) -> "_Search":
        t0 = time.process_time()
        problem, model = self.problem, self.problem.model
        while not self.complete(n_starts):
            values, how = self.candidates[self.next]
            self.next += 1
            label = how.get("label", how.get("method"))
            try:
                res = _local_fit(problem, values, self.max_nfev, self.stall)
                if res.status in (0, -2):  # out of evaluations, or stalled
                    res = _unstick(problem, res, values, self.max_nfev, self.stall)
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

    def polish(self) -> "_Search":
        """Continue the best start without the stall rule if it was stopped by it.

        The stall rule (:class:`_Stall`) is for scoring candidates; the fit that is
        reported is run to scipy's own convergence criteria (or ``max_nfev``).
        """
        if not self.stalled:
            return self
        self.polished = True
        t0 = time.process_time()
        problem = self.problem
        _, res, values, how = self.best
        try:
            res2 = _local_fit(problem, problem.to_p(res.x), self.max_nfev)
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


def _search_for(model, f, Zd, kk_res, *, weighting, n_starts, bounds, initial_guess, max_nfev, features=None,
                stall=None):
    """The bounds, the problem and the ordered starts of one circuit: a :class:`_Search`."""
    from echem.eis_guess import guess_candidates

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
    problem = _Problem(model, f, Zd, weighting, np.array(lo), np.array(hi))
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
    return _Search(problem, candidates[:head] + rest, 1.5 * kk_res.chi2, max_nfev, stall)


def _fit_core(model, f, Zd, trimmed, kk_res, kk, notes, *, weighting, n_starts, bounds, initial_guess, max_nfev, t_start):
    """Multi-start fit of prepared data (sorted, trimmed, KK-tested): the body of fit_spectrum."""
    search = _search_for(
        model, f, Zd, kk_res, weighting=weighting, n_starts=n_starts, bounds=bounds,
        initial_guess=initial_guess, max_nfev=max_nfev,
    ).run(n_starts)
    return _finish(search, trimmed, kk_res, kk, notes, weighting=weighting, n_starts=n_starts, t_start=t_start)


def _fit_flags(model, p, se, at_bound, kk, freq_Hz):
    """Flags of a fit (:mod:`echem.flags`): Lin-KK failure for the whole spectrum; per
    parameter a bound, a degenerate CPE exponent, a standard error above the value, an arc
    whose apex lies outside the fitted frequencies ``freq_Hz``."""
    from echem.eis_reduce import CPE_N_AT_BOUND, CPE_N_RESISTIVE
    from echem.flags import Flag

    fit_flags = []
    if not kk["ok"]:
        worst = kk.get("systematic_max_pct", kk.get("max_pct"))
        fit_flags.append(Flag("kk_failed", f"Lin-KK residuals reach {worst:.3g} % of |Z| (limit "
                                           f"{kk.get('threshold_pct')} %): the spectrum is not Kramers-Kronig "
                                           "consistent (drift, noise or a non-stationary cell)"))
    param_flags: dict[str, list] = {}
    for name, value, err, kind, el in zip(model.names, p, se, model.kinds, model.element_of):
        mine = []
        if kind == "exp" and el == "CPE" and (value >= CPE_N_AT_BOUND or value <= CPE_N_RESISTIVE):
            what = "a capacitor" if value >= CPE_N_AT_BOUND else "a resistor"
            mine.append(Flag("cpe_n_at_bound", f"{name} = {value:.3f}: the CPE acts as {what}"))
        elif name in at_bound:
            mine.append(Flag("param_at_bound", f"{name} = {value:.4g} sits at a bound of the fit"))
        if not (np.isfinite(err) and err <= abs(value)):
            mine.append(Flag("stderr_large", f"{name} = {value:.4g} ± {err:.2g}: not determined by the data"))
        if mine:
            param_flags[name] = mine
    f_lo, f_hi = float(np.min(freq_Hz)), float(np.max(freq_Hz))
    for r_name, c_name, tau in arc_time_constants(model, p):
        f_apex = 1.0 / (2 * math.pi * tau) if tau > 0 and math.isfinite(tau) else math.nan
        if math.isfinite(f_apex) and not f_lo <= f_apex <= f_hi:
            flag = Flag("arc_outside_range", f"the arc of {r_name} peaks at {f_apex:.3g} Hz, outside the measured "
                                             f"{f_lo:.3g}-{f_hi:.3g} Hz: {r_name} and {c_name} are an extrapolation")
            names = [r_name] + [n for n in model.names if n == c_name or n.startswith(c_name + "_")]
            series = model.series_resistor()
            if f_apex > f_hi and series is not None:
                names.append(series)  # where an arc lies above f_max, the series resistance is extrapolated too
            for name in names:
                param_flags.setdefault(name, []).append(flag)
    return fit_flags, param_flags


def _finish(search: _Search, trimmed, kk_res, kk, notes, *, weighting, n_starts, t_start) -> EISFit:
    """The EISFit (parameters, errors, residuals, audit) of a search's best start."""
    problem = search.problem
    model, f, Zd = problem.model, problem.f, problem.Z
    lo, hi, bounds_source = problem.bounds
    notes = list(notes)
    trimmed = list(trimmed)
    kk_ok = kk["ok"]
    if search.best is None:
        raise AnalysisError(
            f"the fit of {model.circuit} failed from every starting point ({search.starts}); "
            "check the data, or pass initial_guess/bounds"
        )
    chi2, res, p0, how = search.best
    p = problem.to_p(res.x)
    se = _stderr(problem, res)
    Zfit = model.impedance(p, f)
    rel = (Zd - Zfit) / np.abs(Zd)
    at_bound = search.at_bound()
    if at_bound:
        notes.append(f"parameters at a bound: {', '.join(at_bound)}; the circuit may not suit the data")
    low_n = [
        f"{n} = {v:.2f}"
        for n, v, k, el in zip(model.names, p, model.kinds, model.element_of)
        if k == "exp" and el != "La" and v < EXPONENT_SUSPICIOUS
    ]
    if low_n:
        notes.append(
            f"exponent below {EXPONENT_SUSPICIOUS}: {', '.join(low_n)}; such a CPE acts more like a "
            "resistor than a capacitor: the circuit probably does not describe the data"
        )
    params = [
        {"param": n, "value": float(v), "stderr": float(s), "unit": u}
        for n, v, s, u in zip(model.names, p, se, model.units)
    ]
    fit_flags, param_flags = _fit_flags(model, p, se, at_bound, kk, f)
    for d in degeneracies(model, p, f):
        notes.append(f"degenerate element: {d.reason}")
    audit = {
        "circuit": model.circuit,
        "n_points": int(f.size),
        "freq_range_Hz": [float(f.min()), float(f.max())],
        "initial_guess": {
            "values": dict(zip(model.names, map(float, p0))),
            "derivation": how,
        },
        "bounds": {"lower": dict(zip(model.names, lo)), "upper": dict(zip(model.names, hi)), "source": bounds_source},
        "weighting": weighting,
        "fit_space": "log(p) for positive parameters, p for exponents; scipy least_squares trf",
        "n_starts": int(n_starts),
        "starts": search.starts,
        "result": {
            "params": params,
            "nfev": int(res.nfev),
            "status": int(res.status),
            "message": str(res.message),
            "at_bound": at_bound,
        },
        "chi2": chi2,
        "chi2_definition": "sum(((Z-Zfit)/|Z|)^2, real and imaginary parts)/(2N - p)",
        "noise_floor_chi2_kk": kk_res.chi2,
        "kk": kk,
        "trimmed": trimmed,
        "Rs": None,
        "residuals": {
            "rms_pct": float(100 * np.sqrt(np.mean(np.concatenate([rel.real, rel.imag]) ** 2))),
            "max_pct": float(100 * np.max(np.abs(np.concatenate([rel.real, rel.imag])))),
        },
        "warnings": notes,
        "versions": dict(_versions()),
        "elapsed_s": None,
    }
    fit = EISFit(
        circuit=model.circuit,
        params=params,
        chi2=chi2,
        kk_ok=bool(kk_ok),
        kk=kk,
        freq_Hz=f,
        Z=Zd,
        Z_fit=Zfit,
        residuals_rel_re=rel.real,
        residuals_rel_im=rel.imag,
        trimmed=trimmed,
        audit=audit,
        warnings=notes,
        Z_kk=kk_res.Z_fit,
        flags=fit_flags,
        param_flags=param_flags,
    )
    audit["flags"] = {"fit": [f.to_dict() for f in fit_flags],
                      "params": {k: [f.to_dict() for f in v] for k, v in param_flags.items()}}
    audit["Rs"] = fit.series_resistance().to_dict()
    audit["elapsed_s"] = round(time.perf_counter() - t_start, 4)
    return fit


# --------------------------------------------------------------------------------------
# Circuit selection
# --------------------------------------------------------------------------------------

#: Candidates of :func:`select_circuit`: one arc; two arcs; one arc with semi-infinite
#: (W) or finite-space (Wo) diffusion in series; a Randles circuit with finite
#: diffusion in the charge-transfer branch; a solid-electrolyte film between
#: blocking electrodes, without and with a series resistance. When the
#: high-frequency end is inductive, every candidate gets an ``L0-`` prefix instead.
DEFAULT_CANDIDATES = (
    "R0-p(R1,CPE1)",
    "R0-p(R1,CPE1)-p(R2,CPE2)",
    "R0-p(R1,CPE1)-W1",
    "R0-p(R1,CPE1)-Wo1",
    "R0-p(R1-Wo1,CPE1)",
    "p(R1,CPE1)-CPE2",
    "R0-p(R1,CPE1)-CPE2",
)

SELECTION_CRITERIA = ("BIC", "AIC")

#: A candidate's start stops once chi2 fell by < 1 % over 20 iterations (:class:`_Stall`):
#: over those iterations AIC/BIC (n ln RSS) moved by < 0.01 n. The reported fit is then
#: run to convergence (:meth:`_Search.polish`).
SELECTION_STALL = (20, 1e-2)
#: Stalled candidates whose score is within this of the best are run to convergence
#: before the pick (a BIC difference above 10 is "very strong" evidence, Kass & Raftery 1995).
POLISH_MARGIN = 10.0
#: Model evaluations per spectrum for starts after each candidate's first. The
#: corpus and demo spectra need at most 690 in all (one needs more: a near-pure
#: resistor that every candidate over-describes, 3,372 evaluations and 1.3 s without
#: the budget and the stall rule, 851 and 0.35 s with them, same pick). Evaluations,
#: not seconds, so that the pick does not depend on the machine's load.
SELECTION_BUDGET_NFEV = 800

def _sanity_reasons(at_bound: list[str], names: list[str], values, stderrs) -> list[str]:
    reasons = []
    if at_bound:
        reasons.append(f"at a bound: {', '.join(at_bound)}")
    loose = [n for n, v, s in zip(names, values, stderrs) if not (np.isfinite(s) and s <= abs(v))]
    if loose:
        reasons.append(f"stderr larger than the value: {', '.join(loose)}")
    return reasons


def _sanity(fit: EISFit) -> list[str]:
    """Reasons a fit's parameters are not trustworthy (empty list: sane)."""
    return _sanity_reasons(
        fit.audit["result"]["at_bound"],
        [p["param"] for p in fit.params],
        [p["value"] for p in fit.params],
        [p["stderr"] for p in fit.params],
    )


#: A measured high-frequency intercept above this fraction of max|Z| is a series resistance
#: that every candidate must have.
HF_INTERCEPT_MIN_FRACTION = 0.02


def _measured_intercept(problem: _Problem) -> float | None:
    """The spectrum's high-frequency intercept when it is measured (at the axis, not
    extrapolated) and clearly above 0 (:data:`HF_INTERCEPT_MIN_FRACTION` of max|Z|); once
    per problem."""
    if not hasattr(problem, "_hf"):
        from echem.series_resistance import hf_intercept

        rs = hf_intercept(problem.f, problem.Z)
        big = rs.known and rs.status == "measured" and \
            rs.value_ohm > HF_INTERCEPT_MIN_FRACTION * float(np.max(np.abs(problem.Z)))
        problem._hf = rs.value_ohm if big else None
    return problem._hf


def _score(entry: dict, search: _Search, n: int) -> None:
    """Fill a selection score entry from a search's best fit (module docstring of select_circuit)."""
    problem, model = search.problem, search.problem.model
    entry.update(starts=len(search.starts), nfev=search.nfev)
    if search.polished:
        entry["polished"] = True
    if search.best is None:
        entry.update(
            error=f"the fit of {model.circuit} failed from every starting point ({search.starts})",
            sane=False,
            cpu_s=round(search.cpu_s, 4),
        )
        return
    entry.pop("error", None)  # a later start succeeded
    chi2, res = search.best[0], search.best[1]
    k = model.n_params
    rss = max(chi2 * max(n - k, 1), 1e-300)
    values = problem.to_p(res.x)
    reasons = _sanity_reasons(search.at_bound(), model.names, values, _stderr(problem, res))
    if model.series_resistor() is None and (hf := _measured_intercept(problem)) is not None:
        reasons.append(f"the spectrum meets the real axis at Z' = {hf:.4g} Ohm at high frequency, but a circuit "
                       "without a series resistor goes to 0 there")
    search.reduction = reduce(model, values, problem.f)
    entry.pop("reduces_to", None)
    if search.reduction is not None:
        reduced, _, found = search.reduction
        entry["reduces_to"] = reduced
        if any(d.disqualifies for d in found):
            reasons.append(f"degenerate ({'; '.join(d.reason for d in found if d.disqualifies)}): "
                           f"reduces to {reduced}")
    entry.update(
        chi2=chi2,
        AIC=float(n * math.log(rss / n) + 2 * k),
        BIC=float(n * math.log(rss / n) + k * math.log(n)),
        sane=not reasons,
        reasons=reasons,
        cpu_s=round(search.cpu_s, 4),
    )


def _more_starts(scores: list[dict], searches: dict[str, _Search], n_starts: int, criterion: str, n: int) -> None:
    """Starts after each candidate's first: best-scoring candidate first, while the
    spectrum has used fewer than :data:`SELECTION_BUDGET_NFEV` evaluations."""
    spent = sum(s.nfev for s in searches.values())
    for entry in sorted((e for e in scores if e["circuit"] in searches), key=lambda e: e.get(criterion, math.inf)):
        search = searches[entry["circuit"]]
        while not search.complete(n_starts):
            if spent >= SELECTION_BUDGET_NFEV:
                entry["budget_stopped"] = True
                break
            before = search.nfev
            search.run(search.next + 1)
            spent += search.nfev - before
        _score(entry, search, n)


#: At most this many reduced circuits are added to one spectrum's candidates.
MAX_REDUCTIONS = 4


def _add_reductions(scores, searches, f, Zd, kk_res, features, *, weighting, n_starts, criterion, n) -> None:
    """Fit the simpler circuit each degenerate candidate reduces to (:mod:`echem.eis_reduce`),
    when it is not a candidate already: from the degenerate fit's values (the reduced
    circuit describes the data at least as well there) and the usual data-derived starts.
    A reduced circuit that is degenerate in turn is reduced again."""
    added = 0
    queue = sorted((e for e in scores if e.get("reduces_to")), key=lambda e: e.get(criterion, math.inf))
    while queue and added < MAX_REDUCTIONS:
        entry = queue.pop(0)
        search = searches.get(entry["circuit"])
        if search is None or search.reduction is None:
            continue
        circuit, start, _ = search.reduction
        if circuit in searches or any(e["circuit"] == circuit for e in scores):
            continue
        t0 = time.process_time()
        model = circuit_model(circuit)
        new = {"circuit": circuit, "k": model.n_params, "reduced_from": entry["circuit"]}
        scores.append(new)
        added += 1
        if f.size < model.n_params + 2:
            new.update(error="too few points for this circuit", sane=False)
            continue
        try:
            red = _search_for(model, f, Zd, kk_res, weighting=weighting, n_starts=n_starts, bounds=None,
                              initial_guess=start, max_nfev=200, features=features, stall=SELECTION_STALL)
        except AnalysisError as exc:
            new.update(error=str(exc), sane=False)
            continue
        red.candidates[0] = (red.candidates[0][0], {"method": f"reduced from the fit of {entry['circuit']}"})
        red.cpu_s += time.process_time() - t0
        # all its starts, outside the budget: the simpler circuit must not lose for want of a start
        searches[circuit] = red.run(n_starts)
        _score(new, red, n)
        if new.get("reduces_to"):
            queue.append(new)


def select_circuit(
    freq_Hz: np.ndarray,
    Z: np.ndarray,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    *,
    criterion: str = "BIC",
    weighting: str = "modulus",
    kk_threshold_pct: float | None = None,
    n_starts: int = 3,
) -> tuple[EISFit, list[dict]]:
    """Fit every candidate circuit from automatic guesses and pick the best.

    With n = 2N residuals (real and imaginary), k parameters and RSS the weighted
    residual sum of squares:

        AIC = n ln(RSS/n) + 2k,    BIC = n ln(RSS/n) + k ln(n)

    (Gaussian likelihood with the variance estimated from the fit). The pick is the
    lowest ``criterion`` (BIC by default: it penalises parameters that the data do
    not need more than AIC) among the *sane* fits: no parameter at a bound and no
    standard error larger than its value. If no fit is sane the lowest score wins
    and the audit says so. Every candidate's score is in ``scores`` and in the
    chosen fit's ``audit["selection"]``.

    When the high-frequency end is inductive (Z'' > 0 at the three highest
    frequencies), each candidate without an inductor is used with an ``L0-``
    prefix, on all points.

    The spectrum is cleaned, Lin-KK tested (its chi2 is the noise floor of every
    candidate's multi-start search) and its features for the guesses
    (:func:`echem.eis_guess.spectrum_features`) are found once. Each candidate's
    search uses the starts and stopping rules of ``fit_spectrum(..., n_starts=n_starts)``
    on these points, with three differences that keep the whole set fast:

    * every candidate first gets its best start; the other starts follow, the
      best-scoring candidate first, while the spectrum has used fewer than
      :data:`SELECTION_BUDGET_NFEV` model evaluations (no corpus spectrum but a
      near-pure resistor reaches it);
    * a start stops once chi2 falls by less than 1 % over 20 iterations
      (:data:`SELECTION_STALL`: the fit crawls along a flat valley);
    * stalled fits scoring within :data:`POLISH_MARGIN` of the best are continued
      to convergence before the pick, and the reported fit always is.

    Returns ``(fit, scores)``; ``scores`` is one dict per candidate: circuit, k,
    chi2, AIC, BIC, sane, reasons, starts (tried), nfev (model evaluations),
    cpu_s (CPU seconds of its guesses and fits), or error; ``polished`` and
    ``budget_stopped`` when those happened.
    """
    from echem.eis_guess import spectrum_features
    from echem.eis_validation import KK_THRESHOLD_PCT, kk_summary, lin_kk

    if criterion not in SELECTION_CRITERIA:
        raise AnalysisError(f"criterion {criterion!r} is unknown; use one of {', '.join(SELECTION_CRITERIA)}")
    if weighting not in WEIGHTINGS:
        raise AnalysisError(f"weighting {weighting!r} is unknown; use one of {', '.join(WEIGHTINGS)}")
    if not candidates:
        raise AnalysisError("no candidate circuits given; pass e.g. echem.eis.DEFAULT_CANDIDATES")
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    threshold = KK_THRESHOLD_PCT if kk_threshold_pct is None else float(kk_threshold_pct)
    f, Zd, trimmed = _prepare(freq_Hz, Z)
    _refuse_all_inductive(Zd, "no candidate circuit describes it")
    # inductive: the three highest frequencies have Z'' > 0 (one point may be noise)
    inductive = Zd.size >= 3 and bool(np.all(Zd.imag[-3:] > 0))
    circuits = []
    for c in candidates:
        c = c.replace(" ", "")
        if inductive and not circuit_model(c).has_inductor():
            c = "L0-" + c
        if c not in circuits:
            circuits.append(c)
    if f.size < 6:
        raise AnalysisError(f"only {f.size} usable points; circuit selection needs more frequencies")
    kk_res = lin_kk(f, Zd)
    kk = kk_summary(kk_res, threshold)
    notes: list[str] = []
    if not kk["ok"]:
        _note(notes,
              f"Lin-KK: systematic residual up to {kk['systematic_max_pct']:.2f} % of |Z| "
              f"(threshold {threshold} %): the spectrum is not Kramers-Kronig consistent; "
              "the circuit choice may follow an artefact")
    features = spectrum_features(f, Zd)
    cpu_shared = time.process_time() - cpu_start

    n = 2 * f.size
    scores: list[dict] = []
    searches: dict[str, _Search] = {}
    for c in circuits:
        t0 = time.process_time()
        model = circuit_model(c)
        entry: dict[str, Any] = {"circuit": c, "k": model.n_params}
        scores.append(entry)
        if f.size < model.n_params + 2:
            entry.update(error="too few points for this circuit", sane=False)
            continue
        try:
            search = _search_for(
                model, f, Zd, kk_res, weighting=weighting, n_starts=n_starts, bounds=None,
                initial_guess=None, max_nfev=200, features=features, stall=SELECTION_STALL,
            )
        except AnalysisError as exc:
            entry.update(error=str(exc), sane=False)
            continue
        search.cpu_s += time.process_time() - t0
        searches[c] = search.run(1)
        _score(entry, search, n)
    _more_starts(scores, searches, n_starts, criterion, n)
    _add_reductions(scores, searches, f, Zd, kk_res, features, weighting=weighting, n_starts=n_starts,
                    criterion=criterion, n=n)
    scored = [s for s in scores if criterion in s]
    if not scored:
        raise AnalysisError(f"no candidate circuit could be fitted ({scores}); check the data")
    # a stalled fit scores a little worse than it would converged: polish the contenders
    top = min(s[criterion] for s in scored)
    for s in scored:
        if s[criterion] <= top + POLISH_MARGIN and searches[s["circuit"]].stalled:
            _score(s, searches[s["circuit"]].polish(), n)
    while True:  # the pick, its search run to convergence (which can only improve its score)
        sane = [s for s in scored if s["sane"]]
        chosen = min(sane or scored, key=lambda s: s[criterion])
        if not searches[chosen["circuit"]].stalled:
            break
        _score(chosen, searches[chosen["circuit"]].polish(), n)

    best = _finish(
        searches[chosen["circuit"]], trimmed, kk_res, kk, notes, weighting=weighting, n_starts=n_starts,
        t_start=t_start,
    )
    if not sane:
        from echem.flags import Flag

        message = ("no candidate circuit gave sane parameters (each has a parameter at a bound, a "
                   "degenerate element or a stderr > value); the lowest score was taken: consider "
                   "another circuit")
        best.warnings.append(message)
        best.flags.append(Flag("no_sane_circuit", message))
    best.audit["selection"] = {
        "criterion": criterion,
        "definition": "AIC = n ln(RSS/n) + 2k, BIC = n ln(RSS/n) + k ln(n); n = 2N weighted residuals",
        "sanity": "no parameter at a bound, no stderr larger than its value, no degenerate element "
                  "(echem.eis_reduce: a CPE with n >= 0.999 or <= 0.2, two arcs with time constants "
                  "within a factor 1.5); the circuit a degenerate fit (or a CPE with n >= 0.99) "
                  "reduces to is fitted too",
        "chosen": chosen["circuit"],
        "chosen_from": "sane fits" if sane else "all fits (none sane)",
        "inductive_hf_end": bool(inductive),
        "scores": scores,
        "search": {
            "stall": f"a candidate's start stops once chi2 falls < {SELECTION_STALL[1]:.0%} over "
                     f"{SELECTION_STALL[0]} iterations; stalled fits within {POLISH_MARGIN:g} of the best "
                     f"{criterion} are run to convergence ('polished') before the pick",
            "budget_nfev": SELECTION_BUDGET_NFEV,
            "nfev": int(sum(s.nfev for s in searches.values())),
            "budget_stopped": [s["circuit"] for s in scores if s.get("budget_stopped")],
        },
        "cpu_s_shared": round(cpu_shared, 4),
        "cpu_s": round(time.process_time() - cpu_start, 4),
        "elapsed_s": round(time.perf_counter() - t_start, 4),
    }
    best.audit["warnings"] = best.warnings
    return best, scores
