"""The series (uncompensated) resistance Ru of a cell, read from its impedance spectrum.

One decision, one place: which number of an EIS analysis may be used as Ru for the iR
correction of a polarisation curve, and how sure it is.

1. **The fitted series resistor** (``R0`` of ``R0-p(R1,CPE1)``) when the fit
   determines it: not at a bound of the fit, standard error finite and smaller than
   the value. Source ``"EIS fit R0"``. Where the spectrum meets the real axis and the
   intercept there disagrees with R0 (by more than 3 standard errors and 10 %: the fit
   extrapolates an arc above the measured frequencies), R0 is kept with its error widened
   to half the difference, flagged ``ru_ambiguous``.
2. Else **the high-frequency intercept** of the spectrum with the real axis
   (:func:`hf_intercept`), when the spectrum reaches or approaches the axis:
   interpolated at an inductive crossing (``measured``), or extrapolated along the
   high-frequency end (``measured`` when that end already lies within 6° of the axis,
   else ``extrapolated``, flagged ``ru_extrapolated``).
3. Else **no Ru**: the spectrum's high-frequency end is still on an arc (its highest
   frequency sits near the arc's apex, or the extrapolation misses the positive real
   axis). Then only a bound is known, ``0 <= Ru <= Z'(f_max)``, recorded in the audit
   and flagged ``ru_bound_only``; a polarisation curve of the sample is then *not*
   iR-corrected (flag ``no_ir``), rather than corrected with a number that is not Ru.

A negative or clamped value is never reported as Ru.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from echem.errors import AnalysisError
from echem.flags import Flag

#: Phase angle below which the highest-frequency point counts as on the real axis:
#: tan(6°) ≈ 0.1, i.e. -Z'' < 0.1·Z' there.
ON_AXIS_RATIO = 0.1
#: The highest-frequency point is "near the apex" of the high-frequency arc when its
#: -Z'' exceeds this fraction of the arc's height: nothing to extrapolate from.
APEX_RATIO = 0.5
#: An extrapolated intercept whose error exceeds this fraction of its value is a bound.
MAX_REL_ERR = 0.5


@dataclass
class SeriesResistance:
    """Ru from a spectrum (Ohm). ``value_ohm`` is None when only ``bound_ohm`` is known.

    ``status``: ``"fit"`` (the fitted series resistor), ``"measured"`` (intercept at or
    next to the real axis), ``"extrapolated"`` (flagged), ``"bound"`` (no value).
    """

    value_ohm: float | None
    err_ohm: float | None
    status: str
    source: str
    bound_ohm: float | None = None
    flags: list[Flag] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.value_ohm is not None

    def to_dict(self) -> dict[str, Any]:
        return {"value_ohm": self.value_ohm, "err_ohm": self.err_ohm, "status": self.status,
                "source": self.source, "bound_ohm": self.bound_ohm,
                "flags": [f.to_dict() for f in self.flags], **self.audit}


def _sorted_desc(freq_Hz, Z):
    f = np.asarray(freq_Hz, float).ravel()
    Z = np.asarray(Z, complex).ravel()
    ok = np.isfinite(f) & np.isfinite(Z.real) & np.isfinite(Z.imag) & (f > 0)
    f, Z = f[ok], Z[ok]
    if f.size == 0:
        raise AnalysisError("no finite impedance points; cannot find the high-frequency intercept")
    order = np.argsort(-f, kind="stable")
    return f[order], Z[order]


def _line_intercept(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """x = a + b·y through the points: (a, b)."""
    b, a = np.polyfit(y, x, 1)
    return float(a), float(b)


def _intercept_se(y: np.ndarray, x: np.ndarray) -> float:
    """Standard error of the intercept of the least-squares line x = a + b·y (0 with 3 points
    or fewer: a line through them has almost no residual to judge by, and the other terms
    of the error cover it)."""
    m = x.size
    if m <= 3:
        return 0.0
    b, a = np.polyfit(y, x, 1)
    resid = x - (a + b * y)
    s2 = float(resid @ resid) / (m - 2)
    sy = float(np.sum((y - y.mean()) ** 2))
    return math.sqrt(s2 * (1.0 / m + y.mean() ** 2 / sy)) if sy > 0 else 0.0


def hf_intercept(freq_Hz, Z) -> SeriesResistance:
    """Where the spectrum meets the real axis at high frequency (module docstring, step 2).

    With points ordered from the highest frequency down, ``x = Z'`` and ``y = −Z''``:

    * an inductive crossing (``y`` changes sign in the top third): ``x`` interpolated
      linearly to ``y = 0``; error half the ``x`` step there; ``measured``;
    * capacitive at ``f_max``: the line ``x = a + b·y`` through the three highest points
      is extrapolated to ``y = 0`` (exact for an R-CPE end, whose Nyquist curve is a
      straight line); error ``hypot(|a − a'|, 0.1·(x₀ − a), σ_a)`` with ``a'`` the same
      line one point lower and σ_a the intercept's standard error of a line through up to
      five highest points (the noise). ``measured`` if ``y₀ ≤ 0.1·x₀`` (the point lies
      within 6° of the axis; where the line does not extrapolate cleanly there, ``x₀``
      itself with error ``y₀``), ``extrapolated`` otherwise;
    * a **bound** ``Ru ≤ x₀`` only (``≤ a + 2·error`` when that is tighter), when the
      points move away from the axis (``b ≤ 0``), ``y₀`` exceeds half the height of the
      high-frequency arc (``f_max`` near its apex), the line meets the axis left of 0 by
      more than twice its error, or the error exceeds half the value. No bound at all
      when ``x₀ ≤ 0`` (artefacts at the highest frequencies).
    """
    f, Z = _sorted_desc(freq_Hz, Z)
    x, y = Z.real, -Z.imag
    n = x.size
    audit: dict[str, Any] = {"f_max_Hz": float(f[0]), "Z_re_at_f_max_ohm": float(x[0]),
                             "minus_Z_im_at_f_max_ohm": float(y[0])}

    def bound(why: str, top: float | None = None) -> SeriesResistance:
        top = float(x[0]) if top is None else float(top)
        if not top > 0:
            why += f"; Z' = {x[0]:.4g} Ohm at the highest frequency is not a resistance (artefacts)"
            return SeriesResistance(None, None, "bound", f"none: {why}", bound_ohm=None,
                                    flags=[Flag("ru_bound_only", f"{why}; Ru cannot be read from this spectrum")],
                                    audit={**audit, "why": why})
        return SeriesResistance(
            None, None, "bound", f"none: {why}", bound_ohm=top,
            flags=[Flag("ru_bound_only", f"{why}; only 0 <= Ru <= {top:.4g} Ohm is known")],
            audit={**audit, "why": why})

    def value(v: float, err: float, status: str, method: str, flag: str | None = None) -> SeriesResistance:
        source = {"measured": "EIS high-frequency intercept",
                  "extrapolated": "EIS high-frequency intercept (extrapolated)"}[status]
        flags = [Flag("ru_extrapolated", flag)] if flag else []
        return SeriesResistance(float(v), float(err), status, source, flags=flags,
                                audit={**audit, "method": method})

    if n == 1:
        return bound("a single impedance point")
    top_third = min(n - 1, max(3, n // 3))
    for i in range(top_third):
        if y[i] == 0:
            return value(x[i], 0.0, "measured", "point with Z'' = 0") if x[i] > 0 else \
                bound("the point on the real axis has Z' <= 0")
        if (y[i] < 0) != (y[i + 1] < 0):
            t = y[i] / (y[i] - y[i + 1])
            v = float(x[i] + t * (x[i + 1] - x[i]))
            if v <= 0:
                return bound(f"the inductive crossing lies at Z' = {v:.3g} Ohm")
            audit["between_Hz"] = [float(f[i]), float(f[i + 1])]
            return value(v, abs(float(x[i + 1] - x[i])) / 2, "measured",
                         "linear interpolation at the sign change of Z'' (inductive crossing)")
        if y[i] > 0:
            break  # capacitive at the top: extrapolate
    if y[0] <= 0:
        return bound("the highest-frequency points are inductive with no crossing in the top third")
    if n < 3:
        return bound("fewer than three points to extrapolate from")
    # height of the high-frequency arc: -Z'' climbs from f_max to the arc's apex
    k = 0
    while k + 1 < n and y[k + 1] >= y[k]:
        k += 1
    height = float(y[k])
    audit["hf_arc_height_ohm"] = height
    a, b = _line_intercept(y[:3], x[:3])
    a2 = _line_intercept(y[1:4], x[1:4])[0] if n >= 4 else a
    distance = float(x[0] - a)
    m = max(3, min(5, k + 1))
    err = math.hypot(a - a2, 0.1 * distance, _intercept_se(y[:m], x[:m]))
    audit.update({"line": "Z' = a + b(-Z'') through the 3 highest-frequency points", "a_ohm": a,
                  "a_next_ohm": a2, "slope_b": b, "extrapolation_ohm": distance, "err_ohm": err})
    on_axis = x[0] > 0 and y[0] <= ON_AXIS_RATIO * x[0]
    clean = b > 0 and a > 0 and err <= 0.1 * a
    if on_axis:
        if clean:
            return value(a, err, "measured", "the line at -Z'' = 0 (the highest frequency lies within 6° "
                                             "of the real axis)")
        return value(x[0], y[0], "measured", "Z' at the highest frequency, within 6° of the real axis "
                                             "(error: -Z'' there)")
    if k > 0 and y[0] > APEX_RATIO * height:
        return bound(f"the spectrum's highest frequency ({f[0]:.4g} Hz) is still on an arc "
                     f"(-Z'' = {y[0]:.4g} Ohm there, {100 * y[0] / height:.0f} % of the arc's height): "
                     "it does not reach the real axis")
    if not b > 0:
        return bound("the highest-frequency points move away from the real axis (Z' falls as -Z'' "
                     "falls): the arc is seen from its low-frequency side only")
    if a < -2.0 * err:
        return bound(f"extrapolating the high-frequency end to the real axis gives Z' = {a:.4g} Ohm < 0")
    v = max(a, 0.0)
    if v == 0.0 or err > MAX_REL_ERR * v:
        return bound(f"the extrapolation to the real axis is uncertain ({v:.4g} ± {err:.2g} Ohm)",
                     top=min(float(x[0]), v + 2.0 * err))
    return value(v, err, "extrapolated", "the line at -Z'' = 0",
                 f"Ru = {v:.4g} ± {err:.2g} Ohm extrapolated {distance:.3g} Ohm beyond the highest frequency "
                 f"({f[0]:.4g} Hz, phase {math.degrees(math.atan2(y[0], x[0])):.0f}°)")


def from_fit(circuit_params: list[dict] | None, series_name: str | None, at_bound: list[str],
             freq_Hz, Z) -> SeriesResistance:
    """Ru for a spectrum: the fitted series resistor when determined, else :func:`hf_intercept`.

    ``circuit_params``: the fit's ``[{"param", "value", "stderr"}]`` (None: the fit was
    rejected); ``series_name``: the circuit's top-level series resistor (``R0``) or None;
    ``at_bound``: parameters the fit left at a bound.
    """
    intercept = hf_intercept(freq_Hz, Z)
    if circuit_params is not None and series_name is not None:
        p = next(p for p in circuit_params if p["param"] == series_name)
        value, err = float(p["value"]), p.get("stderr")
        err = float(err) if err is not None else math.inf
        why = None
        if series_name in at_bound:
            why = f"{series_name} sits at a bound of the fit"
        elif not (math.isfinite(err) and err <= abs(value)):
            why = f"{series_name} = {value:.3g} ± {err:.2g} Ohm is not determined by the data"
        if why is None:
            flags = []
            if intercept.status == "measured" and intercept.known:
                gap = abs(intercept.value_ohm - value)
                if gap > max(3.0 * math.hypot(err, intercept.err_ohm), 0.1 * intercept.value_ohm):
                    flags.append(Flag("ru_ambiguous", (
                        f"the fit's {series_name} = {value:.4g} ± {err:.2g} Ohm and the measured high-frequency "
                        f"intercept {intercept.value_ohm:.4g} Ohm disagree (an arc beyond the measured "
                        f"frequencies?): {series_name} is used, its error widened to cover both")))
                    err = math.hypot(err, gap / 2.0)
            return SeriesResistance(value, err, "fit", f"EIS fit {series_name}", flags=flags,
                                    audit={"hf_intercept": intercept.to_dict()})
        intercept.audit["fit_series_resistor_rejected"] = why
        if intercept.known:
            intercept.source += f" ({why})"
    elif circuit_params is None:
        intercept.audit["fit"] = "rejected"
        if intercept.known:
            intercept.source += " (the fit was rejected)"
    return intercept
