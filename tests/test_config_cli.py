"""Booleans given on the command line as words (`--config strict=true`) are read as the
schema's booleans; anything else is left for schema validation to refuse."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from conftest import ROOT
from echem.workflow.config_cli import coerce_booleans

SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("word,value", [("true", True), ("TRUE", True), ("yes", True), ("1", True),
                                        ("false", False), ("No", False), ("off", False), ("0", False)])
def test_top_level_boolean_words(word, value):
    config = {**CONFIG, "strict": word}
    assert coerce_booleans(config, SCHEMA)["strict"] is value
    jsonschema.validate(config, SCHEMA)


def test_nested_booleans_and_untouched_values():
    config = {**CONFIG, "raw_dir": "true", "eis": {**CONFIG["eis"], "trim_lf_drift": "yes", "auto_circuit": "off"}}
    coerce_booleans(config, SCHEMA)
    assert config["eis"]["trim_lf_drift"] is True and config["eis"]["auto_circuit"] is False
    assert config["raw_dir"] == "true"  # a string key keeps its string


def test_other_words_are_left_for_validation_to_refuse():
    config = {**CONFIG, "strict": "maybe"}
    coerce_booleans(config, SCHEMA)
    assert config["strict"] == "maybe"
    with pytest.raises(jsonschema.ValidationError, match="maybe"):
        jsonschema.validate(config, SCHEMA)
