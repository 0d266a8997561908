"""Model leases: which requests use a Custom Labels model version, and when it may be stopped.

A running model bills per inference-unit hour whether or not it is used, and starting it takes
minutes, so a model is shared (docs/architecture.md, ADR-19; docs/custom-labels.md, "Leases"):

- a request *acquires a lease* (it becomes a holder, until an expiry it renews while it waits);
- the first holder that finds the model stopped *claims the start* and starts it; the others wait;
- a request refused a lease (the model's concurrency limit, or a stop in progress) is a *waiter*
  until it gets one: it keeps the model from idling just as a holder does;
- a holder *releases* its lease after detection; a holder (or waiter) that crashed stops counting
  at its expiry;
- a watcher stops the model once no lease is held and it has been idle ``idleStopSeconds``,
  after *claiming the stop*: a claim that is refused while anyone holds a lease, and that refuses
  new leases while it is held, so a model is never stopped under a holder or a waiter.

The state is one item per model version in the results table (pk ``model#<version ARN>``). Every
change is a compare-and-swap: read the item, decide here on what was read, write it back on the
condition that its ``version`` is still the one read; if another change came first the write is
refused and the decision is taken again on the new state. So every decision (grant, claim the
start, claim the stop) holds for the state it is written on, however many requests race.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from rekoflow_common.errors import ModelLeaseContentionError, TransientServiceError, error_code, http_status
from rekoflow_common.options import with_defaults
from rekoflow_common.records import now_iso

LEASE_KEY_PREFIX = "model#"
RECORD_TYPE_MODEL_LEASE = "MODEL_LEASE"
# leaseState, the hash key of the sparse model-lease-index (terraform/results_table.json): set while
# the model may run unattended by a watcher's decision, so the sweep can find it.
ACTIVE = "ACTIVE"
LEASE_INDEX = "model-lease-index"
# A watcher checks again at the time it announced; one later than this is presumed gone.
WATCHER_GRACE_SECONDS = 120
# Start and stop claims cover one Lambda run (their functions time out after 30 s).
CLAIM_SECONDS = 120
# A model that is STARTING when it could be stopped is looked at again this much later (AWS may
# refuse to stop a model that is still starting).
STARTING_RECHECK_SECONDS = 30
MAX_WRITE_ATTEMPTS = 30
# DynamoDB items are at most 400 KB; a holder or waiter entry takes ~110 bytes: at most this many of each.
MAX_HOLDERS = 1000
MAX_WAITERS = 1000

T = TypeVar("T")


@dataclass
class LeaseSettings:
    """What one request asks of the lease (options.custom, docs/custom-labels.md)."""

    holder: str
    lease_seconds: float
    poll_interval_seconds: float
    idle_stop_seconds: float
    requests_per_inference_unit: int
    inference_units: int
    detects: bool = True
    keep_running: bool | None = None  # None: leave the model's setting as it is

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> LeaseSettings:
        options = with_defaults("custom", event.get("options"))
        keep = options.get("keepRunning")
        return cls(
            holder=str(event["holder"]),
            lease_seconds=float(options["leaseSeconds"]),
            poll_interval_seconds=float(options["pollIntervalSeconds"]),
            idle_stop_seconds=float(options["idleStopSeconds"]),
            requests_per_inference_unit=int(options["maxRequestsPerInferenceUnit"]),
            inference_units=int(options["minInferenceUnits"]),
            detects=bool(event.get("detects", True)),
            keep_running=keep if isinstance(keep, bool) else None,
        )


@dataclass
class Lease:
    """The lease item of one model version."""

    arn: str
    version: int = 0  # the compare-and-swap counter; 0: no item yet
    holders: dict[str, dict[str, Any]] = field(default_factory=dict)  # holder -> {"until", "detects"}
    waiters: dict[str, float] = field(default_factory=dict)  # refused requests still asking -> until
    last_used_at: float = 0.0
    idle_stop_seconds: float = 900.0
    keep_running: bool = False
    inference_units: int = 0  # as started by a start claim; 0: not started by a lease
    start_claim: dict[str, Any] | None = None  # {"holder", "until"}
    stop_claim: dict[str, Any] | None = None  # {"until"}
    watcher_until: float = 0.0
    starts: int = 0
    stops: int = 0
    peak_holders: int = 0
    active: bool = False

    # ----- reading the state ----------------------------------------------------------------------
    def prune(self, now: float) -> None:
        """Drop expired holders, waiters and claims.

        One that expired counts as having used the model until its expiry.
        """
        for holder, entry in list(self.holders.items()):
            if entry["until"] <= now:
                self.last_used_at = max(self.last_used_at, entry["until"])
                del self.holders[holder]
        for waiter, until in list(self.waiters.items()):
            if until <= now:
                self.last_used_at = max(self.last_used_at, until)
                del self.waiters[waiter]
        if self.start_claim and self.start_claim["until"] <= now:
            self.start_claim = None
        if self.stop_claim and self.stop_claim["until"] <= now:
            self.stop_claim = None

    def detecting_holders(self) -> int:
        return sum(1 for entry in self.holders.values() if entry.get("detects", True))

    # ----- DynamoDB -------------------------------------------------------------------------------
    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": LEASE_KEY_PREFIX + self.arn},
            "recordType": {"S": RECORD_TYPE_MODEL_LEASE},
            "projectVersionArn": {"S": self.arn},
            "version": _n(self.version),
            "holders": {
                "M": {
                    h: {"M": {"until": _n(e["until"]), "detects": {"BOOL": bool(e.get("detects", True))}}}
                    for h, e in self.holders.items()
                }
            },
            "waiters": {"M": {w: _n(until) for w, until in self.waiters.items()}},
            "lastUsedAt": _n(self.last_used_at),
            "idleStopSeconds": _n(self.idle_stop_seconds),
            "keepRunning": {"BOOL": self.keep_running},
            "inferenceUnits": _n(self.inference_units),
            "watcherUntil": _n(self.watcher_until),
            "starts": _n(self.starts),
            "stops": _n(self.stops),
            "peakHolders": _n(self.peak_holders),
        }
        if self.start_claim:
            item["startClaim"] = {
                "M": {"holder": {"S": self.start_claim["holder"]}, "until": _n(self.start_claim["until"])}
            }
        if self.stop_claim:
            item["stopClaim"] = {"M": {"until": _n(self.stop_claim["until"])}}
        if self.active:
            item["leaseState"] = {"S": ACTIVE}
        return item

    @classmethod
    def from_item(cls, arn: str, item: Mapping[str, Any] | None) -> Lease:
        if not item:
            return cls(arn)

        def num(name: str) -> float:
            return float(item[name]["N"]) if name in item else 0.0

        holders = {
            holder: {
                "until": float(entry["M"]["until"]["N"]),
                "detects": entry["M"].get("detects", {}).get("BOOL", True),
            }
            for holder, entry in item.get("holders", {}).get("M", {}).items()
        }
        start = item.get("startClaim", {}).get("M")
        stop = item.get("stopClaim", {}).get("M")
        return cls(
            arn=arn,
            version=int(num("version")),
            holders=holders,
            waiters={w: float(v["N"]) for w, v in item.get("waiters", {}).get("M", {}).items()},
            last_used_at=num("lastUsedAt"),
            idle_stop_seconds=num("idleStopSeconds"),
            keep_running=item.get("keepRunning", {}).get("BOOL", False),
            inference_units=int(num("inferenceUnits")),
            start_claim={"holder": start["holder"]["S"], "until": float(start["until"]["N"])} if start else None,
            stop_claim={"until": float(stop["until"]["N"])} if stop else None,
            watcher_until=num("watcherUntil"),
            starts=int(num("starts")),
            stops=int(num("stops")),
            peak_holders=int(num("peakHolders")),
            active=item.get("leaseState", {}).get("S") == ACTIVE,
        )


def _n(value: float) -> dict[str, str]:
    # Milliseconds are enough; Decimal keeps the text exact (no float noise such as 0.30000000000000004).
    return {"N": str(Decimal(str(round(float(value), 3))).normalize())}


# ----- the decisions, on a lease already read (pure: the clock is an argument) ------------------------
def acquire(lease: Lease, ask: LeaseSettings, now: float) -> dict[str, Any]:
    """Grant (or renew) ``ask.holder``'s lease, unless the model is being stopped or has no free slot:
    then the request is recorded as a waiter, which keeps the model from idling while it asks again."""
    lease.prune(now)
    # Valid until the next renewal is due (one poll interval) plus the lease itself.
    until = now + ask.poll_interval_seconds + ask.lease_seconds
    renewing = ask.holder in lease.holders
    # Concurrency follows the inference units the model runs with (or this request asks for).
    limit = min(MAX_HOLDERS, ask.requests_per_inference_unit * max(1, lease.inference_units or ask.inference_units))
    refusal = None
    if lease.stop_claim:
        refusal = "the model is being stopped; it is started again afterwards"
    elif not renewing and ask.detects and lease.detecting_holders() >= limit:
        refusal = (
            f"{lease.detecting_holders()} requests hold the model, its limit is {limit} "
            f"({ask.requests_per_inference_unit} per inference unit)"
        )
    elif not renewing and len(lease.holders) >= MAX_HOLDERS:
        refusal = f"{len(lease.holders)} holders, the most one lease item records"
    lease.last_used_at = max(lease.last_used_at, now)
    if refusal:
        # Past MAX_WAITERS the request is not recorded: the model is busy anyway and it asks again.
        if ask.holder in lease.waiters or len(lease.waiters) < MAX_WAITERS:
            lease.waiters[ask.holder] = until
        return {"granted": False, "reason": refusal}
    # The latest request decides how long the model may idle and whether it is kept running.
    if ask.keep_running is not None:
        lease.keep_running = ask.keep_running
    lease.idle_stop_seconds = ask.idle_stop_seconds
    lease.waiters.pop(ask.holder, None)
    lease.holders[ask.holder] = {"until": until, "detects": ask.detects}
    lease.peak_holders = max(lease.peak_holders, lease.detecting_holders())
    lease.active = not lease.keep_running
    start_watcher = lease.active and lease.watcher_until <= now
    if start_watcher:
        lease.watcher_until = now + WATCHER_GRACE_SECONDS
    return {"granted": True, "leaseExpiresAt": until, "holders": len(lease.holders), "startWatcher": start_watcher}


def release(lease: Lease, holder: str, now: float) -> dict[str, Any]:
    lease.prune(now)
    released = lease.holders.pop(holder, None) is not None
    waited = lease.waiters.pop(holder, None) is not None
    if released or waited:
        lease.last_used_at = max(lease.last_used_at, now)
    return {"released": released, "holders": len(lease.holders)}


def claim_start(lease: Lease, holder: str, now: float) -> bool:
    """One start at a time: refused while the model is being stopped or another holder is starting it."""
    lease.prune(now)
    if lease.stop_claim or (lease.start_claim and lease.start_claim["holder"] != holder):
        return False
    lease.start_claim = {"holder": holder, "until": now + CLAIM_SECONDS}
    return True


def finish_start(lease: Lease, holder: str, started: bool, inference_units: int) -> None:
    if lease.start_claim and lease.start_claim["holder"] == holder:
        lease.start_claim = None
    if started:
        lease.starts += 1
        lease.inference_units = inference_units


def idle_decision(lease: Lease, now: float) -> tuple[str, float, str]:
    """("wait", seconds, why) until the model may be idle, ("stop", 0, why) or ("done", 0, why)."""
    lease.prune(now)
    if lease.keep_running:
        return "done", 0.0, "keepRunning: the model is never stopped automatically"
    if not lease.active:
        return "done", 0.0, "the model is not in use"
    if lease.holders or lease.waiters:
        soonest = min([entry["until"] for entry in lease.holders.values()] + list(lease.waiters.values()))
        return (
            "wait",
            min(lease.idle_stop_seconds, soonest - now),
            f"{len(lease.holders)} lease(s) held, {len(lease.waiters)} request(s) waiting for one",
        )
    for claim, why in ((lease.stop_claim, "being stopped"), (lease.start_claim, "being started")):
        if claim:
            return "wait", claim["until"] - now, f"the model is {why}"
    idle_for = now - lease.last_used_at
    if idle_for < lease.idle_stop_seconds:
        return "wait", lease.idle_stop_seconds - idle_for, f"idle for {idle_for:.0f} of {lease.idle_stop_seconds:.0f} s"
    return "stop", 0.0, f"no lease held, idle for {idle_for:.0f} s (idleStopSeconds {lease.idle_stop_seconds:.0f})"


def renew_watch(lease: Lease, now: float, wait_seconds: float) -> None:
    lease.watcher_until = now + wait_seconds + WATCHER_GRACE_SECONDS


def end_watch(lease: Lease) -> None:
    lease.watcher_until = 0.0
    lease.active = False


def claim_stop(lease: Lease, now: float) -> None:
    lease.stop_claim = {"until": now + CLAIM_SECONDS}
    lease.watcher_until = now + CLAIM_SECONDS + WATCHER_GRACE_SECONDS


def finish_stop(lease: Lease, stopped: bool, watch_ended: bool) -> None:
    lease.stop_claim = None
    if stopped:
        lease.stops += 1
        lease.inference_units = 0
        lease.start_claim = None
    if watch_ended:
        end_watch(lease)


def claim_watch(lease: Lease, now: float) -> bool:
    """For the sweep: look after a model whose watcher is gone (its announced check is long past)."""
    lease.prune(now)
    if not lease.active or lease.keep_running or lease.watcher_until > now:
        return False
    lease.watcher_until = now + WATCHER_GRACE_SECONDS
    return True


# ----- the table ------------------------------------------------------------------------------------------
_TRANSIENT = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


class LeaseTable:
    """Compare-and-swap changes of lease items in the results table."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        clock: Callable[[], float] = time.time,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.clock = clock
        self.pause = pause

    def read(self, arn: str) -> Lease:
        with _dynamodb_errors("GetItem"):
            item = self.dynamodb.get_item(
                TableName=self.table, Key={"pk": {"S": LEASE_KEY_PREFIX + arn}}, ConsistentRead=True
            ).get("Item")
        return Lease.from_item(arn, item)

    def change(self, arn: str, decide: Callable[[Lease, float], T]) -> T:
        """Apply ``decide(lease, now)`` to the current item and write the result if it changed anything."""
        for attempt in range(MAX_WRITE_ATTEMPTS):
            lease = self.read(arn)
            before = lease.to_item()
            result = decide(lease, self.clock())
            after = lease.to_item()
            if after == before:
                return result
            if self._write(lease):
                return result
            self.pause(random.uniform(0.005, 0.05) * (1 + attempt))  # full jitter: the racers spread out
        raise ModelLeaseContentionError(
            f"the lease item of {arn} changed under every one of {MAX_WRITE_ATTEMPTS} attempts; retrying later"
        )

    def _write(self, lease: Lease) -> bool:
        expected = lease.version
        lease.version += 1
        item = lease.to_item()
        item["updatedAt"] = {"S": now_iso()}
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected == 0
            else {
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": _n(expected)},
            }
        )
        try:
            with _dynamodb_errors("PutItem"):
                self.dynamodb.put_item(TableName=self.table, Item=item, **condition)
        except _ConditionFailed:
            lease.version = expected
            return False
        return True

    def active_arns(self, limit: int = 1000) -> list[str]:
        """Model versions whose lease item is ACTIVE (model-lease-index), at most ``limit``."""
        arns: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LEASE_INDEX,
            "KeyConditionExpression": "leaseState = :active",
            "ExpressionAttributeValues": {":active": {"S": ACTIVE}},
        }
        while len(arns) < limit:
            with _dynamodb_errors("Query"):
                page = self.dynamodb.query(**kwargs)
            # The index projects the keys only: the ARN is the key without its prefix.
            arns += [item["pk"]["S"].removeprefix(LEASE_KEY_PREFIX) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return arns[:limit]


class _ConditionFailed(Exception):
    """The item changed since it was read (ConditionalCheckFailedException)."""


@contextlib.contextmanager
def _dynamodb_errors(operation: str) -> Iterator[None]:
    """Throttling and server faults (after boto3's own retries) become TransientServiceError, retried by the ASL."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code == "ConditionalCheckFailedException":
            raise _ConditionFailed() from error
        status = http_status(error)
        if code in _TRANSIENT or status >= 500:
            raise TransientServiceError(f"DynamoDB {operation} of a model lease failed: {code}") from error
        raise


# ----- the Lambdas' steps (acquire_model_lease, release_model_lease, find_unwatched_models) ---------------
def acquire_lease(leases: LeaseTable, event: Mapping[str, Any]) -> dict[str, Any]:
    arn = event["projectVersionArn"]
    ask = LeaseSettings.from_event(event)
    result = leases.change(arn, lambda lease, now: acquire(lease, ask, now))
    # Every key the lease machine's ResultSelector reads, granted or not.
    return {
        "projectVersionArn": arn,
        "holder": ask.holder,
        "reason": "",
        "leaseExpiresAt": None,
        "startWatcher": False,
        **result,
    }


def release_lease(leases: LeaseTable, event: Mapping[str, Any]) -> dict[str, Any]:
    arn, holder = event["projectVersionArn"], str(event["holder"])
    return {
        "projectVersionArn": arn,
        "holder": holder,
        **leases.change(arn, lambda lease, now: release(lease, holder, now)),
    }


def find_unwatched(leases: LeaseTable, event: Mapping[str, Any]) -> dict[str, Any]:
    """The sweep: every ACTIVE model whose watcher is gone, each claimed for a new watcher."""
    active = leases.active_arns()
    claimed = [arn for arn in active if leases.change(arn, lambda lease, now: claim_watch(lease, now))]
    return {"models": claimed, "active": len(active)}
