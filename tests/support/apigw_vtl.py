"""API Gateway's mapping-template language, enough to render terraform/api.tf's templates in tests.

Velocity (airspeed, whose ``#if`` treats null as false as Velocity does; LocalStack's airspeed-ext
treats it as true) plus what API Gateway puts in scope: ``$input`` (body, json, path, params),
``$util`` (parseJson, escapeJavaScript), ``$context`` (requestId, domainName, stage,
responseOverride.status). Java ``String`` methods the templates use are added to airspeed's table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import airspeed

_JAVA_STRING = {
    "lastIndexOf": lambda self, sub: self.rfind(sub),
    "indexOf": lambda self, sub: self.find(sub),
    "trim": lambda self: self.strip(),
    "substring": lambda self, start, end=None: self[start:end],
}
airspeed.__additional_methods__[str].update(_JAVA_STRING)
# Velocity 1.7 (API Gateway's) keeps backslashes in string literals as they are: the well-known
# `.replaceAll("\\'", "'")` after escapeJavaScript hands Java's regex `\\'` (backslash, quote).
# airspeed would unescape "\\'" to "\'" and so turn that repair into a no-op.
_NEVER = re.compile(r"(?!)")
airspeed.StringLiteral.ESCAPED_CHAR = _NEVER
airspeed.InterpolatedStringLiteral.ESCAPED_CHAR = _NEVER


def escape_javascript(text: Any) -> str:
    """Apache Commons ``StringEscapeUtils.escapeJavaScript``, which ``$util.escapeJavaScript`` is."""
    out = []
    for char in str(text):
        code = ord(char)
        if char in "\"'\\/":
            out.append("\\" + char)
        elif char in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif code > 0xFFFF:  # a UTF-16 surrogate pair, as Java strings hold it
            high, low = divmod(code - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04X}")
        elif code < 32 or code > 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


def _json_path(document: Any, path: str) -> Any:
    """The subset of JSONPath the templates use: ``$`` and ``$.a.b``."""
    if path == "$":
        return document
    value = document
    for part in path.removeprefix("$.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass
class Input:
    body: str
    path_params: dict[str, str] = field(default_factory=dict)

    def json(self, path: str) -> str:
        return json.dumps(_json_path(json.loads(self.body or "null"), path), ensure_ascii=False)

    def path(self, path: str) -> Any:
        return _json_path(json.loads(self.body or "null"), path)

    def params(self, name: str) -> str:
        return self.path_params.get(name, "")


class Util:
    def parseJson(self, text: str) -> Any:  # noqa: N802 - API Gateway's name
        return json.loads(text)

    def escapeJavaScript(self, text: Any) -> str:  # noqa: N802 - API Gateway's name
        return escape_javascript(text)


def render(template: str, body: str, path_params: dict[str, str] | None = None, request_id: str = "gw-request-1") -> tuple[str, int | None]:
    """Render ``template`` as API Gateway would; returns (output, responseOverride.status or None)."""
    context = {"requestId": request_id, "domainName": "api.example.com", "stage": "v1", "responseOverride": {"status": None}}
    namespace = {"input": Input(body, path_params or {}), "util": Util(), "context": context}
    output = airspeed.Template(template).merge(namespace)
    return output, context["responseOverride"]["status"]


def api_templates(api_tf: Path, substitutions: dict[str, str]) -> dict[str, str]:
    """The ``name = <<-VTL ... VTL`` heredocs of ``api.tf``, dedented, Terraform references substituted."""
    templates = {}
    for match in re.finditer(r"^\s*(\w+)\s*=\s*<<-VTL\n(.*?)^\s*VTL$", api_tf.read_text(), re.M | re.S):
        lines = match.group(2).splitlines()
        indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
        text = "\n".join(line[indent:] for line in lines) + "\n"
        for reference, value in substitutions.items():
            text = text.replace("${" + reference + "}", value)
        assert "${" not in text.replace("$!{", ""), f"unsubstituted Terraform reference in {match.group(1)}"
        templates[match.group(1)] = text
    return templates
