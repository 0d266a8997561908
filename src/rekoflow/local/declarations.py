"""The stack's declarations, read from the files Terraform reads too (docs/architecture.md, ADR-12):

- ``functions/manifest.json``: the functions (handler, sizing, IAM flags) and, under
  ``environment``, each function's environment variables as names of deployment settings;
- ``terraform/results_table.json``: the results table's keys, indexes and TTL attribute.

Terraform maps the setting names to its own values (``terraform/locals.tf``: ``environment_values``);
the local stack maps them to :func:`environment_values`. A test compares both.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rekoflow.paths import project_root, read_manifest

# The settings the local stack gives where Terraform uses variables (their defaults, terraform/variables.tf).
LOCAL_SETTINGS = {
    "metrics_namespace": "Rekoflow",
    "log_level": "INFO",
    "cache_ttl_days": "30",
    "record_ttl_days": "0",
    "results_prefix": "results/",
    "uploads_prefix": "uploads/",
    "rekognition_max_attempts": "3",
    "upload_url_expiry_s": "300",
    "upload_trigger_analyses": "labels,faces,text",
}


class DeclarationError(ValueError):
    """A declaration file is malformed or names a setting nobody provides."""


def functions() -> dict[str, dict[str, Any]]:
    """Every function of the manifest: ``{name: spec}``."""
    return read_manifest()["functions"]


def flag_set(spec: Mapping[str, Any], flag: str) -> bool:
    """As Terraform reads a manifest flag: true, or a non-empty list."""
    value = spec.get(flag)
    return bool(value) if isinstance(value, (list, tuple)) else value is True


# Settings whose value is the function's own (every other setting is one value per deployment).
PER_FUNCTION_SETTINGS = {"function_name"}


def function_environment(spec: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    """The environment one function gets, from the manifest's declaration and ``values`` of its settings
    (``function_name`` included)."""
    declaration = read_manifest()["environment"]
    names: dict[str, str] = dict(declaration["every_function"])
    for flag, variables in declaration["when"].items():
        if flag.startswith("$"):
            continue
        if flag_set(spec, flag):
            names.update(variables)
    missing = sorted({setting for setting in names.values() if setting not in values})
    if missing:
        raise DeclarationError(f"no value for setting(s) {', '.join(missing)} named in functions/manifest.json")
    return {variable: str(values[setting]) for variable, setting in names.items()}


def settings_named() -> set[str]:
    """Every setting name the environment declaration uses."""
    declaration = read_manifest()["environment"]
    names = set(declaration["every_function"].values())
    for flag, variables in declaration["when"].items():
        if not flag.startswith("$"):
            names.update(variables.values())
    return names


def table_path() -> Path:
    return project_root() / "terraform" / "results_table.json"


@functools.cache
def _table(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def results_table() -> dict[str, Any]:
    return _table(str(table_path()))


def create_table_request(table_name: str) -> dict[str, Any]:
    """``dynamodb.create_table`` arguments for the results table, as ``terraform/dynamodb.tf`` creates it."""
    table = results_table()

    def key_schema(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return schema

    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema(table["hash_key"], table.get("range_key")),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in table["attributes"].items()
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index["name"],
                "KeySchema": key_schema(index["hash_key"], index.get("range_key")),
                "Projection": {"ProjectionType": index["projection_type"]},
            }
            for index in table["global_secondary_indexes"]
        ],
    }
