"""Sample metadata: ``raw/<sample>/sample.yaml`` over the config's ``defaults:``.

Precedence for every key: ``sample.yaml`` > what the file header says > config
``defaults``. :func:`resolve_file_metadata` returns the values *and* where each came
from, so that every table row can say which area, reference or pH was used.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from echem.errors import MetadataError

SAMPLE_ID = re.compile(r"^[A-Za-z0-9._-]+$")

REACTIONS = ("HER", "OER", "none", "auto")


def _number(value: Any, key: str, *, minimum: float | None = None, maximum: float | None = None,
            exclusive_min: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str):
            m = re.match(r"\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)", value)
            example = m.group(1).replace(",", ".") if m else "1.0"
            hint = f"; write the number alone (the unit is in the key name), e.g. {key}: {example}"
        raise MetadataError(f"{key} must be a number, got {value!r}{hint}")
    v = float(value)
    if not math.isfinite(v):
        raise MetadataError(f"{key} must be a finite number, got {value!r}; give the measured value")
    if minimum is not None and (v < minimum or (exclusive_min and v == minimum)):
        bound = f"> {minimum:g}" if exclusive_min else f">= {minimum:g}"
        raise MetadataError(f"{key} must be {bound}, got {value!r}")
    if maximum is not None and v > maximum:
        raise MetadataError(f"{key} must be <= {maximum:g}, got {value!r}")
    return v


def _positive(key, maximum: float | None = None):
    return lambda v: _number(v, key, minimum=0.0, exclusive_min=True, maximum=maximum)


def _plausible(key, minimum: float, maximum: float, unit: str, exclusive_min: bool = False):
    """A number within the range any real sample has (a typo or a wrong unit is far more
    likely outside it); the message says so."""
    def check(v):
        x = _number(v, key, minimum=minimum, exclusive_min=exclusive_min)
        if x > maximum:
            raise MetadataError(f"{key} = {v!r} is beyond any real sample (at most {maximum:g} {unit}); "
                                f"check the value and its unit ({unit})")
        return x
    return check


def _fraction(key):
    return lambda v: _number(v, key, minimum=0.0, maximum=1.0)


def _string(key):
    def check(v):
        if not isinstance(v, str) or not v.strip():
            raise MetadataError(f"{key} must be a non-empty text, got {v!r}")
        return v.strip()
    return check


def _series(v):
    """A series names the folder of its comparative figures: a name like a sample id."""
    from echem.names import name_problem

    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)  # series: 2024 is the name '2024'
    if not isinstance(v, str) or not v.strip():
        raise MetadataError(f"series must be a non-empty name, got {v!r}")
    problem = name_problem(v.strip(), "series")
    if problem:
        raise MetadataError(f"series {problem}; a series names the folder of its figures, "
                            "results/figures/<series>/: write a name such as 'PtMG'")
    return v.strip()


def _reaction(v):
    if isinstance(v, str):
        for r in REACTIONS:
            if v.strip().lower() == r.lower():
                return r
    raise MetadataError(f"reaction must be one of {', '.join(REACTIONS)}, got {v!r}")


def _reference(v):
    if isinstance(v, str) and v.strip():
        from echem.reference import resolve_reference

        try:  # a name no table knows stops the sample here, not later in one stage
            resolve_reference(v)
        except MetadataError as exc:
            raise MetadataError(f"reference_electrode: {exc}") from None
        return v.strip()
    if isinstance(v, Mapping):
        unknown = set(v) - {"name", "E_vs_SHE_V", "E_vs_RHE_V"}
        values = [k for k in ("E_vs_SHE_V", "E_vs_RHE_V") if k in v]
        if unknown or len(values) != 1:
            raise MetadataError(
                "reference_electrode as a mapping needs {name: ..., E_vs_SHE_V: ...} or, for a "
                "reference calibrated against an RHE in the electrolyte, {name: ..., E_vs_RHE_V: ...}; "
                f"got {dict(v)!r}"
            )
        key = values[0]
        return {"name": str(v.get("name", "custom")), key: _number(v[key], f"reference_electrode.{key}")}
    raise MetadataError(f"reference_electrode must be a name such as 'Hg/HgO' or "
                        f"{{name: ..., E_vs_SHE_V: ...}}, got {v!r}")


_GEOMETRY_KEYS = {
    "through-plane": ("thickness_cm", "area_cm2"),
    "in-plane": ("gap_cm", "length_cm", "thickness_cm"),
}


def _geometry(v):
    if not isinstance(v, Mapping) or v.get("kind") not in _GEOMETRY_KEYS:
        raise MetadataError(
            "geometry must be {kind: through-plane, thickness_cm, area_cm2} or "
            f"{{kind: in-plane, gap_cm, length_cm, thickness_cm}}, got {v!r}"
        )
    needed = _GEOMETRY_KEYS[v["kind"]]
    extra = set(v) - set(needed) - {"kind"}
    if extra:
        raise MetadataError(f"geometry ({v['kind']}) has unknown key(s) {sorted(extra)}; "
                            f"{_suggest(sorted(extra)[0], needed)}expected {', '.join(needed)}")
    out = {"kind": v["kind"]}
    for key in needed:
        if key not in v:
            raise MetadataError(f"geometry ({v['kind']}) is missing {key}")
        out[key] = _plausible(f"geometry.{key}", 0.0, 1e3 if key == "area_cm2" else 100.0,
                              "cm2" if key == "area_cm2" else "cm", exclusive_min=True)(v[key])
    return out


def _temperature_map(v):
    if not isinstance(v, Mapping):
        raise MetadataError(f"temperature_C must map file names to °C, e.g. {{eis_300C.mpt: 300}}, got {v!r}")
    return {str(k): _number(t, f"temperature_C[{k}]", minimum=-273.15) for k, t in v.items()}


def _window(v):
    if (not isinstance(v, (list, tuple)) or len(v) != 2):
        raise MetadataError(f"tafel_window_mV must be [low, high] overpotentials in mV, got {v!r}")
    lo, hi = (_number(x, "tafel_window_mV", minimum=0.0) for x in v)
    if hi <= lo:
        raise MetadataError(f"tafel_window_mV must have low < high, got {v!r}")
    return [lo, hi]


#: Keys of ``stability:`` in sample.yaml (the roles of a durability test's files; echem.stability).
STABILITY_KEYS = ("run", "before", "after", "set_mA_cm2", "set_E_V", "duration_h")


def _file_list(v, key):
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, (list, tuple)) or not items or \
            not all(isinstance(x, str) and x.strip() for x in items):
        raise MetadataError(f"{key} must be a file name or a list of file names, got {v!r}")
    return [x.strip() for x in items]


def _stability(v):
    """``{run: cp_84h.mpt, before: lsv_initial.mpt, after: lsv_after_80h.mpt}`` (files or lists),
    optionally ``set_mA_cm2`` (CP), ``set_E_V`` (CA, vs the reference) and ``duration_h``."""
    if not isinstance(v, Mapping):
        raise MetadataError("stability must be a mapping such as {before: lsv_initial.mpt, after: "
                            f"lsv_after_80h.mpt, run: cp_84h.mpt}}, got {v!r}")
    extra = sorted(set(map(str, v)) - set(STABILITY_KEYS))
    if extra:
        raise MetadataError(f"stability has unknown key '{extra[0]}'; {_suggest(extra[0], STABILITY_KEYS)}"
                            f"expected {', '.join(STABILITY_KEYS)}")
    out: dict[str, Any] = {}
    for key in ("run", "before", "after"):
        if v.get(key) is not None:
            out[key] = _file_list(v[key], f"stability.{key}")
    if v.get("set_mA_cm2") is not None:
        out["set_mA_cm2"] = _number(v["set_mA_cm2"], "stability.set_mA_cm2")
        if out["set_mA_cm2"] == 0:
            raise MetadataError("stability.set_mA_cm2 must be the non-zero set current density, signed as "
                                "the current (negative for the HER)")
    if v.get("set_E_V") is not None:
        out["set_E_V"] = _number(v["set_E_V"], "stability.set_E_V")
    if v.get("duration_h") is not None:
        out["duration_h"] = _number(v["duration_h"], "stability.duration_h", minimum=0.0, exclusive_min=True)
    return out


#: Every key a ``sample.yaml`` may hold, with its validator. The same keys, with the
#: same meaning, form ``defaults:`` in config/config.yaml (a test keeps them in step).
SAMPLE_KEYS: dict[str, Any] = {
    "series": _series,
    "order": lambda v: _number(v, "order"),
    "reaction": _reaction,
    "area_cm2": _plausible("area_cm2", 0.0, 1e4, "cm2", exclusive_min=True),
    "reference_electrode": _reference,
    "pH": lambda v: _number(v, "pH", minimum=-2.0, maximum=16.0),
    "ir_compensation": _fraction("ir_compensation"),
    "ru_ohm": _plausible("ru_ohm", 0.0, 1e7, "Ohm"),
    "ru_err_ohm": _plausible("ru_err_ohm", 0.0, 1e7, "Ohm"),
    "instrument_ir_compensation": _fraction("instrument_ir_compensation"),
    "loading_mg_cm2": _plausible("loading_mg_cm2", 0.0, 1e3, "mg/cm2", exclusive_min=True),
    "specific_capacitance_mF_cm2": _plausible("specific_capacitance_mF_cm2", 0.0, 10.0, "mF/cm2",
                                              exclusive_min=True),
    "electrolyte": _string("electrolyte"),
    "geometry": _geometry,
    "temperature_C": _temperature_map,
    "circuit": _string("circuit"),
    "tafel_window_mV": _window,
    "stability": _stability,
    "notes": lambda v: _notes(v),
}


#: A sample.yaml holds a few lines of metadata; anything much larger is not one.
MAX_SAMPLE_YAML_BYTES = 64 * 1024
#: Free-text notes are kept up to this many characters (the audit copies them).
MAX_NOTES_CHARS = 4000


def _notes(v) -> str:
    text = str(v)
    if len(text) > MAX_NOTES_CHARS:
        raise MetadataError(f"notes holds {len(text):,} characters; keep sample.yaml's notes under "
                            f"{MAX_NOTES_CHARS} and put longer text in a file of its own beside it")
    return text


def _suggest(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == key.lower()]
    return f"did you mean '{close[0]}'? " if close else ""


def validate_sample_metadata(raw: Mapping[str, Any] | None, where: str = "sample.yaml") -> dict[str, Any]:
    """Check keys and values of a sample.yaml mapping; return the cleaned mapping.

    ``None`` values mean "not set" and are dropped. Raises :class:`MetadataError`
    naming the key, with a did-you-mean suggestion for unknown keys.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise MetadataError(f"{where}: must be a mapping of key: value lines, got {type(raw).__name__}")
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key)
        if key not in SAMPLE_KEYS:
            raise MetadataError(
                f"{where}: unknown key '{key}'; {_suggest(key, SAMPLE_KEYS)}"
                f"known keys: {', '.join(SAMPLE_KEYS)}"
            )
        if value is None:
            continue
        try:
            clean[key] = SAMPLE_KEYS[key](value)
        except MetadataError as exc:
            raise MetadataError(f"{where}: {exc}") from None
    return clean


def load_sample_yaml(path: str | Path) -> dict[str, Any]:
    """Read and validate ``sample.yaml`` (JSON is valid YAML). Missing file -> ``{}``."""
    import yaml

    path = Path(path)
    if not path.is_file():
        return {}
    try:
        size = path.stat().st_size
        if size > MAX_SAMPLE_YAML_BYTES:
            raise MetadataError(f"{path.name}: {size:,} bytes, but a sample.yaml is a few lines of metadata "
                                f"(at most {MAX_SAMPLE_YAML_BYTES // 1024} kB read); move long text or data out of it")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{path.name}: not UTF-8 text (byte {exc.start} cannot be read); "
                            "save it as UTF-8 in the editor") from None
    except OSError as exc:
        raise MetadataError(f"{path.name}: cannot be read ({(exc.strerror or str(exc)).lower()}); check its "
                            "permissions") from None
    try:
        raw = yaml.load(text, Loader=_unique_key_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise MetadataError(f"{path.name}: not valid YAML ({' '.join(str(exc).split())}); fix the "
                            "syntax (key: value, one per line)") from None
    except RecursionError:
        raise MetadataError(f"{path.name}: nested too deeply to be metadata; a sample.yaml is flat "
                            "key: value lines (geometry and stability one level deeper)") from None
    except MetadataError as exc:
        raise MetadataError(f"{path.name}: {exc}") from None
    return validate_sample_metadata(raw, where=path.name)


def _unique_key_loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """SafeLoader that refuses a key given twice (plain YAML keeps the last silently) and
        aliases (``*name``): metadata needs none, and a few nested aliases expand to billions
        of values (a "YAML bomb" of a few hundred bytes)."""

        def compose_node(self, parent, index):
            if self.check_event(yaml.events.AliasEvent):
                event = self.peek_event()
                raise MetadataError(f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not "
                                    "allowed in sample.yaml; write the value out")
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise MetadataError(f"key '{key}' is given twice (lines {seen[key]} and {line}); "
                                        "keep one")
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    # YAML 1.1 (PyYAML) reads 1e-3 without a dot as text; YAML 1.2 and people read a number
    UniqueKeyLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
        list("-+0123456789."))
    return UniqueKeyLoader


def default_series(sample_id: str) -> str:
    """Series name when sample.yaml gives none: the part of the id before the first ``_``
    (:func:`echem.names.default_series`)."""
    from echem.names import default_series as default

    return default(sample_id)


#: Keys a file header can supply, mapped to the Measurement.meta key.
HEADER_KEYS = {"area_cm2": "area_cm2", "reference_electrode": "reference_electrode"}


def resolve_sample_metadata(sample_id: str, sample_yaml: Mapping[str, Any],
                            defaults: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge sample.yaml over config defaults; return (values, source per key)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in SAMPLE_KEYS:
        if key in sample_yaml:
            values[key], sources[key] = sample_yaml[key], "sample.yaml"
        elif defaults.get(key) is not None:
            values[key], sources[key] = defaults[key], "config defaults"
        else:
            values[key], sources[key] = None, "unset"
    if values["series"] is None:
        values["series"], sources["series"] = default_series(sample_id), "sample id"
    return values, sources


def resolve_file_metadata(sample_values: Mapping[str, Any], sample_sources: Mapping[str, str],
                          file_meta: Mapping[str, Any], file_name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Values for one file: sample.yaml > file header > config defaults.

    Also resolves the file's temperature: sample.yaml ``temperature_C`` map, else the
    file's own value, else a ``_300C``/``_573K`` part of the file name.
    """
    values = dict(sample_values)
    sources = dict(sample_sources)
    for key, meta_key in HEADER_KEYS.items():
        header_value = file_meta.get(meta_key)
        if sources.get(key) != "sample.yaml" and header_value not in (None, ""):
            values[key], sources[key] = header_value, "file header"
    if file_meta.get("instrument_ir_compensation") is not None and \
            sources.get("instrument_ir_compensation") != "sample.yaml":
        values["instrument_ir_compensation"] = file_meta["instrument_ir_compensation"]
        sources["instrument_ir_compensation"] = "file header"

    temps = sample_values.get("temperature_C") or {}
    values.pop("temperature_C", None)
    sources.pop("temperature_C", None)
    if file_name in temps:
        values["file_temperature_C"], sources["file_temperature_C"] = temps[file_name], "sample.yaml"
    elif file_meta.get("temperature_C") is not None:
        values["file_temperature_C"], sources["file_temperature_C"] = float(file_meta["temperature_C"]), "file header"
    else:
        from echem.arrhenius import temperature_C_from_name

        t = temperature_C_from_name(file_name)
        values["file_temperature_C"] = t
        sources["file_temperature_C"] = "file name" if t is not None else "unset"
    return values, sources
