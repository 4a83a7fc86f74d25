"""Pools in the isolation tests: what a holder leaves behind (:class:`Residue`), and the pool helpers.

A :class:`Residue` is one trace a holder can leave in a pooled resource: ``leave(run, handle)`` writes it through
the handle's client (sync or async, via the :class:`~tests.support.runner.Runner`), and the kind's observer is
what the *next* holder runs to look for anything a previous holder left: items in the table and in each of its
indexes, stream records, a TTL or definition change, an extra tag; object versions, delete markers, objects,
uploads, configurations; visible, in-flight or delayed messages, attribute changes, messages in the dead-letter
queue. An observer returns the traces it saw (an empty list: nothing seen). Every residue (``RESIDUES``) and
observer (``OBSERVE``) is in :mod:`tests.support.pool_residue_kinds`.

``expect`` says what the pool must do with the resource after that trace: ``"recycled"`` (emptied and handed out
again: same name) or ``"discarded"`` (a different resource handed out).

:func:`open_pool` opens a sync or async pool on the runner's front door, :func:`lease` enters one of its blocks,
:func:`no_recycling` replaces a kind's recycling plan by one that proves nothing and empties nothing (the
sabotage that shows an isolation test can fail).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sandboxres._kinds import KINDS
from sandboxres._kinds.base import RecycleLimits
from tests.support.runner import Runner

FAST = RecycleLimits(settle_seconds=0.2)
HOLDER_TAG = "holder"  # the tag a holder adds (the pool's own tags are not a trace)
ADDED_INDEX = "added_by_holder"


@dataclass(frozen=True)
class Residue:
    """One trace a holder leaves in a resource of ``kind`` with ``options`` (its shape)."""

    name: str
    kind: str
    leave: Callable[[Runner, Any], None]
    expect: str  # "recycled" or "discarded"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "iso" + self.kind[0]


@contextlib.contextmanager
def open_pool(run: Runner, limits: RecycleLimits = FAST) -> Iterator[Any]:
    """A pool of the runner's front door (``sandboxres.Pool`` or ``sandboxres.aio.Pool``), closed afterwards."""
    pool = run.api.Pool(limits=limits)
    if run.mode == "sync":
        with pool:
            yield pool
        return
    entered = run.run(pool.__aenter__())  # type: ignore[attr-defined]
    try:
        yield entered
    except BaseException as exc:
        run.run(pool.__aexit__(type(exc), exc, exc.__traceback__))  # type: ignore[attr-defined]
        raise
    run.run(pool.__aexit__(None, None, None))  # type: ignore[attr-defined]


def lease(run: Runner, pool: Any, kind: str, label: str, **options: Any) -> contextlib.AbstractContextManager[Any]:
    """One holder's block: ``with lease(run, pool, "table", "users") as handle:``, once the recyclings of the
    previous holders have ended (recycling runs in the background: without this a queue still settling would be
    replaced by a new one, and the holder would not meet the recycled resource the test is about)."""
    pool._engine.settle()
    return run.enter(getattr(pool, kind)(label, **options))


def no_recycling(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """Sabotage: the kind's recycling hands every resource out again, unproven and not emptied."""

    def keep_as_is(*args: Any) -> Any:
        return None
        yield  # a plan: a generator that makes no call

    monkeypatch.setattr(KINDS[kind], "recycle", keep_as_is)
