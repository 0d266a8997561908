"""Faults injected at the local stack's wire, where AWS would produce them: a WSGI layer in front of moto.

The stack's handlers, the Step Functions interpreter and every client see ordinary HTTP answers
(a DynamoDB ValidationException, a Lambda ServiceException, an S3 InternalError); nothing in the
product code is patched. ``with inject(workflow, rule, ...)`` installs the rules for one test.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Rule:
    """Answer requests that ``matches`` with ``status``/``body`` (at most ``times`` times)."""

    matches: Callable[[dict[str, Any], bytes], bool]
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    hits: int = 0


def dynamodb_error(operation: str, code: str, contains: str = "", times: int = 1, status: int = 400) -> Rule:
    """DynamoDB ``operation`` (PutItem...) fails with ``code`` for request bodies containing ``contains``."""

    def matches(environ: dict[str, Any], body: bytes) -> bool:
        return environ.get("HTTP_X_AMZ_TARGET", "") == f"DynamoDB_20120810.{operation}" and contains.encode() in body

    payload = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": f"injected {code}"}).encode()
    return Rule(matches, status, payload, {"Content-Type": "application/x-amz-json-1.0"}, times)


def lambda_invoke_error(function_name: str, code: str = "ServiceException", times: int = 1) -> Rule:
    """Invoking ``function_name`` fails in the Lambda service itself (as Step Functions sees Lambda.<code>)."""

    def matches(environ: dict[str, Any], body: bytes) -> bool:
        path = environ.get("PATH_INFO", "")
        return environ.get("REQUEST_METHOD") == "POST" and path.endswith("/invocations") and function_name in path

    payload = json.dumps({"Type": "Service", "message": f"injected {code}"}).encode()
    return Rule(matches, 500, payload, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, times)


def s3_get_error(key_part: str, code: str = "InternalError", status: int = 500, times: int = 1) -> Rule:
    """S3 GET/HEAD of an object whose path contains ``key_part`` fails with ``code``."""

    def matches(environ: dict[str, Any], body: bytes) -> bool:
        return environ.get("REQUEST_METHOD") in ("GET", "HEAD") and key_part in environ.get("PATH_INFO", "")

    payload = (
        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>injected {code}</Message></Error>"
    ).encode()
    return Rule(matches, status, payload, {"Content-Type": "application/xml"}, times)


class FaultInjector:
    """WSGI middleware: the first rule that matches (and has hits left) answers instead of moto."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rules: list[Rule] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self._lock:
            rule = next((r for r in self.rules if r.hits < r.times and r.matches(environ, body)), None)
            if rule is not None:
                rule.hits += 1
        if rule is None:
            return self.app(environ, start_response)
        body_out = b"" if environ.get("REQUEST_METHOD") == "HEAD" else rule.body
        headers = [
            ("Content-Length", str(len(body_out))),
            *rule.headers.items(),
            ("x-amzn-RequestId", "injected-fault"),
        ]
        start_response(f"{rule.status} Injected", headers)
        return [body_out]


@contextlib.contextmanager
def inject(workflow: Any, *rules: Rule) -> Iterator[list[Rule]]:
    """Install ``rules`` in front of the stack's moto server for the block; yields them (see ``hits``)."""
    recorder = workflow.stack.recorder
    injector = recorder.app if isinstance(recorder.app, FaultInjector) else FaultInjector(recorder.app)
    recorder.app = injector
    injector.rules = list(rules)
    try:
        yield injector.rules
    finally:
        injector.rules = []
