"""Every function's handler has the one shape of docs/architecture.md, ADR-3: the Powertools decorator
stack, in order, around a body that returns one call into the function's own modules, with a named
correlation-id path."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
MANIFEST = json.loads((FUNCTIONS / "manifest.json").read_text())
DECORATORS = ["logger.inject_lambda_context", "tracer.capture_lambda_handler", "metrics.log_metrics"]


def shape_problems(source: str) -> list[str]:
    tree = ast.parse(source)
    handlers = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "lambda_handler"]
    if len(handlers) != 1:
        return ["lambda_handler is not one module-level function"]
    (handler,) = handlers
    problems = []
    decorators = [ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in handler.decorator_list]
    if decorators != DECORATORS:
        problems.append(f"decorators {decorators}, not {DECORATORS}")
    body = [s for s in handler.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not (len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call)):
        problems.append("the body is not one returned call")
    inject = handler.decorator_list[0] if handler.decorator_list else None
    paths = [k.value for k in inject.keywords if k.arg == "correlation_id_path"] if isinstance(inject, ast.Call) else []
    # A literal path drifts from what the state machine passes; the constants say where it comes from.
    if len(paths) != 1 or isinstance(paths[0], ast.Constant):
        problems.append("correlation_id_path is missing or a literal")
    return problems


@pytest.mark.parametrize("name", sorted(MANIFEST["functions"]))
def test_every_handler_has_the_one_shape(name):
    assert shape_problems((FUNCTIONS / name / "handler.py").read_text()) == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "    return record_batch_metrics(",
            "    print('work')\n    return record_batch_metrics(",
            "the body is not one returned call",
        ),
        ("@metrics.log_metrics\n", "", "decorators"),
        ("correlation_id_path=BATCH_CORRELATION_PATH", 'correlation_id_path="batch.batchId"', "literal"),
    ],
)
def test_the_shape_check_finds_what_breaks_it(old, new, problem):
    source = (FUNCTIONS / "summarize_batch" / "handler.py").read_text()
    assert old in source
    assert any(problem in found for found in shape_problems(source.replace(old, new)))
