"""EIS fits of every impedance spectrum in the real-instrument corpus.

Each EIS/PEIS/GEIS/ZIR file of ``MANIFEST.tsv`` is read with ``echem.io.read``, split
into spectra by its ``cycle`` column, and fitted with the default circuit (the film
circuit for the Sheyigold_EISFitpython solid-electrolyte files, the catalyst circuit
otherwise) from the automatic guess. The fit must not fail, and must be at least as
good as a plain impedance.py fit of the same points:

* reference: ``CustomCircuit(circuit, initial_guess=g).fit(f, Z, weight_by_modulus=True)``
  with g = 1.0 for every parameter and 0.9 for CPE exponents: impedance.py has no
  default guess, and its examples start from round numbers of this kind; one rule
  for every file. ``weight_by_modulus=True`` makes impedance.py minimise the same
  objective as our default weighting, so chi2 compares optima of one problem.
* impedance.py's default ``maxfev`` (1e5) lets a fit from that guess run for more
  than 5 minutes on some spectra (the Sheyigold films); the reference is capped
  at ``REFERENCE_MAXFEV`` evaluations, and a reference that stops there without
  a result counts as no fit (ours must still succeed).
* chi2 is :func:`echem.eis.chi2_modulus` for both (same points: the ones our fit
  kept after trimming), and ours must be ≤ the reference's × (1 + 1e-4); the
  tolerance covers spectra whose optimum lies at R → ∞ (an arc that never closes),
  where both optimisers stop at slightly different large R.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from echem import eis
from echem.errors import EmptyDataError
from conftest import corpus_manifest

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

EIS_TECHNIQUES = ("EIS", "PEIS", "GEIS", "ZIR")


def _eis_files() -> list[str]:
    seen: list[str] = []
    for row in corpus_manifest():
        if any(t in row["technique"] for t in EIS_TECHNIQUES) and row["file"] not in seen:
            seen.append(row["file"])
    return seen


def circuit_for(file: str) -> str:
    return eis.FILM_CIRCUIT if file.startswith("Sheyigold_EISFitpython/") else eis.CATALYST_CIRCUIT


def reference_guess(circuit: str) -> list[float]:
    model = eis.circuit_model(circuit)
    return [0.9 if kind == "exp" else 1.0 for kind in model.kinds]


REFERENCE_MAXFEV = 2000


def reference_chi2(freq_Hz: np.ndarray, Z: np.ndarray, circuit: str) -> float:
    """chi2 of a plain impedance.py CustomCircuit fit (module docstring); inf if it found none."""
    from impedance.models.circuits import CustomCircuit

    guess = reference_guess(circuit)
    cc = CustomCircuit(circuit, initial_guess=guess)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cc.fit(freq_Hz, Z, weight_by_modulus=True, maxfev=REFERENCE_MAXFEV)
        except RuntimeError:  # "Optimal parameters not found: maximum number of evaluations"
            return float("inf")
        Z_fit = cc.predict(freq_Hz)
    return eis.chi2_modulus(Z, Z_fit, len(guess))


def spectra(measurement) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, freq_Hz, Z) per cycle (one spectrum when there is no cycle column)."""
    parts = list(measurement.spectra())
    return [("all" if len(parts) == 1 else f"cycle {p.cycle}", p.freq_Hz, p.Z) for p in parts]


def read_or_skip(path):
    from echem.io import read

    try:
        return read(path)
    except EmptyDataError as exc:  # tests/test_corpus.py checks these files' messages
        pytest.skip(f"file holds no impedance points (reader: {exc})")


#: Real spectra that are inductive at every point (the file says -Im(Z) < 0 throughout):
#: a capacitive circuit must refuse them with advice, an inductor-led circuit fits them.
ALL_INDUCTIVE = {"ixdat_ixdat-large-test-files/dataset_with_loop_01_05_PEIS_DUSB0_C01.mpt"}


@pytest.mark.parametrize("file", _eis_files())
def test_corpus_spectrum_fits_at_least_as_well_as_impedance_py(corpus_dir, file):
    m = read_or_skip(corpus_dir / file)
    assert m.is_impedance, f"{file}: no impedance columns"
    circuit = circuit_for(file)
    if file in ALL_INDUCTIVE:
        (_, f, Z), *_ = spectra(m)
        with pytest.raises(eis.AnalysisError, match="inductive throughout"):
            eis.fit_spectrum(f, Z, circuit)
        circuit = "L0-" + circuit
    for label, f, Z in spectra(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Lin-KK warnings on real data are expected
            fit = eis.fit_spectrum(f, Z, circuit)
        assert np.isfinite(fit.chi2)
        assert all(np.isfinite(p["value"]) for p in fit.params)
        assert fit.freq_Hz.size >= len(fit.params) + 2
        rs = fit.series_resistance(f, Z)
        if rs.known:  # a resistance with an error, never a clamped or negative number
            assert rs.value_ohm >= 0 and np.isfinite(rs.err_ohm) and rs.status in ("fit", "measured", "extrapolated")
            assert (rs.status == "extrapolated") == any(fl.code == "ru_extrapolated" for fl in rs.flags)
        else:  # only a bound, and it says so
            assert rs.status == "bound" and [fl.code for fl in rs.flags] == ["ru_bound_only"]
            assert rs.bound_ohm is None or rs.bound_ohm > 0
            assert np.isnan(fit.Rs_ohm)
        ref = reference_chi2(fit.freq_Hz, fit.Z, circuit)
        assert fit.chi2 <= ref * (1 + 1e-4), f"{file} {label}: chi2 {fit.chi2:.4e} > impedance.py {ref:.4e}"


def test_solid_electrolyte_films_are_kk_valid_and_well_fitted(corpus_dir):
    """The Sheyigold films (Novocontrol, 140–200 °C) are clean: KK passes and the
    film circuit fits to ~3 % per point (chi2 < 1.5e-3); the bulk resistance falls
    with temperature (ionic conduction is thermally activated)."""
    files = [f for f in _eis_files() if f.startswith("Sheyigold_EISFitpython/")]
    if not files:
        pytest.skip("no Sheyigold files in the manifest")
    r_bulk = []
    for file in sorted(files, key=lambda s: int(s.split("-")[-1].split("deg")[0])):
        m = read_or_skip(corpus_dir / file)
        (_, f, Z), *_ = spectra(m)
        fit = eis.fit_spectrum(f, Z, eis.FILM_CIRCUIT)
        assert fit.kk_ok, f"{file}: {fit.kk}"
        assert fit.chi2 < 1.5e-3, file
        r_bulk.append(fit.value("R1"))
    assert np.all(np.diff(r_bulk) < 0), r_bulk
