"""Wirings: what a handle's helper set up between resources (a subscription, a bucket's notification
configuration, a policy statement granting a service the right to send), to be undone before the resources go.

A wiring is registered with every resource it involves; the first of them to end (deleted, or handed back to a
pool) undoes it, once, in the reverse order of setting up, before its own deletion. Undoing is a plan like every
other lifecycle step (``sandboxres._engine.steps``); a resource already gone counts as undone. The failures of
several undoings are collected: each is tried, then they are raised together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandboxres._engine.errors import CleanupError
from sandboxres._engine.steps import Plan

T = TypeVar("T")


@dataclass(eq=False)
class Wiring:
    """One thing set up between resources (``what`` names it in errors), and the plan that undoes it."""

    what: str
    undo: Callable[[], Plan[None]]
    done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self) -> bool:
        """True for the one caller that is to undo it (the first resource of the wiring to end)."""
        with self._lock:
            if self.done:
                return False
            self.done = True
            return True


class Wirings:
    """The wirings one resource takes part in, newest last."""

    def __init__(self) -> None:
        self._items: list[Wiring] = []
        self._lock = threading.Lock()

    def add(self, wiring: Wiring) -> None:
        with self._lock:
            self._items.append(wiring)

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for wiring in self._items if not wiring.done)

    def undo_plan(self) -> Plan[None]:
        """Undo every wiring not undone yet, newest first; the failures together as one CleanupError."""
        with self._lock:
            items, self._items = self._items, []
        errors: list[Exception] = []
        for wiring in reversed(items):
            if not wiring.claim():
                continue
            try:
                yield from wiring.undo()
            except Exception as exc:
                errors.append(exc)
        if errors:
            names = ", ".join(sorted({w.what for w in items if w.done}))
            raise CleanupError(f"the wiring ({names})", errors)


def wired(
    what: str, undo: Callable[[], Plan[None]], contexts: Iterable[HandleContext | None], setup: Plan[T]
) -> Plan[T]:
    """Run ``setup`` as one wiring: registered (``what``, ``undo``) with the contexts of every resource it involves
    before any change, undone at once when ``setup`` fails (then its error is raised; an undoing that fails too is
    registered again, for the resources' end)."""
    involved = [context for context in contexts if context is not None]
    wiring = Wiring(what, undo)
    for context in involved:
        context.wirings.add(wiring)
    try:
        return (yield from setup)
    except Exception:  # not BaseException: an interrupted plan is closed, and its resources' end undoes it
        if wiring.claim():
            try:
                yield from undo()
            except Exception:
                again = Wiring(what, undo)
                for context in involved:
                    context.wirings.add(again)
        raise


def then(first: Plan[None], plan: Plan[Any]) -> Plan[Any]:
    """``first``, then ``plan`` even when ``first`` failed (its error is raised after ``plan`` ran)."""
    pending: Exception | None = None
    try:
        yield from first
    except Exception as exc:
        pending = exc
    result = yield from plan
    if pending is not None:
        raise pending
    return result


@dataclass(frozen=True)
class HandleContext:
    """What a handle's helpers need besides the handle's own attributes: a way to run their plans (the front
    door's driver: ``run(plan)`` returns the result, or an awaitable in the async API) and the resource's
    wirings. ``is_async`` chooses the handle class (the async one's helpers are coroutines)."""

    run: Callable[[Plan[Any]], Any]
    wirings: Wirings
    is_async: bool = False
    region: str | None = None
    target_kind: str = "embedded"  # the target's kind (Target.kind: "embedded", "emulator", "simulated", "aws")


def run_helper(context: HandleContext | None, plan: Plan[Any]) -> Any:
    """Run a handle helper's ``plan`` with the handle's front door (the value, or an awaitable in the async API)."""
    if context is None:
        plan.close()
        raise RuntimeError("this handle was not made by sandboxres (ephemeral_*, a pool, a fixture): it has no helpers")
    return context.run(plan)
