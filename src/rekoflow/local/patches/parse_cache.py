"""Parse each ASL definition and intrinsic function once (moto re-parses them for every execution).

moto lexes and parses the ASL with ANTLR's pure-Python runtime for every execution (~0.2 s of CPU
for the image-analysis machine, and a batch starts one per image) and every intrinsic function at
every evaluation. Only the parse tree is cached (read-only once built); moto's own preprocessor
builds a fresh program from it per execution, so executions share no state.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from rekoflow.local.patches._base import Patcher, Undo, install


def install_parse_cache(max_entries: int = 256) -> Undo:
    """Parse each ASL definition and intrinsic function once; build a fresh program per execution.

    Only the ANTLR parse tree is cached (read-only once built); the evaluation components are
    rebuilt from it by moto's own preprocessor every time, so executions share no state.
    Returns a function that undoes the patch.
    """

    def apply(patcher: Patcher) -> None:
        _apply_parse_cache(patcher, max_entries)

    return install(apply)


def _apply_parse_cache(patcher: Patcher, max_entries: int) -> None:
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicLexer import ASLIntrinsicLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicParser import ASLIntrinsicParser
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import Preprocessor as IntrinsicPreprocessor
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    trees: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def cached_tree(kind: str, source: str, build: Callable[[], Any]) -> Any:
        with lock:
            tree = trees.get((kind, source))
        if tree is None:
            tree = build()
            with lock:
                if len(trees) >= max_entries:
                    trees.pop(next(iter(trees)))
                trees[(kind, source)] = tree
        return tree

    def parse_asl(definition: str) -> tuple[Any, Any]:
        def build() -> Any:
            listener = asl_parser.SyntaxErrorListener()
            parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
            parser.removeErrorListeners()
            parser.addErrorListener(listener)
            tree = parser.state_machine()
            if listener.errors:
                raise asl_parser.ASLParserException(errors=listener.errors)
            return tree

        tree = cached_tree("asl", definition, build)
        return Preprocessor().visit(tree), tree

    def parse_intrinsic(src: str) -> tuple[Any, Any]:
        tree = cached_tree("intrinsic", src, lambda: ASLIntrinsicParser(CommonTokenStream(ASLIntrinsicLexer(InputStream(src)))).func_decl())
        return IntrinsicPreprocessor().visit(tree), tree

    patcher.set(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(parse_asl))
    patcher.set(intrinsic_parser.IntrinsicParser, "parse", staticmethod(parse_intrinsic))
