"""PalmSens PSTrace session files (``.pssession``).

PSTrace (and MultiTrace) save a session as one JSON document, UTF-16 with a byte-order
mark (some versions write UTF-8, some add bytes after the closing brace)::

    {"Type": "PalmSens.DataFiles.SessionFile", "CoreVersion": "5.9...",
     "Measurements": [
        {"Title": "...", "TimeStamp": <.NET ticks, local time>, "DeviceSerial": "...",
         "Method": "#PSTrace ...\\r\\nMETHOD_ID=eis\\r\\n...",      <- the method, key=value lines
         "DataSet": {"Type": "PalmSens.Data.DataSetEIS",
                     "Values": [{"Description": "Frequency", "ArrayType": 5,
                                 "Unit": {"Type": "PalmSens.Units.Hertz", "S": "Hz", "Q": "Frequency"},
                                 "DataValues": [{"V": 10000.0}, ...]}, ...]},
         "Curves": [...], "EISDataList": [...]}, ...]}

Every array states its quantity and unit: ``Unit.Q`` is the quantity as PSTrace labels its
axis, with the sign convention in it (``-Z''``, ``-Phase``), and ``Unit.Type`` names the unit
with its prefix (``MicroAmpere``). The reader takes

=========================  ================================  ==========================
array                      canonical                          conversion
=========================  ================================  ==========================
Frequency (ArrayType 5)    ``freq_Hz``                        unit prefix
ZRe (7)                    ``Z_re_ohm``                       sign from ``Unit.Q``
ZIm (8), Q ``-Z''``        ``Z_im_ohm``                       negated (``Q`` says -Z'')
time (0)                   ``time_s``
measured Edc / potential   ``E_V``                            unit prefix
Idc / current (2)          ``I_A``                            µA -> A etc.
=========================  ================================  ==========================

An impedance measurement's DC arrays (time, potential, current) are taken only when they
have one value per frequency; arrays of another length (PSTrace keeps the arrays of the
method's DC part) are left out and listed in ``meta["arrays_ignored"]``. Several impedance
measurements in one session are several spectra (``cycle`` = measurement number).
Measurements of other techniques are read when the session holds one of them; a session
holding several non-impedance measurements is refused (each is a measurement of its own:
export them one by one).

The method's ``METHOD_ID`` names the technique (``eis``, ``lsv``, ``cv``, ...).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import decode, technique_from_label
from echem.measurement import Measurement, canonical_frame

FORMAT = "palmsens-pssession"
VENDOR = "PalmSens"

#: Not a table of text lines: the registry's text checks (damage, cut row) do not apply.
TEXT_CHECKS = False

_MARKER = "PalmSens.DataFiles.SessionFile"

#: PSTrace METHOD_ID -> technique (others: technique_from_label on the id, else not analysed).
METHOD_TECHNIQUE = {"eis": "EIS", "geis": "EIS", "lsv": "LSV", "cv": "CV", "fcv": "CV", "ca": "CA",
                    "ad": "CA", "cp": "CP", "pot": "CP", "ocp": "OCV"}

_PREFIX = {"Pico": 1e-12, "Nano": 1e-9, "Micro": 1e-6, "Milli": 1e-3, "Kilo": 1e3, "Mega": 1e6}


def sniff(raw: bytes, name: str) -> bool:
    head = decode(raw[:4096]).lstrip("\ufeff \r\n\x00")
    return head.startswith("{") and _MARKER in head[:400]


def _document(raw: bytes) -> dict:
    text = decode(raw).replace("\x00", "")
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ReaderError("the .pssession holds no JSON document; save the session again from PSTrace")
    try:
        return json.loads(text[start:end + 1])
    except ValueError as exc:
        raise ReaderError(f"the .pssession's JSON is damaged ({exc}); the file is cut or edited, "
                          "save the session again from PSTrace") from exc


def _scale(unit: dict) -> float:
    """Factor to SI from ``Unit.Type`` (``PalmSens.Units.MicroAmpere`` -> 1e-6)."""
    kind = str(unit.get("Type", "")).rsplit(".", 1)[-1]
    for prefix, factor in _PREFIX.items():
        if kind.startswith(prefix):
            return factor
    return 1.0


def _method(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in str(text or "").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.setdefault(key.strip().upper(), value.strip())
    return out


class _Array:
    def __init__(self, raw: dict):
        unit = raw.get("Unit") or {}
        self.description = str(raw.get("Description", ""))
        self.kind = raw.get("ArrayType")
        self.quantity = str(unit.get("Q") or "")
        self.unit_type = str(unit.get("Type", "")).rsplit(".", 1)[-1]
        self.symbol = str(unit.get("S") or "")
        values = raw.get("DataValues") or []
        self.values = np.array([v.get("V", np.nan) if isinstance(v, dict) else np.nan for v in values], dtype=float)
        self.values *= _scale(unit)

    @property
    def negated(self) -> bool:
        """The quantity label carries a minus sign (``-Z''``, ``-Phase``)."""
        return self.quantity.strip().startswith(("-", "−"))

    def name(self) -> str:
        return f"{self.description} ({self.quantity or self.unit_type})"


def _find(arrays: list[_Array], *, kind: int | None = None, unit: str | None = None,
          description: tuple[str, ...] = ()) -> _Array | None:
    for a in arrays:
        if kind is not None and a.kind == kind:
            return a
    for a in arrays:
        if unit is not None and a.unit_type == unit:
            return a
    for a in arrays:
        if a.description.lower() in description:
            return a
    return None


def _impedance(arrays: list[_Array], meta: dict, where: str) -> dict[str, np.ndarray]:
    freq = _find(arrays, kind=5, unit="Hertz", description=("frequency",))
    z_re = _find(arrays, kind=7, unit="ZRe", description=("zre",))
    z_im = _find(arrays, kind=8, unit="ZIm", description=("zim",))
    if freq is None or z_re is None or z_im is None:
        raise ReaderError(f"{where}: an impedance data set without frequency, ZRe and ZIm arrays; "
                          "save the session again from PSTrace or export the spectrum as CSV")
    n = freq.values.size
    if z_re.values.size != n or z_im.values.size != n:
        raise ReaderError(f"{where}: frequency, ZRe and ZIm arrays differ in length "
                          f"({n}, {z_re.values.size}, {z_im.values.size}); the file is damaged")
    out = {"freq_Hz": freq.values,
           "Z_re_ohm": -z_re.values if z_re.negated else z_re.values,
           "Z_im_ohm": -z_im.values if z_im.negated else z_im.values}
    meta.setdefault("z_im_sign", f"{z_im.name()}: " + ("negated (its quantity is -Z'')" if z_im.negated
                                                       else "as written"))
    used = {"freq_Hz": freq.name(), "Z_re_ohm": z_re.name(), "Z_im_ohm": z_im.name()}
    ignored = []
    for canonical, found in (("time_s", _find(arrays, kind=0, unit="Time", description=("time",))),
                             ("E_V", _find(arrays, kind=33, description=("medc",))
                              or _find(arrays, kind=1, description=("potential", "edc"))),
                             ("I_A", _find(arrays, kind=2, description=("idc", "current")))):
        if found is None:
            continue
        if found.values.size == n:
            out[canonical] = found.values
            used[canonical] = found.name()
        else:
            ignored.append(f"{found.name()}: {found.values.size} values for {n} frequencies")
    meta.setdefault("columns_used", used)
    if ignored:
        meta.setdefault("arrays_ignored", []).extend(ignored)
    return out


def _dc(arrays: list[_Array], where: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    found = {"time_s": _find(arrays, kind=0, unit="Time", description=("time",)),
             "E_V": _find(arrays, kind=1, unit="Volt", description=("potential",)),
             "I_A": _find(arrays, kind=2, description=("current",))}
    present = {k: a for k, a in found.items() if a is not None}
    if not ({"E_V", "I_A"} & set(present)):
        raise ReaderError(f"{where}: no potential or current array; export the curve as CSV from PSTrace")
    n = max(a.values.size for a in present.values())
    out, used = {}, {}
    for canonical, a in present.items():
        if a.values.size != n:
            raise ReaderError(f"{where}: the arrays differ in length ({a.name()}: {a.values.size}, others {n}); "
                              "the file is damaged")
        out[canonical] = a.values
        used[canonical] = a.name()
    return out, used


def parse(raw: bytes, name: str) -> Measurement:
    doc = _document(raw)
    measurements = doc.get("Measurements")
    if not isinstance(measurements, list) or not measurements:
        raise EmptyDataError("the PalmSens session holds no measurement; save it again from PSTrace")
    meta: dict[str, Any] = {"software": f"PSTrace (core {doc.get('CoreVersion')})" if doc.get("CoreVersion") else None}
    impedance, other = [], []
    for k, measurement in enumerate(measurements, start=1):
        data_set = measurement.get("DataSet") or {}
        arrays = [_Array(v) for v in data_set.get("Values") or [] if isinstance(v, dict)]
        title = str(measurement.get("Title") or f"measurement {k}")
        method = _method(measurement.get("Method") or doc.get("MethodForMeasurement"))
        is_eis = "EIS" in str(data_set.get("Type", "")) or method.get("METHOD_ID", "").lower() in ("eis", "geis")
        (impedance if is_eis else other).append((k, title, method, measurement, arrays))

    chosen = impedance or other
    if not impedance and len(other) > 1:
        titles = ", ".join(repr(t) for _, t, *_ in other)
        raise ReaderError(f"the PalmSens session holds {len(other)} measurements ({titles}); each is a "
                          "measurement of its own: export them one by one (PSTrace: save each curve as CSV "
                          "or its own session)")
    if impedance and other:
        titles = ", ".join(repr(t) for _, t, *_ in other)
        meta["warnings"] = [f"the session also holds {len(other)} measurement(s) that are not impedance "
                            f"({titles}); only the spectra are read: export those separately"]

    parts: dict[str, list[np.ndarray]] = {}
    titles = []
    for index, (k, title, method, measurement, arrays) in enumerate(chosen, start=1):
        where = f"measurement {k} ({title!r})"
        if impedance:
            columns = _impedance(arrays, meta, where)
            columns["cycle"] = np.full(columns["freq_Hz"].size, index, dtype=np.int64)
        else:
            columns, used = _dc(arrays, where)
            meta["columns_used"] = used
        for key, values in columns.items():
            parts.setdefault(key, []).append(values)
        titles.append(title)
        if index == 1:
            method_id = method.get("METHOD_ID", "").lower()
            meta["technique_label"] = f"PalmSens {method_id or 'method'}"
            technique = METHOD_TECHNIQUE.get(method_id) or technique_from_label(method_id)
            if impedance:
                technique = "EIS"
            if technique:
                meta["technique"] = technique
            ticks = measurement.get("TimeStamp")
            if isinstance(ticks, int) and ticks > 0:
                try:
                    meta["start_time"] = (datetime(1, 1, 1) + timedelta(microseconds=ticks // 10)).isoformat()
                except OverflowError:
                    pass
            if measurement.get("DeviceSerial"):
                meta["instrument_serial"] = measurement["DeviceSerial"]
            area = method.get("AREA")
            try:
                if area and float(area) > 0:
                    meta["area_cm2"] = float(area)
            except ValueError:
                pass
            reference = method.get("REF_ELECTRODE_NAME")
            if reference:
                meta["reference_electrode"] = reference
    lengths = {key: sum(v.size for v in chunks) for key, chunks in parts.items()}
    n = max(lengths.values())
    columns = {key: np.concatenate(chunks) for key, chunks in parts.items() if lengths[key] == n}
    dropped = sorted(set(parts) - set(columns))
    if dropped:
        meta.setdefault("arrays_ignored", []).append(
            f"{', '.join(dropped)}: not recorded in every measurement, left out")
    meta["measurements"] = titles
    if impedance:
        meta["n_spectra"] = len(chosen)
    if meta.get("arrays_ignored"):
        meta["arrays_ignored"] = list(dict.fromkeys(meta["arrays_ignored"]))
    meta = {k: v for k, v in meta.items() if v is not None}
    return Measurement(data=canonical_frame(columns), meta=meta)

