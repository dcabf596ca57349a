"""sample.yaml validation and the precedence sample.yaml > file header > config defaults."""

import pytest
import yaml

from conftest import ROOT
from echem.errors import MetadataError
from echem.metadata import (SAMPLE_KEYS, resolve_file_metadata, resolve_sample_metadata,
                            validate_sample_metadata)


def config_defaults():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["defaults"]


def test_config_defaults_and_schema_know_exactly_the_sample_keys():
    assert set(config_defaults()) == set(SAMPLE_KEYS)
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
    assert set(schema["properties"]["defaults"]["properties"]) == set(SAMPLE_KEYS)


def test_typo_gets_did_you_mean():
    with pytest.raises(MetadataError, match=r"unknown key 'refrence_electrode'.*did you mean 'reference_electrode'"):
        validate_sample_metadata({"refrence_electrode": "SCE"})


@pytest.mark.parametrize("raw, message", [
    ({"area_cm2": -0.2}, "area_cm2 must be > 0"),
    ({"area_cm2": "big"}, "area_cm2 must be a number"),
    ({"ir_compensation": 1.5}, "ir_compensation must be <= 1"),
    ({"reaction": "ORR"}, "reaction must be one of"),
    ({"geometry": {"kind": "in-plane", "gap_cm": 0.1}}, "missing length_cm"),
    ({"temperature_C": [300]}, "temperature_C must map file names"),
    ({"tafel_window_mV": [80, 40]}, "low < high"),
])
def test_wrong_values_name_the_key(raw, message):
    with pytest.raises(MetadataError, match=message):
        validate_sample_metadata(raw)


def test_precedence_sample_yaml_then_header_then_defaults():
    defaults = dict(config_defaults(), area_cm2=1.0, pH=7.0)
    values, sources = resolve_sample_metadata("PtMG_as-cast", {"pH": 14.0}, defaults)
    assert values["series"] == "PtMG" and sources["series"] == "sample id"
    assert (values["pH"], sources["pH"]) == (14.0, "sample.yaml")
    file_values, file_sources = resolve_file_metadata(
        values, sources, {"area_cm2": 0.196, "reference_electrode": "SCE", "temperature_C": 30.0}, "lsv.mpt")
    assert (file_values["area_cm2"], file_sources["area_cm2"]) == (0.196, "file header")
    assert file_sources["reference_electrode"] == "file header"
    assert (file_values["file_temperature_C"], file_sources["file_temperature_C"]) == (30.0, "file header")

    values, sources = resolve_sample_metadata("S", {"area_cm2": 0.07}, defaults)
    file_values, file_sources = resolve_file_metadata(values, sources, {"area_cm2": 0.001}, "lsv.mpt")
    assert (file_values["area_cm2"], file_sources["area_cm2"]) == (0.07, "sample.yaml")


def test_file_temperature_from_map_then_name():
    values, sources = resolve_sample_metadata("F", {"temperature_C": {"a.mpt": 123.0}}, config_defaults())
    v, s = resolve_file_metadata(values, sources, {}, "a.mpt")
    assert (v["file_temperature_C"], s["file_temperature_C"]) == (123.0, "sample.yaml")
    v, s = resolve_file_metadata(values, sources, {}, "eis_573K.mpt")
    assert v["file_temperature_C"] == pytest.approx(299.85) and s["file_temperature_C"] == "file name"
    v, s = resolve_file_metadata(values, sources, {}, "cv_20mVs_C01.mpt")
    assert v["file_temperature_C"] is None and s["file_temperature_C"] == "unset"
