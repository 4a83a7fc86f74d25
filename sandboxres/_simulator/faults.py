"""Faults: what happens to a request a rule applies to (delays, resets, rewritten table states, random picks).

AWS errors in each protocol's wire format are in :mod:`sandboxres._simulator.aws_errors`.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandboxres._simulator.messages import AMZ_JSON, RESET, Action, ProxyRequest, Reply, ResetType, new_request_id

if TYPE_CHECKING:
    from sandboxres._simulator.rules import Rule


@dataclass
class Trigger:
    """One application of a rule to one request (passed to the fault)."""

    rule: Rule
    anchor_time: float | None = None
    anchor_document: dict[str, Any] | None = None
    chosen: Fault | None = None  # used by Chaos


class Fault:
    """Base class: decides what happens to a request a rule applies to.

    ``before`` runs before forwarding: return a :class:`Reply` to answer without forwarding, ``RESET`` to
    reset the connection, or ``None`` to forward. ``after`` sees the upstream reply and returns the reply to
    send (or ``RESET``). Non-terminal faults (delays) let the search for a further rule go on.
    """

    terminal = True

    @property
    def label(self) -> str:
        return type(self).__name__

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        return reply


class Delay(Fault):
    """Sleep ``seconds`` before forwarding. Non-terminal: other rules still apply."""

    terminal = False

    def __init__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self.seconds = seconds

    @property
    def label(self) -> str:
        return f"delay {self.seconds:g}s"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        time.sleep(self.seconds)
        return None


class ResetConnection(Fault):
    """Close the client's connection with a TCP reset and no response.

    ``after_upstream=True`` forwards the request first: the operation happens but its response is lost.
    """

    def __init__(self, *, after_upstream: bool = False) -> None:
        self.after_upstream = after_upstream

    @property
    def label(self) -> str:
        return "reset after upstream" if self.after_upstream else "reset"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        return None if self.after_upstream else RESET

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        return RESET


class SetTableStatus(Fault):
    """Forward, then rewrite ``TableStatus`` (and index statuses) in a successful DynamoDB table reply."""

    def __init__(self, status: str) -> None:
        self.status = status

    @property
    def label(self) -> str:
        return f"TableStatus={self.status}"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        document = reply.json()
        if not 200 <= reply.status < 300 or document is None:
            return reply
        for key in ("Table", "TableDescription"):
            table = document.get(key)
            if isinstance(table, dict):
                table["TableStatus"] = self.status
                for index in table.get("GlobalSecondaryIndexes") or []:
                    if isinstance(index, dict) and "IndexStatus" in index:
                        index["IndexStatus"] = self.status
        return reply.with_json(document)


class FakeDeletingTable(Fault):
    """Answer DescribeTable / DeleteTable with the table in DELETING state, without forwarding.

    Meant for rules anchored on ``DeleteTable``: the table description comes from that DeleteTable reply.
    """

    @property
    def label(self) -> str:
        return "TableStatus=DELETING (simulated)"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        anchor = trigger.anchor_document or {}
        table = dict(anchor.get("TableDescription") or {"TableName": request.resource})
        table["TableStatus"] = "DELETING"
        key = "Table" if request.operation == "DescribeTable" else "TableDescription"
        body = json.dumps({key: table}).encode()
        headers = [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Content-Type", AMZ_JSON),
            ("x-amzn-RequestId", new_request_id()),
            ("x-amz-crc32", str(zlib.crc32(body))),
        ]
        return Reply(200, headers, body, "OK")


class Chaos(Fault):
    """Pick one of ``faults`` at random (seeded) for each request the rule applies to."""

    def __init__(self, faults: Sequence[Fault], rng: random.Random) -> None:
        if not faults:
            raise ValueError("Chaos needs at least one fault")
        self.faults = tuple(faults)
        self.rng = rng
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return "chaos"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        with self._lock:
            trigger.chosen = self.rng.choice(self.faults)
        return trigger.chosen.before(request, trigger)

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        assert trigger.chosen is not None
        return trigger.chosen.after(request, reply, trigger)


class SlowReply(Fault):
    """Forward the request, then hold the upstream's reply back (up to ``seconds``): the operation has
    happened, the client is still waiting for the answer. ``started`` is set when a reply is being held."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.release = threading.Event()

    @property
    def label(self) -> str:
        return f"slow reply {self.seconds:g}s"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply:
        self.started.set()
        self.release.wait(self.seconds)
        return reply


class HeldRequest(Fault):
    """Hold the request back for ``seconds`` before forwarding it: the client is waiting, the operation has
    not happened yet and happens once the hold ends, whatever became of the client meanwhile (an in-flight
    create). ``started`` is set when a request is being held, ``forwarded`` once it went upstream."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.forwarded = threading.Event()
        # Set by a test once it has interrupted the client: the hold's seconds count from then (so that a loaded
        # machine cannot let the create land before the interruption). Unset, they count from the request.
        self.interrupted = threading.Event()
        self.counts_from_interruption = False

    def after_interruption(self) -> HeldRequest:
        """Hold until :attr:`interrupted` is set (at most a minute), then ``seconds`` more."""
        self.counts_from_interruption = True
        return self

    @property
    def label(self) -> str:
        return f"hold {self.seconds:g}s"

    def before(self, request: ProxyRequest, trigger: Trigger) -> None:
        self.started.set()
        if self.counts_from_interruption:
            self.interrupted.wait(60)
        time.sleep(self.seconds)
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply:
        self.forwarded.set()
        return reply
