"""Units in the spellings vendor software writes them, one normalised form for the readers' tables."""

from __future__ import annotations

import pytest

from echem.io._text import normalise_unit


@pytest.mark.parametrize("written, normal", [
    ("Ohm", "ohm"), ("Ohms", "ohm"), ("ohm", "ohm"), ("Ω", "ohm"), ("\u2126", "ohm"), ("Î©", "ohm"),
    ("kΩ", "kohm"), ("kOhm", "kohm"), ("MΩ", "megaohm"), ("MOhm", "megaohm"), ("mΩ", "milliohm"),
    ("mohm", "milliohm"), ("µA", "µa"), ("μA", "µa"), ("Âµ" + "A", "µa"), ("uA", "ua"),
    ("°C", "deg c"), ("deg C", "deg c"), ("Â°C", "deg c"), ("degC", "deg c"), ("V vs. Ref.", "v vs. ref."),
])
def test_normalise_unit(written, normal):
    assert normalise_unit(written) == normal


def test_milli_and_mega_ohm_stay_apart():
    """Lower-casing alone would read a milliohm column as megaohm (a silent factor 1e9)."""
    assert normalise_unit("mΩ") != normalise_unit("MΩ")
