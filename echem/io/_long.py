"""Long tables of numbers read in C, to the same Measurement as the careful path.

84 h of chronopotentiometry at 10 points/s is 3 million rows: 440 MB of EC-Lab text. The
careful path (the text decoded, split into lines and cells of Python strings, every line's
shape compared with its neighbours') takes half a minute and 5 GB for it. A reader with a
``parse_long`` (EC-Lab .mpt, Gamry .DTA) reads a file of :data:`MIN_BYTES` or more here
first; what it returns is, to the bit, the Measurement (data and meta, warnings, errors)
that its ``parse`` plus the registry's damage and cut-row checks give, or ``None``, and then
the careful path runs. How it knows that, step by step:

* **Layout** from the ends only. :func:`ends` decodes the first :data:`HEAD_BYTES` (cut at a
  line break) and the last :data:`TAIL_BYTES` as the whole file decodes (BOM, UTF-8, else
  Windows-1252: the table between them is certified ASCII, so the head decides). The reader
  lays the file out from the head with its own functions: header, column names, where the
  rows start, the decimal mark (from the same lines its ``parse`` uses), the kind of each
  column in the first rows (:func:`column_kinds`).
* **Every cell** of the table, not only the columns read: :func:`table` hands the bytes of the
  rows (read by range from the file, :class:`FileSource`, or from bytes in memory; two halves
  on two threads, a chunk of rows at a time) to pandas' C parser, each column by its kind:
  numbers as float64 (finite) or int64 (counters), text as categories (every distinct cell
  checked: ASCII and not a number; a missing cell is none).
  The parser is exact (fast_float in pandas >= 3.1, Python's own ``float`` before: the value
  ``float()`` gives), takes tabs and line breaks as ``str.split`` and :func:`~echem.io._text.
  split_lines` do (no quoting), and fails on a row with another number of cells, a cell that
  is not a number where the column has numbers, NaN, or a NUL byte. So every row has the
  cells, and the numbers, of the first rows. Any failure: ``None``.
* **Damage** (:func:`~echem.io._text.damaged_rows`): a line can only be reported where its
  pattern differs from the pattern of the line its run of equal skeletons follows. With every
  row of one pattern, only the lines above the rows and the first rows can be, and that is
  decided by the scan of the head alone (:func:`head_is_clean`), given the delimiter of the
  file's last 50 lines (read from the end) and a comparison that has moved into the rows
  (:func:`~echem.io._text.damage_scan`).
* **A cut last row** (:func:`~echem.io._text.incomplete_last_line` looks at the end only): the
  reader builds the measurement with the last line (as its ``parse`` reads it) and without it
  (what ``parse`` gives for the file cut before it), and the registry keeps one as it does for
  the careful path (:class:`Long`).

What is left to the careful path: UTF-16, CR-only line breaks, tables followed by more text or
split in several (a Gamry CV's CURVE per cycle), columns mixing numbers and text, and every
damaged file (its error names the line; the careful path finds it).

tests/io/test_long_tables.py checks the equality on the corpus, the demo and damaged variants
of them and of long synthetic files, with the fast path forced (:data:`MIN_BYTES` = 0).
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import io
import os
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from echem.io import _text
from echem.measurement import Measurement

#: Files of at least this many bytes are read here first (1 MB: about 7000 EC-Lab rows; below
#: it the careful path takes a few hundredths of a second). Tests set it to 0.
MIN_BYTES = 1 << 20
#: The head decoded for the layout: header, column names and the first rows (at least the 200
#: that EC-Lab's decimal mark is guessed from).
HEAD_BYTES = 1 << 18
#: The end decoded for the cut-row check and the damage check's delimiter.
TAIL_BYTES = 1 << 16
#: Rows per chunk given to the C parser (memory: rows x columns x 8 bytes per thread).
CHUNK_ROWS = 200_000
#: The table is parsed in this many parts at once (threads; pandas' parser releases the GIL),
#: each of at least PART_MIN_BYTES.
PARTS = 2
PART_MIN_BYTES = 1 << 20


def _pandas_is_exact() -> bool:
    """pandas >= 3.1 parses floats with fast_float, correctly rounded as ``float()``."""
    import pandas as pd

    major, minor = (int(x) for x in re.findall(r"\d+", pd.__version__)[:2])
    return (major, minor) >= (3, 1)


class Source:
    """The bytes of a file, read by range: the file itself (:class:`FileSource`, never held
    whole in memory) or bytes already read (:class:`BytesSource`)."""

    size: int

    def read(self, start: int, end: int) -> bytes:
        raise NotImplementedError

    def stream(self, start: int, end: int) -> io.RawIOBase:
        """Bytes ``start:end`` as a binary file (what pandas' parser reads)."""
        raise NotImplementedError

    def digest(self) -> Callable[[], str]:
        """A function giving the sha256 of all the bytes; for a long file it is computed on a
        thread (hashlib releases the GIL) while the table is parsed."""
        raise NotImplementedError

    def find(self, sub: bytes, start: int, end: int) -> int:
        """``bytes.find`` of a short ``sub``, looking at most 1 MB from ``start``."""
        return self._find(sub, start, min(end, start + (1 << 20)))

    def _find(self, sub: bytes, start: int, end: int) -> int:
        at = self.read(start, end).find(sub)
        return start + at if at >= 0 else -1

    def count_breaks(self, end: int) -> int:
        """Line breaks before ``end`` (CRLF, CR or LF, as :func:`~echem.io._text.split_lines`)."""
        n, previous, step = 0, b"", 1 << 24
        for a in range(0, end, step):
            chunk = self.read(a, min(end, a + step))
            n += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous.endswith(b"\r") and chunk.startswith(b"\n"):
                n -= 1
            previous = chunk
        return n


class BytesSource(Source):
    def __init__(self, raw: bytes):
        self.raw = raw
        self.size = len(raw)

    def read(self, start: int, end: int) -> bytes:
        return self.raw[start:end]

    def stream(self, start: int, end: int) -> io.RawIOBase:
        return _Stream(lambda pos, n: memoryview(self.raw)[pos:pos + n], start, end)

    def _find(self, sub: bytes, start: int, end: int) -> int:
        return self.raw.find(sub, start, end)

    def digest(self) -> Callable[[], str]:
        return _digest(lambda: [self.raw], self.size)


class FileSource(Source):
    """A file read by range (``os.pread``: the parts of the table are read on threads).

    Its size is taken once, when it is opened: a file still being written is read as it was
    then, and its sha256 is that of those bytes.
    """

    def __init__(self, path):
        self.path = path
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self.size = os.fstat(self._fd).st_size
        self._lock = threading.Lock()  # where os.pread is missing (Windows): seek and read

    def _pread(self, n: int, pos: int) -> bytes:
        if hasattr(os, "pread"):
            return os.pread(self._fd, n, pos)
        with self._lock:
            os.lseek(self._fd, pos, os.SEEK_SET)
            return os.read(self._fd, n)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read(self, start: int, end: int) -> bytes:
        start, end = max(0, start), min(end, self.size)
        if end <= start:
            return b""
        parts, pos = [], start
        while pos < end:
            chunk = self._pread(end - pos, pos)
            if not chunk:  # the file was cut while it was read: the careful path reads it again
                raise OSError(f"{self.path}: shorter than its {self.size} bytes while it was read")
            parts.append(chunk)
            pos += len(chunk)
        return b"".join(parts) if len(parts) != 1 else parts[0]

    def stream(self, start: int, end: int) -> io.RawIOBase:
        return _Stream(lambda pos, n: self.read(pos, pos + n), start, min(end, self.size))

    def digest(self) -> Callable[[], str]:
        path, size = self.path, self.size

        def chunks():
            with open(path, "rb") as fh:  # its own handle: the hash may outlive this source
                left = size
                while left > 0:
                    chunk = fh.read(min(left, 1 << 22))
                    if not chunk:
                        break
                    left -= len(chunk)
                    yield chunk

        return _digest(chunks, size)


class _Stream(io.RawIOBase):
    """Bytes ``start:end`` of a source as a binary file, read a buffer at a time.

    A NUL byte stops the read with an error: the C parser ends a cell at a NUL (pandas < 3.1
    then reads ``1.5<NUL>`` as 1.5), the careful path reads no number there.
    """

    def __init__(self, read: Callable[[int, int], bytes | memoryview], start: int, end: int):
        self._read, self._pos, self._end = read, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._end - self._pos)
        if n <= 0:
            return 0
        chunk = self._read(self._pos, n)
        if b"\x00" in chunk:
            raise ValueError("a NUL byte in the table")
        buffer[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def read(self, n: int = -1) -> bytes:
        n = self._end - self._pos if n is None or n < 0 else min(n, self._end - self._pos)
        if n <= 0:
            return b""
        chunk = bytes(self._read(self._pos, n))
        if b"\x00" in chunk:
            raise ValueError("a NUL byte in the table")
        self._pos += len(chunk)
        return chunk


def _digest(chunks: Callable[[], object], size: int) -> Callable[[], str]:
    """sha256 of the bytes ``chunks()`` yields: on a thread for 1 MB and more, else when asked."""
    result: list[str] = []

    def run() -> None:
        h = hashlib.sha256()
        for chunk in chunks():
            h.update(chunk)
        result.append(h.hexdigest())

    if size < 1 << 20:
        def hexdigest() -> str:
            if not result:
                run()
            return result[0]
        return hexdigest
    thread = threading.Thread(target=run, name="echem-sha256", daemon=True)
    thread.start()

    def joined() -> str:
        thread.join()
        if not result:  # the file went away while it was hashed
            raise OSError("the file could not be read to the end while its sha256 was computed")
        return result[0]

    return joined


@dataclass
class Long:
    """What a reader's ``parse_long`` found: the measurement ``parse`` gives (``full``) and,
    when the file ends in the middle of a row (``reason``, as
    :func:`~echem.io._text.incomplete_last_line` says), the one ``parse`` gives for the file
    without its last line (``shorter``). Both are built on demand: they raise what ``parse``
    raises."""

    full: Callable[[], Measurement]
    reason: str | None = None
    shorter: Callable[[], Measurement] | None = None


@dataclass
class Ends:
    """The decoded ends of a file, as the careful path's decode of the whole file has them."""

    source: Source
    encoding: str
    #: the complete lines of the head (all complete lines when ``whole``), decoded
    head: list[str]
    #: byte offset of each line of ``head``
    offsets: list[int]
    #: the head holds every line of the file
    whole: bool
    #: byte offset after the last complete line (its line break): where the table's bytes end
    body_end: int
    #: the last line when the file does not end with a line break (ASCII), else ``None``
    last: str | None
    #: why the last line looks cut (:func:`~echem.io._text.incomplete_last_line`), or ``None``
    reason: str | None
    #: the text of the end (at least 60 lines), or of the whole file when ``whole``
    tail: str
    #: the decoding replaced bytes Windows-1252 does not define (the head holds U+FFFD)
    replaced: bool


def ends(source: Source) -> Ends | None:
    """The head and the end of a file decoded as :func:`~echem.io._text.decode` decodes all of
    it, or ``None`` (UTF-16, no line break in the head, a last line that is not ASCII text).

    The encoding is decided on the head; it is the whole file's only if the rest is ASCII,
    which :func:`table` certifies for the rows (and this function for the last line).
    """
    size = source.size
    whole = size <= HEAD_BYTES
    first = source.read(0, size if whole else HEAD_BYTES)
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    sample = first[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        return None  # UTF-16 without BOM
    end_bytes = first
    if not whole:  # the end: at least 60 lines (the damage check's delimiter looks at 50)
        span = TAIL_BYTES
        while True:
            end_bytes = source.read(max(HEAD_BYTES, size - span), size)
            if end_bytes.count(b"\n") > 61 or size - span <= HEAD_BYTES:
                break
            if span > 1 << 24 or b"\n" not in first:
                return None  # lines of megabytes, or no LF: not a table of numbers this reads
            span *= 4
    end_at = size - len(end_bytes)  # where end_bytes starts in the file
    if end_bytes.endswith((b"\n", b"\r")):
        last_bytes, body_end = None, size
    else:
        cut = max(end_bytes.rfind(b"\n"), end_bytes.rfind(b"\r"))
        if cut < 0:
            return None
        last_bytes, body_end = end_bytes[cut + 1:], end_at + cut + 1
        if not last_bytes.strip(b" ") or not last_bytes.isascii() or _CONTROL.search(last_bytes):
            return None  # ends in blanks, NUL, ^Z or bytes of another encoding: careful path
    head_bytes = first[:body_end] if whole else first[:first.rfind(b"\n") + 1]
    if not head_bytes:
        return None
    if first.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
        text = head_bytes.decode(encoding, errors="replace")
    else:
        try:
            text, encoding = head_bytes.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = head_bytes.decode("cp1252", errors="replace"), "cp1252"
    head = _text.split_lines(text)
    head.pop()  # "" after the last line break
    offsets = [0] + [m.end() for m in _BREAK.finditer(head_bytes)]
    if len(offsets) != len(head) + 1:
        return None
    last = last_bytes.decode("ascii") if last_bytes is not None else None
    if whole:
        tail = text + (last or "")
    else:
        start = end_bytes.find(b"\n") + 1
        if start <= 0:
            return None
        try:
            tail = end_bytes[start:].decode("utf-8")  # ASCII rows (and the last line)
        except UnicodeDecodeError:
            return None
        tail_lines = _text.split_lines(tail)
        if len(tail_lines) < 60 or sum(1 for line in tail_lines if line.strip()) < 40:
            return None  # the cut-row check compares the last 31 lines that are not blank
    reason = _text.incomplete_last_line(tail) if last is not None else None
    return Ends(source=source, encoding=encoding, head=head, offsets=offsets[:-1], whole=whole,
                body_end=body_end, last=last, reason=reason, tail=tail,
                replaced="\ufffd" in text and encoding == "cp1252")


_BREAK = re.compile(rb"\r\n|\r|\n")
#: Bytes no line of a table holds (control characters but the tab).
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def column_kinds(rows: Sequence[str], width: int, wanted: Sequence[int]) -> list[str] | None:
    """The kind of each column in these rows (cells as ``line.split("\\t")``): ``"float"`` (numbers;
    the columns read are always float), ``"int"`` (whole numbers), ``"text"`` (no cell a number,
    empty cells included); ``None`` when a column mixes numbers and text, or a row has another
    number of cells."""
    columns = [[] for _ in range(width)]
    for row in rows:
        cells = row.split("\t")
        if len(cells) != width:
            return None
        for j, cell in enumerate(cells):
            columns[j].append(cell)
    kinds = []
    for j, cells in enumerate(columns):
        numbers = [_text.is_number_cell(c) for c in cells]
        if all(numbers):
            whole = j not in wanted and all(_INTEGER.fullmatch(c.strip()) for c in cells)
            kinds.append("int" if whole else "float")
        elif any(numbers):
            return None
        else:
            if not all(c.isascii() for c in cells):
                return None
            kinds.append("text")
    if sum(k in ("float", "int") for k in kinds) < 2:
        return None  # not a table of numbers
    return kinds


_INTEGER = re.compile(r"[+-]?\d+")


def head_is_clean(ends: Ends, start: int, first: int) -> bool:
    """True if :func:`~echem.io._text.damaged_rows` finds nothing in the table of this file,
    given that every line from head line ``first`` on is a row of one pattern (as
    :func:`table` certifies).

    The damage check looks at the lines from ``start`` (the reader's ``table_start``) on, with
    the delimiter of the file's last 50 lines. The scan of the lines up to the third row
    decides every line above the rows and the first rows; once the run it compares with
    starts at a row, every further row is compared with a row of its own pattern, and the
    last line (perhaps cut) is never examined.
    """
    lines = ends.head
    if first + 3 > len(lines) or start > first:
        return False
    table_lines = _text.split_lines(ends.tail)[start:] if ends.whole else None
    delimiter = _text.end_delimiter("\n".join(table_lines) if table_lines is not None else ends.tail)
    if delimiter == "\x00":
        return True
    if delimiter != "\t":
        return False
    found, run_start = _text.damage_scan("\n".join(lines[start:first + 3]), delimiter=delimiter)
    return not found and run_start >= first - start


def table(ends: Ends, first: int, kinds: Sequence[str], wanted: Sequence[int], decimal: str,
          blank_lines: bool) -> dict[int, np.ndarray] | None:
    """The columns ``wanted`` (float64) of the table whose rows start at head line ``first``
    and run to the last complete line of the file; ``None`` unless every row has
    ``len(kinds)`` cells of those kinds (see the module docstring).

    ``blank_lines``: blank lines may sit between rows (EC-Lab; a Gamry table ends at one).
    """
    source = ends.source
    start, end = ends.offsets[first], ends.body_end
    # the bytes parsed end with the last row: without the blank lines after it (a Gamry table
    # ends at the first blank line, and so does the parse of its rows here)
    trailer = source.read(max(start, end - 4096), end)
    rows_end = end - (len(trailer) - len(trailer.rstrip(b"\r\n")))
    if rows_end <= start or rows_end == end - len(trailer):
        return None  # no rows, or 4 kB of blank lines: the careful path decides
    if not blank_lines and ends.last is not None and len(_BREAK.findall(source.read(rows_end, end))) > 1:
        return None  # a blank line and then the last line: the careful path decides
    end = rows_end
    bounds = [start]
    for k in range(1, PARTS):
        cut = source.find(b"\n", start + (end - start) * k // PARTS, end) + 1
        if cut - bounds[-1] >= PART_MIN_BYTES and end - cut >= PART_MIN_BYTES:
            bounds.append(cut)
    bounds.append(end)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns while it fails on a cell: that is a None here
        if len(bounds) == 2:
            parts = [_part(source, start, end, kinds, wanted, decimal, blank_lines)]
        else:
            with concurrent.futures.ThreadPoolExecutor(len(bounds) - 1) as pool:
                parts = list(pool.map(lambda ab: _part(source, ab[0], ab[1], kinds, wanted, decimal, blank_lines),
                                      zip(bounds[:-1], bounds[1:])))
    if any(p is None for p in parts):
        return None
    columns = {}
    for j in wanted:
        chunks = [c for p in parts for c in p[j]]
        columns[j] = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.float64)
    return columns


def _part(source: Source, start: int, end: int, kinds: Sequence[str], wanted: Sequence[int], decimal: str,
          blank_lines: bool) -> dict[int, list[np.ndarray]] | None:
    import pandas as pd

    width = len(kinds)
    dtype = {j: {"float": np.float64, "int": np.int64, "text": "category"}[kind] for j, kind in enumerate(kinds)}
    options: dict[str, object] = dict(
        sep="\t", header=None, names=list(range(width)), dtype=dtype, engine="c", quoting=csv.QUOTE_NONE,
        decimal=decimal, skip_blank_lines=blank_lines, chunksize=CHUNK_ROWS, encoding="utf-8",
        encoding_errors="strict", index_col=False, na_filter=False)  # no NA strings: "NaN" is no number
    if not _EXACT:
        options["float_precision"] = "round_trip"  # Python's float(); "high" is not correctly rounded
    out: dict[int, list[np.ndarray]] = {j: [] for j in wanted}
    checked: set[str] = set()
    try:
        with pd.read_csv(source.stream(start, end), **options) as reader:
            for chunk in reader:
                if chunk.shape[1] != width:
                    return None
                for j, kind in enumerate(kinds):
                    column = chunk[j]
                    if kind == "float":
                        if not np.isfinite(column.to_numpy(np.float64)).all():
                            return None
                    elif kind == "text":
                        if (column.cat.codes.to_numpy() < 0).any():
                            return None
                        for cell in column.cat.categories:
                            if cell not in checked:
                                if not isinstance(cell, str) or not cell.isascii() or _text.is_number_cell(cell):
                                    return None
                                checked.add(cell)
                for j in wanted:
                    out[j].append(chunk[j].to_numpy(np.float64, copy=True))
    except Exception:  # noqa: BLE001 - a row the parser refuses: the careful path reads the file
        return None
    return out


_EXACT = _pandas_is_exact()
