"""Peak memory of one engine request on huge and hostile images, each case in a fresh subprocess.

    .venv/bin/python bench/decode_memory.py

Cases: a real 10,000 x 10,000 PNG and JPEG (the largest Rekognition accepts), three of them at once
(three threads), and decompression bombs (small PNGs declaring 20,000^2 and 50,000^2 pixels). The
figure is the subprocess's ru_maxrss minus its ru_maxrss after importing the engine and loading the
face detector, so it is what the request itself cost. Writes bench/results/decode_memory.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import io, json, resource, struct, sys, threading, zlib
import numpy as np
from rekoflow.engine import Engine, RekognitionError

def png(width, height, rows=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    comp = zlib.compressobj(9)
    row = b"\x00" + bytes(range(256)) * (width * 3 // 256) + b"\x00" * (width * 3 % 256)
    body = b"".join(comp.compress(row) for _ in range(rows if rows is not None else height)) + comp.flush()
    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", body) + chunk(b"IEND", b"")

def jpeg(side):
    from PIL import Image
    y, x = np.mgrid[0:side:32, 0:side:32]
    small = np.stack([(x % 256), (y % 256), ((x + y) % 256)], axis=2).astype(np.uint8)
    image = Image.fromarray(small).resize((side, side))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=20)
    return buf.getvalue()

case = sys.argv[1]
data = {
    "png10k": lambda: png(10_000, 10_000),
    "jpeg10k": lambda: jpeg(10_000),
    "bomb20k": lambda: png(20_000, 20_000),
    "bomb50k": lambda: png(50_000, 50_000, rows=64),
}[case.replace("x3", "")]()
engine = Engine()
from rekoflow.engine.models import faces
faces.detect(np.zeros((100, 100, 3), dtype=np.uint8))  # model loaded before the baseline
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcomes = []

def call():
    try:
        engine.handle("DetectFaces", {"Image": {"Bytes": data}})
        outcomes.append("200")
    except RekognitionError as exc:
        outcomes.append(f"{exc.status} {exc.code}")

threads = [threading.Thread(target=call) for _ in range(3 if case.endswith("x3") else 1)]
for t in threads: t.start()
for t in threads: t.join()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
request_mb = round((peak - baseline) / 1024)
print(json.dumps({"case": case, "bytes": len(data), "outcomes": outcomes, "request_mb": request_mb}))
"""

CASES = [
    ("png10k", "10,000 x 10,000 PNG"),
    ("jpeg10k", "10,000 x 10,000 JPEG"),
    ("png10kx3", "three 10,000 x 10,000 PNGs at once"),
    ("jpeg10kx3", "three 10,000 x 10,000 JPEGs at once"),
    ("bomb20k", "PNG bomb declaring 20,000 x 20,000"),
    ("bomb20kx3", "three 20,000^2 PNG bombs at once"),
    ("bomb50k", "PNG bomb declaring 50,000 x 50,000"),
]


def main() -> None:
    rows = []
    for case, title in CASES:
        done = subprocess.run([sys.executable, "-c", _CHILD, case], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((title, result))
        print(f"  {title}: {result}", flush=True)
    lines = ["| image | file size | answer | memory for the request (MB, ru_maxrss) |", "|---|---:|---|---:|"]
    for title, r in rows:
        lines.append(
            f"| {title} | {r['bytes'] / 1e6:.1f} MB | {', '.join(sorted(set(r['outcomes'])))} | {r['request_mb']} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    out = Path(__file__).resolve().parent / "results" / "decode_memory.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
