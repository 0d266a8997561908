"""moto's interpreter remembers every thread it ever started; here it remembers the running ones.

moto 5.2.5 (``moto/stepfunctions/parser/utils.py``) appends each thread of the Step Functions
interpreter (one per execution, per state with a timeout, per Map iteration, per Parallel branch,
per callback wait) to the module-level list ``TMP_THREADS``, which nothing in moto reads or empties
(LocalStack, where the interpreter comes from, joins them at shutdown). A long-running stack grew by
one ``Thread`` object (and what it still references) per state evaluated: memory that grows with
every image of every batch. The list is replaced, in every module that imported it by name, by one
that lets finished threads go. No upstream issue found.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install


class LiveThreads(list):
    """``TMP_THREADS`` that keeps only threads not yet finished (appends are rare enough to prune each time)."""

    _lock = threading.Lock()

    def append(self, thread: Any) -> None:
        with self._lock:
            # ident is None until the thread starts: moto appends before starting, keep those.
            self[:] = [t for t in self if t.ident is None or t.is_alive()]
            super().append(thread)


def install_live_thread_registry() -> Undo:
    """Replace moto's ever-growing ``TMP_THREADS`` with :class:`LiveThreads`; returns the undo."""

    def apply(patcher: Patcher) -> None:
        from moto.stepfunctions.parser import utils

        original = utils.TMP_THREADS
        live = LiveThreads()
        patcher.set(utils, "TMP_THREADS", live)
        for name, module in list(sys.modules.items()):
            if (
                name.startswith("moto.stepfunctions.")
                and module is not utils
                and getattr(module, "TMP_THREADS", None) is original
            ):
                patcher.set(module, "TMP_THREADS", live)

        def restore_late_importers() -> None:
            for name, module in list(sys.modules.items()):
                if name.startswith("moto.stepfunctions.") and getattr(module, "TMP_THREADS", None) is live:
                    setattr(module, "TMP_THREADS", original)

        patcher.on_undo(restore_late_importers)

    return install(apply)
