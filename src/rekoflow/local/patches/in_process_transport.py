"""boto3 clients of the stack's own code that reach the stack without a socket (docs/architecture.md, ADR-9).

The Step Functions interpreter (its Lambda, DynamoDB and Step Functions tasks, the ``.sync`` waits)
and the stack itself (creating its resources, answering ``/_rekoflow/wait``) call services of the
same process. Over HTTP each call costs a socket round trip, werkzeug's request parsing and a new
server thread: about a third of the CPU of a cached batch child (py-spy). :func:`route_in_process`
gives a botocore client a ``before-send`` handler that hands the request to the stack's WSGI
application in the calling thread instead (the same application the socket serves, so routing,
moto's request parsing and the incident recorder are unchanged; only the transport goes).
moto's own in-process mode (``mock_aws``'s ``BotocoreStubber``) would skip the stack's routing
and recorder: not used.

The functions' own clients (boto3 in ``functions/``, aimed at the stack by ``AWS_ENDPOINT_URL``) go
the same way while they run in this process (:func:`install_in_process_function_clients`): a
client made during an in-process invocation (``AWS_LAMBDA_FUNCTION_NAME`` is set in that thread's
environment) whose endpoint is the stack's. Endpoints elsewhere (a scripted Rekognition in tests)
are left alone.

``DISPATCHED`` counts requests served this way (tests assert the interpreter uses it).
"""

from __future__ import annotations

import collections
import io
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from rekoflow.local.patches._base import Patcher, Undo, install

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DISPATCHED: collections.Counter[str] = collections.Counter()
_DISPATCHED_LOCK = threading.Lock()


class _Body(io.BytesIO):
    """A response body botocore can both ``read`` (streaming shapes) and ``stream`` (the rest)."""

    def stream(self, **_: Any) -> Iterable[bytes]:
        data = self.read()
        if data:
            yield data


def _request_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return bytes(body)


def _latin1(text: str) -> str:
    # WSGI carries the path's UTF-8 bytes as latin-1 text (PEP 3333), as werkzeug's server does.
    return text.encode("utf-8").decode("latin-1")


class InProcessTransport:
    """A botocore ``before-send`` handler: the prepared request goes to ``app`` in this thread."""

    def __init__(self, app: WSGIApp, service: str = "") -> None:
        self.app = app
        self.service = service

    def environ(self, request: Any) -> dict[str, Any]:
        url = urlsplit(request.url)
        body = _request_bytes(request.body)
        raw_uri = url.path + (f"?{url.query}" if url.query else "")
        host, _, port = url.netloc.partition(":")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _latin1(unquote(url.path or "/")),
            "QUERY_STRING": _latin1(url.query),
            "REQUEST_URI": _latin1(raw_uri),
            "RAW_URI": _latin1(raw_uri),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": 0,
            "SERVER_NAME": host,
            "SERVER_PORT": port or ("443" if url.scheme == "https" else "80"),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": url.netloc,
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in request.headers.items():
            value = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            key = name.upper().replace("-", "_")
            if key in ("TRANSFER_ENCODING", "EXPECT"):
                continue  # the body is whole here: no chunk framing, nothing to continue
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                key = f"HTTP_{key}"
                environ[key] = f"{environ[key]},{value}" if key in environ and key != "HTTP_HOST" else value
        return environ

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        answer: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = headers
            return lambda data: None

        chunks = self.app(self.environ(request), start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        with _DISPATCHED_LOCK:
            DISPATCHED[self.service] += 1
        headers: dict[str, str] = {}
        for name, value in answer.get("headers", []):
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        return AWSResponse(request.url, answer.get("status", 500), headers, _Body(body))


def route_in_process(client: Any, app: WSGIApp) -> Any:
    """Send every request of the botocore ``client`` to ``app`` in this process; returns the client."""
    service = client.meta.service_model.service_name
    client.meta.events.register(
        "before-send", InProcessTransport(app, service), unique_id="rekoflow-in-process-transport"
    )
    return client


def install_in_process_function_clients(endpoint_url: str, app: WSGIApp) -> Undo:
    """Clients the in-process functions make for the stack's endpoint send their requests to ``app``.

    Returns the undo.
    """
    stack_endpoint = endpoint_url.rstrip("/")

    def apply(patcher: Patcher) -> None:
        import botocore.session

        create = botocore.session.Session.create_client

        def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
            client = create(self, *args, **kwargs)
            # os.environ is the invocation's own (per thread) while a function runs in this process.
            if (
                os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
                and (client.meta.endpoint_url or "").rstrip("/") == stack_endpoint
            ):
                route_in_process(client, app)
            return client

        patcher.set(botocore.session.Session, "create_client", create_client)

    return install(apply)
