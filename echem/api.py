"""The calls a notebook user makes: one per analysis, on a measurement or on arrays.

Each returns a result object in lmfit's spirit (:mod:`echem.results`): values with
standard errors and units, flags, a short ``repr``, ``.report()``, ``.plot(ax=None)`` and
``.to_dict()``. The workflow's stages call the same functions (:mod:`echem.workflow`).
They are re-exported at the package top: ``echem.read``, ``echem.overpotentials``,
``echem.fit_tafel``, ``echem.cdl``, ``echem.fit_eis``, ``echem.kramers_kronig``,
``echem.fit_arrhenius`` (``fit_`` where a module of the same name exists).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read(path: str | Path):
    """Read one potentiostat export into a :class:`~echem.measurement.Measurement`
    (canonical SI columns in ``.data``, what the file says in ``.meta``; :func:`echem.io.read`)."""
    from echem.io import read as _read

    return _read(path)


def fit_tafel(curve, j_mA_cm2=None, **kwargs):
    """Tafel slope of a polarisation curve: an :class:`~echem.lsv.LSVResult` (its iR-corrected
    curve) or arrays ``eta_mV, j_mA_cm2``; keyword arguments as :func:`echem.tafel.fit_tafel`
    (``window_mV=(lo, hi)`` fixes the window)."""
    from echem.lsv import LSVResult
    from echem.tafel import fit_tafel as _fit

    if isinstance(curve, LSVResult):
        return _fit(curve.curve["eta_mV"], curve.curve["j_mA_cm2"], **kwargs)
    if j_mA_cm2 is None:
        raise TypeError("fit_tafel() takes an LSVResult, or eta_mV and j_mA_cm2 arrays")
    return _fit(curve, j_mA_cm2, **kwargs)


def _spectrum(data, Z=None):
    """(freq_Hz, Z) from a Measurement (its first spectrum), a Spectrum, or arrays."""
    from echem.measurement import Measurement

    if isinstance(data, Measurement):
        spectra = list(data.spectra())
        if len(spectra) > 1:
            raise ValueError(f"{data.meta.get('file')} holds {len(spectra)} spectra; pass one of "
                             "measurement.spectra()")
        data = spectra[0]
    if hasattr(data, "freq_Hz") and hasattr(data, "Z"):
        return data.freq_Hz, data.Z
    if Z is None:
        raise TypeError("pass a Measurement, a Spectrum, or freq_Hz and Z arrays")
    return data, Z


def fit_eis(data, Z=None, circuit: str | None = None, **kwargs):
    """Equivalent-circuit fit of one spectrum (a Measurement with one spectrum, a
    :class:`~echem.measurement.Spectrum`, or ``freq_Hz, Z`` arrays in impedance.py's
    convention). ``circuit`` in impedance.py syntax (``R0-p(R1,CPE1)``); None chooses it by
    BIC among the candidates (:func:`echem.eis.select_circuit`). Returns an
    :class:`~echem.eis.EISFit`."""
    from echem.eis import fit_spectrum, select_circuit

    f, Zc = _spectrum(data, Z)
    if circuit is None:
        return select_circuit(f, Zc, **kwargs)[0]
    return fit_spectrum(f, Zc, circuit, **kwargs)


def kramers_kronig(data, Z=None, threshold_pct: float | None = None):
    """Lin-KK test of one spectrum: a :class:`~echem.eis.validation.KKTest` (``.ok``, the
    largest systematic residual in % of |Z|, ``.plot()`` of the residuals, ``kk["ok"]``)."""
    from echem.eis.validation import KK_THRESHOLD_PCT
    from echem.eis.validation import kramers_kronig as _kk

    f, Zc = _spectrum(data, Z)
    return _kk(f, Zc, KK_THRESHOLD_PCT if threshold_pct is None else threshold_pct)
