"""What made the stack's start slow must not come back (counters and imports, not timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_stack_starts_without_importing_moto_ec2_and_batch_still_works():
    # A fresh interpreter: whether moto.ec2 is imported depends on what ran before in this one.
    script = """
import json, sys
sys.path.insert(0, "tests")
from support.stack import running_stack
with running_stack(rekognition_endpoint="http://127.0.0.1:9") as workflow:
    before = {"ec2": "moto.ec2" in sys.modules, "batch": "moto.batch" in sys.modules}
    # The Batch API still answers (its package imports now, reusing the submodules loaded early).
    queues = workflow.client("batch").describe_job_queues()["jobQueues"]
    from moto.batch import models, utils
    print(json.dumps({**before, "queues": queues, "same_enum": models.JobStatus is utils.JobStatus}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"ec2": False, "batch": False, "queues": [], "same_enum": True}


def test_region_lists_are_computed_once_for_any_number_of_sessions():
    import boto3

    from rekoflow.local import patches as moto_patches
    from rekoflow.local.patches import botocore_regions

    undo = moto_patches.install_region_memo()
    try:
        first = boto3.session.Session().get_available_regions("ec2", partition_name="aws-us-gov")
        computed = sum(botocore_regions.COMPUTED.values())
        for _ in range(3):
            again = boto3.session.Session().get_available_regions("ec2", partition_name="aws-us-gov")
            assert again == first and again is not first  # a copy: callers may change theirs
        assert sum(botocore_regions.COMPUTED.values()) == computed
        assert "us-gov-west-1" in first
    finally:
        undo()


def test_the_stack_defers_parsing_its_own_definitions_but_validates_everyone_elses(workflow):
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    from rekoflow.local.patches import parse_cache

    sfn = workflow.client("stepfunctions")
    # The stack's machines were created without a validating parse; the warm-up (or the first
    # execution) builds their programs: here, asking for one builds it at most once.
    definition = sfn.describe_state_machine(stateMachineArn=workflow.state_machines["image_analysis"])["definition"]
    program, _ = AmazonStateLanguageParser.parse(definition)
    assert AmazonStateLanguageParser.parse(definition)[0] is program
    assert parse_cache.COUNTS["validation_deferred"] >= 2
    # Any other client's CreateStateMachine is validated as before.
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(
            name="not-asl",
            roleArn="arn:aws:iam::123456789012:role/x",
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Nope"}}}),
        )
    assert "ASLParserException" in str(raised.value)  # moto's InvalidDefinition (it sends no error code)
