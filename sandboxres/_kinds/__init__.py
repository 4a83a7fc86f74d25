"""The resource kinds, one home each, and the one table of them that the rest of the library iterates.

Adding a kind: a package here with its spec, plans, handle and :class:`~sandboxres._kinds.base.ResourceKind`
object, and one entry in :data:`KINDS` (see docs/architecture.md).
"""

from __future__ import annotations

from sandboxres._engine.errors import SpecError
from sandboxres._kinds.base import AnyKind, Facts, Listed, ResourceKind, Spec
from sandboxres._kinds.bucket import BUCKET
from sandboxres._kinds.queue import QUEUE
from sandboxres._kinds.table import TABLE
from sandboxres._kinds.topic import TOPIC

KINDS: dict[str, AnyKind] = {kind.name: kind for kind in (TABLE, BUCKET, QUEUE, TOPIC)}
KIND_NAMES: tuple[str, ...] = tuple(KINDS)


def kind_named(name: str) -> AnyKind:
    """The kind called ``name`` (``"table"``...); SpecError naming the known ones otherwise."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise SpecError(f"unknown resource kind {name!r}: one of {', '.join(KIND_NAMES)}") from None


def kind_of(spec: Spec) -> AnyKind:
    return KINDS[spec.kind]


def services() -> tuple[str, ...]:
    """The SDK services of every kind's client, in the order of :data:`KINDS`."""
    return tuple(dict.fromkeys(kind.service for kind in KINDS.values()))


__all__ = [
    "KINDS",
    "KIND_NAMES",
    "AnyKind",
    "Facts",
    "Listed",
    "ResourceKind",
    "Spec",
    "kind_named",
    "kind_of",
    "services",
]
