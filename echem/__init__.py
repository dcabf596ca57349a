"""echem: raw potentiostat exports to the numbers electrochemistry papers publish.

The package is usable without Snakemake: ``echem.read(path)`` gives a measurement, and one
call per analysis gives a result object with errors, flags, a report and a plot
(``echem.overpotentials``, ``echem.fit_tafel``, ``echem.cdl``, ``echem.fit_eis``,
``echem.kramers_kronig``, ``echem.fit_arrhenius``; see :mod:`echem.api` and docs/api.md).
Readers live in :mod:`echem.io`, every analysis stage is a module of pure functions
(:mod:`echem.lsv`, :mod:`echem.tafel`, :mod:`echem.ecsa`, :mod:`echem.eis`,
:mod:`echem.arrhenius`, :mod:`echem.stability`), and the workflow glue that the Snakemake
rules call is in :mod:`echem.workflow`.
"""

__version__ = "0.1.0"

#: The public calls (:mod:`echem.api`), loaded on first use so that ``import echem`` stays
#: light (a workflow job imports only what its stage needs).
_PUBLIC = {
    "read": "echem.api:read",
    "Measurement": "echem.measurement:Measurement",
    "Spectrum": "echem.measurement:Spectrum",
    "overpotentials": "echem.lsv:overpotentials",
    "analyse_lsv": "echem.lsv:analyse_lsv",
    "fit_tafel": "echem.api:fit_tafel",
    "cdl": "echem.ecsa:cdl",
    "default_cs_mF_cm2": "echem.ecsa:default_cs_mF_cm2",
    "fit_eis": "echem.api:fit_eis",
    "kramers_kronig": "echem.api:kramers_kronig",
    "simulate": "echem.eis:simulate",
    "fit_arrhenius": "echem.arrhenius:fit_arrhenius",
    "conductivity_S_cm": "echem.arrhenius:conductivity_S_cm",
    "Flag": "echem.flags:Flag",
    "FLAGS": "echem.flags:FLAGS",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    import importlib

    if name not in _PUBLIC:
        raise AttributeError(f"module 'echem' has no attribute {name!r}")
    module, attr = _PUBLIC[name].split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_PUBLIC})
