"""``table.stream_records``: every record of the table's stream, across all its shards, read as AWS requires.

A table's stream is split into shards that close and split over time (roughly every few hours), and a write's
record becomes readable after a short delay (Amazon DynamoDB Developer Guide, "Change data capture for DynamoDB
Streams"). Reading "what my test wrote" therefore means:

- every shard DescribeStream lists (all pages), closed ones and their children too, each from ``TRIM_HORIZON``
  (tables with a stream are never recycled by pools, so the stream holds only this holder's records);
- following ``NextShardIterator`` until it is absent (a closed shard read to its end: its children are looked up
  again) or the shard has nothing more for now;
- polling (a :class:`~sandboxres._engine.steps.Poll`: backoff and a deadline, no sleeps here) until ``count``
  records arrived, or, without ``count``, until no record came for a settle period (a twentieth of the deadline).

The records come back as GetRecords gives them, ordered per key: each shard's in sequence-number order, a parent
shard's before its children's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandboxres._engine.errors import ReadinessTimeoutError, ReceiveTimeoutError, SpecError
from sandboxres._engine.helpers import check_count, helper_deadline
from sandboxres._engine.plans import label_of
from sandboxres._engine.steps import Call, NotReady, Plan, Poll, RetryPolicy
from sandboxres._engine.wiring import HandleContext

SETTLE_SHARE = 20  # without count: records are all there once none came for deadline / SETTLE_SHARE
GET_RECORDS_LIMIT = 1000
_RESCAN = "rescan"  # a shard closed: its children may be new
_DONE = "done"


@dataclass
class Shard:
    """One shard: its parent, where reading goes on, what it gave, whether it is read to its end."""

    shard_id: str
    parent: str | None
    first_sequence: int
    iterator: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False


class StreamReading:
    """The shards known so far, what they gave, and the next GetRecords (round the open shards in turn)."""

    def __init__(self, count: int | None, deadline: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count, self.deadline, self.clock = count, deadline, clock
        self.settle = deadline / SETTLE_SHARE
        self.shards: dict[str, Shard] = {}
        self.started = clock()
        self.last_arrival = self.started
        self.probed_since_arrival: set[str] = set()
        self.current: Shard | None = None
        self._turn = 0

    def learn(self, described: Sequence[Mapping[str, Any]]) -> list[Shard]:
        """Add the shards not known yet; the new ones."""
        new = []
        for shard in described:
            shard_id = shard["ShardId"]
            if shard_id in self.shards:
                continue
            start = shard.get("SequenceNumberRange", {}).get("StartingSequenceNumber") or "0"
            self.shards[shard_id] = made = Shard(shard_id, shard.get("ParentShardId"), int(start))
            new.append(made)
        return new

    def open(self) -> list[Shard]:
        return [s for s in self.ordered() if not s.finished and s.iterator is not None]

    def total(self) -> int:
        return sum(len(s.records) for s in self.shards.values())

    def records(self) -> list[dict[str, Any]]:
        return [record for shard in self.ordered() for record in shard.records]

    def ordered(self) -> list[Shard]:
        """Parents before children; shards of the same parent (or roots) by their first sequence number."""
        children: dict[str | None, list[Shard]] = {}
        for shard in self.shards.values():
            parent = shard.parent if shard.parent in self.shards else None
            children.setdefault(parent, []).append(shard)
        out: list[Shard] = []
        todo = sorted(children.get(None, []), key=lambda s: s.first_sequence)
        while todo:
            shard = todo.pop(0)
            out.append(shard)
            todo.extend(sorted(children.get(shard.shard_id, []), key=lambda s: s.first_sequence))
        return out

    def left(self) -> float:
        return max(0.0, self.deadline - (self.clock() - self.started))

    def params(self) -> dict[str, Any]:
        shards = self.open()
        self.current = shards[self._turn % len(shards)]
        return {"ShardIterator": self.current.iterator, "Limit": GET_RECORDS_LIMIT}

    def judge(self, response: Mapping[str, Any]) -> str:
        shard = self.current
        assert shard is not None
        self._turn += 1  # the next probe asks the next open shard
        records = list(response.get("Records") or [])
        shard.records.extend(records)
        shard.iterator = response.get("NextShardIterator")
        if records:
            self.last_arrival = self.clock()
            self.probed_since_arrival = set()
        self.probed_since_arrival.add(shard.shard_id)
        if shard.iterator is None:
            shard.finished = True
            return _RESCAN
        if self.count is not None and self.total() >= self.count:
            return _DONE
        if self.count is None and self._quiet():
            return _DONE
        raise NotReady(f"{self.total()} records" + (f" of {self.count}" if self.count is not None else ""))

    def _quiet(self) -> bool:
        every_shard_asked = {s.shard_id for s in self.open()} <= self.probed_since_arrival
        return every_shard_asked and self.clock() - self.last_arrival >= self.settle


def _describe(stream_arn: str, policy: RetryPolicy) -> Plan[list[dict[str, Any]]]:
    shards: list[dict[str, Any]] = []
    params: dict[str, Any] = {"StreamArn": stream_arn}
    while True:
        response = yield Call("dynamodbstreams", "describe_stream", dict(params), policy)
        description = response.get("StreamDescription") or {}
        shards.extend(description.get("Shards") or [])
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        params["ExclusiveStartShardId"] = last


def read_stream(
    context: HandleContext | None, table: str, stream_arn: str | None, count: int | None, timeout: float | None
) -> Plan[list[dict[str, Any]]]:
    """``table.stream_records``: the stream's records, in order per key (see the module's docstring)."""
    if not stream_arn:
        raise SpecError(f"table {table} has no stream: create it with stream= (e.g. stream='NEW_AND_OLD_IMAGES')")
    check_count("count", count, optional=True)
    deadline = helper_deadline(context, timeout)
    resource = label_of("table", table)
    state = StreamReading(count, deadline)
    policy = RetryPolicy(deadline)
    read = Call("dynamodbstreams", "get_records", state.params, policy)
    while True:
        for shard in state.learn((yield from _describe(stream_arn, policy))):
            params = {"StreamArn": stream_arn, "ShardId": shard.shard_id, "ShardIteratorType": "TRIM_HORIZON"}
            response = yield Call("dynamodbstreams", "get_shard_iterator", params, policy)
            shard.iterator = response.get("ShardIterator")
            shard.finished = shard.iterator is None
        if not state.open():
            break  # every shard read to its end: nothing more can come
        try:
            outcome = yield Poll(read, state.judge, resource, state.left())
        except ReadinessTimeoutError:
            break
        if outcome == _DONE:
            break
    if count is not None and state.total() < count:
        records = state.records()
        shown = [f"{r.get('eventName')} {r.get('dynamodb', {}).get('Keys')}" for r in records]
        raise ReceiveTimeoutError(resource, "stream records", count, records, state.clock() - state.started, shown)
    return state.records()
