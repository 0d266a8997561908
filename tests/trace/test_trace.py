"""rekoflow trace: timelines and graphs from real local executions (success, failure with retries, batch)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from rekoflow import trace as tracing
from rekoflow.cli import main
from rekoflow.records import batch_record_key
from support.images import TEXT_BYTES, image_bytes
from support.stack import running_stack

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
VISITED, FAILED = "#b7e1cd", "#f8b4b4"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps tables at 80 columns when output is captured


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory, fake_rekognition):
    """Executions run on a stack that is then stopped and started again: the traces come from its store."""
    directory = tmp_path_factory.mktemp("trace-state")
    settings = {
        "name_prefix": "rekoflow-trace",
        "rekognition_endpoint": fake_rekognition.url,
        "retry_time_scale": 0.001,
        "state_dir": directory,
    }
    with running_stack(**settings) as runtime:
        image = runtime.put_bytes(image_bytes(220, 180), "t/ok.png")
        assert runtime.analyze({"requestId": "trace-ok", "image": image, "analyses": ["labels", "faces"]}).succeeded
        fake_rekognition.clear_faults()
        fake_rekognition.fail("DetectLabels", "ThrottlingException", times=3)  # one invocation's client retries
        fake_rekognition.fail("DetectLabels", "InvalidParameterException", times=1, message="scripted rejection")
        other = runtime.put_bytes(image_bytes(230, 180), "t/other.png")
        failed = runtime.analyze({"requestId": "trace-fail", "image": other, "analyses": ["labels"]})
        assert not failed.succeeded
        fake_rekognition.clear_faults()
        for index, name in enumerate(("a.png", "b.png")):
            runtime.put_bytes(image_bytes(200, 190 + 7 * index), f"tb/{name}")  # different content: no cache hit
        runtime.put_bytes(TEXT_BYTES, "tb/readme.txt")
        runtime.put_bytes(b"GIF89a" + b"\0" * 100, "tb/broken.jpg")
        batch = runtime.start_execution(
            "batch_analysis",
            {
                "bucket": runtime.images_bucket,
                "prefix": "tb/",
                "analyses": ["labels"],
                "batchId": "trace-batch",
                "toleratedFailurePercentage": 50,
            },
            "trace-batch",
        )
        assert runtime.wait(batch, 120).succeeded
        # Read through the Step Functions API while the stack that ran them is up.
        FIRST_RUN["trace-fail"] = tracing.from_api(failed.arn, runtime.sfn)
        FIRST_RUN["trace-batch"] = tracing.from_api(batch, runtime.sfn)
        FIRST_RUN["arns"] = {"trace-fail": failed.arn, "trace-batch": batch}
    with running_stack(**settings) as restarted:
        STACK["client"] = restarted
        yield directory
    STACK.clear()


FIRST_RUN: dict = {}
STACK: dict = {}


def load(state_dir, name):
    stack = STACK["client"]
    arn = tracing.find_execution(stack.sfn, stack.state_machines, name)
    return tracing.from_api(arn, stack.sfn, batch_record=lambda batch_id: stack.get_record(batch_record_key(batch_id)))


def test_timeline_of_a_successful_execution(state_dir):
    trace = load(state_dir, "trace-ok")
    assert trace.status == "SUCCEEDED"
    root = [row.name for row in trace.rows if row.context == ""]
    assert root == [
        "Validate request",
        "Run analyses",
        "Aggregate results",
        "Store result record",
        "Analysis succeeded",
    ]
    iterations = {row.context for row in trace.rows if row.context}
    assert iterations == {"/Run analyses[0]", "/Run analyses[1]"}
    ordered = tracing.ordered_rows(trace)
    labels = [label for _, label, row in ordered if row is None]
    assert labels == ["iteration 0", "iteration 1"]  # grouped under the Map, in index order
    assert all(row.exited and row.exited >= row.entered for row in trace.rows)
    assert not trace.failed_states


def test_timeline_of_a_failure_with_retries(state_dir, capsys):
    trace = load(state_dir, "trace-fail")
    assert trace.status == "FAILED" and trace.error == "RekognitionRequestError"
    detect = next(row for row in trace.rows if row.name == "Detect labels")
    assert detect.retries == 1 and detect.error == "RekognitionRequestError"
    assert {"Detect labels", "Analysis failed"} <= trace.failed_states
    assert main(["trace", "trace-fail", "--state-dir", str(state_dir), "--no-graph"]) == 0
    out = capsys.readouterr().out
    assert "Detect labels" in out and "RekognitionRequestError" in out and "scripted rejection" in out


def _svg_nodes(path):
    ns = {"svg": "http://www.w3.org/2000/svg"}
    nodes = {}
    for group in ET.parse(path).getroot().iter("{http://www.w3.org/2000/svg}g"):
        if group.get("class") != "node":
            continue
        text = " ".join(t.text or "" for t in group.iterfind(".//svg:text", ns))
        fills = {shape.get("fill") for shape in group if shape.tag.endswith(("polygon", "path", "ellipse"))}
        nodes[text] = fills
    return nodes


def test_graph_highlights_the_path_taken(state_dir, tmp_path):
    trace = load(state_dir, "trace-fail")
    svg = tracing.write_graph(trace, tmp_path / "fail.svg")
    nodes = _svg_nodes(svg)
    fill = {name.rsplit(" (", 1)[0]: fills for name, fills in nodes.items()}
    assert VISITED in fill["Validate request"] and VISITED in fill["Record failure"]
    assert FAILED in fill["Detect labels"] and FAILED in fill["Analysis failed"]
    assert VISITED not in fill["Detect faces"] and FAILED not in fill["Detect faces"]
    dot = tracing.write_graph(trace, tmp_path / "fail.dot").read_text()
    assert "cluster_" in dot  # the Map's iteration drawn as a cluster
    assert dot.count("penwidth=2.5") >= 5  # edges taken are bold


def test_batch_trace_lists_the_map_run_and_failed_children(state_dir, capsys):
    trace = load(state_dir, "trace-batch")
    assert trace.status == "SUCCEEDED"
    assert any(row.map_run_arn for row in trace.rows)
    # The map run counts items (the skipped .txt is a succeeded iteration); the BATCH record counts images.
    assert trace.batch["counts"] == {"total": 4, "succeeded": 3, "failed": 1, "aborted": 0, "timedOut": 0}
    record = trace.batch["record"]
    assert {k: record[k] for k in ("total", "succeeded", "failed", "cached", "skipped")} == {
        "total": 4,
        "succeeded": 2,
        "failed": 1,
        "cached": 0,
        "skipped": 1,
    }
    assert [c["error"] for c in trace.batch["failedChildren"]] == ["ImageValidationError"]
    assert main(["trace", "trace-batch", "--state-dir", str(state_dir), "--no-graph"]) == 0
    out = capsys.readouterr().out
    assert "Map run" in out and "skipped 1" in out and "ImageValidationError" in out


def test_last_picks_the_newest_execution_a_person_started(state_dir, tmp_path, capsys):
    graph = tmp_path / "last.svg"
    assert main(["trace", "--last", "--state-dir", str(state_dir), "--graph", str(graph)]) == 0
    out = capsys.readouterr().out
    assert "trace-batch" in out.splitlines()[0]
    assert graph.is_file() and graph.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_unknown_execution_is_a_one_line_error(state_dir, capsys):
    assert main(["trace", "nope", "--state-dir", str(state_dir)]) == 1
    assert "no execution named 'nope'" in capsys.readouterr().err


def _row_summary(trace):
    return [(row.context, row.name, row.retries, row.error) for row in trace.rows]


def test_traces_survive_a_restart_of_the_stack(state_dir):
    """The stack was stopped and started again: the store gives back the same timelines and map run."""
    for name in ("trace-fail", "trace-batch"):
        before, after = FIRST_RUN[name], load(state_dir, name)
        assert after.status == before.status and after.error == before.error
        assert _row_summary(after) == _row_summary(before)
        assert after.failed_states == before.failed_states
    assert load(state_dir, "trace-batch").batch["counts"] == FIRST_RUN["trace-batch"].batch["counts"]


def test_aws_trace_works_against_any_endpoint(state_dir, monkeypatch, capsys):
    """`trace --aws` is a plain boto3 client: with AWS_ENDPOINT_URL it reads the local stack as it would AWS."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", STACK["client"].endpoint)
    assert main(["trace", "--aws", FIRST_RUN["arns"]["trace-fail"], "--no-graph"]) == 0
    out = capsys.readouterr().out
    assert "trace-fail" in out and "RekognitionRequestError" in out and "Detect labels" in out


def test_aws_trace_of_a_batch_reads_the_map_run(state_dir):
    api = FIRST_RUN["trace-batch"]
    assert api.status == "SUCCEEDED" and api.batch is not None
    assert (
        api.batch["counts"]["total"] == 4
    )  # every object under the prefix is an item (the .txt is skipped in its iteration)
    assert api.batch["counts"]["failed"] == 1
    assert [child["error"] for child in api.batch["failedChildren"]] == ["ImageValidationError"]


def test_aws_trace_needs_an_arn():
    with pytest.raises(tracing.TraceError, match="execution ARN"):
        tracing.from_aws("trace-fail", sfn=object())


def test_a_batchs_child_machine_is_found_in_any_partition():
    from rekoflow import asl
    from rekoflow.paths import project_root
    from rekoflow.trace import _child_state_machine_arn

    template = (project_root() / "statemachines" / "batch_analysis.asl.json").read_text()
    for partition in ("aws", "aws-us-gov", "aws-cn"):
        child = f"arn:{partition}:states:us-gov-west-1:123456789012:stateMachine:image-analysis"
        # Every other placeholder (function ARNs, buckets, ...) as a same-partition stand-in.
        variables = {name: f"arn:{partition}:x:::{name}" for name in asl.placeholders(template)}
        variables.update(partition=partition, image_analysis_state_machine_arn=child)
        definition = asl.render(template, variables)
        assert _child_state_machine_arn(definition) == child
