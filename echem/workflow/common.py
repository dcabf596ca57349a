"""Helpers shared by the per-stage glue modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def as_namespace(outputs):
    """Outputs as attributes: Snakemake's named list, or a plain dict sent to a worker."""
    from collections.abc import Mapping
    from types import SimpleNamespace

    return SimpleNamespace(**outputs) if isinstance(outputs, Mapping) else outputs


def prepare_dirs(*dirs) -> None:
    """Create empty output directories (a stage's audit records and figures): what an earlier
    run of the stage left there (a removed file's audit, a figure of a fit that now fails)
    is removed first."""
    import shutil

    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
        Path(d).mkdir(parents=True, exist_ok=True)


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def stage_data(path: str | Path, stage: str, table: str, read=read_json) -> Any:
    """What an earlier stage wrote beside its table ``table`` (the EIS fits, the LSV curves),
    read with ``read``. Missing or unreadable (removed by hand, a disk error), it is an
    :class:`~echem.errors.EchemError` saying how to get it back: the workflow does not
    declare these files, so Snakemake would not redo the stage by itself."""
    from echem.errors import EchemError

    path = Path(path)
    try:
        return read(path)
    except (OSError, ValueError, KeyError) as exc:
        # deleting the table would not do: Snakemake does not remake a missing intermediate
        # file whose dependants are up to date; --forcerun on it redoes its job and what follows
        raise EchemError(
            f"{path.name}, which the {stage} stage writes beside tables/{table}, is missing or unreadable "
            f"({type(exc).__name__}): redo the {stage} stage of this sample with "
            f"snakemake --forcerun {path.parent / 'tables' / table}") from None


def safe_stem(name: str) -> str:
    """A figure's file stem for a file or spectrum name (unique: :func:`echem.audit.safe_name`)."""
    from echem.audit import safe_name

    return safe_name(name)


def draw(run, stem: Path, formats, painter, dpi: int = 110) -> None:
    """Draw one per-sample figure with ``painter()``; a failure is a logged warning only.

    Per-sample figures are diagnostics drawn for every sample (thousands at scale): they
    use fixed margins (``new_figure(layout=None)``) and a screen resolution.
    """
    if not formats:
        return
    try:
        from echem.plots.figure import save

        save(painter(), stem, formats, dpi=dpi)
    except Exception as exc:  # noqa: BLE001 - a figure must never cost the numbers
        run.warning(f"figure {stem.name} not drawn: {type(exc).__name__}: {exc}")
