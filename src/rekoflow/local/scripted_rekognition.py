"""A scripted Rekognition endpoint: AWS JSON 1.1 over HTTP on 127.0.0.1, fixed answers, no models.

Used by the workflow tests, which inject throttling and errors at the wire level exactly where AWS
would produce them while the handlers use an unmodified boto3 client, and by the Terraform emulator
(`tf_local --rekognition fixed`) where the engine's models are not installed. Responses are small,
valid Rekognition shapes; the real local engine is tested separately (tests/engine).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOX = {"Width": 0.25, "Height": 0.3, "Left": 0.4, "Top": 0.2}

CANNED: dict[str, dict[str, Any]] = {
    "DetectLabels": {
        "Labels": [
            {
                "Name": "Cat",
                "Confidence": 97.5,
                "Instances": [{"BoundingBox": BOX, "Confidence": 95.123456}],
                "Parents": [{"Name": "Animal"}, {"Name": "Mammal"}, {"Name": "Pet"}],
                "Categories": [{"Name": "Animals and Pets"}],
            },
            {
                "Name": "Animal",
                "Confidence": 97.5,
                "Instances": [],
                "Parents": [],
                "Categories": [{"Name": "Animals and Pets"}],
            },
        ],
        "ImageProperties": {
            "Quality": {"Brightness": 61.2, "Sharpness": 70.1, "Contrast": 55.0},
            "DominantColors": [
                {
                    "Red": 120,
                    "Green": 100,
                    "Blue": 80,
                    "HexCode": "#786450",
                    "CSSColor": "dimgray",
                    "SimplifiedColor": "brown",
                    "PixelPercent": 40.5,
                }
            ],
        },
        "LabelModelVersion": "3.0",
    },
    "DetectFaces": {
        "FaceDetails": [
            {
                "BoundingBox": BOX,
                "AgeRange": {"Low": 30, "High": 40},
                "Smile": {"Value": True, "Confidence": 90.0},
                "Gender": {"Value": "Female", "Confidence": 88.0},
                "Emotions": [{"Type": "HAPPY", "Confidence": 80.0}, {"Type": "CALM", "Confidence": 15.0}],
                "Pose": {"Roll": 1.0, "Yaw": -2.0, "Pitch": 3.0},
                "Quality": {"Brightness": 70.0, "Sharpness": 80.0},
                "Confidence": 99.9,
            },
            {"BoundingBox": {"Width": 0.05, "Height": 0.05, "Left": 0.9, "Top": 0.9}, "Confidence": 50.0},
        ]
    },
    "DetectText": {
        "TextDetections": [
            {
                "DetectedText": "HELLO WORLD",
                "Type": "LINE",
                "Id": 0,
                "Confidence": 99.0,
                "Geometry": {"BoundingBox": BOX, "Polygon": []},
            },
            {
                "DetectedText": "HELLO",
                "Type": "WORD",
                "Id": 1,
                "ParentId": 0,
                "Confidence": 99.0,
                "Geometry": {"BoundingBox": BOX, "Polygon": []},
            },
            {
                "DetectedText": "WORLD",
                "Type": "WORD",
                "Id": 2,
                "ParentId": 0,
                "Confidence": 60.0,
                "Geometry": {"BoundingBox": BOX, "Polygon": []},
            },
        ],
        "TextModelVersion": "3.0",
    },
    "CompareFaces": {
        "SourceImageFace": {"BoundingBox": BOX, "Confidence": 99.0},
        "FaceMatches": [{"Similarity": 98.7, "Face": {"BoundingBox": BOX, "Confidence": 99.5}}],
        "UnmatchedFaces": [{"BoundingBox": BOX, "Confidence": 90.0}],
    },
    "DetectModerationLabels": {
        "ModerationLabels": [],
        "ModerationModelVersion": "7.0",
    },
}


class FakeRekognition:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.responses: dict[str, dict[str, Any]] = json.loads(json.dumps(CANNED))
        self._faults: dict[str, deque[tuple[int, str, str]]] = defaultdict(deque)
        # Raw answers (status, body bytes), or None to drop the connection without an answer.
        self._raw: dict[str, deque[tuple[int, bytes] | None]] = defaultdict(deque)
        self._lock = threading.Lock()
        # Calls of an operation after ``pause_after`` wait here until ``resume`` (a hanging endpoint).
        self._pause: dict[str, int] = {}
        self._resumed = threading.Event()
        self._resumed.set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                status, payload = fake._answer(operation, body)
                if payload is None:  # a connection reset: no answer at all
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up waiting (its read timeout): nothing to answer

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _answer(self, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self.calls.append((operation, body))
            held = operation in self._pause and self.count(operation) > self._pause[operation]
        if held:
            self._resumed.wait()
        with self._lock:
            raw = self._raw[operation]
            if raw:
                answer = raw.popleft()
                return (0, None) if answer is None else answer
            faults = self._faults[operation]
            if faults:
                status, code, message = faults.popleft()
                return status, {"__type": code, "message": message}
        if operation not in self.responses:
            return 400, {"__type": "InvalidParameterException", "message": f"{operation} is not scripted"}
        return 200, self.responses[operation]

    def fail(
        self,
        operation: str,
        code: str = "ThrottlingException",
        times: int = 1,
        status: int = 400,
        message: str = "Rate exceeded",
    ) -> None:
        with self._lock:
            for _ in range(times):
                self._faults[operation].append((status, code, message))

    def answer_raw(self, operation: str, body: bytes, times: int = 1, status: int = 200) -> None:
        """Answer the next ``times`` calls with these bytes (a broken answer: not JSON, the wrong shape...)."""
        with self._lock:
            self._raw[operation].extend([(status, body)] * times)

    def reset(self, operation: str, times: int = 1) -> None:
        """Drop the connection of the next ``times`` calls without answering (a connection reset)."""
        with self._lock:
            self._raw[operation].extend([None] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._raw.clear()

    def pause_after(self, operation: str, calls: int) -> None:
        """Answer ``calls`` more calls of ``operation`` (counting those made so far).

        Then hold the rest until ``resume``.
        """
        with self._lock:
            self._resumed.clear()
            self._pause[operation] = self.count(operation) + calls

    def resume(self) -> None:
        with self._lock:
            self._pause.clear()
            self._resumed.set()

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)

    def start(self) -> FakeRekognition:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.resume()
        self.server.shutdown()
        self.server.server_close()
