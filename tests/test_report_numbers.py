"""Rounding to the error's significant digits (echem.report.numbers): figures, report,
console and the results CSVs share it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from echem.report.numbers import (csv_frame, decimal_place, display_unit, error_digits, fmt_pm, fmt_si, round_to_error,
                                  si_prefix)


@pytest.mark.parametrize("err, digits", [(0.000162, 2), (0.0354, 2), (0.0355, 1), (0.949, 1), (0.0987, 2),
                                         (1.0, 2), (3.0, 2), (5.0, 1), (230, 2)])
def test_pdg_rule_for_the_error_digits(err, digits):
    assert error_digits(err) == digits


@pytest.mark.parametrize("value, err, text", [
    (0.7799938, 0.000162, "0.77999 ± 0.00016"),       # the Arrhenius legend of issue 16
    (106.8158756, 0.03263474, "106.816 ± 0.033"),      # the CSV eta of issue 16
    (47.8, 0.0987, "47.80 ± 0.10"),                    # 950..999 round up to two digits
    (47.8, 0.0096, "47.800 ± 0.010"),
    (47.83, 0.6, "47.8 ± 0.6"),                        # one digit for 355..949
    (12345.6, 230, "12350 ± 230"),
    (0.5, 30, "0.50 ± 30"),                            # the value keeps two digits of its own
    (8.891858e-10, 1.2e-12, "(8.892 ± 0.012)×10⁻¹⁰"),  # a shared power of ten
    (1314167031, 3053319, "(1.3142 ± 0.0031)×10⁹"),
    (1.0, float("nan"), "1"),                          # no error: 4 significant digits, no trailing zeros
    (-0.10681, None, "-0.1068"),
    (2.6, float("inf"), "2.6 ± ∞"),
])
def test_fmt_pm(value, err, text):
    assert fmt_pm(value, err) == text


def test_styles_units_and_missing_values():
    assert fmt_pm(8.891858e-10, 1.2e-12, "S/cm", style="html") == "(8.892 ± 0.012)×10<sup>-10</sup> S/cm"
    assert fmt_pm(0.78, 0.012, "eV") == "0.780 ± 0.012 eV"
    assert fmt_pm(float("nan"), 1.0) == "" and fmt_pm(None) == ""
    assert display_unit("Ohm^-1 sec^a") == "S·s^n" and display_unit("Ohm") == "Ω"
    assert fmt_si(213.1e6, 0.6e6, "Ohm") == "213.1 ± 0.6 MΩ"
    assert si_prefix(0.0) == (1.0, "") and si_prefix(4.5e9) == (1e9, "G") and si_prefix(999.0) == (1.0, "")


def test_round_trip_keeps_the_value_within_half_a_last_digit():
    rng = np.random.default_rng(1)
    for _ in range(500):
        value = rng.normal() * 10.0 ** int(rng.integers(-8, 9))
        err = abs(rng.normal()) * abs(value) * 10 ** rng.uniform(-5, 0.5)
        v_text, e_text, exp = round_to_error(value, err)
        last = 10.0 ** decimal_place(value, err)
        assert math.isclose(float(v_text) * 10**exp, value, rel_tol=1e-12, abs_tol=last / 2 * 1.0001)
        assert 0 < float(e_text) and math.isclose(float(e_text) * 10**exp, err, rel_tol=0.5)


def test_csv_frame_rounds_values_to_their_errors_and_the_rest_to_six_digits():
    df = pd.DataFrame({"sample": ["a", "b"], "eta_mV": [106.8158756, np.nan], "eta_err_mV": [0.03263474392, np.nan],
                       "E_RHE_V": [-0.1068158756, 1.0], "value": [1314167031.0, 6.02e-11],
                       "stderr": [3053319.13, 1.8229e-13], "n_points": [263, 2], "r2": [0.9999998432, 0.98],
                       "reached": [True, False]})
    out = csv_frame(df)
    assert list(out["eta_mV"]) == ["106.816", ""] and list(out["eta_err_mV"]) == ["0.033", ""]
    assert list(out["E_RHE_V"]) == ["-0.106816", "1"]
    assert list(out["value"]) == ["1.3142e+09", "6.020e-11"] and list(out["stderr"]) == ["3.1e+06", "1.8e-13"]
    assert list(out["r2"]) == ["0.99999984", "0.98"]  # not "1"
    assert list(out["n_points"]) == [263, 2] and list(out["reached"]) == [True, False]
    back = pd.read_csv(__import__("io").StringIO(out.to_csv(index=False)))
    assert back["eta_mV"].iloc[0] == pytest.approx(106.816) and back["value"].iloc[0] == pytest.approx(1.3142e9)


def test_results_csv_is_rounded_and_parquet_keeps_full_precision(tmp_path):
    from echem.workflow.tables import concat_tables, frame, write_csv, write_table

    row = {"sample": "s", "file": "f", "reaction": "HER", "target_mA_cm2": 10, "eta_mV": 106.8158756214532,
           "eta_err_mV": 0.03263474392, "E_RHE_V": -0.1068158756214532, "ru_ohm": 3.39642834, "ir_fraction": 0.04,
           "reached": True, "flags": ""}
    write_csv(frame([row], "overpotentials"), tmp_path / "per_sample.csv")  # per-sample: full precision
    df = concat_tables([tmp_path / "per_sample.csv"], "overpotentials")
    assert df["eta_mV"].iloc[0] == 106.8158756214532
    write_table(df, tmp_path / "overpotentials.csv")
    assert "106.816,0.033" in (tmp_path / "overpotentials.csv").read_text()
    assert pd.read_parquet(tmp_path / "overpotentials.parquet")["eta_mV"].iloc[0] == 106.8158756214532


@pytest.mark.parametrize("text", ["plain_name-01.mpt", "<script>alert(1)</script>", "a & b", 'say "hi"',
                                  "it's", "Ω µ ° – ", "", "1e-05"])
def test_report_text_is_escaped_exactly_where_html_needs_it(text):
    """Sample, file and key names reach the pages through ``esc``: the same as ``html.escape``
    (quotes too) for every text; audit values, numbers to 6 significant digits."""
    import html

    from echem.report.pages import _render_value, esc

    assert esc(text) == html.escape(text, quote=True)
    assert esc(None) == "" and esc(3) == "3"
    rendered = _render_value({text or "k": [1.23456789, 7, text, None, True]})
    assert "<script>" not in rendered and html.escape(text, quote=True) in rendered
    assert "[1.23457, 7, " in rendered and "<code>null</code>" in rendered and "<code>true</code>" in rendered
