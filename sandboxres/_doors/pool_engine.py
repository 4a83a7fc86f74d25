"""The pool engine: creating, handing out, recycling (in the background), discarding and deleting pooled resources,
with the sync driver in the pool's threads. Both pools (``sandboxres.Pool`` and ``sandboxres.aio.Pool``) drive it;
``pool_state`` keeps its bookkeeping, ``pool_warm`` what a warm pool does differently.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from sandboxres._doors.lifecycle import report_many
from sandboxres._doors.pool_state import Coming, KindCounters, Pooled, PoolState, Shape, shape_of
from sandboxres._doors.pool_warm import WarmSide
from sandboxres._doors.sync import Ephemeral
from sandboxres._engine.errors import CleanupError
from sandboxres._engine.plans import TAG_POOLED
from sandboxres._engine.wiring import then
from sandboxres._kinds import Spec, kind_of
from sandboxres._kinds.base import RecycleLimits
from sandboxres._safety.signals import armed

log = logging.getLogger("sandboxres")


class PoolEngine:
    """Creation, recycling and deletion of pooled resources with the sync driver (threads). The async pool drives
    this same engine off its event loop.

    A holder's resource is recycled in the background: giving it back returns at once, and the resource joins the
    idle ones when its recycling proves it clean (or is discarded). A caller asking for that shape meanwhile waits
    for the recycling or creates anew, whichever the measured costs say is sooner (see ``PoolState``).
    """

    def __init__(self, limits: RecycleLimits | None = None, max_workers: int = 8, warm: bool = False) -> None:
        self.limits = limits or RecycleLimits()
        self.state = PoolState()
        self.warm = WarmSide(warm, self.state)
        self._expiring = False
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sandboxres-pool")
        # Each job has threads of its own (started as needed), so that none waits behind another: async holders wait
        # for their resource in the acquirers, never in the threads that create it; a recycling a holder waits for
        # never queues behind creations or deletions (seconds each on AWS)
        self._acquirers = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sandboxres-pool-acquire")
        self._recyclers = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sandboxres-pool-recycle")
        self._deleters = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sandboxres-pool-delete")
        self._closing = threading.Event()  # ends the recyclings in progress when the pool closes
        self._recyclings: list[Future[Pooled | None]] = []
        self._discards: list[Future[CleanupError | None]] = []
        self._left_by_preparations: list[CleanupError] = []  # what failed preparations could not delete
        # The pool's threads register what they create, and only the main thread can install the SIGTERM handler
        # (a registration from another thread cannot): held from here (the main thread, as a rule) until close,
        # so that a SIGTERM runs the cleanup instead of killing the process with everything the pool holds.
        self._sigterm = contextlib.ExitStack()
        self._sigterm.enter_context(armed())

    def create(self, spec: Spec) -> Pooled:
        """A new resource of ``spec``'s shape, tagged as pooled, with the baseline its recycling compares to."""
        resource: Ephemeral[Any] = Ephemeral(spec)
        resource.lifecycle.extra_tags[TAG_POOLED] = "true"
        started = time.monotonic()
        resource.create()
        pooled = Pooled(resource, shape_of(spec))
        try:
            pooled.baseline = resource._run(kind_of(spec).baseline(resource.lifecycle.facts))
        except BaseException as exc:
            resource.lifecycle.report(exc, resource._delete_now())
            raise
        seconds = pooled.creation_seconds = time.monotonic() - started
        self.state.measured(pooled.shape, False, seconds)

        def counted(counters: KindCounters) -> None:
            counters.created += 1
            counters.creation_seconds += seconds

        self.state.count(spec.kind, counted)
        return pooled

    def prepare(self, spec: Spec, count: int) -> None:
        """Create ``count`` resources of ``spec``'s shape in the background."""
        shape = shape_of(spec)
        for _ in range(count):
            self._expect(shape, self._executor.submit(self._obtain, spec), recycling=False)

    def _obtain(self, spec: Spec) -> Pooled:
        """A resource leased from the warm pool, else a new one (recorded in the warm pool, if any)."""
        if self.warm.wanted and not self._expiring:
            self._expiring = True
            self._executor.submit(self.warm.expire_idle)
        pooled = self.warm.lease(spec, self._verdict, self._discard)
        if pooled is None:
            pooled = self.create(spec)
            self.warm.record(pooled)
        return pooled

    def _expect(self, shape: Shape, future: Future[Any], recycling: bool, estimate: float = 0.0) -> None:
        coming = Coming(future, recycling, time.monotonic(), estimate)
        self.state.expect(shape, coming)
        future.add_done_callback(lambda _: self._arrived(shape, coming))

    def _arrived(self, shape: Shape, coming: Coming) -> None:
        if self.state.arrived(shape, coming) and coming.future.exception() is not None:
            log.error("preparing a pooled %s failed: %s", shape[0], coming.future.exception())
            self._left_by_preparations += _cleanup_errors(coming.future.exception())

    def acquire(self, spec: Spec) -> Pooled:
        """An idle resource of ``spec``'s shape, else one on its way if that is sooner, else a new one."""
        shape = shape_of(spec)
        while True:
            if self.state.closed:
                raise RuntimeError("the pool is closed")
            found = self.state.take(shape)
            if found is None:
                pooled = self._obtain(spec)
                break
            if isinstance(found, Pooled):
                pooled = found
                break
            arrived = found.future.result()  # raises what a creation raised; None: the recycling discarded it
            if arrived is not None and self.state.closed:  # it arrived after the pool closed: nobody else has it
                self._discard(arrived, "the pool is closed", now=True)
                raise RuntimeError("the pool is closed")
            if arrived is not None:
                pooled = arrived
                break
        if pooled.holders:
            self.state.count(spec.kind, _recycled)
        pooled.holders += 1
        return pooled

    def give_back(self, pooled: Pooled, interrupted: bool = False) -> None:
        """Recycle the resource for the next holder in the background, or discard it (at once when its holder was
        interrupted or the pool is closed): never hand it out dirty."""
        pooled.clean = False
        if self.warm.lost(pooled):  # its lease expired and another run took it over: not ours to touch
            return
        if not interrupted and not self.state.closed:
            lifecycle = pooled.resource.lifecycle
            estimate = kind_of(lifecycle.spec).recycle_estimate(lifecycle.spec, self.limits)
            with contextlib.suppress(RuntimeError):  # the executor is shut down: the pool closed meanwhile
                future = self._recyclers.submit(self._recycle, pooled)
                self._recyclings.append(future)
                self._expect(pooled.shape, future, recycling=True, estimate=estimate)
                return
        self._discard(pooled, "its holder was interrupted" if interrupted else "the pool is closed", now=True)

    def discard_later(self, pooled: Pooled) -> None:
        """Discard a resource whose holder is gone before using it (a cancelled acquisition), in the background."""
        self._discard(pooled, "its acquisition was cancelled")

    def _discard(self, pooled: Pooled, reason: str, now: bool = False) -> None:
        log.info("discarding %s: %s", pooled.resource.lifecycle.resource, reason)
        self.state.count(pooled.resource.lifecycle.spec.kind, _discarded)
        if now:
            pooled.resource.lifecycle.report(None, self._delete(pooled))
        else:
            self._discards.append(self._deleters.submit(self._delete, pooled))
            if self.warm.leases is not None and not self.state.closed:  # a warm pool keeps its size
                with contextlib.suppress(RuntimeError):  # closed meanwhile
                    self.prepare(pooled.resource.lifecycle.spec, 1)

    def _delete(self, pooled: Pooled) -> CleanupError | None:
        failure: CleanupError | None = pooled.resource._delete_now()
        if failure is None:
            self.warm.forget(pooled)
        return failure

    def _verdict(self, pooled: Pooled) -> str | None:
        """Run the kind's recycling: None when the resource is proven clean, else why to discard it."""
        lifecycle = pooled.resource.lifecycle
        plan = kind_of(lifecycle.spec).recycle(lifecycle.spec, lifecycle.facts, pooled.baseline, self.limits)
        if len(lifecycle.wirings):  # the holder's subscriptions, notifications, policy statements: undone first
            plan = then(lifecycle.wirings.undo_plan(), plan)
        try:
            reason: str | None = pooled.resource._run(plan, stop=self._closing)
        except Exception as exc:  # the resource's state is unknown: discard it, and say why
            if not self._closing.is_set():
                log.warning("recycling %s failed (%s: %s): discarding it", lifecycle.resource, type(exc).__name__, exc)
            return f"recycling failed ({type(exc).__name__})"
        return reason

    def _recycle(self, pooled: Pooled) -> Pooled | None:
        """The resource proven clean, or None when discarded (its deletion runs in the background)."""
        started = time.monotonic()
        reason = self._verdict(pooled)
        if self._closing.is_set():  # stopped early: whatever it concluded, the pool deletes (or releases) it
            return pooled
        self.state.measured(pooled.shape, True, time.monotonic() - started)
        if reason is None:
            pooled.clean = True
            return pooled
        self._discard(pooled, reason)
        return None

    def settle(self) -> None:
        """Wait until every recycling and discard in progress has ended (the idle resources are then all there
        are)."""
        while True:
            futures: list[Future[Any]] = [*self._recyclings, *self._discards]
            pending = [f for f in futures if not f.done()]
            if not pending:
                return
            wait(pending)

    def close(self, primary: BaseException | None = None) -> None:
        """Delete everything the pool holds (after the creations in progress; recyclings in progress are
        stopped); report every failure at once."""
        idle, coming = self.state.drain()
        if self.warm.leases is None:  # in-run: the resources are deleted anyway
            self._closing.set()
        # warm: recyclings in progress finish, so that their resources are released clean for the next run
        self._acquirers.shutdown(wait=True)
        failures: list[CleanupError | None] = []
        for each in coming:
            try:
                arrived = each.future.result()
            except BaseException as exc:  # its creation cleaned up after itself; what it could not delete is reported
                failures += _cleanup_errors(exc)
                continue
            if arrived is not None:
                idle.append(arrived)
        wait(self._recyclings)  # claimed ones too: a discard is submitted before its recycling ends
        idle = [pooled for pooled in idle if not self.warm.lost(pooled)]
        released = list(self._executor.map(self.warm.release, idle))  # warm: left for a later run
        unreleased = [pooled for pooled, kept in zip(idle, released, strict=True) if not kept]
        failures += list(self._deleters.map(self._delete, unreleased))
        done, _ = wait(self._discards)
        failures += [future.result() for future in done]
        for threads in (self._executor, self._recyclers, self._deleters):
            threads.shutdown(wait=True)
        self.warm.close()
        self._sigterm.close()
        report_many(primary, [*self._left_by_preparations, *failures])


def _cleanup_errors(exc: BaseException | None) -> list[CleanupError]:
    """The cleanup failures attached to a failed creation (its resource could not be deleted)."""
    return list(getattr(exc, "sandboxres_cleanup_errors", []))


def _recycled(counters: KindCounters) -> None:
    counters.recycled += 1


def _discarded(counters: KindCounters) -> None:
    counters.discarded += 1
