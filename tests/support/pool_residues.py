"""Pools in the isolation tests: what a holder leaves behind (:class:`Residue`), and the pool helpers.

A :class:`Residue` is one trace a holder can leave in a pooled resource: ``leave(run, handle)`` writes it through
the handle's client (sync or async, via the :class:`~tests.support.runner.Runner`), and the kind's observer is
what the *next* holder runs to look for anything a previous holder left: items in the table and in each of its
indexes, stream records, a TTL or definition change, an extra tag; object versions, delete markers, objects,
uploads, configurations; visible, in-flight or delayed messages, attribute changes, messages in the dead-letter
queue. An observer returns the traces it saw (an empty list: nothing seen). Every residue (``RESIDUES``) and
observer (``OBSERVE``) is in :mod:`tests.support.pool_residue_kinds`.

``expect`` says what the pool must do with the resource after that trace: ``"recycled"`` (emptied and handed out
again: same name) or ``"discarded"`` (a different resource handed out). ``needs`` names the feature of
:data:`tests.support.target_env.FEATURES` that leaving or seeing the trace takes: on a target that lacks it, the
residue is skipped.

:class:`PoolTarget` is where a pool test runs (the ``pool_target`` fixture of ``tests/conftest.py``): the test
module's own moto server, or the target the run was started with (third-party emulators shared with other tests).
:func:`open_pool` opens a sync or async pool on the runner's front door, :func:`lease` enters one of its blocks,
:func:`no_recycling` replaces a kind's recycling plan by one that proves nothing and empties nothing (the
sabotage that shows an isolation test can fail).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sandboxres._kinds import KINDS
from sandboxres._kinds.base import RecycleLimits
from tests.support.inventory import Inventory
from tests.support.runner import Runner

FAST = RecycleLimits(settle_seconds=0.2)
GONE_WITHIN = 30.0  # seconds a shared target may take to forget what the pool deleted (dynalite: DELETING)
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
    needs: str | None = None  # the feature (tests.support.target_env.FEATURES) leaving or seeing it takes

    @property
    def label(self) -> str:
        return "iso" + self.kind[0]


@dataclass(frozen=True)
class PoolTarget:
    """Where a pool test runs, and ``look``: what the target holds, seen with clients of the tests' own.

    ``shared`` is false on the test module's own moto server (emptied around each test: nothing with the library's
    prefixes may be left on it at all), true on the target the run was started with, which other tests (other
    workers) use at the same time: there, each test's labels carry its case (:meth:`label`) and only what carries
    them must be gone."""

    look: Inventory
    shared: bool

    def label(self, base: str, *case: str) -> str:
        """``base`` on the module's own server; on a shared target, ``base`` with ``case`` (what tells this test and
        its mode from the others), so that no other test uses the label at the same time."""
        if not self.shared:
            return base
        return "_".join([base, *case]).replace("-", "_")

    def assert_nothing_left(self, *labels: str) -> None:
        """Nothing the pool made is left: nothing prefixed at all on the module's server; nothing carrying one of
        ``labels`` on a shared target (waiting up to ``GONE_WITHIN`` for deletions under way to end)."""
        if not self.shared:
            assert not self.look.prefixed_names(), "the pool left resources behind"
            return
        deadline = time.monotonic() + GONE_WITHIN
        while True:
            left = [found for label in labels for found in self.look.leftovers(f"test_{label}_")]
            if not left:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the pool left resources behind: {left}")
            time.sleep(0.5)


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
