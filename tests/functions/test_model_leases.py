"""Model leases (rekoflow_common/model_leases.py): the decisions on a lease item, the compare-and-swap
writes (moto's DynamoDB), and the start/stop steps that go through them. A clock is passed in; nothing
sleeps. Concurrent writers on the local stack: tests/custom_labels/test_custom_labels_leases.py."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from rekoflow_common import model_leases as ml
from rekoflow_common.errors import ModelLeaseContentionError, RekognitionRequestError
from rekoflow_common.model_versions import start, stop_if_idle

ARN = "arn:aws:rekognition:us-east-1:123456789012:project/pets/version/v1/1700000000001"
PROJECT_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/pets/1700000000000"
TABLE = "leases-test"


def ask(holder: str, **changes) -> ml.LeaseSettings:
    settings = {
        "holder": holder,
        "lease_seconds": 30,
        "poll_interval_seconds": 10,
        "idle_stop_seconds": 100,
        "requests_per_inference_unit": 2,
        "inference_units": 1,
    }
    settings.update(changes)
    return ml.LeaseSettings(**settings)


# ----- decisions ----------------------------------------------------------------------------------------------
def test_leases_are_granted_up_to_the_limit_then_requests_wait():
    lease = ml.Lease(ARN)
    assert ml.acquire(lease, ask("a"), now=0)["granted"]
    assert ml.acquire(lease, ask("b"), now=1)["granted"]
    refused = ml.acquire(lease, ask("c"), now=2)
    assert not refused["granted"] and "limit is 2" in refused["reason"]
    assert set(lease.holders) == {"a", "b"} and lease.waiters == {"c": 2 + 10 + 30}
    # A holder renews over the limit; a released slot goes to the waiter, which stops waiting.
    assert ml.acquire(lease, ask("a"), now=3)["leaseExpiresAt"] == 43
    assert ml.release(lease, "b", now=4) == {"released": True, "holders": 1}
    assert ml.acquire(lease, ask("c"), now=5)["granted"] and lease.waiters == {}
    assert lease.peak_holders == 2


def test_the_limit_scales_with_the_inference_units_and_a_batch_lease_does_not_count():
    lease = ml.Lease(ARN, inference_units=2)  # as the start claim recorded it
    for holder in "abcd":
        assert ml.acquire(lease, ask(holder), now=0)["granted"]
    assert not ml.acquire(lease, ask("e"), now=0)["granted"]
    assert ml.acquire(lease, ask("batch", detects=False), now=0)["granted"]
    assert lease.detecting_holders() == 4 and len(lease.holders) == 5


def test_an_expired_holder_stops_counting_and_counts_as_used_until_its_expiry():
    lease = ml.Lease(ARN)
    ml.acquire(lease, ask("crashed"), now=0)  # valid until 40
    ml.release(lease, "nobody", now=50)
    assert lease.holders == {} and lease.last_used_at == 40


def test_the_first_acquirer_without_a_watcher_is_told_to_start_one():
    lease = ml.Lease(ARN)
    assert ml.acquire(lease, ask("a"), now=0)["startWatcher"] is True
    assert ml.acquire(lease, ask("b"), now=1)["startWatcher"] is False
    # The watcher announced no check: past the grace period a new acquirer starts another.
    assert ml.acquire(lease, ask("c"), now=ml.WATCHER_GRACE_SECONDS + 1)["startWatcher"] is True
    pinned = ml.Lease(ARN)
    assert ml.acquire(pinned, ask("d", keep_running=True), now=0)["startWatcher"] is False and not pinned.active


def test_keep_running_is_the_latest_explicit_choice():
    lease = ml.Lease(ARN)
    ml.acquire(lease, ask("a", keep_running=True), now=0)
    ml.acquire(lease, ask("b"), now=1)  # absent: unchanged
    assert lease.keep_running and ml.idle_decision(lease, now=500)[0] == "done"
    ml.acquire(lease, ask("c", keep_running=False), now=2)
    assert not lease.keep_running and lease.active


@pytest.mark.parametrize(
    ("setup", "now", "expected"),
    [
        (lambda l: ml.acquire(l, ask("a"), now=0), 5, ("wait", 35)),  # held: until the lease expires (40)
        (
            lambda l: ml.acquire(l, ask("a", idle_stop_seconds=10), now=0),
            5,
            ("wait", 10),
        ),  # ...or idleStopSeconds, if sooner
        (lambda l: (ml.acquire(l, ask("a"), now=0), ml.release(l, "a", now=5)), 65, ("wait", 40)),  # idle 60 of 100
        (lambda l: (ml.acquire(l, ask("a"), now=0), ml.release(l, "a", now=5)), 105, ("stop", 0)),
        (
            lambda l: (
                ml.acquire(l, ask("a"), now=0),
                ml.acquire(l, ask("b", requests_per_inference_unit=1), now=0),
                ml.release(l, "a", now=5),
            ),
            20,
            ("wait", 20),
        ),  # nobody holds it, but a waiter (until 40) still asks
        (
            lambda l: (ml.acquire(l, ask("a"), now=0), ml.claim_start(l, "a", now=1), ml.release(l, "a", now=2)),
            110,
            ("wait", 11),
        ),  # start claim
        (lambda l: None, 0, ("done", 0)),  # never leased: nothing to watch
    ],
)
def test_the_idle_decision(setup, now, expected):
    lease = ml.Lease(ARN)
    setup(lease)
    action, seconds, _ = ml.idle_decision(lease, now)
    assert (action, round(seconds)) == expected


def test_a_stop_claim_refuses_leases_and_starts_and_is_refused_while_leases_are_held():
    lease = ml.Lease(ARN)
    ml.acquire(lease, ask("a"), now=0)
    ml.release(lease, "a", now=1)
    assert ml.idle_decision(lease, now=200)[0] == "stop"
    ml.claim_stop(lease, now=200)
    refused = ml.acquire(lease, ask("b"), now=201)
    assert not refused["granted"] and "being stopped" in refused["reason"] and "b" in lease.waiters
    assert not ml.claim_start(lease, "b", now=201)
    ml.finish_stop(lease, stopped=True, watch_ended=True)
    assert lease.stops == 1 and not lease.active and lease.watcher_until == 0
    granted = ml.acquire(lease, ask("b"), now=202)
    assert granted["granted"] and granted["startWatcher"]


def test_one_start_claim_at_a_time():
    lease = ml.Lease(ARN)
    assert ml.claim_start(lease, "a", now=0)
    assert not ml.claim_start(lease, "b", now=1)
    assert ml.claim_start(lease, "a", now=2)  # a retried start of the same holder
    ml.finish_start(lease, "a", started=True, inference_units=3)
    assert lease.start_claim is None and lease.starts == 1 and lease.inference_units == 3
    assert ml.claim_start(lease, "b", now=3)
    # A claimant that crashed: its claim lapses.
    assert ml.claim_start(lease, "c", now=3 + ml.CLAIM_SECONDS + 1)


def test_the_sweep_claims_only_active_models_whose_watcher_is_gone():
    lease = ml.Lease(ARN)
    ml.acquire(lease, ask("a"), now=0)
    assert not ml.claim_watch(lease, now=10)  # its watcher is expected back
    assert ml.claim_watch(lease, now=ml.WATCHER_GRACE_SECONDS + 1)
    assert not ml.claim_watch(lease, now=ml.WATCHER_GRACE_SECONDS + 2)  # claimed: one new watcher
    ml.end_watch(lease)
    assert not ml.claim_watch(lease, now=10_000)


def test_the_item_stays_within_dynamodbs_400_kb_however_many_requests_ask():
    import json

    lease = ml.Lease(ARN)
    longest = "r" * 80  # request ids are execution names, at most 80 characters
    for i in range(ml.MAX_HOLDERS + 10):
        ml.acquire(lease, ask(f"{longest[:-6]}{i:06d}", requests_per_inference_unit=100, inference_units=10), now=1.0)
    for i in range(ml.MAX_WAITERS + 10):
        ml.acquire(lease, ask(f"{longest[:-7]}w{i:06d}", requests_per_inference_unit=100, inference_units=10), now=2.0)
    assert len(lease.holders) == ml.MAX_HOLDERS and len(lease.waiters) == ml.MAX_WAITERS
    # The JSON of the typed item is larger than DynamoDB's measure of it (names + values).
    assert len(json.dumps(lease.to_item()).encode()) < 400 * 1024


def test_the_item_round_trips():
    lease = ml.Lease(ARN)
    ml.acquire(lease, ask("a"), now=1.25)
    ml.acquire(lease, ask("b", requests_per_inference_unit=1), now=2)
    ml.claim_start(lease, "a", now=3)
    again = ml.Lease.from_item(ARN, lease.to_item())
    assert again == lease
    assert lease.to_item()["leaseState"] == {"S": "ACTIVE"} and lease.to_item()["pk"] == {"S": "model#" + ARN}


# ----- the table: compare-and-swap ----------------------------------------------------------------------------
@pytest.fixture()
def dynamodb():
    from rekoflow.local import declarations

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**declarations.create_table_request(TABLE))
        yield client


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_change_written_meanwhile_is_not_lost(dynamodb):
    clock = Clock()
    table = ml.LeaseTable(dynamodb, TABLE, clock=clock, pause=lambda s: None)
    other = ml.LeaseTable(dynamodb, TABLE, clock=clock)
    interfered = []

    def decide(lease, now):
        if not interfered:  # another request acquires between our read and our write
            interfered.append(other.change(ARN, lambda l, n: ml.acquire(l, ask("other"), n)))
        return ml.acquire(lease, ask("mine"), now)

    assert table.change(ARN, decide)["granted"]
    stored = table.read(ARN)
    assert set(stored.holders) == {"mine", "other"} and stored.version == 2


def test_a_change_that_changes_nothing_writes_nothing(dynamodb):
    table = ml.LeaseTable(dynamodb, TABLE, clock=Clock())
    assert table.change(ARN, lambda lease, now: ml.release(lease, "nobody", now)) == {"released": False, "holders": 0}
    assert table.read(ARN).version == 0


def test_endless_interference_is_a_retried_error(dynamodb):
    clock = Clock()
    table = ml.LeaseTable(dynamodb, TABLE, clock=clock, pause=lambda s: None)
    other = ml.LeaseTable(dynamodb, TABLE, clock=clock)
    counter = iter(range(1000))

    def decide(lease, now):
        other.change(ARN, lambda l, n: ml.acquire(l, ask(f"o{next(counter)}", requests_per_inference_unit=1000), n))
        return ml.acquire(lease, ask("mine"), now)

    with pytest.raises(ModelLeaseContentionError, match="every one of 30 attempts"):
        table.change(ARN, decide)


def test_active_models_are_found_by_the_index(dynamodb):
    table = ml.LeaseTable(dynamodb, TABLE, clock=Clock())
    table.change(ARN, lambda lease, now: ml.acquire(lease, ask("a"), now))
    other = ARN.replace("/v1/", "/v2/")
    table.change(other, lambda lease, now: ml.acquire(lease, ask("a", keep_running=True), now))
    assert table.active_arns() == [ARN]


# ----- the start and stop steps (Rekognition stubbed, the table in moto) --------------------------------------
@pytest.fixture()
def rekognition():
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def stub_status(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "describe_projects", {"ProjectDescriptions": [{"ProjectArn": PROJECT_ARN}]}, {"ProjectNames": ["pets"]}
    )
    stubber.add_response(
        "describe_project_versions",
        {"ProjectVersionDescriptions": [{"ProjectVersionArn": ARN, "Status": status}]},
        {"ProjectArn": PROJECT_ARN, "VersionNames": ["v1"]},
    )


def test_start_claims_looks_and_starts_a_stopped_model_once(dynamodb, rekognition):
    client, stubber = rekognition
    table = ml.LeaseTable(dynamodb, TABLE, clock=Clock())
    stub_status(stubber, "STOPPED")
    stubber.add_response(
        "start_project_version", {"Status": "STARTING"}, {"ProjectVersionArn": ARN, "MinInferenceUnits": 2}
    )
    out = start(client, table, {"projectVersionArn": ARN, "holder": "a", "minInferenceUnits": 2})
    assert out["started"] and out["status"] == "STARTING"
    # The next holder looks and finds it starting: no second StartProjectVersion.
    stub_status(stubber, "STARTING")
    assert start(client, table, {"projectVersionArn": ARN, "holder": "b", "minInferenceUnits": 2})["started"] is False
    stored = table.read(ARN)
    assert stored.starts == 1 and stored.inference_units == 2 and stored.start_claim is None


def test_start_refused_the_claim_makes_no_call(dynamodb, rekognition):
    client, _ = rekognition
    table = ml.LeaseTable(dynamodb, TABLE, clock=Clock())
    table.change(ARN, lambda lease, now: ml.claim_start(lease, "a", now))
    out = start(client, table, {"projectVersionArn": ARN, "holder": "b"})
    assert out["started"] is False and "another request" in out["reason"]


def test_a_failed_start_gives_the_claim_back(dynamodb, rekognition):
    client, stubber = rekognition
    table = ml.LeaseTable(dynamodb, TABLE, clock=Clock())
    stub_status(stubber, "STOPPED")
    stubber.add_client_error("start_project_version", "AccessDeniedException", "no", 400)
    with pytest.raises(RekognitionRequestError):
        start(client, table, {"projectVersionArn": ARN, "holder": "a"})
    assert table.read(ARN).start_claim is None


def test_the_idle_step_waits_stops_and_ends(dynamodb, rekognition):
    client, stubber = rekognition
    clock = Clock(1000)
    table = ml.LeaseTable(dynamodb, TABLE, clock=clock)
    table.change(ARN, lambda lease, now: ml.acquire(lease, ask("a", idle_stop_seconds=60), now))
    table.change(ARN, lambda lease, now: ml.release(lease, "a", now))
    clock.now = 1020
    assert stop_if_idle(client, table, {"projectVersionArn": ARN}) == {
        "projectVersionArn": ARN,
        "action": "wait",
        "waitSeconds": 40,
        "reason": "idle for 20 of 60 s",
        "status": None,
    }
    clock.now = 1061
    stub_status(stubber, "RUNNING")
    stubber.add_response("stop_project_version", {"Status": "STOPPING"}, {"ProjectVersionArn": ARN})
    stopped = stop_if_idle(client, table, {"projectVersionArn": ARN})
    assert stopped["action"] == "stopped" and stopped["status"] == "STOPPING"
    stored = table.read(ARN)
    assert stored.stops == 1 and stored.stop_claim is None and not stored.active
    assert stop_if_idle(client, table, {"projectVersionArn": ARN})["action"] == "done"


def test_the_idle_step_looks_again_at_a_model_still_starting(dynamodb, rekognition):
    client, stubber = rekognition
    clock = Clock(1000)
    table = ml.LeaseTable(dynamodb, TABLE, clock=clock)
    table.change(
        ARN,
        lambda lease, now: ml.acquire(
            lease, ask("a", idle_stop_seconds=0, lease_seconds=1, poll_interval_seconds=1), now
        ),
    )
    clock.now = 1010  # the holder went away while the model was starting
    stub_status(stubber, "STARTING")
    out = stop_if_idle(client, table, {"projectVersionArn": ARN})
    assert out["action"] == "wait" and out["waitSeconds"] == ml.STARTING_RECHECK_SECONDS
    stored = table.read(ARN)
    assert stored.stop_claim is None and stored.active and stored.stops == 0
