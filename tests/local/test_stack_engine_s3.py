"""The stack hands its local engine an S3 reader of moto's backend (no client, no socket per image)."""

from __future__ import annotations

import pytest


def test_the_engine_of_the_stack_reads_s3_objects_from_the_backend():
    pytest.importorskip("rekoflow.engine")
    from rekoflow.engine import errors
    from rekoflow.local import backend_s3
    from support.stack import running_stack

    with running_stack() as workflow:
        engine = workflow.stack.engine
        assert isinstance(engine._context.s3_client_factory(), backend_s3.BackendS3)
        workflow.put_bytes(b"not an image at all", "speed/not-an-image.png")
        before = backend_s3.READS["backend"]
        # Both fail before any model runs: one after reading the object, one because there is none.
        with pytest.raises(errors.RekognitionError) as unreadable:
            engine.handle(
                "DetectLabels",
                {"Image": {"S3Object": {"Bucket": workflow.images_bucket, "Name": "speed/not-an-image.png"}}},
            )
        assert unreadable.value.code == "InvalidImageFormatException"
        assert backend_s3.READS["backend"] == before + 1
        with pytest.raises(errors.RekognitionError) as missing:
            engine.handle(
                "DetectLabels", {"Image": {"S3Object": {"Bucket": workflow.images_bucket, "Name": "speed/missing.png"}}}
            )
        assert missing.value.code == "InvalidS3ObjectException"
