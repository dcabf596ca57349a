"""Shared fixtures. The real-instrument corpus lives beside the project at ../shared/corpus."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(os.environ.get("ECHEM_CORPUS", ROOT.parent / "shared" / "corpus"))


def _corpus_or_skip() -> Path:
    if (CORPUS / "MANIFEST.tsv").is_file():
        return CORPUS
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"the real-data corpus is missing at {CORPUS}; CI must run the corpus tests")
    pytest.skip(f"corpus not found at {CORPUS} (set ECHEM_CORPUS)")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """Path of ../shared/corpus; skips locally when absent, fails under CI=true."""
    return _corpus_or_skip()


def corpus_manifest() -> list[dict[str, str]]:
    """Rows of the corpus MANIFEST.tsv (empty list if the corpus is absent)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
