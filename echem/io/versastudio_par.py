"""Princeton Applied Research VersaStudio ``.par`` files.

The file is a sequence of tagged blocks of ``key=value`` lines::

    <Application> Name=VersaStudio  Version=2.52.3.0 </Application>
    <Action0> Working Electrode Area (cm2)=1  Reference Electrode=...  Segments=0 </Action0>
    <Instrument> Type=VersaSTAT4 ... </Instrument>
    <Experiment> TimeAcquired=9:40:30 AM  DateAcquired=Thursday, July 19, 2018 </Experiment>
    <Action1> Name=Potentiostatic EIS  Segments=1  Scan Rate (V/s)=.005 ... </Action1>
    <Segment1>
    Type=2
    Version=3
    Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), ..., Frequency(Hz), ..., Z Real, Z Imag, ...
    0,0,0,-3.28E-06,1.812,...            (comma-separated data rows)
    </Segment1>

Each ``<ActionN>`` (N >= 1) produces ``Segments=n`` consecutive ``<SegmentK>`` blocks;
its ``Name`` says which technique it ran. Columns are found by name in the
segment's ``Definition`` line (which may list more names than the rows have
fields; the extra trailing names are ignored). ``Z Imag`` carries the physical
sign (negative for a capacitive arc).

A file can hold several actions. This reader returns one measurement: the EIS
segments if there are any (as impedance.py's ``readVersaStudio``, which reads
Segment1), else the segments of the single technique other than open circuit;
files mixing several such techniques raise :class:`ReaderError`. What was used and
what was left out is recorded in ``meta["segments"]``.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import decode, head_text, technique_from_label, to_float
from echem.measurement import Measurement, canonical_frame

FORMAT = "versastudio-par"
VENDOR = "Princeton Applied Research"

_BLOCK = re.compile(r"^<(?P<tag>[A-Za-z]+)(?P<num>\d*)>\s*$")
_COLUMN_ROLES = (
    ("E_V", re.compile(r"^E\s*\(V\)$", re.I)),
    ("I_A", re.compile(r"^I\s*\(A\)$", re.I)),
    ("time_s", re.compile(r"^Elapsed\s*Time\s*\(s\)$", re.I)),
    ("freq_Hz", re.compile(r"^Frequency\s*\(Hz\)$", re.I)),
    ("Z_re_ohm", re.compile(r"^Z\s*Real$", re.I)),
    ("Z_im_ohm", re.compile(r"^Z\s*Imag$", re.I)),
    ("cycle", re.compile(r"^Cycle\s*#?$", re.I)),
)


def sniff(raw: bytes, name: str) -> bool:
    """VersaStudio files start with ``<Application>`` naming VersaStudio, or hold ``<Segment1>``."""
    head = head_text(raw, 4096)
    if head.lstrip("\ufeff \r\n").startswith("<Application>") and "VersaStudio" in head:
        return True
    text = decode(raw[:65536])
    return "<Segment1>" in text and "Definition=" in text


def _blocks(lines: list[str]) -> list[tuple[str, str, list[str]]]:
    """Split the file into ``(tag, number, lines)`` blocks."""
    blocks = []
    current = None
    for line in lines:
        stripped = line.strip()
        m = _BLOCK.match(stripped)
        if m and current is None:
            current = (m.group("tag"), m.group("num"), [])
            continue
        if current is not None and stripped == f"</{current[0]}{current[1]}>":
            blocks.append(current)
            current = None
            continue
        if current is not None:
            current[2].append(line.rstrip("\r\n"))
    if current is not None:
        raise ReaderError(
            f"block <{current[0]}{current[1]}> is not closed; the file is truncated, re-export it"
        )
    return blocks


def _keys(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        if "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), value.strip())
    return out


def _technique(action_name: str) -> str | None:
    label = action_name.lower()
    if "potentiodynamic" in label or "linear scan" in label:
        return "LSV"
    if "open circuit" in label:
        return "OCV"
    return technique_from_label(action_name)


def _start_time(experiment: dict[str, str]) -> str | None:
    date, time = experiment.get("DateAcquired"), experiment.get("TimeAcquired")
    if not date:
        return None
    text = f"{date} {time or '12:00:00 AM'}"
    for fmt in ("%A, %B %d, %Y %I:%M:%S %p", "%B %d, %Y %I:%M:%S %p", "%A, %B %d, %Y %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    return None


def _segment_table(lines: list[str], number: str) -> tuple[list[str], np.ndarray]:
    keys = {}
    rows = []
    for line in lines:
        if not line.strip():
            continue
        if "=" in line and not rows:
            key, value = line.split("=", 1)
            keys[key.strip()] = value
            continue
        rows.append([to_float(c) for c in line.split(",")])
    if "Definition" not in keys:
        raise ReaderError(f"<Segment{number}> has no Definition line naming its columns; re-export the file")
    names = [c.strip() for c in keys["Definition"].split(",")]
    if not rows:
        return names, np.empty((0, len(names)))
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ReaderError(f"<Segment{number}> has rows of different lengths; the file may be edited or truncated")
    return names[:width], np.array(rows, dtype=float)


def parse(raw: bytes, name: str) -> Measurement:
    lines = decode(raw).lstrip("\ufeff").splitlines()
    blocks = _blocks(lines)
    info: dict[str, dict[str, str]] = {}
    actions: list[dict[str, str]] = []
    segments: dict[int, list[str]] = {}
    for tag, num, body in blocks:
        if tag == "Action" and num:
            if int(num) >= 1:
                actions.append(_keys(body) | {"_number": num})
            else:
                info["Action0"] = _keys(body)
        elif tag == "Segment" and num:
            segments[int(num)] = body
        elif not num:
            info[tag] = _keys(body)
    if not segments:
        raise EmptyDataError(f"{name}: VersaStudio file holds no <Segment> data block")

    # Segment k belongs to the action whose cumulative segment count reaches k.
    owner: dict[int, dict[str, str]] = {}
    k = 0
    for action in sorted(actions, key=lambda a: int(a["_number"])):
        n = to_float(action.get("Segments", "0"))
        n = int(n) if np.isfinite(n) else 0
        for _ in range(n):
            k += 1
            owner[k] = action

    parts = []
    for number in sorted(segments):
        names, table = _segment_table(segments[number], str(number))
        action = owner.get(number, {})
        parts.append(
            {
                "segment": number,
                "action": action.get("Name"),
                "technique": _technique(action.get("Name", "")),
                "names": names,
                "table": table,
                "settings": action,
            }
        )
    nonempty = [p for p in parts if len(p["table"])]
    if not nonempty:
        raise EmptyDataError(f"{name}: VersaStudio segments have no data rows; the run may have been aborted")
    eis = [p for p in nonempty if p["technique"] == "EIS"]
    if eis:
        used = eis
    else:
        techniques = {p["technique"] for p in nonempty if p["technique"] != "OCV"}
        if len(techniques) > 1:
            summary = ", ".join(f"Segment{p['segment']} {p['action']!r}" for p in nonempty)
            raise ReaderError(
                f"{name}: the file mixes several techniques ({summary}); "
                "export each action to its own file in VersaStudio"
            )
        used = [p for p in nonempty if p["technique"] != "OCV"] or nonempty

    columns: dict[str, list[np.ndarray]] = {}
    for p in used:
        for role, pattern in _COLUMN_ROLES:
            idx = next((i for i, n in enumerate(p["names"]) if pattern.match(n)), None)
            if idx is not None:
                columns.setdefault(role, []).append(p["table"][:, idx])
    if any(len(v) != len(used) for v in columns.values()):
        raise ReaderError(f"{name}: the segments used do not share the same columns; export them separately")
    data_cols = {role: np.concatenate(v) for role, v in columns.items()}
    if "cycle" in data_cols:
        data_cols["cycle"] = data_cols["cycle"].astype(np.int64)
    is_eis = bool(eis)
    if is_eis and not {"freq_Hz", "Z_re_ohm", "Z_im_ohm"} <= set(data_cols):
        raise ReaderError(f"{name}: EIS segment lacks Frequency(Hz), Z Real or Z Imag in its Definition line")
    if not is_eis:
        for role in ("freq_Hz", "Z_re_ohm", "Z_im_ohm"):
            data_cols.pop(role, None)

    meta: dict = {
        "segments": [
            {
                "segment": p["segment"],
                "action": p["action"],
                "technique": p["technique"],
                "rows": int(len(p["table"])),
                "used": any(p is u for u in used),
            }
            for p in parts
        ]
    }
    techniques = {p["technique"] for p in used}
    if len(techniques) == 1 and None not in techniques:
        meta["technique"] = techniques.pop()
    meta["technique_label"] = "; ".join(sorted({p["action"] for p in used if p["action"]}))
    app = info.get("Application", {})
    if app.get("Version"):
        meta["software_version"] = f"{app.get('Name', 'VersaStudio')} {app['Version']}"
    inst = info.get("Instrument", {})
    if inst.get("Type"):
        meta["instrument"] = inst["Type"] + (f" SN {inst['SN']}" if inst.get("SN") else "")
    start = _start_time(info.get("Experiment", {}))
    if start:
        meta["start_time"] = start
    common = info.get("Action0", {})
    area = to_float(common.get("Working Electrode Area (cm2)", ""))
    if np.isfinite(area) and area > 0:
        meta["area_cm2"] = area
    ref = common.get("Reference Electrode", "")
    m = re.match(r"^(?P<name>.*?)\s*\((?P<E>[-+\d.eE]+)\s*Volts?\)\s*$", ref)
    if ref and not ref.lower().startswith("(unspecified)"):
        meta["reference_electrode"] = m.group("name") if m else ref
        if m:
            meta["reference_E_V"] = float(m.group("E"))
    ocp = re.match(r"^([-+\d.eE]+)\s*(mV|V)$", common.get("Measured Open Circuit", ""))
    if ocp:
        meta["ocp_V"] = float(ocp.group(1)) * (1e-3 if ocp.group(2) == "mV" else 1.0)
    settings = used[0]["settings"]
    if is_eis:
        amp = to_float(settings.get("Amplitude (mV RMS)", ""))
        if np.isfinite(amp):
            meta["ac_amplitude_V_rms"] = amp * 1e-3
    else:
        rate = to_float(settings.get("Scan Rate (V/s)", ""))
        if np.isfinite(rate) and rate > 0:
            meta["scan_rate_V_s"] = rate
    if is_eis:
        meta["z_im_sign"] = "as written (VersaStudio writes Z Imag with its physical sign)"
    return Measurement(data=canonical_frame(data_cols), meta=meta)
