"""Arrhenius stage: ionic conductivity against temperature, activation energy.

Arrays in, results out; no file I/O. The workflow glue reads the spectra, fits them
(:mod:`echem.eis`), and hands this module the bulk resistance of each file with its
standard error and temperature.

Equations (units in the names):

* geometry factor ``K_cm_inv = L / A``:
  through-plane ``thickness_cm / area_cm2``; in-plane (two parallel electrodes on a
  film, current along the film) ``gap_cm / (length_cm * thickness_cm)``.
* conductivity ``sigma_S_cm = K_cm_inv / R_ohm``,
  ``sigma_err_S_cm = sigma_S_cm * R_err_ohm / R_ohm`` (geometry taken as exact).
* law ``"sigma_T"`` (default, DESIGN.md): ``sigma*T = A exp(-Ea / (k_B T))``, fitted as
  ``ln(sigma*T) = ln(A) - Ea * x`` with ``x = 1 / (k_B T)`` in 1/eV, ``A`` in S K/cm.
* law ``"sigma"``: ``sigma = A exp(-Ea / (k_B T))``, fitted as ``ln(sigma) = ln(A) - Ea * x``,
  ``A`` in S/cm. The two laws give Ea values that differ by about ``k_B * T_mean``
  (~0.05 eV around 300 °C; sigma_T gives the larger Ea); tables always say which was used.
* conductivity at the reference temperature ``T_ref``:
  ``y_ref = ln(A) - Ea * x_ref`` with
  ``var(y_ref) = var(lnA) + x_ref**2 var(Ea) - 2 x_ref cov(lnA, Ea)``
  (the slope-intercept covariance matters: lnA and Ea are almost fully correlated),
  ``sigma_ref = exp(y_ref) [/ T_ref]`` and ``sigma_ref_err = sigma_ref * sqrt(var(y_ref))``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np

from echem.errors import AnalysisError, MetadataError
from echem.results import Result, Value, axis
from echem.jsonsafe import jsonable

#: Boltzmann constant in eV/K (exact in the 2019 SI: k / e).
K_B_EV_K = 8.617333262e-5
#: 0 °C in kelvin.
T0_K = 273.15

#: Laws understood by :func:`fit_arrhenius`, with the unit of their prefactor.
LAWS = {"sigma_T": "S K/cm", "sigma": "S/cm"}

#: Fewest distinct temperatures :func:`fit_arrhenius` accepts. Two points define a line
#: but leave no degree of freedom for the error of Ea (and cannot show curvature), so
#: the stage asks for three.
MIN_TEMPERATURES = 3

GEOMETRY_KEYS = {
    "through-plane": ("thickness_cm", "area_cm2"),
    "in-plane": ("gap_cm", "length_cm", "thickness_cm"),
}
_GEOMETRY_EXAMPLE = (
    "{kind: through-plane, thickness_cm: 0.1, area_cm2: 0.5} or "
    "{kind: in-plane, gap_cm: 0.025, length_cm: 0.3, thickness_cm: 2.0e-4}"
)


# --------------------------------------------------------------------------- geometry


def _geometry_number(geometry: Mapping, key: str, kind: str) -> float:
    if key not in geometry:
        raise MetadataError(
            f"geometry ({kind}) is missing {key}; add `{key}: <value>` under `geometry:` in "
            f"sample.yaml, e.g. {_GEOMETRY_EXAMPLE}"
        )
    value = geometry[key]
    if isinstance(value, str):
        hint = ""
        try:
            float(value)
            hint = (f" (YAML reads {value!r} as text: write the mantissa with a decimal point, "
                    f"e.g. 2.0e-4 instead of 2e-4)")
        except ValueError:
            pass
        raise MetadataError(f"geometry.{key} must be a number, got the text {value!r}{hint}")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise MetadataError(f"geometry.{key} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise MetadataError(f"geometry.{key} must be a positive number in "
                            f"{key.rsplit('_', 1)[-1]}, got {value!r}")
    return v


def _geometry_kind(geometry: Any) -> str:
    if not isinstance(geometry, Mapping):
        raise MetadataError(
            f"geometry must be a mapping such as {_GEOMETRY_EXAMPLE}, got {geometry!r}; "
            "set it in sample.yaml to compute conductivities"
        )
    if "kind" not in geometry:
        raise MetadataError(
            f"geometry is missing kind; add `kind: through-plane` (pellet, electrodes on both "
            f"faces) or `kind: in-plane` (film, electrodes side by side), e.g. {_GEOMETRY_EXAMPLE}"
        )
    raw = geometry["kind"]
    kind = str(raw).strip().lower().replace("_", "-").replace(" ", "-")
    if kind not in GEOMETRY_KEYS:
        raise MetadataError(
            f"geometry.kind must be 'through-plane' or 'in-plane', got {raw!r}"
        )
    return kind


def geometry_factor_cm_inv(geometry: Mapping[str, Any]) -> float:
    """Cell constant ``L / A`` in 1/cm, so that ``sigma_S_cm = L / (A * R_ohm)``.

    ``{kind: through-plane, thickness_cm, area_cm2}`` -> ``thickness_cm / area_cm2``
    (pellet or film between electrodes on both faces).
    ``{kind: in-plane, gap_cm, length_cm, thickness_cm}`` -> ``gap_cm / (length_cm *
    thickness_cm)`` (film with two electrodes side by side: current flows across the gap,
    through a cross-section of electrode length x film thickness).

    ``kind`` is case-insensitive and accepts ``_`` or a space for ``-``. Every value must
    be a positive finite number in cm / cm2. Unknown keys are refused (a ``thickness_um``
    would otherwise be ignored).

    Raises
    ------
    MetadataError
        Naming the missing, unknown or invalid key and what to write instead.
    """
    kind = _geometry_kind(geometry)
    needed = GEOMETRY_KEYS[kind]
    unknown = sorted(set(geometry) - set(needed) - {"kind"})
    if unknown:
        raise MetadataError(
            f"geometry ({kind}) has unknown key(s) {unknown}; it takes {', '.join(needed)} "
            f"(lengths in cm, areas in cm2), e.g. {_GEOMETRY_EXAMPLE}"
        )
    values = {key: _geometry_number(geometry, key, kind) for key in needed}
    if kind == "through-plane":
        return values["thickness_cm"] / values["area_cm2"]
    return values["gap_cm"] / (values["length_cm"] * values["thickness_cm"])


def conductivity_S_cm(R_ohm, R_err_ohm, geometry: Mapping[str, Any]):
    """Conductivity ``sigma = (L / A) / R`` in S/cm, with its standard error.

    ``sigma_err = sigma * R_err / R`` (the geometry is taken as exact; its uncertainty
    scales every point alike and so does not change Ea). ``R_err_ohm`` may be ``None``
    or NaN (unknown) -> ``sigma_err`` NaN. Scalars in, floats out; arrays in, arrays out.

    Raises
    ------
    MetadataError
        Invalid ``geometry`` (see :func:`geometry_factor_cm_inv`).
    AnalysisError
        A resistance that is not a positive finite number, or a negative error.
    """
    k_cm_inv = geometry_factor_cm_inv(geometry)
    scalar = np.ndim(R_ohm) == 0
    r = np.atleast_1d(np.asarray(R_ohm, dtype=float))
    if R_err_ohm is None:
        r_err = np.full_like(r, np.nan)
    else:
        r_err = np.broadcast_to(np.asarray(R_err_ohm, dtype=float), r.shape).astype(float)
    bad = ~np.isfinite(r) | (r <= 0)
    if bad.any():
        raise AnalysisError(
            f"resistance must be a positive finite number in ohm, got {r[bad].tolist()}; "
            "check the EIS fit of that file (wrong circuit or resistance_param?)"
        )
    if (r_err < 0).any():
        raise AnalysisError(f"resistance error must be >= 0 ohm, got {r_err[r_err < 0].tolist()}")
    sigma = k_cm_inv / r
    sigma_err = sigma * r_err / r
    if scalar:
        return float(sigma[0]), float(sigma_err[0])
    return sigma, sigma_err


# --------------------------------------------------------------------------- temperatures

_NUM = r"(?P<num>\d+(?:[.p]\d+)?)"
_SEP = r"(?:^|(?<=[_\-\s.,()\[\]]))"
_END = r"(?=$|[_\-\s.,()\[\]])"
# A token is bounded by separators (start, end, _ - space . , ( ) [ ]), so that `C01`
# (EC-Lab channel suffix), `20mVs`, `100kHz` or `LLZO300C` never match. A minus sign
# counts only after a separator (`_-20C`), because `s04147-140deg` uses `-` as a separator.
_TEMP_PATTERN = re.compile(
    _SEP + r"(?:T=?)?(?P<neg>-|minus)?" + _NUM
    + r"\s?(?P<unit>°C|℃|degC|deg|oC|celsius|C|K)" + _END
)


def temperature_C_from_name(file_name: str) -> float | None:
    """Temperature in °C written in a file name, or ``None`` when there is none.

    Recognised tokens (bounded by the start/end of the name or one of ``_ - . , ( ) [ ]``
    and space; the extension is ignored; case-sensitive unit letters):

    =====================================  =========
    token                                  °C
    =====================================  =========
    ``_300C``, ``_300degC``, ``_300oC``     300
    ``_300°C``, ``_300 °C``, ``_300℃``      300
    ``-140deg`` (``-`` is a separator)     140
    ``_-20C``, ``_minus20C``               -20
    ``_573K`` / ``_573.15K``               299.85 / 300
    ``T300C``, ``T=300C``, ``T573K``        300 / 299.85
    ``_25.5C``, ``_25p5C``                 25.5
    =====================================  =========

    Not temperatures: ``_C01`` (EC-Lab channel), ``20mVs``, ``100kHz``, ``100k``
    (lower-case k), ``LLZO300C`` (no separator before the number), ``T300`` (no unit).
    Beware that a battery C-rate (``_1C``) has the same form as a temperature; set
    ``temperature_C`` in sample.yaml for such files.

    Raises
    ------
    MetadataError
        Two different temperatures in one name, or one below absolute zero.
    """
    name = PurePath(str(file_name)).name
    # strip an extension such as .mpt/.txt/.DTA, but not the ".5C" of "25.5C"
    name = re.sub(r"\.[A-Za-z][A-Za-z0-9]{0,5}$", "", name)
    found: dict[float, str] = {}
    for m in _TEMP_PATTERN.finditer(name):
        value = float(m.group("num").replace("p", "."))
        if m.group("neg"):
            value = -value
        if m.group("unit") == "K":
            if value <= 0:
                raise MetadataError(f"{file_name}: {m.group(0)!r} is not a temperature "
                                    "above absolute zero; set temperature_C in sample.yaml")
            value -= T0_K
        value = round(value, 6)
        found.setdefault(value, m.group(0))
    if not found:
        return None
    if len(found) > 1:
        tokens = ", ".join(f"{tok!r} -> {t:g} °C" for t, tok in found.items())
        raise MetadataError(
            f"{file_name}: the name holds more than one temperature ({tokens}); "
            f"set `temperature_C: {{{name}: <°C>}}` in sample.yaml"
        )
    (value,) = found
    if value < -T0_K:
        raise MetadataError(f"{file_name}: {value:g} °C is below absolute zero; "
                            "set temperature_C in sample.yaml")
    return value


# --------------------------------------------------------------------------- heating / cooling

_DIRECTION_HINT = re.compile(r"(?<![a-z])(heat|cool)", re.IGNORECASE)
_RUN_HINT = re.compile(r"(?<![a-z])(?:cycle|cyc|run)[_\-\s]?(\d+)", re.IGNORECASE)


def _hint_of(text: str | None) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    stem = PurePath(str(text)).name
    d = _DIRECTION_HINT.findall(stem)
    directions = {x.lower() for x in d}
    if len(directions) > 1:
        raise MetadataError(f"{text}: the name says both heating and cooling; rename it or "
                            "list the runs' files separately")
    direction = {"heat": "heating", "cool": "cooling"}[directions.pop()] if directions else None
    runs = _RUN_HINT.findall(stem)
    run = str(int(runs[0])) if runs else None
    return direction, run


def split_runs(temperatures_C: Sequence[float], hints: Sequence[str | None] | None = None,
               *, tol_C: float = 1.0) -> list[str]:
    """Label each point with the temperature run it belongs to, in file order.

    A new run starts where (1) the file-name hint's run number changes (``cycle2``,
    ``run_3``), (2) the hint's direction word changes (``heat``/``heating``,
    ``cool``/``cooling``), or (3) the temperature reverses direction by more than
    ``tol_C`` (a turning point belongs to the run that reaches it). A run is labelled
    ``"heating"`` or ``"cooling"`` from its hint word, else from its temperature trend.
    When there is only one run and no hint says which, every point is ``"single"``.
    A second run of the same direction is ``"heating_2"`` (then ``_3``, ...), so that no
    two runs ever share a label; a run of constant temperature among several is
    ``"single"`` (``"single_2"``...).

    ``hints`` are usually the file names, aligned with ``temperatures_C``.
    """
    t = np.asarray(temperatures_C, dtype=float)
    n = t.size
    if n == 0:
        return []
    if not np.all(np.isfinite(t)):
        raise AnalysisError(f"split_runs needs a temperature for every file, got {t.tolist()}; "
                            "set temperature_C in sample.yaml for the files without one")
    if hints is not None and len(hints) != n:
        raise ValueError(f"hints has {len(hints)} entries for {n} temperatures")
    parsed = [_hint_of(h) for h in hints] if hints is not None else [(None, None)] * n

    segments: list[list[int]] = [[0]]
    trend = [0]  # +1 heating, -1 cooling, 0 unknown, per segment
    for i in range(1, n):
        prev_hint, hint = parsed[i - 1], parsed[i]
        step = t[i] - t[i - 1]
        direction = 0 if abs(step) <= tol_C else (1 if step > 0 else -1)
        hint_changed = hint != prev_hint
        reversal = (not hint_changed and direction != 0 and trend[-1] != 0
                    and direction != trend[-1])
        if hint_changed or reversal:
            segments.append([i])
            # a run split off by a reversal already knows its direction
            trend.append(direction if reversal else 0)
        else:
            segments[-1].append(i)
            if direction and not trend[-1]:
                trend[-1] = direction

    has_words = any(p[0] for p in parsed)
    if len(segments) == 1 and not has_words:
        return ["single"] * n

    labels = [""] * n
    counts: dict[str, int] = {}
    for seg, tr in zip(segments, trend):
        word = parsed[seg[0]][0]
        base = word or {1: "heating", -1: "cooling", 0: "single"}[tr]
        counts[base] = counts.get(base, 0) + 1
        label = base if counts[base] == 1 else f"{base}_{counts[base]}"
        for i in seg:
            labels[i] = label
    return labels


# --------------------------------------------------------------------------- arc check


def _param_values(fit_params) -> dict[str, float]:
    if isinstance(fit_params, Mapping):
        items = fit_params.items()
    else:
        try:
            items = [(p["param"], p["value"]) for p in fit_params]
        except (TypeError, KeyError) as exc:
            raise AnalysisError(
                "arc_in_range needs the EIS fit parameters as a list of {param, value, ...} "
                f"dicts or a {{name: value}} mapping, got {fit_params!r}"
            ) from exc
    return {str(k): float(v) for k, v in items}


def _partner(r_param: str, names: set[str], circuit: str | None) -> str | None:
    if circuit:
        c = circuit.replace(" ", "")
        m = re.search(r"p\(" + re.escape(r_param) + r",((?:CPE|C)\d+)\)", c) or \
            re.search(r"p\(((?:CPE|C)\d+)," + re.escape(r_param) + r"\)", c)
        return m.group(1) if m else None
    suffix = r_param[1:]
    for cand in (f"CPE{suffix}", f"C{suffix}"):
        if cand in names or f"{cand}_0" in names:
            return cand
    return None


def arc_apex_frequency_Hz(fit_params, *, r_param: str = "R1", circuit: str | None = None) -> float:
    """Apex (peak -Z'') frequency of the arc of ``r_param`` and its parallel capacitor.

    p(R, CPE) with ``Z_CPE = 1 / (Q (j 2 pi f)^n)``: ``f = 1 / (2 pi (R Q)^(1/n))``;
    p(R, C): ``f = 1 / (2 pi R C)``. The partner is read from ``circuit`` when given
    (``p(R1,CPE1)``), else by number (``R1`` -> ``CPE1_0``/``CPE1_1`` or ``C1``), as
    impedance.py names parameters.
    """
    values = _param_values(fit_params)
    if r_param not in values:
        raise AnalysisError(f"EIS fit has no parameter {r_param} (has {sorted(values)}); set "
                            "arrhenius resistance_param to the bulk resistance of the circuit")
    partner = _partner(r_param, set(values), circuit)
    r = values[r_param]
    if partner is None:
        raise AnalysisError(
            f"cannot find the capacitor in parallel with {r_param} among {sorted(values)}"
            + (f" in circuit {circuit!r}" if circuit else "")
            + "; the arc check needs p(R,CPE) or p(R,C), e.g. p(R1,CPE1)-CPE2"
        )
    if partner.startswith("CPE"):
        q, n = values.get(f"{partner}_0"), values.get(f"{partner}_1")
        if q is None or n is None:
            raise AnalysisError(f"EIS fit lacks {partner}_0 / {partner}_1 (has {sorted(values)})")
    else:
        q, n = values.get(partner), 1.0
        if q is None:
            raise AnalysisError(f"EIS fit lacks {partner} (has {sorted(values)})")
    if not all(math.isfinite(v) and v > 0 for v in (r, q, n)):
        raise AnalysisError(f"non-physical arc parameters {r_param}={r:g}, {partner}: Q={q:g}, "
                            f"n={n:g}; check the EIS fit")
    # in logs: (R*Q)**(1/n) overflows a float for a small n (a degenerate fit)
    log_f = -math.log(2 * math.pi) - (math.log(r) + math.log(q)) / n
    return math.exp(log_f) if log_f < 700 else math.inf


def arc_in_range(fit_params, freq_Hz, *, r_param: str = "R1",
                 circuit: str | None = None) -> tuple[bool, str]:
    """Is the apex of the ``r_param`` arc inside the measured frequency range?

    When the apex frequency ``f = 1 / (2 pi (R Q)^(1/n))`` lies outside
    ``[min(freq_Hz), max(freq_Hz)]`` the arc was not measured to its top, and R is an
    extrapolation of the circuit model: such a point should be excluded from the
    Arrhenius fit, with the returned reason recorded (see ``exclude`` in
    :func:`fit_arrhenius`).

    Returns ``(True, "apex ... within ...")`` or ``(False, reason)``.
    """
    f = np.asarray(freq_Hz, dtype=float)
    f = f[np.isfinite(f) & (f > 0)]
    if f.size == 0:
        raise AnalysisError("arc_in_range needs the measured frequencies (none positive)")
    f_apex = arc_apex_frequency_Hz(fit_params, r_param=r_param, circuit=circuit)
    lo, hi = float(f.min()), float(f.max())
    window = f"measured {lo:.3g}..{hi:.3g} Hz"
    if f_apex < lo:
        return False, (f"{r_param} arc apex at {f_apex:.3g} Hz is below the lowest measured "
                       f"frequency ({window}): {r_param} is an extrapolation")
    if f_apex > hi:
        return False, (f"{r_param} arc apex at {f_apex:.3g} Hz is above the highest measured "
                       f"frequency ({window}): {r_param} is an extrapolation")
    return True, f"{r_param} arc apex at {f_apex:.3g} Hz within {window}"


# --------------------------------------------------------------------------- Arrhenius fit


@dataclass(repr=False)
class ArrheniusResult(Result):
    """An Arrhenius fit. ``prefactor`` is ``A`` in ``prefactor_unit`` (S K/cm for
    ``sigma_T``, S/cm for ``sigma``); ``excluded`` lists the points left out, each
    ``{index, label, temperature_C, sigma_S_cm, reason}``; ``audit`` is JSON-serialisable."""

    law: str
    Ea_eV: float
    Ea_err_eV: float
    prefactor: float
    prefactor_err: float
    prefactor_unit: str
    ln_prefactor: float
    ln_prefactor_err: float
    cov_lnA_Ea: float
    ref_T_C: float
    sigma_ref_S_cm: float
    sigma_ref_err_S_cm: float
    n_points: int
    r2: float
    excluded: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    #: doubts (:mod:`echem.flags`): few_points, points_excluded, extrapolated,
    #: ea_out_of_range, arrhenius_nonlinear
    flags: list = field(default_factory=list)

    title = "Arrhenius fit"

    def __post_init__(self):
        from echem.flags import Flag

        self.flags = [f if isinstance(f, Flag) else Flag(**f) for f in self.flags]

    def quantities(self) -> list[Value]:
        return [Value("Ea", self.Ea_eV, self.Ea_err_eV, "eV"),
                Value(f"sigma({self.ref_T_C:g} C)", self.sigma_ref_S_cm, self.sigma_ref_err_S_cm, "S/cm"),
                Value("law", self.law), Value("n_points", self.n_points), Value("r2", self.r2)]

    def method(self) -> str:
        return (f"{'ln(sigma T)' if self.law == 'sigma_T' else 'ln(sigma)'} against 1/T by lmfit; "
                f"{len(self.excluded)} point(s) excluded")

    def plot(self, ax=None, label: str = "fit"):
        """The fitted law with its points (:func:`echem.plots.arrhenius.plot_arrhenius`)."""
        from echem.plots.arrhenius import plot_arrhenius

        pts = self.audit.get("points") or []
        T = np.array([p["temperature_C"] for p in pts], float)
        sigma = np.array([p["sigma_S_cm"] for p in pts], float)
        return plot_arrhenius(axis(ax), {label: (T, sigma, self)})

    def sigma_S_cm(self, T_C) -> np.ndarray:
        """The fitted law evaluated at ``T_C`` (°C), in S/cm."""
        return law_sigma_S_cm(T_C, self.Ea_eV, self.prefactor, self.law)

    def row(self) -> dict[str, Any]:
        """The ``arrhenius.csv`` columns (without ``sample``)."""
        return {"law": self.law, "Ea_eV": self.Ea_eV, "Ea_err_eV": self.Ea_err_eV,
                "ref_T_C": self.ref_T_C, "sigma_ref_S_cm": self.sigma_ref_S_cm,
                "n_points": self.n_points, "r2": self.r2}

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain values (the audit record's ``result``; ``ArrheniusResult(**d)``
        rebuilds it)."""
        d = asdict(self)
        d["flags"] = [f.to_dict() for f in self.flags]
        return d


def law_sigma_S_cm(T_C, Ea_eV: float, prefactor: float, law: str = "sigma_T"):
    """``sigma(T)`` of an Arrhenius law: ``A exp(-Ea/(k_B T)) [/ T]`` with T in K, S/cm."""
    _check_law(law)
    T_K = np.asarray(T_C, dtype=float) + T0_K
    sigma = prefactor * np.exp(-Ea_eV / (K_B_EV_K * T_K))
    return sigma / T_K if law == "sigma_T" else sigma


def _check_law(law: str) -> None:
    if law not in LAWS:
        raise MetadataError(f"arrhenius law must be one of {', '.join(LAWS)}, got {law!r} "
                            "(config arrhenius.law)")


def _fmt_temps(T_C: np.ndarray) -> str:
    return ", ".join(f"{t:g} °C" for t in T_C) or "none"


def arrhenius_flags(res: "ArrheniusResult", used_T_C, ea_range_eV=(0.05, 2.5), r2_min: float = 0.98) -> list:
    """Flags of an Arrhenius fit (:mod:`echem.flags`): few points, excluded points, a
    reference temperature outside the measured ones, an implausible Ea, a curved plot."""
    from echem.flags import Flag

    flags = []
    if res.n_points < 3:
        flags.append(Flag("few_points", f"only {res.n_points} temperatures in the fit: Ea has no meaningful error"))
    if res.excluded:
        shown = ", ".join(f"{e['temperature_C']:g} °C" for e in res.excluded)
        flags.append(Flag("points_excluded", f"left out of the fit: {shown} (conductivity.csv used = false)"))
    used = [float(t) for t in used_T_C]
    if used and not min(used) <= res.ref_T_C <= max(used):
        flags.append(Flag("extrapolated", f"σ at {res.ref_T_C:g} °C is extrapolated from "
                                          f"{min(used):g}-{max(used):g} °C"))
    lo, hi = (float(v) for v in ea_range_eV)
    if not lo <= res.Ea_eV <= hi:
        flags.append(Flag("ea_out_of_range", f"Ea = {res.Ea_eV:.3g} eV outside the plausible {lo:g}-{hi:g} eV"))
    if res.n_points >= 3 and res.r2 < r2_min:
        flags.append(Flag("arrhenius_nonlinear", f"R² = {res.r2:.4f} < {r2_min:g}: the Arrhenius plot is not a "
                                                 "straight line (two regimes or a phase change?)"))
    return flags


def fit_arrhenius(T_C, sigma_S_cm, sigma_err_S_cm=None, *, law: str = "sigma_T",
                  ref_T_C: float = 25.0, exclude: Sequence[str | None] | None = None,
                  labels: Sequence[str] | None = None, ea_range_eV=(0.05, 2.5),
                  r2_min: float = 0.98) -> ArrheniusResult:
    """Fit an Arrhenius law to conductivities measured at several temperatures.

    ``law="sigma_T"`` (default): ``ln(sigma T) = ln(A) - Ea / (k_B T)``;
    ``law="sigma"``: ``ln(sigma) = ln(A) - Ea / (k_B T)``; T in K, k_B in eV/K.

    Least squares with lmfit in log space. With ``sigma_err_S_cm`` the points are
    weighted by ``sigma / sigma_err`` (the inverse of the standard error of ln sigma);
    if any error is missing, zero or non-finite the fit is unweighted and the audit
    says so. The standard errors come from the covariance scaled by the reduced
    chi-square, i.e. from the scatter about the line (EIS fit errors usually
    understate the point-to-point scatter). ``r2`` is the (weighted) R² in log space.

    ``sigma_ref_S_cm`` is the law at ``ref_T_C`` with its error propagated from the
    full lnA-Ea covariance (see the module docstring); the audit flags an
    extrapolation outside the measured range.

    ``exclude``: per point ``None`` (use) or a reason to leave it out, e.g. from
    :func:`arc_in_range`. Points with a non-finite temperature or a non-positive or
    non-finite conductivity are left out too; all of them are in ``excluded``.
    ``labels`` (e.g. file names) name the points in ``excluded`` and the audit.
    ``ea_range_eV`` and ``r2_min`` set what :func:`arrhenius_flags` flags.

    Raises
    ------
    AnalysisError
        Fewer than :data:`MIN_TEMPERATURES` distinct temperatures remain.
    MetadataError
        Unknown ``law``.
    """
    _check_law(law)
    T = np.atleast_1d(np.asarray(T_C, dtype=float))
    s = np.atleast_1d(np.asarray(sigma_S_cm, dtype=float))
    n = T.size
    if s.size != n:
        raise ValueError(f"{n} temperatures but {s.size} conductivities")
    if sigma_err_S_cm is None:
        s_err = np.full(n, np.nan)
        have_errors = False
    else:
        s_err = np.atleast_1d(np.asarray(sigma_err_S_cm, dtype=float))
        if s_err.size != n:
            raise ValueError(f"{n} temperatures but {s_err.size} conductivity errors")
        have_errors = True
    if exclude is not None and len(exclude) != n:
        raise ValueError(f"exclude has {len(exclude)} entries for {n} points")
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries for {n} points")
    if not math.isfinite(ref_T_C) or ref_T_C <= -T0_K:
        raise MetadataError(f"arrhenius ref_C must be a temperature above -273.15 °C, got {ref_T_C!r}")
    names = [str(x) for x in labels] if labels is not None else [f"point {i}" for i in range(n)]

    excluded: list[dict[str, Any]] = []
    use = np.ones(n, dtype=bool)
    for i in range(n):
        reason = None
        if exclude is not None and exclude[i]:
            reason = str(exclude[i])
        elif not math.isfinite(T[i]) or T[i] <= -T0_K:
            reason = f"no valid temperature ({T[i]!r})"
        elif not math.isfinite(s[i]) or s[i] <= 0:
            reason = f"conductivity {s[i]!r} S/cm is not a positive number"
        if reason:
            use[i] = False
            excluded.append({"index": i, "label": names[i],
                             "temperature_C": float(T[i]) if math.isfinite(T[i]) else None,
                             "sigma_S_cm": float(s[i]) if math.isfinite(s[i]) else None,
                             "reason": reason})

    T_use, s_use, e_use = T[use], s[use], s_err[use]
    distinct = np.unique(np.round(T_use, 6))
    if distinct.size < MIN_TEMPERATURES:
        left_out = (f"; {len(excluded)} point(s) left out: "
                    + "; ".join(f"{e['label']} ({e['reason']})" for e in excluded)) if excluded else ""
        raise AnalysisError(
            f"the Arrhenius fit needs EIS at >= {MIN_TEMPERATURES} temperatures; found "
            f"{distinct.size} ({_fmt_temps(distinct)}){left_out}. Measure more temperatures, "
            "or give the missing ones with temperature_C in sample.yaml"
        )

    T_K = T_use + T0_K
    x = 1.0 / (K_B_EV_K * T_K)
    y = np.log(s_use * T_K) if law == "sigma_T" else np.log(s_use)
    weighted = have_errors and bool(np.all(np.isfinite(e_use) & (e_use > 0)))
    if weighted:
        w = s_use / e_use  # 1 / std(ln sigma)
        weighting = "1/relative sigma error"
    else:
        w = np.ones_like(y)
        if have_errors:
            bad = int(np.sum(~(np.isfinite(e_use) & (e_use > 0))))
            weighting = f"none (sigma error missing or zero for {bad} of {y.size} points)"
        else:
            weighting = "none (no sigma errors given)"

    import lmfit

    def line(x, lnA, Ea_eV):
        return lnA - Ea_eV * x

    slope, intercept = np.polyfit(x, y, 1, w=w)
    model = lmfit.Model(line)
    params = model.make_params(lnA=intercept, Ea_eV=-slope)
    out = model.fit(y, params, x=x, weights=w)
    if not out.success:
        raise AnalysisError(f"the Arrhenius line fit did not converge: {out.message}")

    lnA = float(out.params["lnA"].value)
    Ea = float(out.params["Ea_eV"].value)
    if out.covar is not None:
        order = out.var_names
        cov = np.asarray(out.covar)
        i_a, i_e = order.index("lnA"), order.index("Ea_eV")
        var_lnA, var_Ea, cov_aE = cov[i_a, i_a], cov[i_e, i_e], cov[i_a, i_e]
    else:  # only when the residuals are exactly zero
        var_lnA = var_Ea = cov_aE = float("nan")

    T_ref_K = ref_T_C + T0_K
    x_ref = 1.0 / (K_B_EV_K * T_ref_K)
    y_ref = lnA - Ea * x_ref
    var_y_ref = var_lnA + x_ref**2 * var_Ea - 2.0 * x_ref * cov_aE
    sigma_ref = math.exp(y_ref) / (T_ref_K if law == "sigma_T" else 1.0)
    sigma_ref_err = sigma_ref * math.sqrt(max(var_y_ref, 0.0))

    resid = y - line(x, lnA, Ea)
    y_bar = np.sum(w**2 * y) / np.sum(w**2)
    ss_tot = float(np.sum(w**2 * (y - y_bar) ** 2))
    r2 = 1.0 - float(np.sum(w**2 * resid**2)) / ss_tot if ss_tot > 0 else float("nan")

    prefactor = math.exp(lnA)
    lnA_err = math.sqrt(var_lnA) if math.isfinite(var_lnA) else float("nan")
    Ea_err = math.sqrt(var_Ea) if math.isfinite(var_Ea) else float("nan")
    t_lo, t_hi = float(T_use.min()), float(T_use.max())
    used_names = [nm for nm, u in zip(names, use) if u]

    import importlib.metadata as im

    audit = {
        "stage": "arrhenius",
        "law": law,
        "equation": ("ln(sigma*T) = ln(A) - Ea/(k_B*T)" if law == "sigma_T"
                     else "ln(sigma) = ln(A) - Ea/(k_B*T)"),
        "k_B_eV_K": K_B_EV_K,
        "weighting": weighting,
        "errors": "standard errors from the covariance scaled by the reduced chi-square",
        "min_temperatures": MIN_TEMPERATURES,
        "points": [
            {"label": nm, "temperature_C": float(t), "sigma_S_cm": float(sv),
             "sigma_err_S_cm": float(ev) if math.isfinite(ev) else None,
             "sigma_fit_S_cm": float(law_sigma_S_cm(t, Ea, prefactor, law)),
             "residual_ln": float(r)}
            for nm, t, sv, ev, r in zip(used_names, T_use, s_use, e_use, resid)
        ],
        "excluded": excluded,
        "parameters": {
            "Ea_eV": {"value": Ea, "stderr": Ea_err, "unit": "eV"},
            "ln_prefactor": {"value": lnA, "stderr": lnA_err,
                             "unit": f"ln({LAWS[law]})"},
            "cov_lnA_Ea": cov_aE,
            "corr_lnA_Ea": (float(cov_aE / math.sqrt(var_lnA * var_Ea))
                            if var_lnA > 0 and var_Ea > 0 else None),
        },
        "reference": {
            "ref_T_C": float(ref_T_C), "sigma_ref_S_cm": sigma_ref,
            "sigma_ref_err_S_cm": sigma_ref_err,
            "extrapolated": not (t_lo <= ref_T_C <= t_hi),
            "measured_range_C": [t_lo, t_hi],
        },
        "residuals_ln": {"rms": float(np.sqrt(np.mean(resid**2))),
                         "max_abs": float(np.max(np.abs(resid)))},
        "r2": r2,
        "chi2": float(out.chisqr),
        "reduced_chi2": float(out.redchi),
        "n_points": int(y.size),
        "packages": {p: im.version(p) for p in ("numpy", "lmfit")},
    }
    audit = jsonable(audit)

    res = ArrheniusResult(
        law=law, Ea_eV=Ea, Ea_err_eV=Ea_err, prefactor=prefactor,
        prefactor_err=prefactor * lnA_err, prefactor_unit=LAWS[law],
        ln_prefactor=lnA, ln_prefactor_err=lnA_err, cov_lnA_Ea=float(cov_aE),
        ref_T_C=float(ref_T_C), sigma_ref_S_cm=sigma_ref, sigma_ref_err_S_cm=sigma_ref_err,
        n_points=int(y.size), r2=r2, excluded=excluded, audit=audit,
    )
    res.flags = arrhenius_flags(res, T_use, ea_range_eV, r2_min)
    res.audit["flags"] = [f.to_dict() for f in res.flags]
    return res
