"""Distributed Map as AWS runs it, where a batch run depends on it (moto 5.2.5 gaps).

Tested in ``tests/local/test_moto_patches_nested.py``.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from datetime import UTC

from rekoflow.local.patches._base import Patcher, Undo, install

_RESULTS_LOCK = threading.Lock()


def _iso_now() -> str:
    from datetime import datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def install_distributed_map_fidelity() -> Undo:
    """Make moto's Distributed Map behave like AWS where a batch run depends on it.

    - **Tolerated failures**: moto counts failed items but never compares them with
      ``ToleratedFailureCount(Path)`` / ``ToleratedFailurePercentage(Path)``, so a Map Run with
      failures always succeeds. The patch fails the Map Run with
      ``States.ExceedToleratedFailureThreshold`` when a declared threshold is exceeded (no
      threshold declared = none tolerated, as on AWS).
    - **ResultWriter**: written for a Map Run that failed its tolerated failures too. moto
      evaluates its ``Parameters`` against the Map's results instead of the state's input
      (so ``"Prefix.$": "$.batchId"`` fails), and writes only an empty
      ``manifest.json`` ("TODO: generate result files"). The patch evaluates them against the
      input and writes what AWS writes under ``<Prefix>/<map run id>/``:
      ``SUCCEEDED_0.json`` / ``FAILED_0.json`` (one entry per child workflow execution with
      ``Input``/``Output`` as JSON strings, ``Status``, ``Error``/``Cause`` for failures) and a
      manifest listing them with their sizes.

    Returns a function that undoes every patch.
    """
    return install(_apply_distributed_map_fidelity)


def _apply_distributed_map_fidelity(patcher: Patcher) -> None:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501 - moto's module path
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (  # noqa: E501 - moto's module path
        ResourceEvalS3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import (
        ResultWriter,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
        ToleratedFailureCountDecl,
        ToleratedFailurePercentageDecl,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import (
        ProgramEnded,
        ProgramError,
        ProgramStopped,
        ProgramTimedOut,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client

    original_from_state_props = StateMap.from_state_props
    original_eval_input = DistributedItemProcessorWorker._eval_input
    original_eval_job = DistributedItemProcessorWorker._eval_job
    original_map_run = DistributedIterationComponent._map_run

    def from_state_props(self: Any, state_props: Any) -> None:
        original_from_state_props(self, state_props)
        # Which thresholds the ASL declares: an undeclared one is not checked (none declared = 0 tolerated).
        self.iteration_component._rekoflow_thresholds = (
            state_props.get(ToleratedFailureCountDecl) is not None,
            state_props.get(ToleratedFailurePercentageDecl) is not None,
        )
        self.iteration_component._rekoflow_result_writer = self.result_writer

    def eval_input(self: Any, env_frame: Any) -> None:
        original_eval_input(self, env_frame)
        env_frame._rekoflow_item_input = env_frame.states.get_input()

    def eval_job(self: Any, env: Any, job: Any) -> None:
        started = _iso_now()
        original_eval_job(self, env, job)
        entry: dict[str, Any] = {"StartDate": started, "StopDate": _iso_now()}
        try:
            state = env.program_state()
        except Exception:  # noqa: BLE001 - the frame may be gone after an interpreter error
            state = None
        if isinstance(state, ProgramEnded):
            entry.update(Status="SUCCEEDED", Output=json.dumps(job.job_output, separators=(",", ":"), default=str))
        elif isinstance(state, ProgramStopped):
            entry["Status"] = "ABORTED"
        elif isinstance(state, ProgramTimedOut):
            entry.update(Status="TIMED_OUT", Error="States.Timeout")
        else:
            details = (state.error if isinstance(state, ProgramError) else None) or {}
            entry.update(
                Status="FAILED", Error=details.get("error") or "States.Runtime", Cause=details.get("cause") or ""
            )
        entry["Input"] = json.dumps(
            getattr(env, "_rekoflow_item_input", job.job_input), separators=(",", ":"), default=str
        )
        entry["Index"] = job.job_index
        with _RESULTS_LOCK:
            self._map_run_record.__dict__.setdefault("_rekoflow_results", []).append(entry)

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)
        record = eval_input.map_run_record
        counter = record.item_counter
        total = counter.total.get()
        failed = counter.failed.get() + counter.timed_out.get() + counter.aborted.get()
        count_declared, percentage_declared = getattr(self, "_rekoflow_thresholds", (False, False))
        exceeded = False
        if failed:
            if not (count_declared or percentage_declared):
                exceeded = True
            if count_declared and failed > eval_input.tolerated_failure_count:
                exceeded = True
            if percentage_declared and total and failed * 100.0 / total > eval_input.tolerated_failure_percentage:
                exceeded = True
        if exceeded:
            writer = getattr(self, "_rekoflow_result_writer", None)
            if writer is not None:
                # As AWS does, a failed Map Run still writes its result files: the batch summary
                # then counts every item, skipped ones included (docs/batch-and-tracing.md).
                writer.eval(env)
                env.stack.pop()
            cause = "The specified tolerated failure threshold was exceeded"
            error = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                    event_type=HistoryEventType.ExecutionFailed,
                    # EventDetails is a total TypedDict of every kind of details; an event carries one kind.
                    event_details=cast(
                        "EventDetails",
                        {"executionFailedEventDetails": ExecutionFailedEventDetails(error=error, cause=cause)},
                    ),
                )
            )

    def handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack.pop()
        env.stack.pop()  # the Map's outputs: replaced by the result files below, as on AWS
        # Looked up at call time: the stack shares one client per service (interpreter_clients).
        s3 = boto_client.boto_client_for(
            service="s3", region=resource_runtime_part.region, state_credentials=state_credentials
        )
        map_run_record = env.map_run_record_pool_manager.get_all().pop()
        map_run_arn = map_run_record.map_run_arn
        map_run_id = map_run_arn.split(":")[-1]
        prefix = parameters.get("Prefix", "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        bucket = parameters["Bucket"]
        entries = sorted(map_run_record.__dict__.get("_rekoflow_results", []), key=lambda e: e["Index"])
        execution_base = map_run_arn.replace(":mapRun:", ":execution:")
        files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        grouped: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{map_run_arn}#{entry['Index']}"))
            item = {
                "ExecutionArn": f"{execution_base}:{name}",
                "Input": entry["Input"],
                "InputDetails": {"Included": True},
                "Name": name,
                "RedriveCount": 0,
                "RedriveStatus": "NOT_REDRIVABLE",
                "StartDate": entry["StartDate"],
                "StateMachineArn": map_run_arn,
                "Status": entry["Status"],
                "StopDate": entry["StopDate"],
            }
            if "Output" in entry:
                item.update(Output=entry["Output"], OutputDetails={"Included": True})
            for key in ("Error", "Cause"):
                if key in entry:
                    item[key] = entry[key]
            group = "SUCCEEDED" if entry["Status"] == "SUCCEEDED" else "FAILED"
            grouped.setdefault(group, []).append(item)
        for group, items in grouped.items():
            key = f"{prefix}{map_run_id}/{group}_0.json"
            body = json.dumps(items, indent=2).encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[group].append({"Key": key, "Size": len(body)})
        manifest_key = f"{prefix}{map_run_id}/manifest.json"
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
        s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest, indent=2).encode())
        env.stack.append({"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}})

    def result_writer_eval_body(self: Any, env: Any) -> None:
        # AWS evaluates the ResultWriter's Parameters ("Prefix.$") against the Map state's input;
        # moto evaluated them against the Map's results.
        results = env.stack.pop()
        env.stack.append(env.states.get_input())
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        env.stack.pop()
        env.stack.append(results)
        env.stack.append(parameters)
        self.resource_eval.eval_resource(env=env)

    patcher.set(ResultWriter, "_eval_body", result_writer_eval_body)
    patcher.set(StateMap, "from_state_props", from_state_props)
    patcher.set(DistributedItemProcessorWorker, "_eval_input", eval_input)
    patcher.set(DistributedItemProcessorWorker, "_eval_job", eval_job)
    patcher.set(DistributedIterationComponent, "_map_run", map_run)
    patcher.set(ResourceEvalS3, "_handle_put_object", staticmethod(handle_put_object))
