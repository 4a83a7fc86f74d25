"""Rules: when (service, operations, resource, window, anchor) a fault is injected."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import ProxyRequest

ResourceMatch = str | Callable[[str], bool] | None
Operations = str | Iterable[str] | None


class Window(TypedDict, total=False):
    """The keyword arguments that bound a rule: which resource names, the first ``times`` requests, for
    ``for_seconds`` (see :class:`Rule`)."""

    resource: ResourceMatch
    times: int | None
    for_seconds: float | None


class Scope(Window, total=False):
    """:class:`Window` and an anchor (``after``)."""

    after: str | tuple[str, str] | None


@dataclass
class _Window:
    start: float | None = None
    count: int = 0
    document: dict[str, Any] | None = None


def _operation_set(operations: Operations) -> frozenset[str] | None:
    if operations is None:
        return None
    if isinstance(operations, str):
        return frozenset({operations})
    return frozenset(operations)


class Rule:
    """When (service, operations, resource, window) and what (a :class:`Fault`) to inject.

    ``after`` is an anchor: an operation name of the same service, or a ``(service, operation)`` pair.
    With an anchor the window (``times`` / ``for_seconds``) is kept per resource name and starts when that
    operation succeeds upstream for the name (again on every later success); without one it is global and
    starts at the first application. ``probability`` < 1 applies the rule to a random share of matching
    requests (``seed`` makes it reproducible).
    """

    def __init__(
        self,
        fault: Fault,
        *,
        service: str = "*",
        operations: Operations = None,
        exclude: Operations = None,
        resource: ResourceMatch = None,
        times: int | None = None,
        for_seconds: float | None = None,
        after: str | tuple[str, str] | None = None,
        probability: float = 1.0,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        if times is not None and times < 0:
            raise ValueError("times must be >= 0")
        if for_seconds is not None and for_seconds < 0:
            raise ValueError("for_seconds must be >= 0")
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        self.fault = fault
        self.service = service
        self.operations = _operation_set(operations)
        self.exclude = _operation_set(exclude) or frozenset()
        self.resource = resource
        self.times = times
        self.for_seconds = for_seconds
        if isinstance(after, str):
            if service == "*":
                raise ValueError("an anchor given as an operation name needs a service")
            self.after: tuple[str, str] | None = (service, after)
        else:
            self.after = after
        self.probability = probability
        self._rng = random.Random(seed)
        self.name = name or self._default_name()
        self.hits = 0
        self._global = _Window()
        self._anchors: dict[str, _Window] = {}

    def _default_name(self) -> str:
        operations = ",".join(sorted(self.operations)) if self.operations else "*"
        anchor = f" after {self.after[1]}" if self.after else ""
        return f"{self.service}:{operations}{anchor} -> {self.fault.label}"

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, hits={self.hits})"

    def selects(self, request: ProxyRequest) -> bool:
        if self.service != "*" and request.service != self.service:
            return False
        if self.operations is not None and request.operation not in self.operations:
            return False
        if request.operation in self.exclude:
            return False
        if self.resource is not None:
            if request.resource is None:
                return False
            if isinstance(self.resource, str):
                if request.resource != self.resource:
                    return False
            elif not self.resource(request.resource):
                return False
        return True

    def _claim(self, request: ProxyRequest, now: float) -> Trigger | None:
        """Called under the proxy lock: does the rule apply to this request? Counts it if so."""
        if not self.selects(request):
            return None
        if self.after is not None:
            if request.resource is None:
                return None
            window = self._anchors.get(request.resource)
            if window is None:
                return None
        else:
            window = self._global
        if self.times is not None and window.count >= self.times:
            return None
        if self.for_seconds is not None and window.start is not None and now - window.start >= self.for_seconds:
            return None
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return None
        if window.start is None:
            window.start = now
        window.count += 1
        self.hits += 1
        return Trigger(self, window.start if self.after else None, window.document)

    def _anchor_event(self, service: str, operation: str, resource: str | None, document: Any, now: float) -> None:
        """Called under the proxy lock after an upstream success."""
        if self.after != (service, operation) or resource is None:
            return
        if self.resource is not None:
            if isinstance(self.resource, str) and resource != self.resource:
                return
            if callable(self.resource) and not self.resource(resource):
                return
        self._anchors[resource] = _Window(start=now, document=document if isinstance(document, dict) else None)

    @property
    def exhausted(self) -> bool:
        """True when an unanchored rule can no longer apply (its ``times`` or ``for_seconds`` ran out)."""
        if self.after is not None:
            return False
        if self.times is not None and self._global.count >= self.times:
            return True
        start = self._global.start
        return self.for_seconds is not None and start is not None and time.monotonic() - start >= self.for_seconds
