"""A client of the REST API (deployed, or the local stack's): SigV4-signed calls and the presigned upload.

    client = ApiClient("https://abc123.execute-api.eu-west-1.amazonaws.com/v1")   # AWS credentials from boto3
    image = client.upload(Path("cat.jpg"))                                        # POST /uploads + the S3 POST
    started = client.start_analysis({"image": image, "analyses": ["labels", "faces"]})
    record = client.wait(started.body["requestId"])                               # GET /analyses/{id} until done

Requests are signed with botocore's signer (service ``execute-api``), as for any IAM-authorised API;
nothing here is specific to rekoflow's API beyond its three routes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TERMINAL = {"SUCCEEDED", "FAILED"}


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class ApiError(RuntimeError):
    def __init__(self, response: ApiResponse, what: str) -> None:
        message = response.body.get("message") if isinstance(response.body, dict) else response.body
        super().__init__(f"{what}: HTTP {response.status}: {message}")
        self.response = response


class ApiClient:
    def __init__(
        self, base_url: str, region: str | None = None, credentials: Any = None, timeout_s: float = 30.0
    ) -> None:
        import boto3

        self.base_url = base_url.rstrip("/")
        session = boto3.session.Session()
        self.region = region or session.region_name or "us-east-1"
        self.credentials = credentials if credentials is not None else session.get_credentials()
        self.timeout_s = timeout_s

    # ----- signed requests ------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, signed: bool = True) -> ApiResponse:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = self.base_url + path
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        if signed:
            if self.credentials is None:
                raise RuntimeError("no AWS credentials to sign with (configure boto3's credentials)")
            SigV4Auth(
                self.credentials.get_frozen_credentials()
                if hasattr(self.credentials, "get_frozen_credentials")
                else self.credentials,
                "execute-api",
                self.region,
            ).add_auth(request)
        prepared = request.prepare()
        return _send(prepared.method, prepared.url, prepared.body, dict(prepared.headers), self.timeout_s)

    def start_analysis(self, request: dict[str, Any]) -> ApiResponse:
        return self.request("POST", "/analyses", request)

    def get_analysis(self, request_id: str) -> ApiResponse:
        return self.request("GET", "/analyses/" + urllib.parse.quote(request_id, safe=""))

    def wait(self, request_id: str, timeout_s: float = 300.0, interval_s: float = 1.0) -> dict[str, Any]:
        """The record once it is SUCCEEDED or FAILED (GET answers 404 until the execution has stored it)."""
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.get_analysis(request_id)
            if response.status == 200 and response.body.get("status") in TERMINAL:
                return response.body
            if response.status not in (200, 404):
                raise ApiError(response, f"GET /analyses/{request_id}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"analysis {request_id} did not finish within {timeout_s:g} s")
            time.sleep(interval_s)

    # ----- uploads ----------------------------------------------------------------------------------
    def create_upload(self, content_type: str, checksum_sha256: str, filename: str | None = None) -> ApiResponse:
        body = {
            "contentType": content_type,
            "checksumSHA256": checksum_sha256,
            **({"filename": filename} if filename else {}),
        }
        return self.request("POST", "/uploads", body)

    def upload(self, path: Path, content_type: str | None = None) -> dict[str, str]:
        """Upload one image through POST /uploads and its presigned S3 POST; the ``image`` for a request."""
        path = Path(path)
        data = path.read_bytes()
        content_type = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        answer = self.create_upload(content_type, checksum, path.name)
        if answer.status != 200:
            raise ApiError(answer, "POST /uploads")
        posted = post_form(answer.body["url"], answer.body["fields"], path.name, data, content_type, self.timeout_s)
        if posted.status not in (200, 201, 204):
            raise ApiError(posted, "S3 POST upload")
        return answer.body["image"]


def post_form(
    url: str, fields: dict[str, str], filename: str, data: bytes, content_type: str, timeout_s: float = 30.0
) -> ApiResponse:
    """A browser-style multipart/form-data POST (the form fields, then the file, last as S3 requires)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    body = b"".join(parts)
    return _send("POST", url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}, timeout_s)


def _send(method: str, url: str, body: Any, headers: dict[str, str], timeout_s: float) -> ApiResponse:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310 - the caller's API URL
            status, raw, answer_headers = answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        status, raw, answer_headers = error.code, error.read(), dict(error.headers)
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text) if text.strip() else {}
    except ValueError:
        parsed = text
    return ApiResponse(status, parsed, answer_headers)
