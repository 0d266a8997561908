"""A small batch through the real local engine (its own runtime, so it runs in its own module)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.engine
def test_small_batch_against_the_local_engine(tmp_path):
    """Eight real photos through the real local engine (faces, labels, text)."""
    from batch.conftest import write_images
    from support.stack import running_stack

    folder = tmp_path / "eight"
    write_images(folder, per_photo=2, broken=False)
    paths = sorted(folder.iterdir())[:8]
    with running_stack(name_prefix="rekoflow-engine-batch", retry_time_scale=0.001) as runtime:
        for path in paths:
            runtime.upload(path, key=f"eight/{path.name}")
        started = time.perf_counter()
        result = runtime.wait(
            runtime.start_execution(
                "batch_analysis",
                {
                    "bucket": runtime.config.images_bucket,
                    "prefix": "eight/",
                    "analyses": ["labels", "faces"],
                    "batchId": "engine8",
                    "maxConcurrency": 4,
                },
                "engine8",
            ),
            timeout_s=300,
        )
        elapsed = time.perf_counter() - started
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        assert (result.output["succeeded"], result.output["failed"]) == (8, 0), result.output.get("failures")
        records = {r["image"]["key"]: r for r in runtime.query_batch("engine8") if r.get("recordType") == "ANALYSIS"}
        assert len(records) == 8
        astronaut = next(r for k, r in records.items() if "astronaut" in k)
        assert astronaut["results"]["faces"]["count"] >= 1
        print(f"\nengine batch: 8 images, labels+faces, {elapsed:.1f} s ({8 / elapsed:.2f} images/s)")
