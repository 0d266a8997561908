"""S3 buckets answer browsers with their own CORS rules, not moto's blanket ``*``.

moto's server wraps every service app in flask-cors (``moto/moto_server/werkzeug_app.py``:
``if not DISABLE_GLOBAL_CORS: CORS(backend_app)``), which adds ``Access-Control-Allow-Origin: *`` to
every answer and so hides the bucket's CORS configuration (which moto's S3 implements:
``S3Response._set_cors_headers_options``). The patch turns the blanket off, as
``MOTO_DISABLE_GLOBAL_CORS`` would if it were set before moto's settings are imported.
"""

from __future__ import annotations

from rekoflow.local.patches._base import Patcher, Undo, install


def install_bucket_cors() -> Undo:
    def apply(patcher: Patcher) -> None:
        from moto.moto_server import werkzeug_app

        patcher.set(werkzeug_app, "DISABLE_GLOBAL_CORS", True)

    return install(apply)
