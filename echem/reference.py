"""Reference electrodes and the conversion of measured potentials to the RHE scale.

``E_RHE = E_meas + offset``, with the offset from :func:`offset_to_rhe_V`:

* a reference whose potential does not involve H⁺/OH⁻ (Ag/AgCl, calomel, Hg/Hg₂SO₄, SHE)::

      offset = E_ref_vs_SHE + (ln10 · R · T / F) · pH          (0.05916 V per pH at 25 °C)

* RHE itself: ``offset = 0``.
* Hg/HgO: ``HgO + H₂O + 2e⁻ ⇌ Hg + 2 OH⁻`` follows the same Nernst slope in pH as the
  RHE, so the cell Pt, H₂ | MOH(aq) | HgO | Hg has a potential that does not depend on the
  hydroxide concentration: 0.926 V at 25 °C. Hence ``E_RHE = E_Hg/HgO + 0.926 V`` in any
  alkaline electrolyte the Hg/HgO electrode shares with the working electrode, and the pH
  is not needed. Adding the tabulated 1 M value vs SHE (0.140 V) *and* ``0.0592·pH``
  counts the OH⁻ activity twice (0.966 V instead of 0.926 V, 40 mV off).

Tabulated potentials are at 25 °C. At another temperature only the Nernst slope
``ln10·R·T/F`` is scaled; the reference's own temperature coefficient (−0.1 to
−0.7 mV K⁻¹ for chloride references) is not applied, and :func:`rhe_conversion` says so.
For Hg/HgO the cell's coefficient ``dE/dT = ΔS/2F = −0.285 mV K⁻¹`` (from the entropies
of HgO, Hg, H₂O and H₂, NBS tables) is applied.

Sources (values at 25 °C, V vs SHE):

[BF]  A. J. Bard, L. R. Faulkner, *Electrochemical Methods*, 2nd ed., Wiley 2001, inside
      back cover: SCE 0.2412, NCE (1 M KCl) 0.2801, SSCE (sat. NaCl) 0.2360,
      Ag/AgCl sat. KCl 0.197, Hg/Hg₂SO₄ sat. K₂SO₄ 0.64.
[SSR] D. T. Sawyer, A. Sobkowiak, J. L. Roberts, *Electrochemistry for Chemists*, 2nd ed.,
      Wiley 1995, §5.2: Ag/AgCl 3.5 M KCl 0.205 (with liquid junction), Hg/HgO 1 M NaOH
      0.140, Hg/Hg₂SO₄ 0.5 M H₂SO₄ 0.68.
[RSR] consultrsr.net "Potentials of common reference electrodes" (compiled from [BF], [SSR],
      L. Meites, *Handbook of Analytical Chemistry*, 1963): Ag/AgCl 3 M KCl 0.210,
      Ag/AgCl 1 M KCl 0.236, Hg/HgO 0.1 M NaOH 0.165; and the cell
      Pt, H₂ | NaOH | HgO | Hg = 0.926 V, independent of [NaOH] (D. J. G. Ives,
      G. J. Janz, *Reference Electrodes*, Academic Press 1961).
[NBS] D. D. Wagman et al., J. Phys. Chem. Ref. Data 11, Suppl. 2 (1982):
      ΔfG°(HgO, red) = −58.54 kJ/mol, ΔfG°(H₂O, l) = −237.13 kJ/mol → E = 0.9255 V;
      S°: HgO 70.29, Hg(l) 76.02, H₂O(l) 69.91, H₂ 130.68 J mol⁻¹ K⁻¹.
[Hin] Int. J. Corrosion 2010, 756950, Table 2: Hg/Hg₂SO₄ 1 M H₂SO₄ 0.6739.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from echem.errors import MetadataError

R_J_mol_K = 8.314462618
F_C_mol = 96485.33212
T0_K = 273.15

#: Hg/HgO vs RHE in any alkaline electrolyte, 25 °C ([RSR], Ives & Janz; [NBS] gives 0.9255 V).
HGO_VS_RHE_V = 0.926
#: dE/dT of the cell Pt, H₂ | MOH | HgO | Hg: ΔS/(2F) with ΔS = −55.0 J mol⁻¹ K⁻¹ ([NBS]).
HGO_VS_RHE_DT_V_K = -0.285e-3


@dataclass(frozen=True)
class Reference:
    """A reference electrode.

    Attributes
    ----------
    name:
        Canonical name, e.g. ``"Ag/AgCl (3 M KCl)"``.
    E_vs_SHE_V:
        Potential vs SHE at 25 °C (``None`` for the RHE, whose potential vs SHE is
        −0.0592·pH).
    note:
        Source of the value and caveats.
    pH_dependent:
        True when the conversion to RHE needs the electrolyte pH.
    E_vs_RHE_V:
        Fixed potential vs RHE when it does not depend on the pH (RHE: 0; Hg/HgO: 0.926 V;
        a reference calibrated against an RHE in the working electrolyte), else ``None``.
    dE_dT_V_K:
        Temperature coefficient applied to ``E_vs_RHE_V`` (only Hg/HgO has one here).
    """

    name: str
    E_vs_SHE_V: float | None
    note: str = ""
    pH_dependent: bool = True
    E_vs_RHE_V: float | None = None
    dE_dT_V_K: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _entry(name, E_vs_SHE_V, source, aliases=(), *, E_vs_RHE_V=None, dE_dT_V_K=0.0, note=""):
    text = f"{source}" + (f"; {note}" if note else "")
    ref = Reference(
        name=name,
        E_vs_SHE_V=E_vs_SHE_V,
        note=text,
        pH_dependent=E_vs_RHE_V is None,
        E_vs_RHE_V=E_vs_RHE_V,
        dE_dT_V_K=dE_dT_V_K,
    )
    return ref, (name, *aliases)


_HGO_NOTE = (
    "vs SHE value for display only; the RHE conversion uses Hg/HgO vs RHE = 0.926 V "
    "(cell Pt,H2|MOH|HgO|Hg, independent of the OH- concentration), so pH is not needed"
)

_TABLE = [
    _entry("RHE", None, "definition", ("reversible hydrogen electrode",
                                       "RHE Reversible Hydrogen Electrode"), E_vs_RHE_V=0.0,
           note="potentials already on the RHE scale"),
    _entry("SHE", 0.0, "definition", ("standard hydrogen electrode", "NHE",
                                      "normal hydrogen electrode",
                                      "NHE Normal Hydrogen Electrode",
                                      "SHE Standard Hydrogen Electrode"),
           note="NHE treated as SHE (they differ by a few mV)"),
    _entry("Ag/AgCl (sat. KCl)", 0.197, "[BF] 0.197 V",
           ("Ag/AgCl sat. KCl", "Ag/AgCl (saturated KCl)", "Ag/AgCl/KCl (sat)",
            "Ag/AgCl KCl sat", "Ag/AgCl (sat)", "Ag/AgCl sat", "Ag/AgCl (sat'd KCl)")),
    _entry("Ag/AgCl (3 M KCl)", 0.210, "[RSR] 0.210 V (0.207-0.210 V reported)",
           ("Ag/AgCl 3M KCl", "Ag/AgCl (3M KCl)", "Ag/AgCl/KCl (3M)", "Ag/AgCl (3 M)",
            "Ag/AgCl 3M")),
    _entry("Ag/AgCl (3.5 M KCl)", 0.205, "[SSR] 0.205 V incl. liquid junction",
           ("Ag/AgCl 3.5M KCl", "Ag/AgCl (3.5M KCl)", "Ag/AgCl/KCl (3.5M)", "Ag/AgCl 3.5M")),
    _entry("Ag/AgCl (1 M KCl)", 0.236, "[RSR] 0.236 V",
           ("Ag/AgCl 1M KCl", "Ag/AgCl (1M KCl)", "Ag/AgCl/KCl (1M)", "Ag/AgCl 1M")),
    _entry("SCE", 0.241, "[BF] 0.2412 V",
           ("saturated calomel electrode", "SCE Saturated Calomel Electrode",
            "SCE (sat. KCl)", "Hg/Hg2Cl2 (sat. KCl)", "Hg/Hg2Cl2 sat. KCl", "calomel (sat. KCl)",
            "saturated calomel", "Hg/Hg2Cl2/KCl (sat)")),
    _entry("NCE (1 M KCl)", 0.280, "[BF] 0.2801 V",
           ("NCE", "normal calomel electrode", "Hg/Hg2Cl2 (1 M KCl)", "calomel (1 M KCl)",
            "Hg/Hg2Cl2/KCl (1M)")),
    _entry("SSCE (sat. NaCl)", 0.236, "[BF] 0.2360 V",
           ("SSCE", "sodium saturated calomel electrode", "Hg/Hg2Cl2 (sat. NaCl)",
            "calomel (sat. NaCl)")),
    _entry("Hg/HgO (1 M KOH)", 0.140, "[SSR] 0.140 V", (
        "Hg/HgO", "Hg/HgO 1M KOH", "Hg/HgO (1M KOH)", "Hg/HgO/KOH (1M)", "MMO",
        "mercury/mercury oxide", "Hg/HgO (KOH)"),
           E_vs_RHE_V=HGO_VS_RHE_V, dE_dT_V_K=HGO_VS_RHE_DT_V_K, note=_HGO_NOTE),
    _entry("Hg/HgO (1 M NaOH)", 0.140, "[SSR] 0.140 V",
           ("Hg/HgO 1M NaOH", "Hg/HgO (1M NaOH)", "Hg/HgO/NaOH (1M)", "Hg/HgO (NaOH)"),
           E_vs_RHE_V=HGO_VS_RHE_V, dE_dT_V_K=HGO_VS_RHE_DT_V_K, note=_HGO_NOTE),
    _entry("Hg/HgO (0.1 M KOH)", 0.165, "[RSR] 0.165 V (0.1 M NaOH)",
           ("Hg/HgO 0.1M KOH", "Hg/HgO (0.1M KOH)", "Hg/HgO/KOH (0.1M)", "Hg/HgO (0.1 M NaOH)",
            "Hg/HgO 0.1M NaOH", "Hg/HgO (0.1M NaOH)"),
           E_vs_RHE_V=HGO_VS_RHE_V, dE_dT_V_K=HGO_VS_RHE_DT_V_K, note=_HGO_NOTE),
    _entry("Hg/Hg2SO4 (sat. K2SO4)", 0.640, "[BF] 0.64 V (0.64-0.65 V reported)",
           ("Hg/Hg2SO4 sat. K2SO4", "Hg/Hg2SO4 (saturated K2SO4)", "Hg/Hg2SO4/K2SO4 (sat)",
            "MSE (sat. K2SO4)", "Hg/Hg2SO4 (sat)")),
    _entry("Hg/Hg2SO4 (0.5 M H2SO4)", 0.680, "[SSR] 0.68 V",
           ("Hg/Hg2SO4 0.5M H2SO4", "Hg/Hg2SO4 (0.5M H2SO4)", "Hg/Hg2SO4/H2SO4 (0.5M)",
            "MSE (0.5 M H2SO4)")),
    _entry("Hg/Hg2SO4 (1 M H2SO4)", 0.674, "[Hin] 0.6739 V",
           ("Hg/Hg2SO4 1M H2SO4", "Hg/Hg2SO4 (1M H2SO4)", "Hg/Hg2SO4/H2SO4 (1M)",
            "MSE (1 M H2SO4)")),
]

#: Canonical name -> Reference.
REFERENCES: dict[str, Reference] = {ref.name: ref for ref, _ in _TABLE}

#: Names that do not say enough to choose a potential (they differ by 10-40 mV).
_AMBIGUOUS = {
    "Ag/AgCl": ["Ag/AgCl (sat. KCl)", "Ag/AgCl (3 M KCl)", "Ag/AgCl (3.5 M KCl)",
                "Ag/AgCl (1 M KCl)"],
    "Ag/AgCl (KCl)": ["Ag/AgCl (sat. KCl)", "Ag/AgCl (3 M KCl)", "Ag/AgCl (3.5 M KCl)",
                      "Ag/AgCl (1 M KCl)"],
    "calomel": ["SCE", "NCE (1 M KCl)", "SSCE (sat. NaCl)"],
    "Hg/Hg2Cl2": ["SCE", "NCE (1 M KCl)", "SSCE (sat. NaCl)"],
    "Hg/Hg2SO4": ["Hg/Hg2SO4 (sat. K2SO4)", "Hg/Hg2SO4 (0.5 M H2SO4)", "Hg/Hg2SO4 (1 M H2SO4)"],
    "MSE": ["Hg/Hg2SO4 (sat. K2SO4)", "Hg/Hg2SO4 (0.5 M H2SO4)", "Hg/Hg2SO4 (1 M H2SO4)"],
}

_STOPWORDS = {"electrode", "reference", "ref", "in", "of", "aq", "solution", "filling",
              "filled", "with", "and", "the", "vs"}
_POTENTIAL_NOTE = re.compile(r"\(\s*([-+]?\d*\.?\d+)\s*(m?v)\s*\)", re.IGNORECASE)


def _key(text: str) -> frozenset[str]:
    """Order-, case- and spacing-insensitive key: 'Ag/AgCl (3M KCl)' == 'ag/agcl kcl 3 m'."""
    s = _POTENTIAL_NOTE.sub(" ", text).lower()
    s = s.replace("’", "'").replace("₂", "2").replace("₄", "4")
    s = re.sub(r"saturated|sat'd|satd|sat\.", " sat ", s)
    s = re.sub(r"mol\s*/\s*(l|dm3|dm\^?3)|mol\s*(l|dm)\s*-\s*[13]|molar", "m", s)
    s = re.sub(r"(\d)\s+m\b", r"\1m", s)
    tokens = []
    for tok in re.split(r"[^a-z0-9.]+", s):
        tok = tok.strip(".")
        if not tok or tok in _STOPWORDS:
            continue
        m = re.fullmatch(r"(\d*\.?\d+)m", tok)
        if m:  # 1.0M -> 1m, 0.50m -> 0.5m
            tok = f"{float(m.group(1)):g}m"
        tokens.append(tok)
    return frozenset(tokens)


_INDEX: dict[frozenset[str], str] = {}
for _ref, _names in _TABLE:
    for _n in _names:
        _INDEX.setdefault(_key(_n), _ref.name)
_AMBIGUOUS_INDEX = {_key(k): (k, v) for k, v in _AMBIGUOUS.items()}


def known_names() -> list[str]:
    """Canonical names of the tabulated references."""
    return list(REFERENCES)


def _all_spellings() -> list[str]:
    return [n for _, names in _TABLE for n in names]


def _unknown(spec: str) -> MetadataError:
    spellings = _all_spellings()
    lower = {s.lower(): s for s in spellings}
    close = difflib.get_close_matches(spec.lower(), list(lower), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(lower[c]) for c in close)}?" if close else ""
    return MetadataError(
        f"unknown reference electrode {spec!r}.{hint} Known: {', '.join(known_names())}. "
        "Set reference_electrode in sample.yaml to one of these, or give its potential: "
        "{name: ..., E_vs_SHE_V: ...} (or {name: ..., E_vs_RHE_V: ...} for a reference "
        "calibrated against an RHE in the working electrolyte)"
    )


def resolve_reference(spec: str | Mapping[str, Any] | Reference) -> Reference:
    """The :class:`Reference` for a name (aliases, any case/spacing) or a custom mapping.

    A mapping is ``{name, E_vs_SHE_V}`` (a reference of known potential vs SHE, converted
    with the pH term) or ``{name, E_vs_RHE_V}`` (a reference calibrated against an RHE in
    the working electrolyte: a fixed offset, no pH needed). A mapping with only ``name``
    resolves the name. An annotation such as ``"SCE (0.241 V)"`` (EC-Lab headers) is
    ignored for matching.

    Raises
    ------
    MetadataError
        Unknown or ambiguous name, or an invalid mapping.
    """
    if isinstance(spec, Reference):
        return spec
    if isinstance(spec, Mapping):
        return _custom(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise MetadataError(
            f"reference_electrode must be a name such as 'Hg/HgO' or a mapping "
            f"{{name: ..., E_vs_SHE_V: ...}}, got {spec!r}; set it in sample.yaml"
        )
    key = _key(spec)
    if key in _INDEX:
        ref = REFERENCES[_INDEX[key]]
        stated = _POTENTIAL_NOTE.search(spec)
        if stated and ref.E_vs_SHE_V is not None:
            value = float(stated.group(1)) * (1e-3 if stated.group(2).lower() == "mv" else 1.0)
            if abs(value - ref.E_vs_SHE_V) > 0.005 and ref.E_vs_RHE_V is None:
                ref = Reference(**{**ref.to_dict(), "note": ref.note + (
                    f"; the name states {value:g} V, the table value {ref.E_vs_SHE_V:g} V is used "
                    "(give {name, E_vs_SHE_V} in sample.yaml to use another)")})
        return ref
    if key in _AMBIGUOUS_INDEX:
        short, options = _AMBIGUOUS_INDEX[key]
        raise MetadataError(
            f"reference electrode {spec!r} does not say its filling solution, and the "
            f"potential depends on it: choose one of {', '.join(repr(o) for o in options)} "
            "in sample.yaml (reference_electrode), or give {name: ..., E_vs_SHE_V: ...}"
        )
    raise _unknown(spec)


def _number(value: Any, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise MetadataError(f"reference_electrode.{what} must be a number in V, got {value!r}") from None
    if not math.isfinite(x) or abs(x) > 3.0:
        raise MetadataError(f"reference_electrode.{what} = {value!r} is not a plausible potential in V")
    return x


def _custom(spec: Mapping[str, Any]) -> Reference:
    allowed = {"name", "E_vs_SHE_V", "E_vs_RHE_V"}
    unknown = set(spec) - allowed
    if unknown:
        raise MetadataError(
            f"reference_electrode has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    name = str(spec.get("name") or "custom")
    has_she, has_rhe = "E_vs_SHE_V" in spec, "E_vs_RHE_V" in spec
    if has_she and has_rhe:
        raise MetadataError(
            "reference_electrode gives both E_vs_SHE_V and E_vs_RHE_V; keep one "
            "(E_vs_RHE_V for a reference calibrated against an RHE in the electrolyte)"
        )
    if not has_she and not has_rhe:
        return resolve_reference(name)
    if has_rhe:
        value = _number(spec["E_vs_RHE_V"], "E_vs_RHE_V")
        return Reference(name=name, E_vs_SHE_V=None, pH_dependent=False, E_vs_RHE_V=value,
                         note="custom value vs RHE from sample.yaml (pH not used)")
    value = _number(spec["E_vs_SHE_V"], "E_vs_SHE_V")
    note = "custom value vs SHE from sample.yaml"
    if _key(name) & {"hgo", "mmo"}:
        note += ("; WARNING: for Hg/HgO the pH term is added to this value, which counts the "
                 "OH- activity twice if the value is the tabulated one for the filling "
                 "solution; use the name 'Hg/HgO' (0.926 V vs RHE) or E_vs_RHE_V instead")
    return Reference(name=name, E_vs_SHE_V=value, note=note)


def nernst_slope_V(temperature_C: float = 25.0) -> float:
    """ln10·R·T/F in V per pH unit (0.05916 V at 25 °C)."""
    return math.log(10.0) * R_J_mol_K * (temperature_C + T0_K) / F_C_mol


def rhe_conversion(reference, pH: float | None = None, temperature_C: float = 25.0) -> dict[str, Any]:
    """Offset to the RHE scale with its equation and caveats (JSON-serialisable, for audits).

    Returns ``{"offset_V", "equation", "reference", "pH", "temperature_C", "warnings"}``;
    see the module docstring for the equations.

    Raises
    ------
    MetadataError
        pH missing (or not a number in -2..16) for a pH-dependent reference, or an
        implausible temperature.
    """
    ref = resolve_reference(reference)
    if temperature_C is None:
        temperature_C = 25.0
    T = float(temperature_C)
    if not math.isfinite(T) or not -30.0 <= T <= 250.0:
        raise MetadataError(f"temperature_C = {temperature_C!r} is not a plausible cell temperature in °C")
    warnings: list[str] = []
    if ref.E_vs_RHE_V is not None:
        offset = ref.E_vs_RHE_V + ref.dE_dT_V_K * (T - 25.0)
        eq = f"E_RHE = E + {ref.E_vs_RHE_V:g} V"
        if ref.dE_dT_V_K:
            eq += f" {'-' if ref.dE_dT_V_K < 0 else '+'} {abs(ref.dE_dT_V_K) * 1e3:g} mV/K * (T - 25 °C)"
        if pH is not None and ref.dE_dT_V_K and _finite(pH) and float(pH) < 10:
            warnings.append(
                f"{ref.name} is an alkaline reference but pH = {pH}; the 0.926 V offset holds only "
                "when the Hg/HgO electrode sits in the same alkaline electrolyte"
            )
        return {"offset_V": offset, "equation": eq, "reference": ref.to_dict(),
                "pH": None if pH is None else float(pH), "temperature_C": T, "warnings": warnings}
    if pH is None or not _finite(pH):
        raise MetadataError(
            f"the reference electrode {ref.name} needs the electrolyte pH to convert to RHE; "
            "set `pH` in sample.yaml (or config defaults)"
        )
    pH = float(pH)
    if not -2.0 <= pH <= 16.0:
        raise MetadataError(f"pH = {pH} is outside -2..16; correct `pH` in sample.yaml")
    slope = nernst_slope_V(T)
    if abs(T - 25.0) > 5.0:
        warnings.append(
            f"{ref.name} potential is tabulated at 25 °C; at {T:g} °C only the Nernst slope is "
            "scaled, the reference's own temperature coefficient is not applied"
        )
    return {
        "offset_V": ref.E_vs_SHE_V + slope * pH,
        "equation": f"E_RHE = E + {ref.E_vs_SHE_V:g} V + {slope:.5f} V * pH",
        "reference": ref.to_dict(), "pH": pH, "temperature_C": T, "warnings": warnings,
    }


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def offset_to_rhe_V(reference, pH: float | None = None, temperature_C: float = 25.0) -> float:
    """The offset in V such that ``E_RHE = E_meas + offset`` (see the module docstring).

    ``reference`` is a :class:`Reference` or anything :func:`resolve_reference` accepts.
    ``pH`` is not used for RHE and Hg/HgO (and calibrated ``E_vs_RHE_V`` references).
    """
    return rhe_conversion(reference, pH, temperature_C)["offset_V"]
