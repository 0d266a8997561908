"""Fewer malloc arenas for the stack process, so its memory stays flat (docs/performance.md).

glibc gives threads their own malloc arenas (up to 8 per core). The stack runs every state of every
execution in a new short-lived thread (moto's interpreter), and the engine's image buffers are
large: freed memory stays spread over many arenas and the resident set grew by ~3 MB per analysed
image, batch after batch (measured: 1.2 -> 1.5 GB over four fresh batches of 32 photos). With two
arenas it levels off after the first batch, ~0.5 GB lower (bench/stack_bench.py). Python's own
allocator is unaffected; ``MALLOC_ARENA_MAX`` in the environment wins.
"""

from __future__ import annotations

import ctypes
import os

STACK_ARENAS = 2
_M_ARENA_MAX = -8  # glibc malloc.h


def limit_malloc_arenas(arenas: int = STACK_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (threads started later share them); whether it applied."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False  # the operator chose
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to tune
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_ARENA_MAX, arenas))
