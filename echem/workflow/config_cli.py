"""Configuration given on the command line: booleans written as ``true``.

Snakemake turns ``--config strict=True`` into a bool but ``strict=true`` into the
string ``"true"`` (its YAML step uses the BaseLoader), which schema validation then
refuses. The strings below are read as the booleans the schema asks for.
"""

from __future__ import annotations

from typing import Any, Mapping

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})


def _types(schema: Mapping[str, Any]) -> list[str]:
    t = schema.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def coerce_booleans(config: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Set every value that ``schema`` types as boolean (and not string) and that is one of
    the words true/false, yes/no, on/off, 1/0 (any case) to that bool, in nested objects too.

    Any other value is left as it is, for validation to report. Returns ``config``,
    changed in place.
    """
    props = schema.get("properties", {})
    for key, value in config.items():
        sub = props.get(key)
        if not isinstance(sub, Mapping):
            continue
        types = _types(sub)
        if isinstance(value, str) and "boolean" in types and "string" not in types:
            word = value.strip().lower()
            if word in TRUE_WORDS:
                config[key] = True
            elif word in FALSE_WORDS:
                config[key] = False
        elif isinstance(value, dict) and "properties" in sub:
            coerce_booleans(value, sub)
    return config
