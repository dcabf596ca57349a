"""Electrochemically active surface area from a CV scan-rate series.

In a potential window without faradaic processes the current of a CV is the
charging of the double layer, ``i = Cdl * v`` on the anodic sweep and
``i = -Cdl * v`` on the cathodic one (plus whatever small leak current flows at that
potential, the same on both sweeps). At one potential ``E_mid`` in the middle of the
window:

    (i_anodic - i_cathodic) / 2 = Cdl * v + b

so ``Cdl`` (F) is the slope of the half-difference against the scan rate ``v`` (V/s).
The slope of the *full* difference is ``2 * Cdl``, a common factor-of-two mistake.
Fitting the half-difference also cancels a leak that depends on potential only.
The anodic (``i_a`` vs ``v``) and cathodic (``-i_c`` vs ``v``) slopes are fitted on their
own as a check: they differ when a scan-rate-dependent faradaic process (surface
redox, a diffusing species) adds current on one sweep only, and then the window is
not purely capacitive.

Then::

    ECSA (cm2)                  = Cdl (mF) / Cs (mF/cm2)
    roughness factor (1)        = ECSA / geometric area
    specific activity (mA/cm2)  = |I| / ECSA
    mass activity (A/g)         = |I| / (loading * geometric area)

Pipeline for one sample::

    v, src = scan_rate_V_s(E, t, meta.get("scan_rate_V_s"), file_name)   # per file
    cc = charging_currents(E, I, cycle)                                  # per file
    res = fit_cdl(v_list, [c.i_anodic_A ...], [c.i_cathodic_A ...])
    ecsa, ecsa_err = ecsa_cm2(res.cdl_F, res.cdl_err_F, default_cs_mF_cm2("1 M KOH"))
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import PurePath, PureWindowsPath
from typing import Any

import numpy as np

from echem.errors import AnalysisError, MetadataError
from echem.results import Result, Value, axis
from echem.sweeps import turning_points

# --------------------------------------------------------------------------- Cs table

#: Literature specific capacitances ``Cs`` (mF/cm2) of a flat surface, by electrolyte class.
#:
#: McCrory, Jung, Peters, Jaramillo, J. Am. Chem. Soc. 2013, 135, 16977-16987
#: (doi:10.1021/ja407115p), "Benchmarking heterogeneous electrocatalysts for the
#: oxygen evolution reaction", use general values of 0.040 mF/cm2 in 1 M NaOH/KOH
#: and 0.035 mF/cm2 in 1 M H2SO4, taken from typical reported values for metal and
#: metal-oxide surfaces, which range 0.022-0.130 mF/cm2 in NaOH/KOH and
#: 0.015-0.110 mF/cm2 in H2SO4. McCrory et al., J. Am. Chem. Soc. 2015, 137,
#: 4347-4357 (doi:10.1021/ja510442p) use the same two values for HER and OER
#: catalysts. The spread means an ECSA from a default Cs is uncertain by a factor of
#: about 2-3 in absolute terms; it compares samples of one material fairly. Set
#: ``specific_capacitance_mF_cm2`` in ``sample.yaml`` when a better value is known.
#: There is no accepted general value for neutral electrolytes (phosphate, carbonate,
#: sulfate buffers), so none is given: those samples need an explicit Cs.
CS_DEFAULTS_MF_CM2: dict[str, dict[str, Any]] = {
    "alkaline": {
        "cs_mF_cm2": 0.040,
        "range_mF_cm2": (0.022, 0.130),
        "electrolytes": "1 M NaOH / KOH (used for any NaOH, KOH, LiOH, CsOH solution)",
        "source": "McCrory et al., J. Am. Chem. Soc. 2013, 135, 16977 (doi:10.1021/ja407115p)",
    },
    "acid": {
        "cs_mF_cm2": 0.035,
        "range_mF_cm2": (0.015, 0.110),
        "electrolytes": "1 M H2SO4 (used for any H2SO4, HClO4, HCl, HNO3, H3PO4 solution)",
        "source": "McCrory et al., J. Am. Chem. Soc. 2013, 135, 16977 (doi:10.1021/ja407115p)",
    },
}

_ALKALINE = re.compile(r"\b(alkaline|basic|base|(li|na|k|rb|cs)oh)\b", re.IGNORECASE)
_ACID = re.compile(r"\b(acid|acidic|h2so4|hclo4|hcl|hno3|h3po4)\b", re.IGNORECASE)


def default_cs_mF_cm2(electrolyte: str | None) -> float:
    """Literature specific capacitance Cs (mF/cm2) for an electrolyte description.

    ``electrolyte`` is free text such as ``"1 M KOH"``, ``"0.5 M H2SO4"``, ``"alkaline"``
    or ``"acid"``. Alkaline hydroxide solutions give 0.040 mF/cm2 and strong acids
    0.035 mF/cm2 (:data:`CS_DEFAULTS_MF_CM2`, McCrory et al. 2013).

    Raises
    ------
    MetadataError
        ``electrolyte`` is ``None``, neutral, or not recognised: no default is guessed.
    """
    hint = (
        "set specific_capacitance_mF_cm2 in raw/<sample>/sample.yaml (or defaults in "
        "config/config.yaml), or an electrolyte such as '1 M KOH' or '0.5 M H2SO4' "
        "that has a literature default (0.040 mF/cm2 alkaline, 0.035 mF/cm2 acid)"
    )
    if electrolyte is None or not str(electrolyte).strip():
        raise MetadataError(f"no specific capacitance for the ECSA: {hint}")
    text = str(electrolyte)
    is_alkaline = bool(_ALKALINE.search(text))
    is_acid = bool(_ACID.search(text))
    if is_alkaline and not is_acid:
        return float(CS_DEFAULTS_MF_CM2["alkaline"]["cs_mF_cm2"])
    if is_acid and not is_alkaline:
        return float(CS_DEFAULTS_MF_CM2["acid"]["cs_mF_cm2"])
    raise MetadataError(
        f"electrolyte {text!r} has no literature default specific capacitance "
        f"(defaults exist for alkaline hydroxide and strong-acid solutions only): {hint}"
    )


# --------------------------------------------------------------------------- scan rate

#: Scan rate in a file name: a number, a unit (V or mV), and a per-second mark or the
#: words "scan rate": ``cv_20mVs``, ``20 mV scan rate``, ``ECSA_0005mVs``, ``50mV-s``,
#: ``0.1Vs``, ``100mVs-1``, ``20mV_s``, ``20mVps``, ``10 mV per s``.
_NAME_RATE = re.compile(
    r"(?<![\d.,])(?P<num>\d+(?:[.,]\d+)?|[.,]\d+)\s*[_ -]?\s*(?P<unit>[mµu]?)V"
    r"(?:"
    r"\s*(?:[/_ -]|\s*per\s*)?\s*(?:s(?:ec)?)(?:\^?-1|-1)?(?![A-Za-z])"
    r"|ps(?![A-Za-z])"
    r"|[_ -]*scan[_ -]*rate"
    r")",
    re.IGNORECASE,
)
_UNIT_V = {"": 1.0, "m": 1e-3, "µ": 1e-6, "u": 1e-6}


def scan_rate_from_name(file_name: str) -> float | None:
    """Scan rate (V/s) written in a file name, or ``None`` if the name states none.

    Raises
    ------
    AnalysisError
        The name holds two different scan rates.
    """
    name = PureWindowsPath(PurePath(str(file_name)).name).name
    values = []
    for m in _NAME_RATE.finditer(name):
        num = float(m.group("num").replace(",", "."))
        values.append(num * _UNIT_V[m.group("unit").lower()])
    values = [v for v in values if v > 0]
    if not values:
        return None
    if max(values) > min(values) * (1 + 1e-9):
        shown = ", ".join(f"{v * 1e3:g} mV/s" for v in values)
        raise AnalysisError(
            f"{name}: the file name states several scan rates ({shown}); rename the file "
            "so it states one, or export with the time column so the rate can be measured"
        )
    return values[0]


def _hysteresis_V(E: np.ndarray) -> float:
    """Reversal threshold: 2 % of the window, at least 0.5 mV."""
    finite = E[np.isfinite(E)]
    span = float(np.ptp(finite)) if finite.size else 0.0
    return max(0.02 * span, 5e-4)


def _segments(E: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs (stop exclusive) of the monotonic sweeps of ``E``.

    Consecutive sweeps share their vertex point.
    """
    turns = turning_points(E, _hysteresis_V(E))
    bounds = [0, *turns, len(E) - 1]
    return [(a, b + 1) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def scan_rate_V_s(
    E_V,
    time_s=None,
    meta_scan_rate_V_s: float | None = None,
    file_name: str | None = None,
) -> tuple[float, str]:
    """Scan rate ``v`` (V/s) of a CV and where it came from.

    In order of trust:

    1. ``meta_scan_rate_V_s``, the value the file header states -> source ``"file header"``;
    2. ``|dE/dt|`` from the data: ``E`` is fitted linearly against ``t`` in the middle
       80 % (by potential) of every sweep, which skips the vertices, and the median of
       the sweeps' ``|slope|`` is returned -> ``"dE/dt"``;
    3. the file name (``cv_20mVs``, ``20 mV scan rate``, ``ECSA_0005mVs``, ``50mV-s``,
       ``0.1Vs``) -> ``"file name"``.

    Raises
    ------
    AnalysisError
        None of the three gives a positive rate.
    """
    if meta_scan_rate_V_s is not None:
        try:
            v = float(meta_scan_rate_V_s)
        except (TypeError, ValueError):
            v = math.nan  # an unreadable header value: measure the rate instead
        if math.isfinite(v) and v > 0:
            return v, "file header"
    if time_s is not None:
        v = _scan_rate_from_time(np.asarray(E_V, float), np.asarray(time_s, float))
        if v is not None:
            return v, "dE/dt"
    if file_name:
        v = scan_rate_from_name(file_name)
        if v is not None:
            return v, "file name"
    label = f"{file_name}: " if file_name else ""
    raise AnalysisError(
        f"{label}cannot determine the scan rate: the file header states none, "
        + ("the time column gives no usable sweep, " if time_s is not None else "there is no time column, ")
        + "and the file name has no scan rate; put it in the file name (e.g. 'cv_20mVs.txt' "
        "or '20 mV scan rate'), or export the CV with its time column"
    )


def _scan_rate_from_time(E: np.ndarray, t: np.ndarray) -> float | None:
    if E.shape != t.shape:
        raise AnalysisError(
            f"potential ({E.size} points) and time ({t.size} points) differ in length; "
            "the file is inconsistent, re-export it"
        )
    ok = np.isfinite(E) & np.isfinite(t)
    E, t = E[ok], t[ok]
    if E.size < 5 or np.ptp(t) <= 0:
        return None
    rates = []
    for a, b in _segments(E):
        e, tt = E[a:b], t[a:b]
        lo, hi = float(e.min()), float(e.max())
        span = hi - lo
        if span <= 0:
            continue
        inner = (e >= lo + 0.1 * span) & (e <= hi - 0.1 * span)
        if inner.sum() < 3 or np.ptp(tt[inner]) <= 0:
            continue
        slope = np.polyfit(tt[inner], e[inner], 1)[0]
        if np.isfinite(slope) and slope != 0:
            rates.append(abs(float(slope)))
    if not rates:
        return None
    return float(np.median(rates))


# --------------------------------------------------------------------------- cycles


def split_cycles(E_V, cycle=None) -> np.ndarray:
    """Cycle number (1, 2, ...) of every point of a CV.

    With ``cycle`` (the file's own cycle column) that column is returned as integers.
    Otherwise cycles are cut at the vertices: a cycle is one sweep in the starting
    direction plus the sweep back (anodic + cathodic, in whichever order the CV
    started), and a vertex point belongs to the sweep it ends. A last cycle with a
    single sweep is incomplete; :func:`charging_currents` skips it.
    Non-finite potentials take the cycle of the point before them.
    """
    E = np.asarray(E_V, float)
    if cycle is not None:
        c = np.asarray(cycle)
        if c.shape != E.shape:
            raise AnalysisError(
                f"cycle column ({c.size} points) and potential ({E.size} points) differ "
                "in length; the file is inconsistent, re-export it"
            )
        return c.astype(np.int64)
    out = np.ones(E.size, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(E))
    if ok.size < 3:
        return out
    Ef = E[ok]
    turns = turning_points(Ef, _hysteresis_V(Ef))
    # sweep number of each finite point: vertices passed strictly before it
    sweep = np.searchsorted(np.asarray(turns, dtype=np.int64), np.arange(Ef.size), side="left")
    cyc_f = sweep // 2 + 1
    out[ok] = cyc_f
    # non-finite points inherit the previous finite point's cycle
    if ok.size < E.size:
        idx = np.maximum.accumulate(np.where(np.isfinite(E), np.arange(E.size), 0))
        out = out[idx]
        out[: ok[0]] = cyc_f[0]
    return out


# --------------------------------------------------------------------------- charging currents


@dataclass(frozen=True)
class ChargingCurrents:
    """Currents at ``E_mid_V`` on the two sweeps of one CV cycle.

    ``i_anodic_A`` is read on the sweep towards positive potentials, ``i_cathodic_A``
    on the sweep back (normally negative). ``E_window_V`` is the (min, max) potential
    of the cycle used; ``complete_cycles`` lists the cycles that had both sweeps
    through ``E_mid_V``.
    """

    i_anodic_A: float
    i_cathodic_A: float
    E_mid_V: float
    cycle: int
    E_window_V: tuple[float, float]
    complete_cycles: tuple[int, ...]
    n_fit_points: tuple[int, int] = (0, 0)

    @property
    def charging_A(self) -> float:
        """(i_anodic - i_cathodic) / 2, the double-layer charging current in A."""
        return 0.5 * (self.i_anodic_A - self.i_cathodic_A)


def _current_at(E: np.ndarray, I: np.ndarray, E_mid: float, half_width_V: float) -> tuple[float, int]:
    """Current at ``E_mid`` on one sweep: a straight line I(E) through the points within
    ``half_width_V`` of ``E_mid`` (at least the 5 nearest), evaluated at ``E_mid``.

    A local line rather than point-to-point interpolation averages the current noise
    and tolerates noisy, non-monotonic measured potentials.
    """
    d = np.abs(E - E_mid)
    sel = np.flatnonzero(d <= half_width_V)
    if sel.size < 5:
        sel = np.argsort(d)[: min(5, d.size)]
    e, i = E[sel], I[sel]
    if sel.size >= 2 and np.ptp(e) > 0:
        slope, intercept = np.polyfit(e, i, 1)
        return float(slope * E_mid + intercept), int(sel.size)
    return float(np.mean(i)), int(sel.size)


def charging_currents(
    E_V,
    I_A,
    cycle=None,
    E_mid_V: float | None = None,
    which_cycle: int | str = "last",
) -> ChargingCurrents:
    """Anodic and cathodic currents (A) at ``E_mid_V`` on one complete cycle of a CV.

    ``E_mid_V`` defaults to the middle of the chosen cycle's potential window, where
    the charging current has long reached ``Cdl * v`` after the vertex (the
    transient decays with ``Ru * Cdl``). ``which_cycle`` is ``"last"`` (the last
    complete cycle, default), ``"first"``, or a cycle number as in ``cycle`` or, when
    the file has no cycle column, as :func:`split_cycles` numbers them (1, 2, ...).
    Sweeps are found over the whole file (vertices by hysteresis); a sweep's crossing
    of ``E_mid_V`` belongs to the cycle of the point nearest ``E_mid_V``, so vendor
    cycles that start mid-window (EC-Lab's Ei) work too. A cycle is complete when a
    sweep up and a sweep down cross ``E_mid_V`` in it (the last of each is used). On
    each sweep the current is read from a straight line through the points within
    2 % of the window (at least 5) around ``E_mid_V``.

    Raises
    ------
    AnalysisError
        No complete cycle, the requested cycle is missing or incomplete, or
        ``E_mid_V`` is outside the window.
    """
    E = np.asarray(E_V, float)
    I = np.asarray(I_A, float)
    if E.shape != I.shape:
        raise AnalysisError(
            f"potential ({E.size} points) and current ({I.size} points) differ in length; "
            "the file is inconsistent, re-export it"
        )
    cyc = split_cycles(E, cycle)
    ok = np.isfinite(E) & np.isfinite(I)
    E, I, cyc = E[ok], I[ok], cyc[ok]
    if E.size < 10 or np.ptp(E) < 1e-3:
        raise AnalysisError(
            f"the CV has {E.size} usable points over {np.ptp(E) * 1e3 if E.size else 0:.3g} mV; "
            "a charging-current analysis needs a cyclic sweep of at least a few mV "
            "(typically a 100 mV window without faradaic processes)"
        )

    labels = list(dict.fromkeys(cyc.tolist()))  # order of appearance
    mids: dict[int, float] = {}
    windows: dict[int, tuple[float, float]] = {}
    half_widths: dict[int, float] = {}
    for lab in labels:
        e = E[cyc == lab]
        lo, hi = float(e.min()), float(e.max())
        windows[lab] = (lo, hi)
        mids[lab] = 0.5 * (lo + hi) if E_mid_V is None else float(E_mid_V)
        half_widths[lab] = max(0.02 * (hi - lo), 2e-4)

    # Sweeps are cut over the whole file, not inside each cycle: a vendor cycle that
    # starts mid-window (EC-Lab starts at Ei, often the middle) splits a sweep in two,
    # and E_mid can sit right at that boundary. A sweep's crossing of E_mid belongs to
    # the cycle of the point nearest E_mid.
    branches: dict[int, dict[str, tuple[int, int]]] = {lab: {} for lab in labels}
    for a, b in _segments(E):
        es, cs = E[a:b], cyc[a:b]
        if es.size < 3:
            continue
        key = "anodic" if es[-1] > es[0] else "cathodic"
        for lab in dict.fromkeys(cs.tolist()):
            mid, hw = mids[lab], half_widths[lab]
            if not (es.min() <= mid - hw and es.max() >= mid + hw):
                continue
            if cs[int(np.argmin(np.abs(es - mid)))] != lab:
                continue
            branches[lab][key] = (a, b)  # the last sweep of that direction wins
    found = {lab: br for lab, br in branches.items() if len(br) == 2}

    complete = tuple(int(x) for x in found)
    E_all = (float(E.min()), float(E.max()))
    if not found:
        if E_mid_V is not None and not (E_all[0] < E_mid_V < E_all[1]):
            raise AnalysisError(
                f"E_mid_V = {E_mid_V:g} V is outside the CV window "
                f"({E_all[0]:.4g} to {E_all[1]:.4g} V); set ecsa.E_mid_V inside the window or "
                "leave it empty for the middle of each CV"
            )
        raise AnalysisError(
            "the CV has no complete cycle (a sweep up and a sweep down through "
            f"E_mid = {next(iter(mids.values())):.4g} V); measure at least one full cycle "
            "in the non-faradaic window"
        )

    if which_cycle == "last":
        chosen = complete[-1]
    elif which_cycle == "first":
        chosen = complete[0]
    else:
        try:
            chosen = int(which_cycle)
        except (TypeError, ValueError):
            raise AnalysisError(
                f"which_cycle = {which_cycle!r}: use 'last', 'first' or a cycle number"
            ) from None
        if chosen not in found:
            state = "is incomplete" if chosen in labels else "does not exist"
            raise AnalysisError(
                f"cycle {chosen} {state} in this CV; complete cycles are "
                f"{list(complete)}: set ecsa.which_cycle to one of them, or 'last'"
            )

    mid, hw = mids[chosen], half_widths[chosen]
    (a0, a1), (c0, c1) = found[chosen]["anodic"], found[chosen]["cathodic"]
    i_a, n_a = _current_at(E[a0:a1], I[a0:a1], mid, hw)
    i_c, n_c = _current_at(E[c0:c1], I[c0:c1], mid, hw)
    return ChargingCurrents(
        i_anodic_A=i_a,
        i_cathodic_A=i_c,
        E_mid_V=mid,
        cycle=int(chosen),
        E_window_V=windows[chosen],
        complete_cycles=complete,
        n_fit_points=(n_a, n_c),
    )


# --------------------------------------------------------------------------- Cdl fit


@dataclass(repr=False)
class CdlResult(Result):
    """Double-layer capacitance from a scan-rate series.

    ``cdl_F`` is the slope of ``(i_a - i_c)/2`` against ``v`` (F = A s/V);
    ``anodic_F`` the slope of ``i_a`` and ``cathodic_F`` of ``-i_c``. Errors are
    standard errors of the slopes. ``r2`` belongs to the main fit. ``audit`` is a
    JSON-serialisable record of inputs, settings and fits. Prints Cdl rounded to its
    error; :meth:`report`, :meth:`plot`, :meth:`to_dict` as every result (:mod:`echem.results`);
    :meth:`ecsa_cm2` for ECSA = Cdl/Cs.
    """

    cdl_F: float
    cdl_err_F: float
    anodic_F: float
    anodic_err_F: float
    cathodic_F: float
    cathodic_err_F: float
    intercept_A: float
    intercept_err_A: float
    r2: float
    n_points: int
    n_scan_rates: int
    warnings: list[str] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)

    title = "double-layer capacitance"

    def quantities(self) -> list[Value]:
        return [Value("Cdl", self.cdl_F * 1e3, self.cdl_err_F * 1e3, "mF"),
                Value("anodic", self.anodic_F * 1e3, self.anodic_err_F * 1e3, "mF"),
                Value("cathodic", self.cathodic_F * 1e3, self.cathodic_err_F * 1e3, "mF"),
                Value("r2", self.r2), Value("scan_rates", self.n_scan_rates)]

    def method(self) -> str:
        return str(self.audit.get("equation", ""))

    @property
    def flags(self) -> list:
        """Flags of the fit (:mod:`echem.flags`): cdl_asymmetric, cdl_nonlinear, cdl_no_error."""
        from echem.flags import Flag

        out = []
        for w in self.warnings:
            code = ("cdl_asymmetric" if "slopes differ" in w else "cdl_nonlinear" if "R²" in w else
                    "cdl_no_error" if "only 2 scan rates" in w else None)
            if code:
                out.append(Flag(code, w))
        return out

    def ecsa_cm2(self, cs_mF_cm2: float) -> tuple[float, float]:
        """ECSA (cm²) = Cdl/Cs with its error (:func:`ecsa_cm2`)."""
        return ecsa_cm2(self.cdl_F, self.cdl_err_F, cs_mF_cm2)

    def plot(self, ax=None):
        """Charging currents against scan rate with the Cdl line (:func:`echem.plots.ecsa.plot_cdl_fit`)."""
        from echem.plots.ecsa import plot_cdl_fit

        inputs = self.audit["inputs"]
        return plot_cdl_fit(axis(ax), self, inputs["scan_rates_V_s"], inputs["i_anodic_A"], inputs["i_cathodic_A"])

    @property
    def cdl_mF(self) -> float:
        return self.cdl_F * 1e3

    @property
    def cdl_err_mF(self) -> float:
        return self.cdl_err_F * 1e3

    @property
    def asymmetry(self) -> float:
        """|anodic - cathodic| / mean(|anodic|, |cathodic|), a fraction."""
        return _asymmetry(self.anodic_F, self.cathodic_F)


def _asymmetry(a: float, c: float) -> float:
    mean = 0.5 * (abs(a) + abs(c))
    return abs(a - c) / mean if mean > 0 else math.inf


def _line_fit(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """``y = slope * x + intercept`` by lmfit, on scaled data (currents are ~1e-6 A).

    Returns slope, intercept, their standard errors (NaN with 2 points), R² and
    residual statistics, all in the units of ``x`` and ``y``.
    """
    from lmfit.models import LinearModel

    xs = float(np.max(np.abs(x))) or 1.0
    ys = float(np.max(np.abs(y))) or 1.0
    model = LinearModel()
    params = model.guess(y / ys, x=x / xs)
    fit = model.fit(y / ys, params, x=x / xs)
    slope_p, icpt_p = fit.params["slope"], fit.params["intercept"]

    def err(p) -> float:
        return float(p.stderr) if p.stderr is not None and np.isfinite(p.stderr) else math.nan

    slope = float(slope_p.value) * ys / xs
    intercept = float(icpt_p.value) * ys
    resid = y - (slope * x + intercept)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else math.nan
    if x.size == 2:
        slope_err = icpt_err = math.nan  # a line through two points has no error estimate
    else:
        slope_err, icpt_err = err(slope_p) * ys / xs, err(icpt_p) * ys
        if x.size > 2 and np.allclose(resid, 0, atol=1e-12 * ys):
            slope_err, icpt_err = 0.0, 0.0
    return {
        "slope": slope,
        "slope_err": slope_err,
        "intercept": intercept,
        "intercept_err": icpt_err,
        "r2": r2,
        "residual_rms": float(np.sqrt(np.mean(resid**2))),
        "residual_max_abs": float(np.max(np.abs(resid))),
        "residuals": [float(r) for r in resid],
    }


def fit_cdl(
    scan_rates_V_s,
    i_anodic_A,
    i_cathodic_A,
    *,
    r2_min: float = 0.99,
    asymmetry_max: float = 0.2,
    min_scan_rates: int = 3,
) -> CdlResult:
    """Double-layer capacitance Cdl (F) from charging currents at several scan rates.

    Fits (lmfit, unweighted, intercept free)::

        (i_a - i_c) / 2 = Cdl * v + b        -> cdl_F  (the result)
        i_a             = C_a * v + b_a      -> anodic_F
        -i_c            = C_c * v + b_c      -> cathodic_F

    with ``v`` in V/s and currents in A, so the slopes are in F. Repeated
    measurements at one scan rate are all fitted.

    Warnings (in ``warnings`` and ``audit``) when ``|C_a - C_c| / mean`` exceeds
    ``asymmetry_max`` (a faradaic process in the window) or ``R² < r2_min``.

    Raises
    ------
    AnalysisError
        Fewer than ``min_scan_rates`` (>= 2) distinct scan rates, non-finite or
        non-positive input, or a Cdl that is not positive.
    """
    v = np.asarray(scan_rates_V_s, float).ravel()
    ia = np.asarray(i_anodic_A, float).ravel()
    ic = np.asarray(i_cathodic_A, float).ravel()
    if not (v.size == ia.size == ic.size):
        raise AnalysisError(
            f"{v.size} scan rates but {ia.size} anodic and {ic.size} cathodic currents; "
            "give one of each per CV"
        )
    bad = ~(np.isfinite(v) & np.isfinite(ia) & np.isfinite(ic))
    if bad.any():
        raise AnalysisError(
            f"CV number(s) {np.flatnonzero(bad).tolist()} of the series have a non-finite "
            "scan rate or current; check those files or leave them out"
        )
    if np.any(v <= 0):
        raise AnalysisError(
            f"scan rates must be positive; got {[f'{x * 1e3:g} mV/s' for x in v]}"
        )
    min_scan_rates = max(int(min_scan_rates), 2)
    distinct = np.unique(np.round(v * 1e7) / 1e7)
    if distinct.size < min_scan_rates:
        shown = ", ".join(f"{x * 1e3:g}" for x in distinct)
        missing = min_scan_rates - distinct.size
        raise AnalysisError(
            f"the Cdl fit needs CVs at >= {min_scan_rates} scan rates; found {distinct.size} "
            f"({shown} mV/s): add CVs at {missing} more scan rate(s) in the same "
            "non-faradaic window (e.g. 10, 20, 40, 60, 80, 100 mV/s)"
        )

    charging = 0.5 * (ia - ic)
    main = _line_fit(v, charging)
    an = _line_fit(v, ia)
    ca = _line_fit(v, -ic)

    if not main["slope"] > 0:
        raise AnalysisError(
            f"the charging current (i_a - i_c)/2 does not increase with scan rate "
            f"(slope {main['slope'] * 1e3:.3g} mF); the CVs are not a capacitive scan-rate "
            "series at this potential: check the scan rates and choose a window (E_mid_V) "
            "without faradaic peaks"
        )

    warnings: list[str] = []
    asym = _asymmetry(an["slope"], ca["slope"])
    if asym > asymmetry_max:
        warnings.append(
            f"anodic ({an['slope'] * 1e3:.4g} mF) and cathodic ({ca['slope'] * 1e3:.4g} mF) "
            f"slopes differ by {asym * 100:.0f} % (> {asymmetry_max * 100:.0f} %): a faradaic "
            "process adds current on one sweep"
            + ("" if min(an["slope"], ca["slope"]) > 0 else
               " (a negative slope: the current on that sweep falls as the scan rate rises)")
            + "; the window is not purely capacitive, move E_mid_V or the CV window away "
            "from redox features"
        )
    if np.isfinite(main["r2"]) and main["r2"] < r2_min:
        warnings.append(
            f"R² = {main['r2']:.4f} of the Cdl line is below {r2_min:g}: the charging current "
            "is not proportional to the scan rate; check for faradaic current, "
            "uncompensated resistance at high scan rates, or a mislabelled scan rate"
        )
    if distinct.size == 2:
        warnings.append(
            "only 2 scan rates: the Cdl line has no standard error; measure at >= 3"
        )

    def fit_record(f: dict[str, float], y_name: str) -> dict[str, Any]:
        return {
            "y": y_name,
            "slope_F": f["slope"],
            "slope_err_F": _json_float(f["slope_err"]),
            "intercept_A": f["intercept"],
            "intercept_err_A": _json_float(f["intercept_err"]),
            "r2": _json_float(f["r2"]),
            "residual_rms_A": f["residual_rms"],
            "residual_max_abs_A": f["residual_max_abs"],
            "residuals_A": f["residuals"],
        }

    audit = {
        "stage": "ecsa",
        "method": "linear fit of the charging current against scan rate (lmfit LinearModel, "
        "unweighted, intercept free)",
        "equation": "(i_a - i_c)/2 = Cdl * v + b; Cdl in F, v in V/s, i in A",
        "settings": {
            "r2_min": r2_min,
            "asymmetry_max": asymmetry_max,
            "min_scan_rates": min_scan_rates,
        },
        "inputs": {
            "scan_rates_V_s": [float(x) for x in v],
            "i_anodic_A": [float(x) for x in ia],
            "i_cathodic_A": [float(x) for x in ic],
            "charging_A": [float(x) for x in charging],
        },
        "fit": fit_record(main, "(i_a - i_c)/2"),
        "anodic_fit": fit_record(an, "i_a"),
        "cathodic_fit": fit_record(ca, "-i_c"),
        "asymmetry": _json_float(asym),
        "n_points": int(v.size),
        "n_scan_rates": int(distinct.size),
        "warnings": list(warnings),
        "versions": _versions(),
    }
    return CdlResult(
        cdl_F=main["slope"],
        cdl_err_F=main["slope_err"],
        anodic_F=an["slope"],
        anodic_err_F=an["slope_err"],
        cathodic_F=ca["slope"],
        cathodic_err_F=ca["slope_err"],
        intercept_A=main["intercept"],
        intercept_err_A=main["intercept_err"],
        r2=main["r2"],
        n_points=int(v.size),
        n_scan_rates=int(distinct.size),
        warnings=warnings,
        audit=audit,
    )


def cv_point(measurement, *, E_mid_V: float | None = None, which_cycle: str | int = "last") -> dict[str, Any]:
    """The charging currents and scan rate of one CV of a scan-rate series.

    ``measurement`` is a :class:`~echem.measurement.Measurement` (``E_V``, ``I_A``, and
    ``time_s``/``cycle`` when the file has them). Returns ``file, sha256, scan_rate_V_s,
    scan_rate_source, i_anodic_A, i_cathodic_A, E_mid_V`` (:func:`scan_rate_V_s`,
    :func:`charging_currents`) and the arrays ``E``, ``I`` for figures.
    """
    data, meta = measurement.data, measurement.meta
    E = data["E_V"].to_numpy(float)
    I = data["I_A"].to_numpy(float)
    t = data["time_s"].to_numpy(float) if "time_s" in data.columns else None
    cycle = data["cycle"].to_numpy() if "cycle" in data.columns else None
    name = meta.get("file") or meta.get("source")
    v, v_source = scan_rate_V_s(E, time_s=t, meta_scan_rate_V_s=meta.get("scan_rate_V_s"), file_name=name)
    cc = charging_currents(E, I, cycle=cycle, E_mid_V=E_mid_V, which_cycle=which_cycle)
    return {"file": name, "sha256": meta.get("sha256"), "scan_rate_V_s": v, "scan_rate_source": v_source,
            "i_anodic_A": cc.i_anodic_A, "i_cathodic_A": cc.i_cathodic_A, "E_mid_V": cc.E_mid_V, "E": E, "I": I}


def cdl_from_points(points, *, r2_min: float = 0.99, asymmetry_max: float = 0.2,
                    min_scan_rates: int = 3) -> CdlResult:
    """:func:`fit_cdl` on the :func:`cv_point` of each CV, with a clear error when the series
    has too few scan rates."""
    rates = sorted({round(p["scan_rate_V_s"], 9) for p in points})
    if len(rates) < min_scan_rates:
        listed = ", ".join(f"{r * 1e3:g} mV/s" for r in rates) or "none"
        raise AnalysisError(f"ECSA needs CVs at >= {min_scan_rates} scan rates; found "
                            f"{len(rates)} ({listed}); add CVs in a non-faradaic window at more scan rates")
    return fit_cdl([p["scan_rate_V_s"] for p in points], [p["i_anodic_A"] for p in points],
                   [p["i_cathodic_A"] for p in points], r2_min=r2_min, asymmetry_max=asymmetry_max,
                   min_scan_rates=min_scan_rates)


def cdl(cvs, *, E_mid_V: float | None = None, which_cycle: str | int = "last", r2_min: float = 0.99,
        asymmetry_max: float = 0.2, min_scan_rates: int = 3) -> CdlResult:
    """Cdl of a CV scan-rate series read by :func:`echem.read` (one measurement per scan rate).

    Example::

        cvs = [echem.read(p) for p in sorted(Path("raw/PtMG_UV50J").glob("cv_*"))]
        res = echem.cdl(cvs)          # res.cdl_mF, res.ecsa_cm2(0.040)
    """
    return cdl_from_points([cv_point(m, E_mid_V=E_mid_V, which_cycle=which_cycle) for m in cvs],
                           r2_min=r2_min, asymmetry_max=asymmetry_max, min_scan_rates=min_scan_rates)


def _json_float(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _versions() -> dict[str, str]:
    import lmfit

    import echem

    return {"echem": echem.__version__, "lmfit": lmfit.__version__, "numpy": np.__version__}


# --------------------------------------------------------------------------- derived numbers


def ecsa_cm2(cdl_F: float, cdl_err_F: float, cs_mF_cm2: float) -> tuple[float, float]:
    """ECSA (cm2) = Cdl (mF) / Cs (mF/cm2), with its standard error.

    ``Cs`` is taken as exact (a convention, not a measurement), so
    ``err = cdl_err (mF) / Cs``; a NaN ``cdl_err_F`` gives a NaN error.
    """
    cs = float(cs_mF_cm2)
    if not (math.isfinite(cs) and cs > 0):
        raise MetadataError(
            f"specific_capacitance_mF_cm2 = {cs_mF_cm2!r} must be a positive number "
            "(typically 0.02-0.13 mF/cm2); fix it in sample.yaml or config/config.yaml"
        )
    return float(cdl_F) * 1e3 / cs, float(cdl_err_F) * 1e3 / cs


def roughness_factor(
    ecsa_cm2: float, geometric_area_cm2: float, ecsa_err_cm2: float = 0.0
) -> tuple[float, float]:
    """Roughness factor (dimensionless) = ECSA / geometric area, with its error.

    The geometric area is taken as exact.
    """
    area = _positive_area(geometric_area_cm2)
    return float(ecsa_cm2) / area, float(ecsa_err_cm2) / area


def specific_activity_mA_cm2(
    I_A: float, I_err_A: float | None, ecsa_cm2: float, ecsa_err_cm2: float
) -> tuple[float, float]:
    """Specific activity ``sa = |I| / ECSA`` in mA/cm2 (of ECSA), with its error.

    ``err = sa * sqrt((I_err/I)^2 + (ECSA_err/ECSA)^2)`` (independent errors, added in
    quadrature). ``I_err_A = None`` means the current is taken as exact.
    """
    I = abs(float(I_A))
    ecsa = float(ecsa_cm2)
    if not (math.isfinite(ecsa) and ecsa > 0):
        raise AnalysisError(
            f"ECSA = {ecsa_cm2!r} cm2 is not positive; the specific activity needs a valid Cdl fit"
        )
    sa = I * 1e3 / ecsa
    rel_I = (float(I_err_A) / I) if (I_err_A is not None and I > 0) else 0.0
    rel_A = float(ecsa_err_cm2) / ecsa
    return sa, abs(sa) * math.sqrt(rel_I**2 + rel_A**2)


def mass_activity_A_g(I_A: float, area_cm2: float, loading_mg_cm2: float | None) -> float:
    """Mass activity (A/g) = |I| / (loading (mg/cm2) * area (cm2) * 1e-3 g/mg).

    Raises
    ------
    MetadataError
        The loading is missing or not positive.
    """
    if loading_mg_cm2 is None:
        raise MetadataError(
            "mass activity needs the catalyst loading: set loading_mg_cm2 in "
            "raw/<sample>/sample.yaml"
        )
    loading = float(loading_mg_cm2)
    if not (math.isfinite(loading) and loading > 0):
        raise MetadataError(
            f"loading_mg_cm2 = {loading_mg_cm2!r} must be a positive number; fix it in sample.yaml"
        )
    area = _positive_area(area_cm2)
    return abs(float(I_A)) / (loading * area * 1e-3)


def _positive_area(area_cm2: float) -> float:
    area = float(area_cm2) if area_cm2 is not None else math.nan
    if not (math.isfinite(area) and area > 0):
        raise MetadataError(
            f"geometric area {area_cm2!r} cm2 must be a positive number; set area_cm2 in "
            "raw/<sample>/sample.yaml"
        )
    return area


__all__ = [
    "CS_DEFAULTS_MF_CM2",
    "CdlResult",
    "cdl",
    "cdl_from_points",
    "cv_point",
    "ChargingCurrents",
    "charging_currents",
    "default_cs_mF_cm2",
    "ecsa_cm2",
    "fit_cdl",
    "mass_activity_A_g",
    "roughness_factor",
    "scan_rate_V_s",
    "scan_rate_from_name",
    "specific_activity_mA_cm2",
    "split_cycles",
]
