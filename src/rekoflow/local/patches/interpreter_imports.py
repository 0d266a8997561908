"""moto's interpreter imports all of moto's EC2 for one enum; it gets the enum without EC2 (start-up).

``moto/stepfunctions/parser/asl/component/state/exec/state_task/service/state_task_service_batch.py``
(imported with every service integration when the interpreter is) does
``from moto.batch.utils import JobStatus``. Importing ``moto.batch.utils`` runs the package's
``__init__`` first, which imports ``moto.batch.models`` and with it ``moto.ec2`` (its instance-type
catalogue, every region's zones from botocore's EC2 model): 0.6-0.8 s of CPU, a third of the
stack's start, and tens of MB, for a workflow that uses neither Batch nor EC2.

``moto/batch/utils.py`` and ``moto/batch/exceptions.py`` (all it imports) are loaded here as the
submodules they are, without running the package's ``__init__``. A later ``import moto.batch``
(a request to the Batch API) runs the package as usual and reuses these two modules, as Python
does for any submodule already imported. No upstream issue found. There is nothing to undo: the
two modules are moto's own code under their own names.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from rekoflow.local.patches._base import PATCH_LOCK, Undo, check_moto_version

# In dependency order: utils imports .exceptions.
_SUBMODULES = ("moto.batch.exceptions", "moto.batch.utils")


def install_batch_enum_without_ec2() -> Undo:
    """Load ``moto.batch.utils`` (and ``.exceptions``) without ``moto.batch``'s ``__init__``; returns a no-op undo."""
    check_moto_version()
    with PATCH_LOCK:
        if "moto.batch" not in sys.modules:
            import moto

            package_dir = Path(moto.__file__).parent / "batch"
            for name in _SUBMODULES:
                if name in sys.modules:
                    continue
                spec = importlib.util.spec_from_file_location(name, package_dir / f"{name.rsplit('.', 1)[1]}.py")
                if spec is None or spec.loader is None:
                    raise RuntimeError(f"moto {moto.__version__} has no {name}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
    return lambda: None
