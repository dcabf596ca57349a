"""Starting values for equivalent-circuit fits, derived from the spectrum itself.

No hand-tuned guess is needed for circuits built from R, C, CPE, L, W, Wo and Ws
(and Zarc, K, G): the circuit is read as a chain of roles and each role is
estimated from a feature of the data.

* **series resistor** (a bare R in the top-level chain): the high-frequency
  real-axis intercept (:func:`echem.eis.spectrum.hf_intercept_ohm`).
* **arc** (a parallel group ``p(R.., C|CPE)``, or Zarc/K/G): resistance R, time
  constant τ and exponent n. For one arc, a circle fitted to the Nyquist points of
  the arc (algebraic least squares) gives the diameter R = 2√(r² − y_c²) and the
  depression n = 1 − (2/π)·atan(−y_c/(R/2)); then τ from every point, since
  (Z − R_s)/R = 1/(1 + (jωτ)ⁿ) gives ln τ = Re ln(R/(Z − R_s) − 1)/n − ln ω (median).
  For several arcs, each local maximum of −Z'' (smoothed over log f) gives
  τ = 1/(2π f_apex) and R = 2 h/tan(nπ/4) with h the apex height; arcs missing
  from the maxima are placed in the widest gap of the frequency range.
  Then C = τ/R, CPE Q = τⁿ/R. Arcs are assigned from high to low frequency in the
  order they appear in the circuit string.
* **blocking element** (a bare C or CPE in the top-level chain, e.g. CPE2 of
  ``p(R1,CPE1)-CPE2``) and **diffusion** (W, Ws, Wo, in series or in an arc's
  resistive branch): fitted to the low-frequency rest Z_rest = Z − (series
  resistor + arcs), on the points below the slowest arc: the element's shape
  parameter (n of a CPE, τ of Wo/Ws) on a grid, its amplitude (1/Q, 1/C, A_W, Z0)
  by linear least squares for each grid value.
* **inductor** L: Z''/ω at f_max when the high-frequency end is inductive, else a
  value that makes ωL 0.1 % of |Z| at f_max.
* anything else: R-like parameters the median |Z|, C/Q the median of 1/(ω|Z|),
  exponents 0.8, time constants 1/ω at the geometric-mean frequency.

:func:`guess_candidates` returns the primary guess followed by alternatives
(different arc assignments, exponents and spur scales) that
:func:`echem.eis.fit_spectrum` uses as further starting points.
"""

from __future__ import annotations

import math

import numpy as np

from echem.eis.circuit import CircuitModel, circuit_model, element_kind
from echem.eis.elements import EXPONENT_MIN, Omega
from echem.eis.spectrum import hf_intercept_ohm, hf_intercept_reached

_N_DEFAULT = 0.85
_DIFF = ("W", "Wo", "Ws")
_CAPS = ("C", "CPE")


def _smooth(y: np.ndarray) -> np.ndarray:
    if y.size < 5:
        return y.copy()
    k = np.array([0.25, 0.5, 0.25])
    ys = np.convolve(y, k, mode="same")
    ys[0], ys[-1] = y[0], y[-1]
    return ys


def _peaks(f: np.ndarray, y: np.ndarray) -> list[tuple[float, float, int]]:
    """Local maxima (f_apex, height, index) of smoothed −Z'' with y > 0, highest first.

    Maxima closer than half a decade to a higher one, or lower than 3 % of the
    highest, are dropped. ``f`` ascending.
    """
    ys = _smooth(y)
    idx = [i for i in range(1, ys.size - 1) if ys[i] > 0 and ys[i] >= ys[i - 1] and ys[i] > ys[i + 1]]
    idx.sort(key=lambda i: -ys[i])
    out: list[tuple[float, float, int]] = []
    for i in idx:
        if out and ys[i] < 0.03 * out[0][1]:
            continue
        if any(abs(math.log10(f[i] / fo)) < 0.5 for fo, _, _ in out):
            continue
        out.append((float(f[i]), float(ys[i]), i))
    return out


def _circle_fit(x: np.ndarray, y: np.ndarray):
    """Algebraic (Kasa) circle fit: (xc, yc, r) or None."""
    if x.size < 3:
        return None
    A = np.column_stack([x, y, np.ones_like(x)])
    b = x * x + y * y
    try:
        sol, *_ = np.linalg.lstsq(A, b, rcond=None)
    except np.linalg.LinAlgError:
        return None
    xc, yc = sol[0] / 2, sol[1] / 2
    r2 = sol[2] + xc * xc + yc * yc
    if not np.isfinite(r2) or r2 <= 0:
        return None
    return float(xc), float(yc), float(math.sqrt(r2))


def _tau_from_points(f, Z, R_s, R, n) -> float | None:
    """Median τ from (Z − R_s)/R = 1/(1 + (jωτ)ⁿ) over the given points."""
    w = 2 * np.pi * f
    with np.errstate(all="ignore"):
        v = R / (Z - R_s) - 1.0
        lt = np.real(np.log(v)) / n - np.log(w)
    lt = lt[np.isfinite(lt)]
    if lt.size == 0:
        return None
    return float(math.exp(np.median(lt)))


class _Features:
    """Features of one spectrum (``f`` ascending), computed once and shared by the
    guesses of every circuit (see :func:`spectrum_features`)."""

    def __init__(self, f: np.ndarray, Z: np.ndarray):
        self.f, self.Z = f, Z
        self.w = 2 * np.pi * f
        self.y = -Z.imag
        self.R_hf = hf_intercept_ohm(f, Z)
        self.hf_reached = hf_intercept_reached(f, Z)
        self.absZ = np.abs(Z)
        self.zmed = float(np.median(self.absZ))
        self.wmid = float(np.sqrt(self.w.min() * self.w.max()))
        self.cmed = float(np.median(1 / (self.w * self.absZ)))
        self.peaks = _peaks(f, self.y)
        self.shapes: dict = {}  # (element kind, k lowest points) -> _shape_grid there
        self.omegas: dict = {}  # k lowest points -> their echem.eis.elements.Omega
        ys = _smooth(self.y)
        self.y_smooth = ys
        self.lf_rising = ys.size >= 3 and ys[0] > ys[1] > 0
        # valley between the highest-frequency peak region and a low-frequency rise
        self.valley = None
        if self.peaks and self.lf_rising:
            i_top = max(p[2] for p in self.peaks)  # highest-frequency peak
            lower = ys[: i_top + 1]
            j = int(np.argmin(lower))
            if 0 < j < i_top:
                self.valley = j
        self.lf_closed = (not self.lf_rising) and ys[0] < 0.25 * max(float(ys.max()), 1e-300)


def _arc_from_circle(feat: _Features, sel: np.ndarray, R_s: float, centred: bool = False):
    """(R, τ, n, R_left) of one arc from a circle through its Nyquist points, or None.

    ``centred`` fits a circle centred on the real axis (n = 1), which is robust for
    short, barely curved arc segments where the free (Kasa) fit follows the noise.
    R_left is the circle's high-frequency real-axis intersection.
    """
    f, Z = feat.f[sel], feat.Z[sel]
    ok = feat.y[sel] > 0
    if ok.sum() < 4:
        return None
    x, y = Z.real[ok], feat.y[sel][ok]
    if centred:
        A = np.column_stack([2 * x, np.ones_like(x)])
        try:
            (xc, c), *_ = np.linalg.lstsq(A, x * x + y * y, rcond=None)
        except np.linalg.LinAlgError:
            return None
        r2 = c + xc * xc
        if not np.isfinite(r2) or r2 <= 0:
            return None
        xc, yc, r = float(xc), 0.0, math.sqrt(r2)
    else:
        fit = _circle_fit(x, y)
        if fit is None:
            return None
        xc, yc, r = fit
        if yc > 0.05 * r:  # centre above the axis: not a (depressed) arc
            return None
    if r * r <= yc * yc:
        return None
    half = math.sqrt(r * r - yc * yc)
    R = 2 * half
    depression = math.atan(max(-yc, 0.0) / half)
    n = float(np.clip(1 - 2 * depression / math.pi, 0.5, 1.0))
    # a circle much larger than the data span means the arc is barely curved: unreliable
    span = float(np.ptp(x) + np.ptp(y))
    if not np.isfinite(R) or R <= 0 or R > 1e3 * max(span, 1e-300):
        return None
    R_left = max(xc - half, 0.0)
    if not feat.hf_reached:
        R_s = min(R_s, R_left)
    tau = _tau_from_points(f[ok], Z[ok], R_s, R, n)
    if tau is None:
        return None
    return R, tau, n, R_left


def _arc_hypotheses(feat: _Features, K: int, spur: bool, R_s: float) -> list[tuple[list, str]]:
    """Lists of K (R, τ, n) from high to low frequency, each with a label."""
    f = feat.f
    out: list[tuple[list, str]] = []
    if K == 0:
        return [([], "no arcs", None)]
    zmed = feat.zmed
    budget = None
    if feat.lf_closed:
        budget = max(float(feat.Z.real[0]) - R_s, 1e-12)
    elif feat.valley is not None:
        budget = max(float(feat.Z.real[feat.valley]) - R_s, 1e-12)

    if K == 1:
        sels = []
        if spur and feat.valley is not None:
            sels.append((f > f[feat.valley], "circle fit above the valley before the low-frequency spur"))
        if spur and feat.peaks:
            fp = max(p[0] for p in feat.peaks)
            sels.append((f >= fp / 3, "circle fit of the points above f_apex/3"))
        if not spur:
            sels.append((np.ones(f.size, bool), "circle fit of all points"))
        for sel, label in sels:
            found = False
            for centred in (False, True):
                arc = _arc_from_circle(feat, sel, R_s, centred)
                if arc is not None:
                    R, tau, n, R_left = arc
                    lab = label + (" (centred on the axis)" if centred else "")
                    if not feat.hf_reached:  # intercept out of reach: the circle's is better
                        out.append(([(R, tau, n)], lab + "; series R from the circle", R_left))
                    out.append(([(R, tau, n)], lab))
                    found = True
            if found:
                break

    # apex-based hypotheses
    peaks = sorted(feat.peaks[: max(K, 1) + 2], key=lambda p: -p[1])
    n0 = _N_DEFAULT
    k_h = 2 / math.tan(n0 * math.pi / 4)
    use = sorted(peaks[:K], key=lambda p: -p[0])
    arcs = [[k_h * h, 1 / (2 * np.pi * fa), n0] for fa, h, _ in use]
    lf, hf = math.log10(f.min()), math.log10(f.max())
    if len(arcs) < K:
        # fill missing arcs into the widest gaps of the log-frequency axis
        have = [-math.log10(2 * np.pi * a[1]) for a in arcs]  # log10 f_apex
        while len(arcs) < K:
            pts = [lf - 0.5] + sorted(have) + [hf + 0.5]
            gaps = [(pts[i + 1] - pts[i], i) for i in range(len(pts) - 1)]
            g, i = max(gaps)
            lfa = pts[i] + g / 2
            have.append(lfa)
            h = float(np.interp(lfa, np.log10(f), feat.y_smooth))
            arcs.append([max(k_h * h, 1e-3 * zmed), 1 / (2 * np.pi * 10**lfa), n0])
        arcs.sort(key=lambda a: a[1])
    if budget is not None and not spur:
        total = sum(a[0] for a in arcs)
        if total > 0:
            arcs = [[a[0] * budget / total, a[1], a[2]] for a in arcs]
    out.append(([tuple(a) for a in arcs], "apex of -Z'' per arc (tau = 1/(2 pi f_apex), R = 2h/tan(n pi/4))"))

    # alternatives: shift the whole set, change exponents, split the largest arc
    base = out[0][0]
    for fac, lab in ((10.0, "time constants x10"), (0.1, "time constants /10")):
        out.append(([(R, t * fac, n) for R, t, n in base], lab))
    for n_alt in (1.0, 0.7):
        out.append(([(R, t, n_alt) for R, t, _ in base], f"exponents {n_alt}"))
    for fac in (3.0, 0.3):
        out.append(([(R * fac, t * fac, n) for R, t, n in base], f"resistances and time constants x{fac}"))
    if K >= 2:
        # log-spaced time constants over the range, equal resistances
        total = budget if budget is not None else sum(a[0] for a in base)
        taus = np.logspace(-hf, -lf, K + 2)[1:-1] / (2 * np.pi)
        out.append(([(total / K, float(t), n0) for t in taus], "log-spaced time constants"))
    # (arcs, label, series-resistance override or None)
    return [(h[0], h[1], h[2] if len(h) > 2 else None) for h in out]


def _walk(model: CircuitModel):
    """Roles: list of (role, element names) from the top-level chain."""
    tree = model.tree
    top = tree[1] if tree[0] == "s" else [tree]
    roles = []
    for node in top:
        if node[0] == "e":
            kind = node[2]
            if kind == "R":
                roles.append(("Rs", [node[1]]))
            elif kind in ("L", "La"):
                roles.append(("L", [node[1]]))
            elif kind in _CAPS:
                roles.append(("block", [node[1]]))
            elif kind in _DIFF:
                roles.append(("diff", [node[1]]))
            elif kind in ("Zarc", "K", "G"):
                roles.append(("arc_el", [node[1]]))
            else:
                roles.append(("other", [node[1]]))
        elif node[0] == "p":
            roles.append(("arc", node))
        else:
            roles.append(("other", _names(node)))
    return roles


def _names(node) -> list[str]:
    if node[0] == "e":
        return [node[1]]
    out = []
    for c in node[1]:
        out.extend(_names(c))
    return out


_PARAM_ELEMENTS: dict[str, list[tuple[str, str, str]]] = {}


def _param_elements(model: CircuitModel) -> list[tuple[str, str, str]]:
    """(parameter, element name, element kind) per parameter of ``model`` (cached)."""
    out = _PARAM_ELEMENTS.get(model.circuit)
    if out is None:
        out = []
        for p in model.names:
            el = p.split("_")[0]
            out.append((p, el, element_kind(el)))
        _PARAM_ELEMENTS[model.circuit] = out
    return out


def _default_values(model: CircuitModel, feat: _Features, names: list[str], values: dict) -> None:
    zmed, wmid, cmed = feat.zmed, feat.wmid, feat.cmed
    for name in names:
        spec, i0 = model.elements[name]
        for j in range(spec.n):
            pname = model.names[i0 + j]
            if pname in values:
                continue
            unit, kind = spec.units[j], spec.kinds[j]
            if kind == "exp":
                values[pname] = 0.8
            elif unit == "Ohm":
                values[pname] = zmed
            elif unit == "sec":
                values[pname] = 1 / wmid
            elif unit in ("F", "Ohm^-1 sec^a"):
                values[pname] = cmed
            elif unit == "H":
                values[pname] = 1e-3 * zmed / wmid
            elif unit == "Ohm sec^-1/2":
                values[pname] = zmed * math.sqrt(wmid)
            else:
                values[pname] = 1.0


def _set_arc(model, node_or_name, arc, values, diff_names, how):
    """Fill an arc's parameters from (R, τ, n); collect diffusion elements inside it."""
    R, tau, n = arc
    if isinstance(node_or_name, str):  # Zarc/K/G element
        name = node_or_name
        pn = [p for p in model.names if p == name or p.startswith(name + "_")]
        values[pn[0]] = R
        values[pn[1]] = tau
        if len(pn) > 2:
            values[pn[2]] = n
        how[name] = f"arc: R={R:.3g} Ohm, tau={tau:.3g} s" + (f", n={n:.2f}" if len(pn) > 2 else "")
        return
    node = node_or_name
    branches = node[1]
    cap_branch = None
    for b in branches:
        if b[0] == "e" and b[2] in _CAPS:
            cap_branch = b
            break
    r_done = False
    for b in branches:
        if b is cap_branch:
            continue
        for name in _names(b):
            el_kind = element_kind(name)
            if el_kind == "R" and not r_done:
                values[name] = R
                how[name] = f"arc resistance {R:.3g} Ohm"
                r_done = True
            elif el_kind in _DIFF:
                diff_names.append(name)
    if cap_branch is not None:
        name, kind = cap_branch[1], cap_branch[2]
        if kind == "C":
            values[name] = tau / R
            how[name] = f"C = tau/R = {tau:.3g}/{R:.3g}"
        else:
            n_c = float(np.clip(n, EXPONENT_MIN, 1.0))
            values[name + "_0"] = tau**n_c / R
            values[name + "_1"] = n_c
            how[name] = f"Q = tau^n/R with tau={tau:.3g} s, n={n_c:.2f}"


def _amplitude_fits(Z_rest: np.ndarray, G) -> tuple[np.ndarray, np.ndarray]:
    """For each row g of G: best a > 0 in Z_rest ≈ a·g + r (r real), relative weights.

    r absorbs what the arcs' guess got wrong. Closed-form 2×2 normal equations,
    vectorised over the rows. ``G`` is the complex (rows, N) matrix or its
    ``(Re G, Im G, |G|²)`` from :func:`_shape_grid`. Returns (a, misfit) per row;
    misfit = inf where a ≤ 0.
    """
    g_re, g_im, g_abs2 = (G.real, G.imag, G.real**2 + G.imag**2) if isinstance(G, np.ndarray) else G
    wt2 = 1.0 / np.maximum(Z_rest.real**2 + Z_rest.imag**2, 1e-300)  # (1/|Z_rest|)²
    b_re, b_im = Z_rest.real * wt2, Z_rest.imag * wt2
    # with u = g·wt, v = wt, b = Z_rest·wt: uu = Σ|g|²wt², uv = Σ g' wt², ub = Σ (g'Z' + g''Z'') wt²
    uu = g_abs2 @ wt2
    uv = g_re @ wt2
    vv = float(wt2.sum())
    ub = g_re @ b_re + g_im @ b_im
    vb = float(b_re.sum())
    bb = float(Z_rest.real @ b_re + Z_rest.imag @ b_im)
    with np.errstate(all="ignore"):
        det = uu * vv - uv**2
        a = (ub * vv - uv * vb) / det
        r = (uu * vb - uv * ub) / det
        misfit = bb - (a * ub + r * vb)
    bad = ~np.isfinite(a) | (a <= 0) | ~np.isfinite(misfit)
    return np.where(bad, 1e-300, a), np.where(bad, np.inf, misfit)


def _shapes(kind: str, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Unit-amplitude impedance of a low-frequency element, one row per shape value x."""
    x = np.asarray(x, float)[:, None]
    if kind == "W":
        return np.broadcast_to((1 - 1j) / np.sqrt(w), (x.shape[0], w.size))
    if kind in ("Wo", "Ws"):
        s = np.sqrt(1j * w[None, :] * x)
        t = np.tanh(s)
        return 1 / (s * t) if kind == "Wo" else t / s
    if kind == "C":
        return np.broadcast_to(1 / (1j * w), (x.shape[0], w.size))
    return np.exp(-x * (np.log(w) + 0.5j * np.pi)[None, :])  # CPE: (jω)^-n


def _shape_grid(kind: str, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grid, unit-amplitude shapes on it) for :func:`_fit_rest`."""
    if kind in ("Wo", "Ws"):
        grid = np.logspace(math.log10(1e-3 / w.max()), math.log10(1e3 / w.min()), 60)
    elif kind in ("W", "C"):
        grid = np.zeros(1)
    else:
        grid = np.arange(0.30, 1.0001, 0.02)
    with np.errstate(all="ignore"):
        G = np.ascontiguousarray(_shapes(kind, w, grid))
        return grid, (np.ascontiguousarray(G.real), np.ascontiguousarray(G.imag), G.real**2 + G.imag**2)


def _fit_rest(kind: str, w: np.ndarray, Z_rest: np.ndarray, shapes=None) -> tuple[float, float]:
    """(amplitude, shape) of one element fitted to Z_rest: grid over the shape, amplitude linear.

    Shapes: τ for Wo/Ws on 60 log-spaced values 1e-3/ω_max..1e3/ω_min; n for CPE on
    0.3..1 in steps of 0.02; none for W and C. Amplitudes: A_W, Z0, 1/C, 1/Q. A free
    real offset absorbs the error of the arcs' resistance guess. ``shapes``:
    :func:`_shape_grid` of ``kind`` and ``w``, when already computed.
    """
    grid, G = shapes if shapes is not None else _shape_grid(kind, w)
    with np.errstate(all="ignore"):
        a, misfit = _amplitude_fits(Z_rest, G)
    k = int(np.argmin(misfit))
    if not np.isfinite(misfit[k]):  # nothing fits with a positive amplitude: order of magnitude only
        with np.errstate(all="ignore"):
            g = _shapes(kind, w, grid[len(grid) // 2 : len(grid) // 2 + 1])[0]
        return float(np.median(np.abs(Z_rest) / np.abs(g))), float(grid[len(grid) // 2])
    return float(a[k]), float(grid[k])


def _lf_elements(model, feat, names, values, how, block_names, diff_names, spur_scale=1.0, arcs=()):
    """Blocking and diffusion elements from the low-frequency rest of the spectrum.

    The rest is Z minus the circuit evaluated with these elements made negligible
    (C, Q → ∞; W, Z0 → 0), on the points below the slowest arc's apex frequency/3
    (at least the 5 lowest). Each element is fitted to its share of the rest by
    :func:`_fit_rest`.
    """
    if not block_names and not diff_names:
        return
    probe = []
    for p, el, kind in _param_elements(model):
        if el in block_names:
            probe.append(1e12 if p.endswith("_0") or kind == "C" else 1.0)  # huge Q/C: zero impedance
        elif el in diff_names:
            probe.append(1e-30 if p.endswith("_0") or kind == "W" else 1.0)
        else:
            probe.append(values.get(p, 1.0))
    f_cut = min((1 / (2 * np.pi * a[1]) for a in arcs), default=feat.f.max()) / 3
    # the points at or below f_cut (at least the 5 lowest): a prefix of the ascending frequencies
    k = max(int(np.searchsorted(feat.f, f_cut, side="right")), min(5, feat.f.size))
    Z_lf, w_lf = feat.Z[:k], feat.w[:k]
    om = feat.omegas.get(k)
    if om is None:
        om = feat.omegas[k] = Omega(w_lf)
    with np.errstate(all="ignore"):
        Z_rest = Z_lf - model.evaluate(probe, om)
    share = 1.0 / (len(block_names) + len(diff_names))
    Z_rest = Z_rest * share * spur_scale
    # when the rest is not capacitive (noise, no spur in range) fall back on the data
    if not np.all(np.isfinite(Z_rest)) or np.median(-Z_rest.imag) <= 0:
        Z_rest = Z_lf * share * spur_scale
    for name in block_names + diff_names:
        kind = element_kind(name)
        key = (kind, k)
        if key not in feat.shapes:
            feat.shapes[key] = _shape_grid(kind, w_lf)
        a, x = _fit_rest(kind, w_lf, Z_rest, feat.shapes[key])
        if kind == "C":
            values[name] = 1 / a
            how[name] = "C = 1/a for Z_rest ≈ a/(jω) on the low-frequency rest"
        elif kind == "CPE":
            values[name + "_0"], values[name + "_1"] = 1 / a, x
            how[name] = f"CPE fitted to the low-frequency rest (n grid): Q = {1 / a:.3g}, n = {x:.2f}"
        elif kind == "W":
            values[name] = a
            how[name] = f"A_W fitted to the low-frequency rest: {a:.3g}"
        elif kind in ("Wo", "Ws"):
            values[name + "_0"], values[name + "_1"] = a, x
            how[name] = f"{kind} fitted to the low-frequency rest (tau grid): Z0 = {a:.3g} Ohm, tau = {x:.3g} s"
        else:  # other element in a low-frequency role: keep defaults
            continue


def spectrum_features(freq_Hz: np.ndarray, Z: np.ndarray) -> _Features:
    """The features of one spectrum that the guesses are derived from (module docstring).

    Pass the result to :func:`guess_candidates` when guessing several circuits for
    one spectrum: the features are then found once.
    """
    f = np.asarray(freq_Hz, float)
    Z = np.asarray(Z, complex)
    order = np.argsort(f, kind="stable")
    return _Features(f[order], Z[order])


def guess_candidates(
    freq_Hz: np.ndarray, Z: np.ndarray, circuit: str, features: _Features | None = None
) -> list[tuple[list[float], dict]]:
    """Primary guess and alternatives, each ``(values, explanation)``, impedance.py order.

    ``features``: :func:`spectrum_features` of the same spectrum (found here when not given).
    """
    feat = features if features is not None else spectrum_features(freq_Hz, Z)
    f, Z = feat.f, feat.Z
    model = circuit_model(circuit)
    roles = _walk(model)
    arc_items = [(r, x) for r, x in roles if r in ("arc", "arc_el")]
    K = len(arc_items)
    block_names = [x[0] for r, x in roles if r == "block"]
    diff_top = [x[0] for r, x in roles if r == "diff"]
    has_diff_inside = any(
        element_kind(n) in _DIFF for r, x in arc_items if r == "arc" for n in _names(x)
    )
    spur = bool(block_names or diff_top or has_diff_inside)
    rs_names = [x[0] for r, x in roles if r == "Rs"]
    R_s = feat.R_hf if rs_names else 0.0

    hyps = _arc_hypotheses(feat, K, spur, R_s)
    out = []
    for h_i, (arcs, label, rs_override) in enumerate(hyps):
        for spur_scale in ((1.0,) if h_i else (1.0, 0.1, 10.0)) if spur else (1.0,):
            values: dict[str, float] = {}
            how: dict[str, str] = {}
            r_s = feat.R_hf if rs_override is None else rs_override
            for name in rs_names:
                values[name] = max(r_s, 1e-6 * feat.zmed) / len(rs_names)
                how[name] = (
                    f"high-frequency intercept {feat.R_hf:.4g} Ohm"
                    if rs_override is None
                    else f"high-frequency intersection of the arc's circle {r_s:.4g} Ohm (intercept not reached)"
                )
            for r, x in roles:
                if r == "L":
                    name = x[0]
                    wmax = feat.w[-1]
                    if Z.imag[-1] > 0:
                        L = float(Z.imag[-1] / wmax)
                        how[name] = "Z''/omega at f_max (inductive end)"
                    else:
                        L = 1e-3 * float(feat.absZ[-1]) / wmax
                        how[name] = "omega L = 0.1 % |Z| at f_max (no inductive end)"
                    if element_kind(name) == "La":
                        values[name + "_0"], values[name + "_1"] = L, 1.0
                    else:
                        values[name] = L
            diff_names: list[str] = list(diff_top)
            for (r, x), arc in zip(arc_items, arcs):
                _set_arc(model, x[0] if r == "arc_el" else x, arc, values, diff_names, how)
            _default_values(model, feat, [n for r, x in roles if r == "other" for n in x], values)
            _lf_elements(model, feat, model.names, values, how, block_names, diff_names, spur_scale, arcs)
            # anything left (unrecognised structure inside a group)
            _default_values(model, feat, list(model.elements), values)
            vals = [float(values[p]) for p in model.names]
            lab = label if spur_scale == 1.0 else f"{label}; low-frequency elements x{spur_scale}"
            expl = {
                "method": "data-derived (echem.eis.guess)",
                "label": lab,
                "hf_intercept_ohm": feat.R_hf,
                "apex_frequencies_Hz": [p[0] for p in feat.peaks],
                "per_element": how,
            }
            out.append((vals, expl))
    return out


def initial_guess(freq_Hz: np.ndarray, Z: np.ndarray, circuit: str) -> tuple[list[float], dict]:
    """Automatic starting values for ``circuit`` from the spectrum (module docstring).

    Returns the values in impedance.py parameter order and a JSON-friendly dict that
    says how each element's values were derived.
    """
    return guess_candidates(freq_Hz, Z, circuit)[0]
