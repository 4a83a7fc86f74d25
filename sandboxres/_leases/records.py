"""What the lease table holds: one item per warm resource, as a dataclass, and the decisions about it (pure).

An item records a resource's kind, name and shape, what is known of it (its facts and the baseline its recycling
compares with), and who may use it: ``idle`` (nobody: any run may lease it) or ``leased`` by a run, with a
``token`` unique to that lease and an ``expires`` time the holder keeps pushing forward (its heartbeat). Every
write is conditional on what the writer read (``version``) or on holding the lease (``token``): two runs never
both believe they hold one resource.

Clocks: ``expires`` is written with the holder's clock and compared with the reader's. A holder renews every
``lease_seconds / 3``, so a live lease always has at least ``2/3 lease_seconds`` left by its holder's clock; a
reader whose clock runs ahead by less than that never takes over a live lease. With the default 120 s lease, a
skew under 80 s (minus a renewal's latency) is tolerated.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LEASE_TABLE = "test_sandboxres_pool_leases_v1"  # our prefix (the sweeper and the policy see it); v1: its format
SHAPE = "shape"  # the table's hash key: a run asking for a shape reads only that shape's records (one Query)
KEY = "resource"  # its range key: "<kind>#<name>"
BRIEF = ("shape", "resource", "kind", "name", "state", "holder", "expires", "idle_since", "clean", "version")
TAG_ROLE = "sandboxres:role"  # on the lease table: "pool-leases"
ROLE = "pool-leases"
LEASE_SECONDS = 120.0
IDLE, LEASED = "idle", "leased"


def key_of(kind: str, name: str) -> str:
    return f"{kind}#{name}"


@dataclass
class LeaseRecord:
    """One warm resource as the lease table records it."""

    kind: str
    name: str
    shape: str  # the pool's shape (kind and options), compared as text
    state: str = LEASED  # IDLE or LEASED
    holder: str = ""  # the run id of the last lease
    token: str = ""  # unique per lease: a conditional write whose answer was lost is resolved by reading it back
    expires: float = 0.0  # epoch seconds (holder's clock) until which the lease holds
    idle_since: float = 0.0  # epoch seconds of the last release
    created: float = 0.0  # epoch seconds of the resource's creation
    creation_seconds: float = 0.0  # how long its creation took (create + ready), as its creator measured it
    clean: bool = False  # released right after a recycling proved it clean
    version: int = 0  # incremented by every write
    released: str = ""  # the token of the lease that last released it (a lost release answer is read back by it)
    facts: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return key_of(self.kind, self.name)

    def item_key(self) -> dict[str, Any]:
        """The record's primary key, in the low-level attribute-value format."""
        return {SHAPE: {"S": self.shape}, KEY: {"S": self.key}}

    def available(self, now: float) -> bool:
        """Idle, or leased by a holder whose lease expired (it died or hung: taken over, recycled before use)."""
        return self.state == IDLE or self.expires < now

    def to_item(self) -> dict[str, Any]:
        """The item, in the low-level attribute-value format."""
        return {
            KEY: {"S": self.key},
            "kind": {"S": self.kind},
            "name": {"S": self.name},
            "shape": {"S": self.shape},
            "state": {"S": self.state},
            "holder": {"S": self.holder or "-"},
            "token": {"S": self.token or "-"},
            "expires": {"N": _number(self.expires)},
            "idle_since": {"N": _number(self.idle_since)},
            "created": {"N": _number(self.created)},
            "creation_seconds": {"N": _number(self.creation_seconds)},
            "clean": {"BOOL": self.clean},
            "version": {"N": str(self.version)},
            "released": {"S": self.released or "-"},
            "facts": {"S": json.dumps(self.facts, sort_keys=True)},
            "baseline": {"S": json.dumps(self.baseline, sort_keys=True, default=str)},
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> LeaseRecord:
        def text(name: str) -> str:
            value = str((item.get(name) or {}).get("S", ""))
            return "" if value == "-" else value

        def number(name: str) -> float:
            return float((item.get(name) or {}).get("N", "0"))

        return cls(
            kind=text("kind"),
            name=text("name"),
            shape=text("shape"),
            state=text("state") or LEASED,
            holder=text("holder"),
            token=text("token"),
            expires=number("expires"),
            idle_since=number("idle_since"),
            created=number("created"),
            creation_seconds=number("creation_seconds"),
            clean=bool((item.get("clean") or {}).get("BOOL", False)),
            version=int(number("version")),
            released=text("released"),
            facts=json.loads(text("facts") or "{}"),
            baseline=json.loads(text("baseline") or "{}"),
        )


def _number(value: float) -> str:
    return f"{value:.3f}"


def facts_as_dict(facts: Any) -> dict[str, Any]:
    """A kind's facts dataclass as plain JSON-able values (nested facts, a dead-letter queue's, included)."""
    return dataclasses.asdict(facts)


def facts_from_dict(facts_type: type[Any], values: Mapping[str, Any]) -> Any:
    """The facts dataclass back from :func:`facts_as_dict` (a nested dict of the same fields is the same type)."""
    fields = {f.name for f in dataclasses.fields(facts_type)}
    made = {
        name: facts_from_dict(facts_type, value) if isinstance(value, dict) else value
        for name, value in values.items()
        if name in fields
    }
    return facts_type(**made)
