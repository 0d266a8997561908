"""Execution tracing: a state-by-state timeline and a picture of the path taken, from an execution's history.

Reads executions through the Step Functions API, so the same code traces the local stack's
executions and real ones on AWS. Map iterations are grouped under their Map state; batch runs add
the map run's counts, the failed child executions and (when the results table is known) the BATCH
record.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = ""
FAILURE_EVENTS = {
    "TaskFailed",
    "TaskTimedOut",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "LambdaFunctionStartFailed",
    "LambdaFunctionScheduleFailed",
    "ExecutionFailed",
    "ExecutionTimedOut",
    "ExecutionAborted",
    "MapRunFailed",
    "MapStateFailed",
    "ParallelStateFailed",
    "MapIterationFailed",
}
SCHEDULED_EVENTS = {"TaskScheduled", "LambdaFunctionScheduled"}


class TraceError(Exception):
    """The execution cannot be found or read."""


@dataclass
class StateRow:
    name: str
    type: str
    context: str
    entered: datetime
    exited: datetime | None = None
    attempts: int = 0
    error: str | None = None
    cause: str | None = None
    map_run_arn: str | None = None
    succeeded_after_error: bool = False
    last_event: datetime | None = None

    @property
    def ended(self) -> datetime | None:
        """When the state exited, or its last event when it never exited (a failed iteration)."""
        return self.exited or self.last_event

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    @property
    def failed(self) -> bool:
        return self.type == "Fail" or (
            self.error is not None and (self.exited is None or not self.succeeded_after_error)
        )


@dataclass
class Trace:
    name: str
    arn: str
    status: str
    state_machine: str
    definition: dict[str, Any]
    started: datetime
    stopped: datetime | None
    input: Any
    error: str | None
    cause: str | None
    rows: list[StateRow] = field(default_factory=list)
    batch: dict[str, Any] | None = None

    @property
    def visited(self) -> set[str]:
        return {row.name for row in self.rows}

    @property
    def failed_states(self) -> set[str]:
        return {row.name for row in self.rows if row.failed}

    def edges_taken(self) -> set[tuple[str, str]]:
        """(from, to) pairs of consecutive states in one context, and each Map/Parallel into its first inner state."""
        edges: set[tuple[str, str]] = set()
        by_context: dict[str, list[StateRow]] = {}
        for row in self.rows:
            by_context.setdefault(row.context, []).append(row)
        for context, rows in by_context.items():
            for before, after in itertools.pairwise(rows):
                edges.add((before.name, after.name))
            if context != ROOT and rows:
                parent = context.rsplit("/", 1)[-1].split("[", 1)[0]
                edges.add((parent, rows[0].name))
        return edges


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


MAP_CLOSE_EVENTS = {"MapStateSucceeded", "MapStateFailed", "MapStateAborted", "MapStateExited"}


def _contexts(events: list[dict[str, Any]]) -> dict[int, str]:
    """Each event's context: ROOT, or "<outer>/<Map name>[index]" inside a Map iteration.

    Events chain to the one before them in the same context (previousEventId), iterations start at
    MapIterationStarted, and the event that closes a Map chains from its last iteration: it belongs
    to the context the Map itself was entered in.
    """
    contexts: dict[int, str] = {}
    open_maps: list[str] = []
    for event in sorted(events, key=lambda e: e["id"]):
        previous = contexts.get(event.get("previousEventId") or 0, ROOT)
        kind = event["type"]
        if kind == "MapIterationStarted":
            details = event.get("mapIterationStartedEventDetails", {})
            context = f"{previous}/{details.get('name')}[{details.get('index')}]"
        elif kind in MAP_CLOSE_EVENTS:
            candidates = [previous]
            while "/" in candidates[-1]:
                candidates.append(candidates[-1].rsplit("/", 1)[0])
            context = next((c for c in candidates if c in open_maps), candidates[-1])
            if kind == "MapStateExited" and context in open_maps:
                open_maps.reverse()
                open_maps.remove(context)
                open_maps.reverse()
        else:
            context = previous
            if kind == "MapStateEntered":
                open_maps.append(context)
        contexts[event["id"]] = context
    return contexts


def build_rows(events: list[dict[str, Any]]) -> list[StateRow]:
    events = sorted(events, key=lambda e: e["id"])
    contexts = _contexts(events)
    rows: list[StateRow] = []
    open_rows: dict[str, StateRow] = {}
    for event in events:
        kind = event["type"]
        context = contexts.get(event["id"], ROOT)
        details = _details(event)
        if kind.endswith("StateEntered"):
            row = StateRow(
                name=details.get("name", "?"),
                type=kind.removesuffix("StateEntered"),
                context=context,
                entered=_time(event["timestamp"]),
            )
            rows.append(row)
            open_rows[context] = row
            continue
        open_row = open_rows.get(context)
        if open_row is None:
            if kind in FAILURE_EVENTS and rows and kind == "ExecutionFailed":
                last = rows[-1]
                last.error, last.cause = last.error or details.get("error"), last.cause or details.get("cause")
            continue
        open_row.last_event = _time(event["timestamp"])
        if kind.endswith("StateExited"):
            open_row.exited = _time(event["timestamp"])
            del open_rows[context]
        elif kind in SCHEDULED_EVENTS:
            open_row.attempts += 1
        elif kind in {"TaskSucceeded", "LambdaFunctionSucceeded"}:
            open_row.succeeded_after_error = True
        elif kind in FAILURE_EVENTS:
            open_row.error = details.get("error") or open_row.error or kind
            open_row.cause = details.get("cause") or open_row.cause
            open_row.succeeded_after_error = False
        elif kind == "MapRunStarted":
            open_row.map_run_arn = details.get("mapRunArn")
        if kind in {"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"} and open_row.type == "Fail":
            open_row.exited = _time(event["timestamp"])
    return rows


def build_trace(record: dict[str, Any]) -> Trace:
    execution = record["execution"]
    definition = record.get("definition") or {}
    if isinstance(definition, str):
        definition = json.loads(definition)
    raw_input = execution.get("input")
    try:
        parsed_input = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
    except ValueError:
        parsed_input = raw_input
    return Trace(
        name=execution["name"],
        arn=execution["executionArn"],
        status=execution["status"],
        state_machine=record.get("stateMachine") or execution.get("stateMachineArn", "").rsplit(":", 1)[-1],
        definition=definition,
        started=_time(execution["startDate"]),
        stopped=_time(execution["stopDate"]) if execution.get("stopDate") else None,
        input=parsed_input,
        error=execution.get("error"),
        cause=execution.get("cause"),
        rows=build_rows(record.get("events") or []),
    )


# ----- finding executions --------------------------------------------------------------------------
def _started_by_a_parent(sfn: Any, arn: str) -> bool:
    described = sfn.describe_execution(executionArn=arn)
    return "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID" in str(described.get("input") or "")


def find_execution(sfn: Any, state_machines: dict[str, str], execution: str | None, last: bool = False) -> str:
    """The ARN of ``execution`` (a name or an ARN) among ``state_machines``, or of the newest one a person started."""
    if execution and execution.startswith("arn:"):
        return execution
    if execution and not last:
        for machine_arn in state_machines.values():
            arn = f"{machine_arn.replace(':stateMachine:', ':execution:')}:{execution}"
            try:
                sfn.describe_execution(executionArn=arn)
            except sfn.exceptions.ExecutionDoesNotExist:
                continue
            return arn
        raise TraceError(
            f"no execution named {execution!r} in {', '.join(sorted(state_machines)) or 'the stack'} (or use --last)"
        )
    newest: list[dict[str, Any]] = []
    for machine_arn in state_machines.values():
        newest += sfn.list_executions(stateMachineArn=machine_arn, maxResults=20)["executions"]
    newest.sort(key=lambda e: e["startDate"], reverse=True)
    # The newest execution a person started: child executions of a batch name their parent.
    for summary in newest:
        if not _started_by_a_parent(sfn, summary["executionArn"]):
            return summary["executionArn"]
    if newest:
        return newest[0]["executionArn"]
    raise TraceError("no executions yet (run `rekoflow analyze` or `rekoflow batch` first)")


def _batch_id(trace: Trace) -> str:
    """The batch's id: from its input, else the execution name (what the batch machine defaults it to)."""
    batch_id = (trace.input or {}).get("batchId") if isinstance(trace.input, dict) else None
    return batch_id or trace.name


def from_api(execution_arn: str, sfn: Any, batch_record: Callable[[str], dict[str, Any] | None] | None = None) -> Trace:
    """The trace of one execution, read through the Step Functions API (``sfn``: a boto3 client)."""
    if not execution_arn.startswith("arn:"):
        raise TraceError("give the execution ARN (names are unique only within a state machine)")
    try:
        described = sfn.describe_execution(executionArn=execution_arn)
    except sfn.exceptions.ExecutionDoesNotExist as error:
        raise TraceError(f"no execution {execution_arn}") from error
    machine = sfn.describe_state_machine_for_execution(executionArn=execution_arn)
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, PaginationConfig={"PageSize": 1000}
    ):
        events.extend(page["events"])
    trace = build_trace(
        {
            "stateMachine": machine.get("name"),
            "definition": machine["definition"],
            "execution": described,
            "events": events,
        }
    )
    map_runs = [row.map_run_arn for row in trace.rows if row.map_run_arn]
    if map_runs:
        trace.batch = _batch_details(sfn, trace, machine["definition"], map_runs[-1])
        if batch_record is not None:
            trace.batch["record"] = batch_record(trace.batch["batchId"])
    return trace


def from_aws(execution_arn: str, sfn: Any = None) -> Trace:
    import boto3

    return from_api(execution_arn, sfn or boto3.client("stepfunctions"))


# Any partition: a deployed definition has arn:aws-us-gov:... or arn:aws-cn:... in GovCloud and China.
_STARTS_EXECUTION = re.compile(r"^arn:[a-z-]+:states:::states:startExecution")


def _child_state_machine_arn(definition: str | dict[str, Any]) -> str | None:
    """The state machine a batch's iterations start (the ``states:startExecution`` Task's target inside
    its Map; a batch with custom also starts the Custom Labels lease machine, outside the Map)."""
    machine = json.loads(definition) if isinstance(definition, str) else definition
    pending = [(machine, False)]
    while pending:
        node, in_map = pending.pop()
        for state in node.get("States", {}).values():
            if in_map and _STARTS_EXECUTION.match(str(state.get("Resource", ""))):
                return state.get("Parameters", {}).get("StateMachineArn")
            pending.extend((inner, in_map or state.get("Type") == "Map") for inner in _inner(state))
    return None


def _batch_details(sfn: Any, trace: Trace, definition: str, map_run_arn: str, limit: int = 50) -> dict[str, Any]:
    """Map-run counts, and the failed image executions (named ``<batchId>-<md5>``) with their own errors.

    The failed children are read from the image-analysis machine rather than from the map run's
    iterations: an iteration's error is only ``States.TaskFailed`` with the child's description as
    its cause, while the child execution carries the real error (``ImageValidationError``...).
    """
    batch_id = _batch_id(trace)
    counts = sfn.describe_map_run(mapRunArn=map_run_arn).get("itemCounts", {})
    failed: list[dict[str, Any]] = []
    child_machine = _child_state_machine_arn(definition)
    if child_machine:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=child_machine, statusFilter="FAILED")
        for page in pages:
            for summary in page["executions"]:
                if summary["name"].startswith(f"{batch_id}-") and len(failed) < limit:
                    child = sfn.describe_execution(executionArn=summary["executionArn"])
                    failed.append({"name": child["name"], "error": child.get("error"), "cause": child.get("cause")})
            if len(failed) >= limit:
                break
    return {
        "batchId": batch_id,
        "counts": {k: counts.get(k) for k in ("total", "succeeded", "failed", "aborted", "timedOut")},
        "failedChildren": sorted(failed, key=lambda c: c["name"]),
        "record": None,
    }


# ----- the timeline -----------------------------------------------------------------------------------
def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _short(text: str | None, limit: int = 90) -> str:
    if not text:
        return ""
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            text = parsed.get("errorMessage") or parsed.get("Cause") or parsed.get("cause") or text
    except (TypeError, ValueError):
        pass
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ordered_rows(trace: Trace) -> list[tuple[int, str | None, StateRow | None]]:
    """(depth, iteration label, row) in display order: each Map's iterations grouped under it."""
    by_context: dict[str, list[StateRow]] = {}
    for row in trace.rows:
        by_context.setdefault(row.context, []).append(row)
    out: list[tuple[int, str | None, StateRow | None]] = []

    def emit(context: str, depth: int) -> None:
        for row in by_context.get(context, []):
            out.append((depth, None, row))
            prefix = f"{context}/{row.name}["
            iterations = sorted(
                (c for c in by_context if c.startswith(prefix) and "/" not in c[len(prefix) :]),
                key=lambda c: int(c[len(prefix) :].split("]")[0]),
            )
            for iteration in iterations:
                out.append((depth + 1, f"iteration {iteration[len(prefix) :].split(']')[0]}", None))
                emit(iteration, depth + 1)

    emit(ROOT, 0)
    return out


def timeline_table(trace: Trace) -> Table:
    table = Table(title=f"{trace.state_machine} / {trace.name}: {trace.status}", title_justify="left")
    for column, justify in (
        ("state", "left"),
        ("type", "left"),
        ("start", "right"),
        ("duration", "right"),
        ("retries", "right"),
        ("error", "left"),
        ("cause", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for depth, label, row in ordered_rows(trace):
        indent = "  " * depth
        if row is None:
            table.add_row(f"[dim]{indent}{label}[/dim]", "", "", "", "", "", "")
            continue
        start = (row.entered - trace.started).total_seconds()
        duration = (row.ended - row.entered).total_seconds() if row.ended else None
        style = "red" if row.failed else ("yellow" if row.error else "")
        name = f"[{style}]{indent}{row.name}[/{style}]" if style else f"{indent}{row.name}"
        table.add_row(
            name,
            row.type,
            f"+{_seconds(start)}",
            _seconds(duration),
            str(row.retries) if row.retries else "",
            row.error or "",
            _short(row.cause),
        )
    return table


def print_trace(console: Console, trace: Trace) -> None:
    total = (trace.stopped - trace.started).total_seconds() if trace.stopped else None
    console.print(f"[bold]{trace.name}[/bold]  {trace.arn}")
    console.print(
        f"status [bold]{trace.status}[/bold]  started {trace.started.isoformat(timespec='milliseconds')}  "
        f"duration {_seconds(total)}"
    )
    if trace.error:
        console.print(f"[red]{trace.error}[/red]: {_short(trace.cause, 300)}")
    console.print(timeline_table(trace))
    if trace.batch:
        counts = trace.batch.get("counts") or {}
        console.print("[bold]Map run[/bold]: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v is not None))
        record = trace.batch.get("record") or {}
        if record:
            keys = ("status", "total", "analysed", "succeeded", "failed", "cached", "skipped")
            console.print(
                "[bold]Batch record[/bold]: " + ", ".join(f"{k} {record[k]}" for k in keys if record.get(k) is not None)
            )
        failed = trace.batch.get("failedChildren") or []
        if failed:
            table = Table(title=f"Failed child executions ({len(failed)})", title_justify="left")
            for column in ("execution", "error", "cause"):
                table.add_column(column)
            for child in failed:
                table.add_row(child["name"], child.get("error") or "", _short(child.get("cause"), 120))
            console.print(table)


# ----- the graph ---------------------------------------------------------------------------------------
def _inner(state: dict[str, Any]) -> list[dict[str, Any]]:
    if state.get("Type") == "Map":
        inner = state.get("ItemProcessor") or state.get("Iterator")
        return [inner] if inner else []
    if state.get("Type") == "Parallel":
        return list(state.get("Branches") or [])
    return []


def _targets(state: dict[str, Any]) -> list[tuple[str, str]]:
    targets = []
    if state.get("Next"):
        targets.append((state["Next"], ""))
    for choice in state.get("Choices") or []:
        if choice.get("Next"):
            targets.append((choice["Next"], ""))
    if state.get("Default"):
        targets.append((state["Default"], "default"))
    for catch in state.get("Catch") or []:
        targets.append((catch["Next"], "catch"))
    return targets


def build_graph(trace: Trace) -> Any:
    import graphviz

    visited, failed, taken = trace.visited, trace.failed_states, trace.edges_taken()
    graph = graphviz.Digraph(
        name=trace.name,
        graph_attr={
            "rankdir": "TB",
            "fontname": "Helvetica",
            "label": f"{trace.state_machine} / {trace.name} ({trace.status})",
            "labelloc": "t",
        },
    )
    graph.attr("node", shape="box", style="rounded", fontname="Helvetica", fontsize="11")
    graph.attr("edge", fontname="Helvetica", fontsize="9", color="gray50")
    counter = [0]
    ids: dict[str, str] = {}

    def nid(name: str) -> str:
        # State names may hold ':' (a port separator in DOT): nodes get plain ids, the name is the label.
        return ids.setdefault(name, f"s{len(ids)}")

    map_counts = ((trace.batch or {}).get("counts")) or {}

    def node(target: Any, name: str, state: dict[str, Any]) -> None:
        kind = state.get("Type", "?")
        label = f"{name}\n({kind})"
        if (
            kind == "Map"
            and map_counts
            and (
                state.get("ItemReader")
                or (state.get("ItemProcessor") or {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
            )
        ):
            label += "\n" + ", ".join(f"{k} {v}" for k, v in map_counts.items() if v is not None)
        attrs = {"label": label, "shape": "box" if kind not in ("Choice",) else "diamond", "style": "rounded"}
        if kind in ("Succeed", "Fail"):
            attrs["shape"] = "oval"
        if name in failed:
            attrs.update(style="filled,bold", fillcolor="#f8b4b4", color="#c0392b", penwidth="2")
        elif name in visited:
            attrs.update(
                style="filled,rounded,bold" if attrs["shape"] == "box" else "filled,bold",
                fillcolor="#b7e1cd",
                color="#1e8449",
                penwidth="2",
            )
        target.node(nid(name), **attrs)

    def add_states(target: Any, machine: dict[str, Any]) -> None:
        for name, state in (machine.get("States") or {}).items():
            inner = _inner(state)
            node(target, name, state)
            for sub in inner:
                counter[0] += 1
                with target.subgraph(name=f"cluster_{counter[0]}") as cluster:
                    cluster.attr(
                        label=f"{name}: {'iteration' if state.get('Type') == 'Map' else 'branch'}",
                        style="dashed",
                        color="gray60",
                        fontname="Helvetica",
                    )
                    add_states(cluster, sub)
                start = sub.get("StartAt")
                if start:
                    bold = (name, start) in taken
                    graph.edge(
                        nid(name),
                        nid(start),
                        style="dashed,bold" if bold else "dashed",
                        color="#1e8449" if bold else "gray60",
                        penwidth="2.5" if bold else "1",
                    )
            for target_name, label in _targets(state):
                bold = (name, target_name) in taken
                graph.edge(
                    nid(name),
                    nid(target_name),
                    label=label,
                    style="bold" if bold else "solid",
                    color="#1e8449" if bold else "gray60",
                    penwidth="2.5" if bold else "1",
                )

    graph.node(
        "__start__", label="start", shape="circle", style="filled", fillcolor="black", fontcolor="white", width="0.3"
    )
    add_states(graph, trace.definition)
    if trace.definition.get("StartAt"):
        graph.edge("__start__", nid(trace.definition["StartAt"]), style="bold", color="#1e8449", penwidth="2.5")
    return graph


def write_graph(trace: Trace, path: Path) -> Path:
    """Render the graph to .svg/.png/.pdf (with the dot binary) or write the DOT source (.dot/.gv)."""
    import graphviz

    graph = build_graph(trace)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower() or "svg"
    if fmt in ("dot", "gv"):
        path.write_text(graph.source)
        return path
    try:
        path.write_bytes(graph.pipe(format=fmt))
    except graphviz.ExecutableNotFound as error:
        raise TraceError(
            "the graphviz `dot` binary is missing (make install, or apt-get install graphviz); "
            "write a .dot file instead"
        ) from error
    return path
