"""Rendering the ASL templates in statemachines/ exactly as Terraform's templatefile() does for them.

The templates use only ``${name}`` placeholders, each inside a JSON string, so the raw file is valid
JSON (docs/architecture.md, ADR-1). ``$${`` is templatefile's escape for a literal ``${``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

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
