"""EventBridge rules that deliver to Lambda, Step Functions and SQS targets, at least once.

moto (``moto/events/models.py``, ``Rule.send_to_targets``) delivers only to log groups, archives,
SQS queues, event buses and API destinations, synchronously, and raises ``NotImplementedError`` for
a Lambda or a state machine target, which S3's EventBridge notifications swallow
(``moto/s3/notifications.py``): an upload rule never fires. It also skips the targets' input
transformation for S3 events. The patch applies each target's ``Input`` / ``InputPath`` /
``InputTransformer`` and hands Lambda, Step Functions and SQS deliveries to :class:`EventDelivery`:
queued (in the stack's store when there is one, so a stopped stack delivers after its restart),
delivered in the background, retried with exponential backoff within the target's
``RetryPolicy`` (attempts, event age), and sent to the target's ``DeadLetterConfig`` queue when
they run out, with EventBridge's ``ERROR_CODE``/``ERROR_MESSAGE`` attributes. A Lambda function
error is retried like an invoke error (on AWS, Lambda's own asynchronous retries handle it; the
outcome, retried then dead-lettered, is the same).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

from rekoflow.local.patches._base import Patcher, Undo, install

log = logging.getLogger(__name__)

# EventBridge's defaults when a target sets no RetryPolicy.
DEFAULT_ATTEMPTS = 185
DEFAULT_MAX_AGE_S = 86400


class DeliveryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class EventDelivery:
    """The background deliverer: ``deliver(target, payload)`` calls the target; failures are retried."""

    def __init__(
        self,
        send: Callable[[dict[str, Any], str], None],
        dead_letter: Callable[[str, str, dict[str, str]], None],
        store: Any = None,
        backoff_scale: float = 1.0,
    ) -> None:
        self.send = send
        self.dead_letter = dead_letter
        self.store = store
        self.backoff_scale = backoff_scale
        self._memory: list[dict[str, Any]] = []  # the queue when there is no store
        self._next_id = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rekoflow-eventbridge", daemon=True)
        self.delivered = 0
        self.dead_lettered = 0

    def start(self) -> EventDelivery:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def enqueue(self, target: dict[str, Any], payload: str) -> None:
        now = time.time()
        if self.store is not None:
            self.store.outbox_add(target, payload, now)
        else:
            with self._lock:
                self._next_id += 1
                self._memory.append(
                    {
                        "id": self._next_id,
                        "target": target,
                        "payload": payload,
                        "attempts": 0,
                        "notBefore": now,
                        "created": now,
                    }
                )
        self._wake.set()

    def pending(self) -> int:
        if self.store is not None:
            return self.store.outbox_count()
        with self._lock:
            return len(self._memory)

    # ----- the loop -------------------------------------------------------------------------------
    def _due(self, now: float) -> list[dict[str, Any]]:
        if self.store is not None:
            return self.store.outbox_due(now)
        with self._lock:
            return [dict(e) for e in self._memory if e["notBefore"] <= now]

    def _done(self, entry: dict[str, Any]) -> None:
        if self.store is not None:
            self.store.outbox_done(entry["id"])
        else:
            with self._lock:
                self._memory = [e for e in self._memory if e["id"] != entry["id"]]

    def _retry(self, entry: dict[str, Any], attempts: int, not_before: float) -> None:
        if self.store is not None:
            self.store.outbox_retry(entry["id"], attempts, not_before)
        else:
            with self._lock:
                for e in self._memory:
                    if e["id"] == entry["id"]:
                        e.update(attempts=attempts, notBefore=not_before)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                for entry in self._due(time.time()):
                    if self._stopped.is_set():
                        return
                    self._attempt(entry)
            except Exception:  # noqa: BLE001 - the deliverer must survive anything and try again
                log.exception("event delivery loop")
            self._wake.wait(timeout=0.2)
            self._wake.clear()

    def _attempt(self, entry: dict[str, Any]) -> None:
        target = entry["target"]
        try:
            self.send(target, entry["payload"])
        except Exception as error:  # noqa: BLE001 - every failure is retried or dead-lettered
            code = getattr(error, "code", type(error).__name__)
            attempts = entry["attempts"] + 1
            policy = target.get("RetryPolicy") or {}
            max_attempts = int(policy.get("MaximumRetryAttempts", DEFAULT_ATTEMPTS))
            max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S))
            delay = min(2 ** (attempts - 1), 300) * self.backoff_scale
            if attempts > max_attempts or time.time() + delay - entry["created"] > max_age:
                self._give_up(entry, code, str(error), attempts)
            else:
                log.info(
                    "event to %s failed (%s: %s); retry %d in %.3f s", target.get("Arn"), code, error, attempts, delay
                )
                self._retry(entry, attempts, time.time() + delay)
            return
        self.delivered += 1
        self._done(entry)

    def _give_up(self, entry: dict[str, Any], code: str, message: str, attempts: int) -> None:
        target = entry["target"]
        queue = (target.get("DeadLetterConfig") or {}).get("Arn")
        if queue:
            attributes = {
                "RULE_ARN": target.get("RuleArn", ""),
                "TARGET_ARN": target.get("Arn", ""),
                "ERROR_CODE": code,
                "ERROR_MESSAGE": message[:1000],
                "RETRY_ATTEMPTS": str(attempts - 1),
            }
            try:
                self.dead_letter(queue, entry["payload"], attributes)
                self.dead_lettered += 1
            except Exception:  # noqa: BLE001 - then the event is lost, as on AWS; say so loudly
                log.exception("could not send an undeliverable event to its dead-letter queue %s", queue)
        else:
            log.warning(
                "event to %s dropped after %d attempts (%s: %s); the target has no dead-letter queue",
                target.get("Arn"),
                attempts,
                code,
                message,
            )
        self._done(entry)


def _payload(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What the target receives: Input, InputPath, InputTransformer or the whole event (EventBridge's order)."""
    from moto.events.utils import EventTemplateParser

    if "Input" in target:
        return str(target["Input"])
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse

        found = parse(target["InputPath"]).find(event)
        return json.dumps(found[0].value if found else None)
    transformer = target.get("InputTransformer")
    if transformer:
        rendered = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast("EventMessageType", event),  # the event as the rule matched it: that TypedDict's fields
        )
        return rendered if isinstance(rendered, str) else json.dumps(rendered)
    return json.dumps(event)


DELIVERED_HERE = ("lambda", "states", "sqs")
_TARGETS_LOCK = threading.Lock()


def install_eventbridge_targets(delivery: EventDelivery) -> Undo:
    """Deliver rules' Lambda, Step Functions and SQS targets through ``delivery``; others as moto does."""

    def apply(patcher: Patcher) -> None:
        from moto.events.models import Rule
        from moto.utilities.arns import parse_arn

        original = Rule.send_to_targets

        def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
            if not self.event_pattern.matches_event(original_event):
                return
            others = []
            for target in self.targets:
                if parse_arn(target["Arn"]).service in DELIVERED_HERE:
                    delivery.enqueue({**target, "RuleArn": self.arn}, _payload(target, dict(original_event)))
                else:
                    others.append(target)
            if others:
                with _TARGETS_LOCK:  # moto reads self.targets: show it only the targets it delivers
                    kept = self.targets
                    try:
                        self.targets = others
                        original(self, original_event, transform_input)
                    finally:
                        self.targets = kept

        patcher.set(Rule, "send_to_targets", send_to_targets)

    return install(apply)
