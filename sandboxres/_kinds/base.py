"""What every resource kind provides, so that the rest of the library iterates kinds instead of naming them.

A kind (``sandboxres._kinds.table``, ``.bucket``, ``.queue``) is one :class:`ResourceKind` object holding all
that is particular to it: its spec, names, create/ready/delete plans, tag reading (the ownership check), listing
(the sweeper), handle, the SDK services it needs, the IAM permissions of its operations (the generated policy),
and the probe and verification of ``sandboxres doctor`` / ``check``. It is registered in
``sandboxres._kinds.KINDS``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sandboxres._engine.naming import NameRules
from sandboxres._engine.plans import Progress
from sandboxres._engine.steps import Plan
from sandboxres._engine.wiring import HandleContext
from sandboxres._kinds.permissions import Operations, PolicyScope


@dataclass(frozen=True)
class Spec:
    """What every resource spec has: the kind, a label, its readiness deadline and whether to keep it."""

    kind: str = field(init=False)
    label: str
    timeout: float
    keep: bool | None


@dataclass
class Facts:
    """What is known of one resource: its name, and what its create call and readiness probes told."""

    name: str


SpecT = TypeVar("SpecT", bound=Spec)
FactsT = TypeVar("FactsT", bound=Facts)


@dataclass(frozen=True)
class RecycleLimits:
    """How much a recycling may cost before the resource is discarded instead (deleted and made anew)."""

    max_deletions: int = 1000  # items, object versions, markers, uploads: beyond it, creating anew is cheaper
    settle_seconds: float = 5.0  # how long an eventually consistent view (index, queue counters) may lag


@dataclass(frozen=True)
class Listed:
    """A resource a listing found (with the library's prefix), and what the listing told of it."""

    facts: Facts
    region: str | None = None
    created: datetime | None = None  # the service's creation time, where the listing gives it (S3)


class ResourceKind(ABC, Generic[SpecT, FactsT]):
    """One kind of resource. Subclasses set the class attributes and write the plans."""

    name: ClassVar[str]
    service: ClassVar[str]  # the SDK service of its client (and of its lifecycle calls)
    names: ClassVar[NameRules]
    default_timeout: ClassVar[float]  # readiness deadline unless timeout= or SANDBOXRES_<KIND>_TIMEOUT
    resource: ClassVar[tuple[str, str] | None] = None  # (service, factory) of the handle's resource object
    bounded: ClassVar[bool] = False  # creates and deletes hold a slot of the process-wide table-operation bound
    spec_factory: ClassVar[Callable[..., Any]]
    facts_type: type[FactsT]
    operations: ClassVar[Operations]  # every SDK operation on it (library and typical test use) -> IAM permissions
    policy: ClassVar[PolicyScope]  # the policy's statements and ARN patterns for its names

    def services(self, spec: SpecT) -> tuple[str, ...]:
        """The SDK services the create plan of ``spec`` calls."""
        return (self.service,)

    def expected(self, spec: SpecT, scope: str) -> FactsT:
        """New unique names for ``spec`` (``scope``: the pytest-xdist worker id), before anything is sent."""
        return self.named(self.names.make(spec.label, scope=scope))

    def named(self, name: str) -> FactsT:
        """What is known of a resource found by name alone."""
        return self.facts_type(name)

    # The kind's plans (pure functions of its home's plans.py):
    # create(spec, facts, tags, region, progress): create, wait until usable, configure; fills in and returns facts
    create: Callable[[SpecT, FactsT, Mapping[str, str], str | None, Progress], Plan[FactsT]]
    # delete(facts, progress, timeout): delete by name (and what facts knew); no step retries beyond timeout
    delete: Callable[[FactsT, Progress, float], Plan[None]]
    # read_tags(facts): the tags ({} when none), or None when the resource does not exist (anymore)
    read_tags: Callable[[FactsT], Plan[dict[str, str] | None]]
    # listing(): every resource of the kind whose name has the library's prefix, all pages
    listing: Callable[[], Plan[list[Listed]]]

    @abstractmethod
    def handle(
        self, facts: FactsT, client: Any, make_resource: Callable[[], Any], context: HandleContext | None = None
    ) -> Any:
        """The handle a ``with`` block receives (the async one when ``context.is_async``); ``context`` gives its
        helpers a way to run their plans."""

    # Recycling (pools): baseline(facts) reads what the new resource looks like (configuration, attributes, tags),
    # right after its creation; recycle(spec, facts, baseline, limits) empties it and proves it clean: None when it
    # may be handed out again, else why it must be discarded. A failed call raises (the pool then discards it).
    baseline: Callable[[FactsT], Plan[dict[str, Any]]]
    recycle: Callable[[SpecT, FactsT, Mapping[str, Any], RecycleLimits], Plan[str | None]]
    # probe(client): the cheapest call proving the service answers (``sandboxres doctor``), one the generated
    # policy grants, with a client of ``service``; raises what the call raised
    probe: Callable[[Any], None]
    # verify(handle): a real write read back through the handle (``sandboxres check``); AssertionError if it differs
    verify: Callable[[Any], None]

    def count(self, facts: FactsT) -> int:
        """How many resources the counters see in this one (a queue with a dead-letter queue is two)."""
        return 1

    def recycle_estimate(self, spec: SpecT, limits: RecycleLimits) -> float:
        """The least time a recycling of ``spec``'s shape takes, known before any was measured (a pool weighs it
        against a creation's measured time to decide whether to wait for a recycling or to create anew)."""
        return 0.0

    def new_name(self, label: str, scope: str = "", **options: Any) -> str:
        return self.names.make(label, scope=scope)

    def __repr__(self) -> str:
        return f"<kind {self.name}>"


def tag_dict(pairs: Any, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` as ``{k: v}``."""
    return {str(pair[key]): str(pair.get(value, "")) for pair in pairs or []}


AnyKind = ResourceKind[Any, Any]
Kinds = Mapping[str, AnyKind]
