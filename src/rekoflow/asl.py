"""Rendering the ASL templates in statemachines/ exactly as Terraform's templatefile() does for them.

The templates use only ``${name}`` placeholders, each inside a JSON string, so the raw file is valid
JSON (docs/architecture.md, ADR-1). ``$${`` is templatefile's escape for a literal ``${``.
"""

from __future__ import annotations

import graphlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rekoflow.paths import statemachines_dir

PLACEHOLDER = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateError(ValueError):
    pass


def template_path(name: str) -> Path:
    return statemachines_dir() / f"{name}.asl.json"


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def render(text: str, variables: Mapping[str, Any]) -> str:
    missing = placeholders(text) - set(variables)
    if missing:
        raise TemplateError(f"no value for placeholder(s): {', '.join(sorted(missing))}")
    rendered = PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), text)
    return rendered.replace("$${", "${")


def render_file(name: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(render(template_path(name).read_text(), variables))


def state_machines_named(text: str) -> set[str]:
    """The templates whose ARN a template needs: its ``${<template>_state_machine_arn}`` placeholders."""
    return {
        name.removesuffix("_state_machine_arn") for name in placeholders(text) if name.endswith("_state_machine_arn")
    }


def creation_order(templates: list[str]) -> list[str]:
    """The templates in an order that creates every state machine after those it starts (as Terraform's
    dependency graph does); a cycle is an error (no state machine could be created first)."""
    graph = {name: state_machines_named(template_path(name).read_text()) & set(templates) for name in templates}
    try:
        return list(graphlib.TopologicalSorter(dict(sorted(graph.items()))).static_order())
    except graphlib.CycleError as error:
        raise TemplateError(f"state machines that start each other (a cycle): {' -> '.join(error.args[1])}") from error
