"""Every example of docs/api.md runs, in order, from the repository root."""

from __future__ import annotations

import os
import re

import matplotlib

from conftest import ROOT

matplotlib.use("Agg")


def test_docs_api_examples_run():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for k, block in enumerate(blocks):
            exec(compile(block, f"docs/api.md block {k + 1}", "exec"), namespace)  # noqa: S102 - our docs
    finally:
        os.chdir(cwd)
    assert namespace["lsv"].rows[0]["eta_mV"] > 0
    assert namespace["tafel"].slope_mV_dec > 0
    assert namespace["kk"].ok and namespace["kk"]["ok"] and not namespace["kk"].flags


def test_public_names_and_reprs():
    import echem

    for name in ("read", "overpotentials", "fit_tafel", "cdl", "fit_eis", "kramers_kronig", "fit_arrhenius"):
        assert name in dir(echem) and callable(getattr(echem, name))
    m = echem.read(ROOT / "raw" / "PtMG_UV50J" / "lsv_5mVs.mpt")
    assert repr(m).startswith("<Measurement LSV") and len(repr(m)) < 200
    lsv = echem.overpotentials(m, area_cm2=0.196, reference_electrode="Hg/HgO (1 M KOH)", pH=14, ru_ohm=2.6)
    assert len(repr(lsv)) < 200 and "eta10" in repr(lsv)
    d = lsv.to_dict()
    assert d["type"] == "LSVResult" and d["values"]["eta10"]["unit"] == "mV"


def test_cli_version_and_plain_help():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("echem")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip().startswith("echem ")
    help_text = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    assert "``" not in help_text and ":func:" not in help_text


def test_eis_fit_prints_numbers_not_arrays():
    import warnings

    import echem

    spectrum = next(echem.read(ROOT / "raw" / "PtMG_UV50J" / "peis.mpt").spectra())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = echem.fit_eis(spectrum)
    text = repr(fit)
    assert text.startswith("<EISFit R0-p(R1,CPE1): R0 = 2.60") and "array" not in text and len(text) < 300
    report = fit.report()
    assert "[[method]]" in report and "S·s^n" in report and "Lin-KK passed" in report
    assert fit.to_dict()["values"]["R0"]["unit"] == "Ω"



def test_readme_notebook_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In a notebook", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(block, "README.md, In a notebook", "exec"), namespace)  # noqa: S102 - our docs
    finally:
        os.chdir(cwd)
    assert namespace["tafel"].slope_mV_dec > 0 and namespace["fit"].circuit
