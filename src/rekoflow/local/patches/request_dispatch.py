"""Two lookups moto's server repeats on every request, done once (moto 5.2.5; no upstream issue found).

- ``DomainDispatcherApplication.get_backend_for_host`` (``moto/moto_server/werkzeug_app.py``) asks
  ``host in backends.list_of_moto_modules()``: a generator that lists moto's package directory and
  stats each of its ~170 entries, for every request.
- ``BaseResponse.call_action`` (``moto/core/responses.py``) calls ``method_names_from_class``
  (``moto/core/utils.py``): ``inspect.getmembers`` over the whole response class, for every request.

Together 6-7 % of a cached batch's CPU (py-spy). The module list is fixed for an installed moto; the
method names are kept per class and recomputed when any class in its MRO gains or loses an
attribute (patches add API methods to response classes: ``terraform_compat``).

``COMPUTED`` counts real computations (a test asserts it does not grow with requests).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable
from typing import Any

from rekoflow.local.patches._base import Patcher, Undo, install

COMPUTED: collections.Counter[str] = collections.Counter()


def install_request_dispatch_caches() -> Undo:
    """Cache moto's module list and each response class's method names; returns the undo."""

    def apply(patcher: Patcher) -> None:
        from moto import backends
        from moto.core import responses, utils

        modules = tuple(backends.list_of_moto_modules())
        COMPUTED["moto_modules"] += 1

        def list_of_moto_modules() -> Iterable[str]:
            return modules

        original_names = utils.method_names_from_class
        names: dict[Any, tuple[tuple[int, ...], list[str]]] = {}
        lock = threading.Lock()

        def method_names_from_class(clazz: Any) -> list[str]:
            shape = tuple(len(vars(klass)) for klass in clazz.__mro__)
            cached = names.get(clazz)
            if cached is not None and cached[0] == shape:
                return cached[1]
            computed = original_names(clazz)
            with lock:
                names[clazz] = (shape, computed)
                COMPUTED["method_names"] += 1
            return computed

        patcher.set(backends, "list_of_moto_modules", list_of_moto_modules)
        patcher.set(responses, "method_names_from_class", method_names_from_class)
        patcher.on_undo(names.clear)

    return install(apply)
