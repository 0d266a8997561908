"""Rekognition's wire protocol (AWS JSON 1.1) over the stdlib's threading HTTP server."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rekoflow.engine import errors
from rekoflow.engine.dispatch import Engine
from rekoflow.engine.images import S3ClientFactory

log = logging.getLogger(__name__)

_TARGET_PREFIX = "RekognitionService."
_CONTENT_TYPE = "application/x-amz-json-1.1"
# 5 MB of image as base64 plus the rest of the request, with room to answer ImageTooLargeException.
_MAX_BODY = 16 * 1024 * 1024


def answer(engine: Engine, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """One Rekognition request (``X-Amz-Target`` and JSON body) answered: ``(HTTP status, JSON body)``.

    Shared by this server and the local stack, which serves the engine on its single endpoint.
    """
    try:
        if not target.startswith(_TARGET_PREFIX):
            raise errors.unknown_operation(target or "(missing X-Amz-Target)")
        try:
            params = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise errors.serialization(f"Request body is not valid JSON: {exc}") from exc
        return 200, engine.handle(target[len(_TARGET_PREFIX) :], params)
    except errors.RekognitionError as exc:
        return exc.status, exc.to_body()
    except Exception:
        log.exception("unhandled error")
        return 500, errors.internal().to_body()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        request_id = str(uuid.uuid4())
        try:
            body = self._read_body()
        except errors.RekognitionError as exc:
            self._send(exc.status, exc.to_body(), request_id)
            return
        status, payload = answer(self.server.engine, self.headers.get("X-Amz-Target", ""), body)
        self._send(status, payload, request_id)

    def do_GET(self) -> None:  # noqa: N802
        # A health check for scripts waiting on `rekoflow engine serve`.
        self._send(200, {"status": "ok", "operations": self.server.engine.operations}, str(uuid.uuid4()))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True  # the unread body makes the connection unusable
            raise errors.image_too_large()
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: dict[str, Any], request_id: str) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", _CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        super().__init__(address, _Handler)
        self.engine = engine


class EngineServer:
    """The engine behind an HTTP endpoint that any boto3 Rekognition client can use.

    >>> with EngineServer() as server:
    ...     client = boto3.client("rekognition", endpoint_url=server.url)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        s3_client_factory: S3ClientFactory | None = None,
        state_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        # state_dir: where Custom Labels projects and trained models are kept (None = in memory).
        engine = Engine(s3_client_factory=s3_client_factory, state_dir=state_dir, threads=threads)
        self._server = _Server((host, port), engine)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # a Unix socket address; ours is always TCP
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> EngineServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="rekoflow-engine", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> EngineServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 4598) -> None:
    """Serve until interrupted (the CLI's `rekoflow engine serve`)."""
    server = _Server((host, port), Engine())
    log.info("rekoflow engine listening on http://%s:%d", host, server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
