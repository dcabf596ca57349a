"""Circuit strings (impedance.py syntax) parsed and compiled to vectorised numpy code.

``R0-p(R1,CPE1)``: ``-`` in series, ``p(a,b)`` in parallel; parameters carry impedance.py's
names (``R0``, ``CPE1_0``, ``CPE1_1``) and order. :class:`CircuitModel` evaluates Z and its
analytic Jacobian; :func:`circuit_model` caches one per circuit string.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from echem.eis.elements import ELEMENTS, Omega, Element, impedance_py_element
from echem.errors import AnalysisError

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
        self.elements: dict[str, tuple[Element, int]] = {}  # name -> (spec, first index)
        self._collect(self.tree)
        self.n_params = len(self.names)
        self._run = self._compile(self.tree)

    def _collect(self, node):
        if node[0] == "e":
            name, kind = node[1], node[2]
            if name in self.elements:
                raise AnalysisError(f"circuit {self.circuit!r} uses the element name {name!r} twice")
            spec = ELEMENTS.get(kind) or impedance_py_element(kind)
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
        """run(p, om, jac) -> Z: p a list of floats, om an Omega, jac a (P, N) complex
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

    def evaluate(self, params, om: Omega, jac: np.ndarray | None = None) -> np.ndarray:
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
            return np.asarray(self.evaluate(p, Omega(w)), complex).reshape(w.shape)

    def impedance_jac(self, params: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Z, dZ/dp) at angular frequencies ``omega``; dZ/dp has shape (P, N)."""
        omega = np.asarray(omega, float)
        jac = np.empty((self.n_params, omega.size), complex)
        with np.errstate(all="ignore"):
            Z = self.evaluate(self._check(params), Omega(omega), jac)
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
