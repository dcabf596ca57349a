"""echem: raw potentiostat exports to the numbers electrochemistry papers publish.

The package is usable without Snakemake: readers live in :mod:`echem.io`, every
analysis stage is a module of pure functions (:mod:`echem.lsv`, :mod:`echem.tafel`,
:mod:`echem.ecsa`, :mod:`echem.eis`, :mod:`echem.arrhenius`), and the workflow glue
that the Snakemake rules call is in :mod:`echem.workflow`.
"""

__version__ = "0.1.0"
