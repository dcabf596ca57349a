"""JSON-safe values for audit records: strict JSON (no NaN), plain Python types."""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, paths, datetimes into JSON-safe values; NaN/inf become None."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if callable(getattr(value, "to_dict", None)):  # result objects (echem.flags.Flag ...)
        return jsonable(value.to_dict())
    return str(value)
