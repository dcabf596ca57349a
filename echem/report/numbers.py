"""Numbers as people read them: a value rounded to its error's significant digits.

One rule for figures, the HTML report and the console (``echem audit``):

* the error keeps **two significant digits when its first three digits are 100-354, one
  when they are 355-949**, and 950-999 round up to 1000 with two digits (the Particle
  Data Group's rule: ``0.000162 -> 0.00016``, ``0.0362 -> 0.04``, ``0.0987 -> 0.10``);
* the value is rounded to the same decimal place, but keeps at least two significant
  digits of its own (``0.5 ± 30`` stays ``0.5 ± 30``, not ``0 ± 30``);
* without a usable error (missing, zero, NaN) the value keeps ``sig`` (4) significant
  digits; an infinite error is written ``± ∞``;
* very large or small numbers share one power of ten: ``(8.892 ± 0.012)×10⁻¹⁰``.

The results CSVs use the same function with ``digits=2`` (the error always to two
significant digits, see :func:`csv_frame`); Parquet keeps full precision.
"""

from __future__ import annotations

import math
from typing import Any

#: Units as written for people, from the spellings the tables use.
DISPLAY_UNITS = {
    "Ohm": "Ω",
    "Ohm^-1 sec^a": "S·s^n",  # impedance.py's spelling of a CPE's Q
    "Ohm^-1": "S",
    "F": "F",
    "sec": "s",
    "H": "H",
    "Ohm sec^-1/2": "Ω·s^-½",
    "Ohm^-1 sec^1/2": "S·s^½",
}

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

#: Fixed notation for magnitudes in [1e-3, 1e5); a shared power of ten outside.
FIXED_RANGE = (1e-3, 1e5)


def display_unit(unit: Any) -> str:
    """A table's unit as written for people (``Ohm^-1 sec^a`` -> ``S·s^n``)."""
    if unit is None or (isinstance(unit, float) and math.isnan(unit)):
        return ""
    return DISPLAY_UNITS.get(str(unit), str(unit))


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def error_digits(err: float) -> int:
    """Significant digits the error keeps (PDG rule): 2 for leading digits 100-354, else 1."""
    err = abs(float(err))
    exp = math.floor(math.log10(err))
    lead = int(round(err / 10 ** (exp - 2)))  # the three leading digits, 100..1000
    return 2 if lead <= 354 or lead >= 950 else 1


def decimal_place(value: float, err: float | None, digits: int | None = None, sig: int = 4) -> int:
    """The power of ten of the last digit kept (``-2`` means hundredths).

    ``digits``: significant digits of the error (``None``: the PDG rule). Without a
    usable error: ``sig`` significant digits of the value.
    """
    v = abs(float(value)) if _finite(value) else 0.0
    if _finite(err) and float(err) > 0:
        e = abs(float(err))
        n = digits or error_digits(e)
        place = math.floor(math.log10(e)) - (n - 1)
        if digits is None and int(round(e / 10 ** (math.floor(math.log10(e)) - 2))) >= 950:
            place += 1  # PDG: 950-999 round up to 1000, two digits (0.0987 -> 0.10)
        # rounding may carry the error to the next power of ten (0.0096 -> 0.010)
        if round(e / 10**place) >= 10**n:
            place += 1
        if v > 0:  # the value keeps at least two significant digits of its own
            place = min(place, math.floor(math.log10(v)) - 1)
        return place
    if v == 0:
        return 0
    return math.floor(math.log10(v)) - (sig - 1)


def _fixed(x: float, place: int) -> str:
    text = f"{round(x, -place):.{max(0, -place)}f}"
    return "0" if text.strip("-0.") == "" and text.startswith("-") else text


def _exp_text(exp: int, style: str) -> str:
    if style == "html":
        return f"×10<sup>{exp}</sup>"
    if style == "mathtext":
        return rf"$\times10^{{{exp}}}$"
    if style == "ascii":
        return f"e{exp:+03d}"
    return f"×10{str(exp).translate(_SUPERSCRIPT)}"


def round_to_error(value: float, err: float | None = None, *, digits: int | None = None,
                   sig: int = 4) -> tuple[str, str | None, int]:
    """``(value_text, err_text, exponent)``: mantissas rounded to the error's digits.

    ``exponent`` is 0 in fixed notation, else the shared power of ten (the texts are
    the mantissas). ``err_text`` is ``None`` without a usable error and ``"∞"`` for an
    infinite one.
    """
    if not _finite(value):
        return ("" if value is None else str(value)), None, 0
    value = float(value)
    err_ok = _finite(err) and float(err) > 0
    err_text: str | None = "∞" if (err is not None and not _finite(err) and
                                   str(err).lower() in ("inf", "+inf", "infinity")) else None
    place = decimal_place(value, err if err_ok else None, digits, sig)
    mag = max(abs(value), abs(float(err)) if err_ok else 0.0)
    exp = 0
    if mag and not (FIXED_RANGE[0] <= mag < FIXED_RANGE[1]):
        exp = math.floor(math.log10(abs(value) if value else mag))
    scale = 10.0**exp
    v_text = _fixed(value / scale, place - exp)
    if not err_ok:
        if "." in v_text:  # digits without an error carry no meaning beyond sig: no trailing zeros
            v_text = v_text.rstrip("0").rstrip(".")
        return v_text, err_text, exp
    # the error at its own place (a value kept to more digits than its error does not
    # lend the error digits: 0.50 ± 30)
    err_place = max(place, _err_place(float(err), digits))
    err_text = _fixed(float(err) / scale, err_place - exp)
    return v_text, err_text, exp


def _err_place(err: float, digits: int | None) -> int:
    """The decimal place of the error's last kept digit (without the value's rule)."""
    e = abs(err)
    n = digits or error_digits(e)
    place = math.floor(math.log10(e)) - (n - 1)
    if digits is None and int(round(e / 10 ** (math.floor(math.log10(e)) - 2))) >= 950:
        place += 1
    if round(e / 10**place) >= 10**n:
        place += 1
    return place


def fmt_pm(value: float, err: float | None = None, unit: str = "", *, digits: int | None = None,
           sig: int = 4, style: str = "unicode") -> str:
    """``0.77999 ± 0.00016 eV``, ``(8.892 ± 0.012)×10⁻¹⁰ S/cm``, ``47.8 mV`` (no error).

    ``style``: ``unicode`` (console, figures), ``html`` (``<sup>``) or ``mathtext``
    (matplotlib's ``$...$``). An empty or NaN value gives ``""``.
    """
    if not _finite(value):
        return ""
    v, e, exp = round_to_error(value, err, digits=digits, sig=sig)
    unit = f" {display_unit(unit)}" if unit else ""
    body = v if e is None else f"{v} ± {e}"
    if exp:
        body = (f"({body})" if e is not None else body) + _exp_text(exp, style)
    return body + unit


#: SI prefixes for engineering units (impedances from mΩ to TΩ).
_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
             (1e-9, "n"), (1e-12, "p"))


def si_prefix(magnitude: float) -> tuple[float, str]:
    """``(factor, prefix)`` so that ``magnitude / factor`` lies in [1, 1000)."""
    m = abs(float(magnitude)) if _finite(magnitude) else 0.0
    if m == 0:
        return 1.0, ""
    for factor, prefix in _PREFIXES:
        if m >= factor * 0.9995:
            return factor, prefix
    return _PREFIXES[-1]


def fmt_si(value: float, err: float | None, unit: str, **kw) -> str:
    """``213.1 ± 0.6 MΩ``: :func:`fmt_pm` in an SI-prefixed unit chosen from the value."""
    if not _finite(value):
        return ""
    factor, prefix = si_prefix(value)
    e = float(err) / factor if _finite(err) else err
    return fmt_pm(float(value) / factor, e, prefix + display_unit(unit), **kw)


# --------------------------------------------------------------------------------------
# Results CSVs
# --------------------------------------------------------------------------------------

#: Significant digits of numbers written to the results CSVs without an error column.
CSV_SIG = 6


def error_column(column: str) -> str | None:
    """The value column an error column belongs to (``eta_err_mV`` -> ``eta_mV``)."""
    if column == "stderr":
        return "value"
    if "_err_" in column:
        return column.replace("_err_", "_", 1)
    if column.endswith("_err") and len(column) > 4:
        return column[:-4]
    return None


def _csv_number(value: float, place: int) -> str:
    """A CSV number rounded at ``place``: plain decimals, or e-notation far from 1."""
    v = float(value)
    if v == 0:
        return "0"
    mag = abs(v)
    if 1e-4 <= mag < 1e6:
        return _fixed(v, place)
    exp = math.floor(math.log10(mag))
    return f"{v:.{max(0, exp - place)}e}"


def csv_frame(df):
    """``df`` with its float columns as text for the results CSV.

    A value with an error column (``X_err_<unit>`` beside ``X_<unit>``; ``stderr`` beside
    ``value``) keeps the decimal place of its error's second significant digit (at
    least two significant digits of its own); the error keeps two significant digits;
    every other number :data:`CSV_SIG` significant digits (``r2``: 8 decimals, it lies close to
    1). Integers, text and booleans
    are left as they are; NaN is written empty.
    """
    import numpy as np
    import pandas as pd

    out = df.copy()
    floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    pairs = {error_column(c): c for c in df.columns if error_column(c) in df.columns}
    for col in floats:
        values = df[col].to_numpy(float)
        if col in pairs or col in pairs.values():
            value_col = col if col in pairs else error_column(col)
            v_all = pd.to_numeric(df[value_col], errors="coerce").to_numpy(float)
            e_all = pd.to_numeric(df[pairs[value_col]], errors="coerce").to_numpy(float)
        texts = []
        for k, x in enumerate(values):
            if not np.isfinite(x):
                texts.append("" if np.isnan(x) else ("inf" if x > 0 else "-inf"))
                continue
            if col in pairs or col in pairs.values():
                e = e_all[k]
                if np.isfinite(e) and e > 0:
                    if col in pairs:  # the value: the error's place
                        place = decimal_place(v_all[k], e, digits=2)
                    else:  # the error itself: two significant digits
                        place = decimal_place(x, None, sig=2)
                    texts.append(_csv_number(x, place))
                    continue
            if col == "r2" or col.startswith("r2_"):  # close to 1: decimals, not significant digits
                texts.append(f"{x:.8f}".rstrip("0").rstrip(".") if abs(x) < 10 else f"{x:.{CSV_SIG}g}")
            else:
                texts.append(f"{x:.{CSV_SIG}g}")
        out[col] = pd.Series(texts, index=df.index, dtype=object)
    return out
