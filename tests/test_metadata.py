"""sample.yaml validation and the precedence sample.yaml > file header > config defaults."""

import pytest
import yaml

from conftest import ROOT
from echem.errors import MetadataError
from echem.metadata import (SAMPLE_KEYS, load_sample_yaml, resolve_file_metadata, resolve_sample_metadata,
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
    ({"order": "first"}, "order must be a number"),
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


# ------------------------------------------------------------------ hostile sample.yaml


@pytest.mark.parametrize("text,message", [
    # a 300-byte "billion laughs": nested aliases expand to 10^7 values
    ('a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
     'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nnotes: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n', "aliases"),
    ("notes: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ("notes: " + "x" * 5000 + "\n", "notes holds 5,000 characters"),
    ("ru_ohm: 100000000000000000000000000000000000000000000000000000000000\n", "beyond any real sample"),
    ("area_cm2: 1.0e300\n", "beyond any real sample"),
    ("geometry: {kind: through-plane, thickness_cm: 5000, area_cm2: 1}\n", "beyond any real sample"),
])
def test_hostile_sample_yaml_is_refused_quickly_with_a_reason(tmp_path, text, message):
    import time

    path = tmp_path / "sample.yaml"
    path.write_text(text)
    t0 = time.perf_counter()
    with pytest.raises(MetadataError, match=message):
        load_sample_yaml(path)
    assert time.perf_counter() - t0 < 5


def test_huge_sample_yaml_is_not_parsed(tmp_path):
    path = tmp_path / "sample.yaml"
    path.write_text("notes: x\n" + "# padding\n" * 20000)
    with pytest.raises(MetadataError, match="a few lines of metadata"):
        load_sample_yaml(path)


def test_exponent_without_a_dot_is_a_number(tmp_path):
    """YAML 1.1 reads 2e-1 (no dot) as text; it is still the number 0.2."""
    path = tmp_path / "sample.yaml"
    path.write_text("area_cm2: 2e-1\nru_ohm: 1E1\n")
    assert load_sample_yaml(path) == {"area_cm2": 0.2, "ru_ohm": 10.0}


def test_names_that_clean_to_one_name_keep_records_of_their_own():
    from echem.audit import audit_name, safe_name

    assert audit_name("eis", "eis 1.DTA") != audit_name("eis", "eis_1.DTA")
    assert safe_name("eis_1.DTA") == "eis_1.DTA"  # a safe name stays as it is
    assert safe_name("eis 1.DTA").startswith("eis_1.DTA-")
