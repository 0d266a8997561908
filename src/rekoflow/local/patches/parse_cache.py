"""Each ASL definition compiled once, and each JSONPath parsed once (moto redoes both all the time).

moto 5.2.5's Step Functions interpreter (a port of LocalStack's, getmoto/moto#7418; no upstream
issue or PR about its speed was found):

- ``AmazonStateLanguageParser.parse`` (``moto/stepfunctions/parser/asl/parse/asl_parser.py``) lexes,
  parses and preprocesses the definition into a program of evaluation components for every
  execution (``backend/execution_worker.py``, ``_get_evaluation_entrypoint``) and again for every
  ``CreateStateMachine`` (``models.py``, ``_validate_definition``). Caching only the ANTLR tree
  still left the preprocessor (``antlr4`` ``RuleContext.getText`` recomputed recursively) at
  65-98 ms per execution. Here the program itself is built once per definition and shared.
- ``extract_json`` (``asl/utils/json_path.py``) and ``ResultPath``
  (``asl/component/common/path/result_path.py``) build a new ``jsonpath_ng`` parser (PLY tables)
  and parse the path on every evaluation: 29-64 parses, 33-71 ms per execution. Parsed paths are
  immutable ``jsonpath_ng`` trees (``find``/``update_or_create`` do not change them): cached.

Why a shared program is safe: moto already evaluates one program from many threads at once (the
iterations of a Map, the branches of a Parallel), so its components keep per-execution state in
the execution's ``Environment`` (stack, heap, context), never in themselves. Two things are not:

- ``EvalComponent.heap_key`` (the key of a retrier's attempt counter in the execution's heap) is
  drawn lazily; two executions drawing it at once could each count retries under another key.
  Every key is drawn here once, when the program is built, before any execution sees it.
- moto's ``Preprocessor._query_language_per_scope`` is a class attribute: every preprocessor in the
  process shares it (concurrent builds interleave scopes, a failed build leaves its scopes behind).
  Each build here gets its own list, and builds are serialised.

``CreateStateMachine`` validates by parsing (``models.py``, ``_validate_definition``): a third of the
stack's start-up, for its own definitions (checked by their tests). Inside :func:`trusted_definitions`
(the stack creating its own machines, in-process) the parse is left to the stack's warm-up thread.

``COUNTS`` counts the real work (ASL parses, program builds, intrinsic parses, JSONPath parses);
``tests/local/test_parse_cache.py`` asserts it does not grow with executions.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

# What was really parsed or built (the tests compare before/after).
COUNTS: collections.Counter[str] = collections.Counter()
_COUNTS_LOCK = threading.Lock()


def _count(what: str) -> None:
    with _COUNTS_LOCK:
        COUNTS[what] += 1


_trusted = threading.local()


@contextlib.contextmanager
def trusted_definitions() -> Iterator[None]:
    """``CreateStateMachine`` calls made in this thread inside do not parse to validate.

    For the stack's own definitions only (rendered from ``statemachines/``, whose tests parse them);
    their programs are built when first needed (the stack's warm-up builds them right after start).
    """
    _trusted.active = True
    try:
        yield
    finally:
        _trusted.active = False


class _BoundedCache:
    """A dict of at most ``max_entries`` built values; a value is built once, under one lock."""

    def __init__(self, max_entries: int) -> None:
        self._values: dict[Any, Any] = {}
        self._max_entries = max_entries
        self._build_lock = threading.RLock()  # reentrant: an ASL build parses intrinsics inside

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        value = self._values.get(key)
        if value is not None:
            return value
        with self._build_lock:
            value = self._values.get(key)
            if value is None:
                value = build()  # exceptions (an invalid definition) propagate and are not cached
                while len(self._values) >= self._max_entries:
                    self._values.pop(next(iter(self._values)))
                self._values[key] = value
        return value

    def clear(self) -> None:
        with self._build_lock:
            self._values.clear()


def _draw_heap_keys(program: Any) -> int:
    """Draw every component's ``heap_key`` now, so concurrent executions never draw it; how many."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending = [program]
    drawn = 0
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Component):
            if isinstance(value, EvalComponent):
                _ = value.heap_key
                drawn += 1
            pending.extend(vars(value).values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return drawn


def install_parse_cache(max_entries: int = 256) -> Undo:
    """Compile each ASL definition and intrinsic function once; parse each JSONPath once.

    Returns a function that undoes the patch (and empties the caches).
    """

    def apply(patcher: Patcher) -> None:
        _apply_program_cache(patcher, max_entries)
        _apply_json_path_cache(patcher, max_entries * 16)

    return install(apply)


def _apply_program_cache(patcher: Patcher, max_entries: int) -> None:
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicLexer import ASLIntrinsicLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicParser import ASLIntrinsicParser
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import Preprocessor as IntrinsicPreprocessor
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    # One lock for both: building an ASL program parses its intrinsic functions.
    programs = _BoundedCache(max_entries)

    def build_asl(definition: str) -> tuple[Any, Any]:
        listener = asl_parser.SyntaxErrorListener()
        parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
        parser.removeErrorListeners()
        parser.addErrorListener(listener)
        tree = parser.state_machine()
        _count("asl_parse")
        if listener.errors:
            raise asl_parser.ASLParserException(errors=listener.errors)
        preprocessor = Preprocessor()
        preprocessor._query_language_per_scope = []  # not moto's list shared by every preprocessor
        program = preprocessor.visit(tree)
        _count("asl_program")
        _draw_heap_keys(program)
        return program, tree

    def build_intrinsic(src: str) -> tuple[Any, Any]:
        tree = ASLIntrinsicParser(CommonTokenStream(ASLIntrinsicLexer(InputStream(src)))).func_decl()
        function = IntrinsicPreprocessor().visit(tree)
        _count("intrinsic_parse")
        _draw_heap_keys(function)
        return function, tree

    def parse_asl(definition: str) -> tuple[Any, Any]:
        return programs.get(("asl", definition), lambda: build_asl(definition))

    def parse_intrinsic(src: str) -> tuple[Any, Any]:
        return programs.get(("intrinsic", src), lambda: build_intrinsic(src))

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    validate = StepFunctionsParserBackend._validate_definition

    def validate_definition(definition: str) -> None:
        if getattr(_trusted, "active", False):
            _count("validation_deferred")
            return
        validate(definition)

    patcher.set(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(parse_asl))
    patcher.set(intrinsic_parser.IntrinsicParser, "parse", staticmethod(parse_intrinsic))
    patcher.set(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_definition))
    patcher.on_undo(programs.clear)


def _apply_json_path_cache(patcher: Patcher, max_entries: int) -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):  # each imported its own ``parse`` by name
        original = module.parse
        paths = _BoundedCache(max_entries)

        def cached_parse(path: str, _original: Callable[[str], Any] = original, _paths: _BoundedCache = paths) -> Any:
            def build() -> Any:
                _count("jsonpath_parse")
                return _original(path)

            return _paths.get(path, build)

        patcher.set(module, "parse", cached_parse)
        patcher.on_undo(paths.clear)
