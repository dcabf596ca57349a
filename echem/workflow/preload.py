"""Imported once by the worker forkserver (see :mod:`echem.workflow.workers`).

Importing here what every stage needs means each forked worker starts warm.
"""

import lmfit  # noqa: F401
import matplotlib  # noqa: F401

matplotlib.use("Agg")

import matplotlib.figure  # noqa: F401,E402
import numpy  # noqa: F401,E402
import pandas  # noqa: F401,E402
import pyarrow.parquet  # noqa: F401,E402
import scipy.optimize  # noqa: F401,E402

import echem.workflow.arrhenius  # noqa: F401,E402
import echem.workflow.collect  # noqa: F401,E402
import echem.workflow.ecsa  # noqa: F401,E402
import echem.workflow.eis  # noqa: F401,E402
import echem.workflow.ingest  # noqa: F401,E402
import echem.workflow.lsv  # noqa: F401,E402
import echem.workflow.tafel  # noqa: F401,E402
