"""Glue between the Snakemake rules and the science modules.

Each rule calls one function here. These functions do the file I/O (read the
ingested measurements, write tables atomically, audit JSONs, figures, the log and
the per-sample error rows) and call the pure functions of :mod:`echem.lsv`,
:mod:`echem.eis` and friends. Nothing here is needed to use the science modules.
"""
