"""API Gateway's mapping-template language: Velocity (airspeed) with what API Gateway puts in scope.

``$input`` (body, json, path, params), ``$util`` (parseJson, escapeJavaScript, urlEncode/Decode,
base64Encode/Decode), ``$context`` (requestId, domainName, stage, path, identity, responseOverride...)
and ``$stageVariables``. Two details checked against Velocity 1.7, API Gateway's engine, because
both change results: ``#if`` treats null as false (LocalStack's airspeed-ext treats it as true), and
string literals keep their backslashes (airspeed unescapes them: turned off below).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import airspeed

_JAVA_STRING = {
    "lastIndexOf": lambda self, sub: self.rfind(sub),
    "indexOf": lambda self, sub: self.find(sub),
    "trim": lambda self: self.strip(),
    "substring": lambda self, start, end=None: self[start:end],
    "toLowerCase": lambda self: self.lower(),
    "toUpperCase": lambda self: self.upper(),
    "endsWith": lambda self, suffix: self.endswith(suffix),
    "isEmpty": lambda self: len(self) == 0,
}
airspeed.__additional_methods__[str].update(_JAVA_STRING)
# Velocity 1.7 keeps backslashes in string literals as they are: the well-known
# `.replaceAll("\\'", "'")` after escapeJavaScript hands Java's regex `\\'` (backslash, quote).
# airspeed would unescape "\\'" to "\'" and so turn that repair into a no-op.
_NEVER = re.compile(r"(?!)")
airspeed.StringLiteral.ESCAPED_CHAR = _NEVER
airspeed.InterpolatedStringLiteral.ESCAPED_CHAR = _NEVER


class TemplateError(ValueError):
    """A mapping template failed to render (API Gateway answers 500 Internal server error)."""


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


_PATH_PART = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]")


def json_path(document: Any, path: str) -> Any:
    """The JSONPath subset templates use: ``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``."""
    if not path.startswith("$"):
        raise TemplateError(f"JSONPath {path!r} must start with $")
    value, rest = document, path[1:]
    while rest:
        match = _PATH_PART.match(rest)
        if not match:
            raise TemplateError(f"unsupported JSONPath {path!r}")
        name, index, quoted = match.groups()
        if index is not None:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        else:
            value = value.get(name if name is not None else quoted) if isinstance(value, dict) else None
        rest = rest[match.end() :]
    return value


@dataclass
class Input:
    """``$input``: the request (or, in a response template, the integration's response) body and parameters."""

    body: str
    path_parameters: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def _document(self) -> Any:
        try:
            return json.loads(self.body or "null")
        except ValueError as error:
            raise TemplateError(f"the body is not JSON, so $input.json/$input.path cannot read it: {error}") from error

    def json(self, path: str) -> str:
        return json.dumps(json_path(self._document(), path), ensure_ascii=False)

    def path(self, path: str) -> Any:
        return json_path(self._document(), path)

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return {"path": dict(self.path_parameters), "querystring": dict(self.query), "header": dict(self.headers)}
        for source in (self.path_parameters, self.query):
            if name in source:
                return source[name]
        lowered = {k.lower(): v for k, v in self.headers.items()}
        return lowered.get(name.lower(), "")


class Util:
    """``$util``."""

    def parseJson(self, text: str) -> Any:  # noqa: N802 - API Gateway's names
        try:
            return json.loads(text)
        except ValueError as error:
            raise TemplateError(f"$util.parseJson: not JSON ({error})") from error

    def escapeJavaScript(self, text: Any) -> str:  # noqa: N802
        return escape_javascript(text)

    def urlEncode(self, text: Any) -> str:  # noqa: N802
        return urllib.parse.quote_plus(str(text))

    def urlDecode(self, text: Any) -> str:  # noqa: N802
        return urllib.parse.unquote_plus(str(text))

    def base64Encode(self, text: Any) -> str:  # noqa: N802
        return base64.b64encode(str(text).encode()).decode()

    def base64Decode(self, text: Any) -> str:  # noqa: N802
        return base64.b64decode(str(text)).decode("utf-8", "replace")


def render(template: str, input_: Input, context: dict[str, Any], stage_variables: dict[str, str] | None = None) -> str:
    """Render ``template``; ``context['responseOverride']`` collects status/header overrides."""
    context.setdefault("responseOverride", {"status": None, "header": {}})
    namespace = {"input": input_, "util": Util(), "context": context, "stageVariables": dict(stage_variables or {})}
    try:
        return airspeed.Template(template).merge(namespace)
    except TemplateError:
        raise
    except Exception as error:  # noqa: BLE001 - airspeed raises many kinds; API Gateway answers 500 for all
        raise TemplateError(f"{type(error).__name__}: {error}") from error


def override_status(context: dict[str, Any]) -> int | None:
    value = (context.get("responseOverride") or {}).get("status")
    return int(value) if value not in (None, "") else None


_GATEWAY_VARIABLE = re.compile(r"\$(context|stageVariables)\.([A-Za-z0-9_.]+)")


def substitute(template: str, context: dict[str, Any], stage_variables: dict[str, str] | None = None) -> str:
    """A gateway response template: simple ``$context.x.y`` / ``$stageVariables.x`` substitution, no VTL."""

    def value(match: re.Match[str]) -> str:
        scope: Any = context if match.group(1) == "context" else (stage_variables or {})
        for part in match.group(2).split("."):
            scope = scope.get(part) if isinstance(scope, dict) else None
        return "" if scope is None else str(scope)

    return _GATEWAY_VARIABLE.sub(value, template)
