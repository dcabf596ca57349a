"""Readers for potentiostat exports, all returning the canonical :class:`Measurement`.

``read(path)`` reads the bytes once, asks each reader module whether it recognises
them (``sniff``), parses with the first that does, and completes the metadata
(``sha256``, ``source``, ``technique`` with its provenance). A file no reader
recognises raises :class:`~echem.errors.UnknownFormatError`; it is never guessed.

A reader is a module in this package with::

    FORMAT = "biologic-mpt"          # format id, as in the corpus MANIFEST
    VENDOR = "BioLogic"
    def sniff(raw: bytes, name: str) -> bool: ...   # cheap, content first
    def parse(raw: bytes, name: str) -> Measurement: ...

and optionally::

    def table_start(text: str) -> int: ...   # line index where the data table starts
    TEXT_CHECKS = False                      # not a table of text lines (JSON, XML, ...)
    def parse_long(source, name) -> Long | None: ...   # a long file's table read in C

``parse`` returns SI canonical columns and whatever metadata the file states; it
sets ``meta["technique"]`` only when the file itself says which technique it is
(``None`` with a ``technique_source`` when the file names a technique echem does not
analyse), and the vendor's own name for it in ``meta["technique_label"]``.

For text files the registry then refuses text inside the data table (the damage check
looks at the table only, from ``table_start`` on: a header with a block of technique
parameters is not a table) and leaves out a row cut off at the end of the file.

A file of ``_long.MIN_BYTES`` (1 MB) or more whose reader has ``parse_long`` (EC-Lab .mpt,
Gamry .DTA: hours of chronopotentiometry, millions of rows) is first read by it: the table
streamed into pandas' C parser, every cell certified, the damage and cut-row checks decided
from the head and the end (:mod:`echem.io._long`). It gives what ``parse`` and those checks
give, to the bit, or ``None`` and the careful path runs; :func:`read` then never holds the
file whole in memory (:func:`_read_long_file`). For
impedance data :func:`_finish` numbers the spectra (:mod:`echem.io._spectra`): the
``cycle`` column says which sweep each point belongs to and ``meta["n_spectra"]`` how
many there are, whatever the vendor wrote; rows that are not impedance points
(frequency 0) are left out and counted in ``meta["rows_dropped"]``.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from echem.errors import DamagedFileError, EchemError, EmptyDataError, ReaderError, UnknownFormatError
from echem.io import _long, _text
from echem.io._spectra import number_spectra
from echem.io._text import (damaged_rows, decode, decode_as, incomplete_last_line, is_binary, split_lines,
                            technique_from_label, technique_from_name, without_last_line)
from echem.measurement import COLUMNS, Measurement

#: Reader modules in the order they are asked. Specific formats come before the
#: generic CSV reader, which accepts any delimited table with recognisable headers.
READER_MODULES = (
    "biologic_mpt",
    "biologic_mpr",
    "gamry_dta",
    "zplot_z",
    "zahner_ism",
    "ivium_idf",
    "versastudio_par",
    "chi_txt",
    "autolab_txt",
    "palmsens_csv",
    "novocontrol_txt",
    "ec4_txt",
    "parstat_txt",
    "powersuite_txt",
    "palmsens_pssession",
    "ecochemie_dfr",
    "elchemea_i2b",
    "spreadsheet",
    "generic_csv",
)


def _reader(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"echem.io.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"echem.io.{name}":
            return None  # reader not written yet
        raise


def readers() -> list[ModuleType]:
    """The reader modules available, in the order they are asked."""
    return [m for m in (_reader(n) for n in READER_MODULES) if m is not None]


def sha256_bytes(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def find_reader(raw: bytes, name: str) -> ModuleType | None:
    """The first reader whose ``sniff`` accepts these bytes, or ``None``."""
    for module in readers():
        try:
            if module.sniff(raw, name):
                return module
        except Exception:  # a sniffer must never break detection of other formats
            continue
    return None


def read(path: str | Path) -> Measurement:
    """Read one potentiostat export into a canonical :class:`Measurement`.

    Raises
    ------
    EmptyDataError
        The file is empty or has no data rows.
    UnknownFormatError
        No reader recognises the file.
    ReaderError
        A reader recognised the file but could not parse it (truncated, edited...).
    """
    path = Path(path)
    measurement = _read_long_file(path)
    if isinstance(measurement, Measurement):
        return measurement
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise ReaderError(f"cannot read {path.name}: permission denied; make it readable (chmod a+r) for "
                          "the account that runs the workflow") from None
    except OSError as exc:
        raise ReaderError(f"cannot read {path.name}: {(exc.strerror or type(exc).__name__).lower()}") from None
    try:  # the long-file reader declined (measurement False): not asked again
        return _read_bytes(raw, path.name, str(path), long=measurement is None)
    finally:
        _text.forget_decoded()


#: Readers whose ``sniff`` looks at the first 4 kB only: a long file found to be one of them from
#: its head is read by range (:func:`_read_long_file`), never held whole in memory.
_HEAD_SNIFFERS = ("biologic_mpt", "biologic_mpr", "gamry_dta")


def _read_long_file(path: Path) -> Measurement | bool | None:
    """:func:`read_bytes` of a long file of a reader with ``parse_long``, read by range from the
    file (head, end, the table streamed into the C parser, the sha256 on a thread); ``None``
    when the file is short or another format, ``False`` when its reader cannot vouch for the
    result."""
    try:
        if path.stat().st_size < _long.MIN_BYTES:
            return None
        source = _long.FileSource(path)
    except OSError:
        return None  # read_bytes says what is wrong with the file
    try:
        with source:
            head = source.read(0, 65536)
            if source.size < _long.MIN_BYTES or len(head) < 4096 or _is_blank(head) or is_binary(head):
                return None
            module = find_reader(head, path.name)
            names = [m.__name__.rsplit(".", 1)[-1] for m in readers()]
            if module is None or not hasattr(module, "parse_long"):
                return None
            if not set(names[:names.index(module.__name__.rsplit(".", 1)[-1]) + 1]) <= set(_HEAD_SNIFFERS):
                return None  # a reader asked before it may look beyond the head
            digest = source.digest()
            measurement = _parse_long(module, source, path.name)
            if measurement is None:
                return False
            return _finish(measurement, module, path.name, str(path), digest)
    except OSError:
        return None  # the file changed while it was read: read it again, whole


def read_bytes(raw: bytes, name: str, source: str | None = None) -> Measurement:
    """Like :func:`read`, on bytes already in memory (``name`` is the file name)."""
    try:
        return _read_bytes(raw, name, source)
    finally:
        _text.forget_decoded()  # a long file's text is not kept once it is read


def _is_blank(raw: bytes) -> bool:
    """Only NUL, blanks, line breaks and byte-order marks (looked at from the start: no copy
    of a long file)."""
    chars = b"\x00 \t\r\n\xef\xbb\xbf\xff\xfe"
    return not raw[:65536].strip(chars) and not raw.strip(chars)


def _read_bytes(raw: bytes, name: str, source: str | None, long: bool = True) -> Measurement:
    if _is_blank(raw):
        raise EmptyDataError(f"{name}: the file is empty; re-export it from the instrument software")
    module = find_reader(raw, name)
    if module is None:
        damaged = _damaged_known_type(raw, name)
        if damaged:
            raise DamagedFileError(damaged)
        supported = ", ".join(sorted({m.FORMAT for m in readers()}))
        if not is_binary(raw) and decode(raw[:64]).lstrip("\ufeff \t\r\n").startswith(("{", "[")):
            raise UnknownFormatError(
                f"{name}: a JSON file, and not a PalmSens .pssession session: not an instrument export "
                "echem reads (a table dumped by a script or pandas?). Export the measurement as CSV with "
                "headers such as 'E/V,I/A' or 'freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm', or move it out of raw/"
            )
        raise UnknownFormatError(
            f"{name}: no reader recognises this file ({_describe(raw)}); "
            f"supported formats: {supported}. Export it in one of these, or as CSV with "
            "headers such as 'E/V,I/A' or 'freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm', "
            "or move it out of raw/ if it is not data"
        )
    data = _long.BytesSource(raw)
    digest = data.digest()  # a long file is hashed on a thread while it is parsed
    measurement = _parse_long(module, data, name) if long and not is_binary(raw) else None
    if measurement is None:
        measurement = _parse(module, raw, name)
        if getattr(module, "TEXT_CHECKS", True) and not is_binary(raw):
            _refuse_damaged_rows(raw, name, module)
            measurement = _without_cut_row(measurement, module, raw, name)
    return _finish(measurement, module, name, source, digest)


def _parse(module: ModuleType, raw: bytes, name: str, parse=None) -> Measurement:
    try:
        return parse() if parse is not None else module.parse(raw, name)
    except EchemError as exc:
        msg = str(exc)
        raise type(exc)(msg if msg.startswith(name) else f"{name}: {msg}") from exc
    except Exception as exc:  # vendor parsers fail in many ways on damaged files
        raise ReaderError(
            f"{name}: looks like {module.FORMAT} but could not be parsed "
            f"({type(exc).__name__}: {exc}); the file may be truncated or edited, "
            "re-export it from the instrument software"
        ) from exc


def _parse_long(module: ModuleType, source: _long.Source, name: str) -> Measurement | None:
    """What :func:`_parse`, :func:`_refuse_damaged_rows` and :func:`_without_cut_row` give,
    from the reader's ``parse_long`` (:mod:`echem.io._long`) for a long text file; ``None``
    when the reader has none, the file is short, or the reader cannot vouch for its result."""
    parse_long = getattr(module, "parse_long", None)
    if parse_long is None or source.size < _long.MIN_BYTES:
        return None
    try:
        long = parse_long(source, name)
    except Exception:  # noqa: BLE001 - laid out from the head only: the careful path decides
        return None
    if long is None:
        return None
    measurement = _parse(module, b"", name, long.full)
    if long.reason is None:
        return measurement
    try:
        again = long.shorter()
    except Exception:  # noqa: BLE001 - as module.parse of the shorter file in _without_cut_row
        again = None
    return _cut_row_outcome(measurement, again, long.reason, name)


def _table_start(module: ModuleType | None, text: str) -> int:
    """Index of the line where the reader's data table starts (0 when it does not say)."""
    finder = getattr(module, "table_start", None)
    if finder is None:
        return 0
    try:
        return max(0, int(finder(text)))
    except Exception:  # noqa: BLE001 - the reader's parse has already accepted the file
        return 0


def _refuse_damaged_rows(raw: bytes, name: str, module: ModuleType | None = None) -> None:
    """A line of text or NaN inside a table of numbers is an error, never skipped or read as NaN.

    Only the data table is checked: a header may hold lines of numbers too (EC-Lab's
    technique parameters, one column per sequence) and text between them.
    """
    text = decode(raw)
    start = _table_start(module, text)
    if start:
        text = "\n".join(split_lines(text)[start:])
    bad = [(line_no + start, line) for line_no, line in damaged_rows(text)]
    if bad:
        line_no, line = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise ReaderError(
            f"{name}: line {line_no}{more} sits inside the data table but is not a row of numbers "
            f"like the lines around it: {line.strip()[:80]!r} (text or NaN where numbers belong). "
            "The file was edited or damaged: correct or delete that line, or export the file again"
        )


def _without_cut_row(m: Measurement, module: ModuleType, raw: bytes, name: str) -> Measurement:
    """Make sure the cut last row of a truncated text file never reaches the data.

    A file cut mid-row ends with part of a row, and a cut number reads as another
    number (``-3.183e-05`` as ``-3.1``). When :func:`~echem.io._text.incomplete_last_line`
    says the last line is cut, the file is parsed again without it: if the reader had
    used that line, the re-parsed measurement (one row fewer) replaces it. Either way the
    file is flagged ``meta["truncated"]`` with a line in ``meta["warnings"]``, as readers do
    for files cut at a line break.
    """
    text, encoding = decode_as(raw)
    reason = incomplete_last_line(text)
    if reason is None:
        return m
    shorter = without_last_line(text).encode(encoding, errors="replace")
    try:
        again = module.parse(shorter, name) if shorter.strip() else None
    except Exception:  # noqa: BLE001 - without the cut line the file cannot be read at all
        again = None
    return _cut_row_outcome(m, again, reason, name)


def _cut_row_outcome(m: Measurement, again: Measurement | None, reason: str, name: str) -> Measurement:
    """``m`` (the file read with its cut last line) or ``again`` (read without it), flagged."""
    rows = len(_without_empty_rows(m.data))
    if again is None:
        raise ReaderError(
            f"{name}: the file ends in the middle of a data row ({reason}), and without that "
            "row it cannot be read; it was cut while copying or read while the instrument was "
            "still writing. Copy or export it again"
        )
    if len(_without_empty_rows(again.data)) < rows:
        m = again
    meta = dict(m.meta)
    meta["truncated"] = True
    meta["warnings"] = list(meta.get("warnings") or []) + [
        f"the file ends in the middle of a row ({reason}): that row is left out; the file "
        "was cut while copying or read while the instrument was still writing"
    ]
    return Measurement(data=m.data, meta=meta)


#: File extensions that name one kind of export, with what such a file holds.
_KNOWN_EXTENSIONS = {
    ".mpt": ("text", "an EC-Lab text export (.mpt)"),
    ".mpr": ("binary", "an EC-Lab binary file (.mpr)"),
    ".dta": ("text", "a Gamry .DTA export"),
    ".z": ("text", "a ZPlot/ZView .z export"),
    ".ism": ("binary", "a Zahner Thales .ism file"),
    ".idf": ("text", "an IviumSoft .idf file"),
    ".par": ("text", "a VersaStudio .par export"),
    ".csv": ("text", "a CSV table"),
    ".tsv": ("text", "a tab-separated table"),
    ".txt": ("text", "a text export"),
    ".pssession": ("text", "a PalmSens PSTrace session (.pssession)"),
    ".dfr": ("text", "an Autolab FRA .dfr export"),
    ".i2b": ("text", "an Elchemea Analytical .i2b export"),
    ".xlsx": ("binary", "an Excel workbook (.xlsx)"),
    ".ods": ("binary", "an OpenDocument spreadsheet (.ods)"),
    ".fods": ("text", "a flat OpenDocument spreadsheet (.fods)"),
}


def _describe(raw: bytes) -> str:
    """What a file no reader knows holds, without quoting it (it may not be data at all:
    whatever it says must not end up in errors.csv)."""
    if is_binary(raw):
        return f"{len(raw):,} bytes of binary data"
    lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
    return f"text, {lines:,} line{'s' if lines != 1 else ''}, no table of measurement columns"


def _damaged_known_type(raw: bytes, name: str) -> str | None:
    """A message for a file whose extension names a data format its content is not.

    Binary bytes in a text format's file (or an .mpr/.ism no reader recognises) are a
    damaged or mis-named file, not a note someone left in raw/.
    """
    ext = Path(name).suffix.lower()
    if ext not in _KNOWN_EXTENSIONS:
        return None
    kind, what = _KNOWN_EXTENSIONS[ext]
    binary = is_binary(raw)
    if kind == "text" and not binary:
        return None  # text no reader knows: the generic message lists the formats
    content = "binary data" if binary else "text"
    return (
        f"{name}: the name says {what} but the content is {content} that no reader recognises; "
        "the file is damaged (a failed copy or download) or mis-named. Copy or export it again "
        "from the instrument software, or move it out of raw/"
    )


def _without_empty_rows(data):
    """``data.dropna(how="all").reset_index(drop=True)``, without copying a table that has no
    empty row (the common case, checked with numpy on a table of numpy floats and integers)."""
    index = data.index
    if (len(data.columns) and isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and index.name is None and data.columns.is_unique
            and all(isinstance(dtype, np.dtype) and dtype.kind in "fi" for dtype in data.dtypes)):
        if any(dtype.kind == "i" for dtype in data.dtypes):
            return data  # a column of integers has a value in every row
        empty = np.isnan(data[data.columns[0]].to_numpy(dtype=float))
        for column in data.columns[1:]:  # column by column: no copy of a long table
            if not empty.any():
                break
            empty &= np.isnan(data[column].to_numpy(dtype=float))
        if not empty.any():
            return data
    return data.dropna(how="all").reset_index(drop=True)


def _finish(m: Measurement, module: ModuleType, name: str, source: str | None, sha256) -> Measurement:
    """The registry's part of every measurement: rows without values left out, metadata
    (format, vendor, source, ``sha256()``, rows, technique and where it came from), spectra
    numbered, essential values checked."""
    data = _without_empty_rows(m.data)
    if data.empty:
        raise EmptyDataError(
            f"{name}: {module.FORMAT} file has a header but no data rows; "
            "the measurement may have been aborted before the first point"
        )
    meta = dict(m.meta)
    meta.setdefault("format", module.FORMAT)
    meta.setdefault("vendor", module.VENDOR)
    meta["source"] = source or name
    meta["file"] = name
    meta["sha256"] = sha256()
    meta["rows"] = int(len(data))

    technique = meta.get("technique")
    if technique:
        meta.setdefault("technique_source", "file content")
    elif "technique" in meta and meta.get("technique_source"):
        pass  # the reader decided: the file holds a technique echem does not analyse
    elif {"freq_Hz", "Z_re_ohm", "Z_im_ohm"} <= set(data.columns):
        meta["technique"], meta["technique_source"] = "EIS", "file content (impedance columns)"
    elif meta.get("technique_label"):
        # the file names a technique the workflow does not analyse (DPV, SWV, GCPL, ...):
        # say so rather than guess from the name or the data
        meta["technique"] = None
        meta["technique_source"] = f"file says {meta['technique_label']!r}, not analysed by echem"
    elif (from_name := technique_from_name(name)) is not None:
        meta["technique"], meta["technique_source"] = from_name, "file name"
    elif (from_shape := technique_from_data(data)) is not None:
        meta["technique"], meta["technique_source"] = from_shape, "data shape"
    else:
        meta["technique"], meta["technique_source"] = None, "unknown"
    if {"freq_Hz", "Z_re_ohm", "Z_im_ohm"} <= set(data.columns):
        data = _impedance_rows(data, meta, name)
    elif "freq_Hz" in data.columns:
        data = _without_negative_frequencies(data, meta, name)
        freq = data["freq_Hz"].to_numpy(float)
        if np.any(freq[np.isfinite(freq)] <= 0):
            dropped = int(np.sum(freq[np.isfinite(freq)] <= 0))
            data = data[~(data["freq_Hz"] <= 0)].reset_index(drop=True)
            meta["rows_dropped"] = {**(meta.get("rows_dropped") or {}),
                                    "frequency <= 0 (not an impedance point)": dropped}
            meta["rows"] = int(len(data))
            if data.empty:
                raise EmptyDataError(f"{name}: no impedance point has a frequency above 0 Hz; "
                                     "re-export the spectrum with its frequency column")
    _check_numbers(data, name)
    return Measurement(data=data, meta=meta)


def _without_negative_frequencies(data: pd.DataFrame, meta: dict, name: str) -> pd.DataFrame:
    """Rows with a negative frequency left out, with a warning: no instrument writes one, so
    they are damage (or a sign in the wrong column), not the frequency-0 rows of other
    techniques that separate sweeps. Left in, every other point negative made each
    remaining point a spectrum of its own."""
    freq = data["freq_Hz"].to_numpy(float)
    negative = np.isfinite(freq) & (freq < 0)
    n = int(negative.sum())
    if not n:
        return data
    total = int(np.isfinite(freq).sum())
    meta["rows_dropped"] = {**(meta.get("rows_dropped") or {}), "frequency < 0 (damaged row)": n}
    if n == total:
        raise ReaderError(f"{name}: every frequency is negative; the frequency column is damaged or "
                          "holds a sign it should not. Re-export the spectrum from the instrument software")
    _warn(meta, f"{n} of {total} points have a negative frequency and were left out ({100 * n / total:.0f} % "
                "of the spectrum): the file is damaged or edited; check it against the instrument's own export")
    data = data[~negative].reset_index(drop=True)
    meta["rows"] = int(len(data))
    return data


def _impedance_rows(data: pd.DataFrame, meta: dict, name: str) -> pd.DataFrame:
    """Number the spectra, leave out rows that are not impedance points, check the signs.

    The spectra are numbered on the whole table (a run of non-impedance rows between
    two sweeps separates them), then rows with frequency <= 0 are dropped (counted in
    ``meta["rows_dropped"]``). ``cycle`` then holds the spectrum each point belongs to
    (the file's own numbers when they tell the sweeps apart); it is added when the file
    holds several spectra and had no such column. ``meta["n_spectra"]`` is always set.
    """
    data = _without_negative_frequencies(data, meta, name)
    freq = data["freq_Hz"].to_numpy(float)
    cycle = data["cycle"].to_numpy() if "cycle" in data.columns else None
    if meta.get("canonical_csv"):
        # echem's own CSV: written from a Measurement whose spectra were already numbered
        keep = np.isfinite(freq) & (freq > 0)
        spectra = cycle.astype(np.int64) if cycle is not None else np.ones(freq.size, dtype=np.int64)
        how, note = "the file's cycle column (echem canonical CSV)", None
    else:
        spectra, keep, how, note = number_spectra(freq, cycle)
    if note:
        _warn(meta, note)
    if not keep.all():
        dropped = int((~keep).sum())
        bad_freq = freq[~keep]
        if np.any(~np.isfinite(bad_freq)):
            _check_numbers(data, name)  # a NaN frequency is damage, refused there
        data = data[keep].reset_index(drop=True)
        spectra = spectra[keep]
        meta["rows_dropped"] = {**(meta.get("rows_dropped") or {}), "frequency <= 0 (not an impedance point)": dropped}
        meta["rows"] = int(len(data))
        if data.empty:
            raise EmptyDataError(f"{name}: no impedance point has a frequency above 0 Hz; "
                                 "re-export the spectrum with its frequency column")
    n = int(np.unique(spectra).size)
    previous = meta.get("n_spectra")
    meta["n_spectra"] = n
    if (cycle is not None or n > 1) and not meta.get("canonical_csv"):
        if cycle is None or not np.array_equal(data["cycle"].to_numpy(), spectra):
            data = data.copy()
            data["cycle"] = spectra.astype("int64")
            columns = [c for c in COLUMNS if c in data.columns]
            data = data[columns]
        used = dict(meta.get("columns_used") or {})
        used["cycle"] = f"spectrum number: {how}"
        meta["columns_used"] = used
    if previous is not None and previous != n:
        _warn(meta, f"the reader found {previous} spectra, the frequency sweeps say {n}: "
                    f"each sweep is analysed as one spectrum ({how})")
    _check_signs(data, meta)
    return data


def _warn(meta: dict, text: str) -> None:
    warnings = list(meta.get("warnings") or [])
    if text not in warnings:
        warnings.append(text)
    meta["warnings"] = warnings


def _check_signs(data: pd.DataFrame, meta: dict) -> None:
    """Report impedance whose signs look unphysical after the reader applied the file's convention.

    Z'' positive at most points is an inductive response: real for a cell dominated by
    lead inductance, but far more often a sign convention the column name did not state.
    Z' below zero at most points is not a passive cell. Neither is changed here: the
    reader applied what the file says; this says that the data disagree.
    """
    z_im = data["Z_im_ohm"].to_numpy(float)
    z_re = data["Z_re_ohm"].to_numpy(float)
    nonzero = z_im[np.isfinite(z_im) & (z_im != 0)]
    if nonzero.size >= 3 and np.sum(nonzero > 0) > 2 * nonzero.size / 3 and not meta.get("z_im_sign_assumed"):
        _warn(meta, f"Z'' is positive (inductive) at {int(np.sum(nonzero > 0))} of {nonzero.size} points "
                    "after the file's sign convention was applied: check that the column's sign is "
                    "what its name says (a capacitive arc has Z'' < 0)")
    nonzero = z_re[np.isfinite(z_re) & (z_re != 0)]
    if nonzero.size >= 3 and np.sum(nonzero < 0) > 2 * nonzero.size / 3:
        _warn(meta, f"Z' is negative at {int(np.sum(nonzero < 0))} of {nonzero.size} points after the "
                    "file's sign convention was applied: a passive cell has Z' > 0; check the column's sign")


def _check_numbers(data, name: str) -> None:
    """Refuse rows whose essential values are not finite numbers (text, NaN, inf).

    Essential are the impedance columns for a spectrum, else potential, current and
    time. A missing temperature is not an error.
    """
    impedance = [c for c in ("freq_Hz", "Z_re_ohm", "Z_im_ohm") if c in data.columns]
    columns = impedance if len(impedance) == 3 else [c for c in ("time_s", "E_V", "I_A") if c in data.columns]
    for col in columns:
        values = data[col].to_numpy(float)
        bad = ~np.isfinite(values)
        if bad.any():
            rows = np.flatnonzero(bad)
            where = ", ".join(str(int(r) + 1) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
            raise ReaderError(
                f"{name}: {rows.size} of {values.size} data rows have no finite number in {col} "
                f"(data rows {where}): a cell holds text, NaN or inf where a number belongs. "
                "The file was edited or damaged: correct or delete those rows, or export it again"
            )


def technique_from_data(data) -> str | None:
    """Infer LSV/CV/CA/CP/OCV from the shape of E(t) and I(t), when nothing else says.

    Zero current is an OCV; a constant non-zero current with a moving potential is a
    CP; a constant potential is a CA; one potential sweep is an LSV; a sweep whose
    return covers more than half the span is a CV (turning points by
    :func:`echem.sweeps.sweep_segments`, which ignores noise). ``None`` otherwise.
    """
    from echem.sweeps import sweep_segments

    if "E_V" not in data.columns or len(data) < 5:
        return None
    E = data["E_V"].to_numpy(float)
    I = data["I_A"].to_numpy(float) if "I_A" in data.columns else None
    E = E[np.isfinite(E)]
    span = float(np.ptp(E)) if E.size else 0.0
    if I is not None:
        I = I[np.isfinite(I)]
        if I.size and np.all(np.abs(I) < 1e-12):
            return "OCV"
        if I.size and span > 0.05 and np.ptp(I) < 1e-3 * max(np.abs(I).max(), 1e-15):
            return "CP"
    if span < 0.005:
        return "CA" if I is not None else None
    segments = sweep_segments(E)
    if segments.max() == 0:
        return "LSV"
    spans = [np.ptp(E[segments == k]) for k in range(1, int(segments.max()) + 1)]
    return "CV" if max(spans) > 0.5 * span else "LSV"


__all__ = ["read", "read_bytes", "readers", "find_reader", "technique_from_label", "sha256_bytes",
           "EmptyDataError", "ReaderError", "UnknownFormatError"]
