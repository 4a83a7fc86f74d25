"""The pool's bookkeeping without I/O (``PoolState``): what a caller is handed, and the choice between waiting
for a resource on its way and creating one, by measured costs."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from sandboxres._doors.pool_state import FACTOR, GRACE, Coming, Pooled, PoolState

SHAPE = ("table", "users")
OTHER = ("table", "orders")


def _coming(state: PoolState, recycling: bool, started: float = 0.0, estimate: float = 0.0) -> Coming:
    coming = Coming(Future(), recycling, started, estimate)
    state.expect(SHAPE, coming)
    return coming


def _pooled(name: str = "a") -> Pooled:
    return Pooled(resource=name, shape=SHAPE)


def _idle_after(state: PoolState, coming: Coming, result: Any) -> bool:
    coming.future.set_result(result)
    return state.arrived(SHAPE, coming)


def test_nothing_there_means_create() -> None:
    assert PoolState().take(SHAPE, now=0.0) is None


def test_an_idle_resource_comes_first_and_only_for_its_shape() -> None:
    state = PoolState()
    recycling = _coming(state, recycling=True)
    assert _idle_after(state, recycling, _pooled())
    assert state.take(OTHER, now=0.0) is None
    taken = state.take(SHAPE, now=0.0)
    assert isinstance(taken, Pooled) and taken.resource == "a"
    assert state.take(SHAPE, now=0.0) is None  # handed out once


def test_a_preparation_is_always_worth_waiting_for_and_is_claimed_once() -> None:
    state = PoolState()
    state.measured(SHAPE, recycling=False, seconds=0.001)  # creating is cheap...
    preparing = _coming(state, recycling=False)
    assert state.take(SHAPE, now=100.0) is preparing  # ...but it started before any new creation could
    assert state.take(SHAPE, now=100.0) is None
    assert not _idle_after(state, preparing, _pooled())  # claimed: it does not also become idle
    assert state.take(SHAPE, now=100.0) is None


def test_a_recycling_is_waited_for_before_anything_is_measured() -> None:
    state = PoolState()
    recycling = _coming(state, recycling=True, estimate=6.0)
    assert state.take(SHAPE, now=0.0) is recycling


def test_a_recycling_slower_than_creating_is_not_waited_for_and_becomes_idle() -> None:
    state = PoolState()
    state.measured(SHAPE, recycling=False, seconds=0.02)
    recycling = _coming(state, recycling=True, started=0.0, estimate=6.0)  # a queue: settle time + a long poll
    assert state.take(SHAPE, now=0.5) is None  # create anew
    assert _idle_after(state, recycling, _pooled())  # the next caller gets it
    assert isinstance(state.take(SHAPE, now=7.0), Pooled)


def test_the_measured_mean_replaces_the_estimate_and_elapsed_time_counts() -> None:
    state = PoolState()
    creation = 1.0
    state.measured(SHAPE, recycling=False, seconds=creation)
    limit = creation * FACTOR + GRACE
    state.measured(SHAPE, recycling=True, seconds=limit + 1.0)  # slower than the bias allows...
    recycling = _coming(state, recycling=True, started=10.0, estimate=0.0)
    assert state.take(SHAPE, now=10.0) is None
    assert state.take(SHAPE, now=11.5) is recycling  # ...until less than the limit remains of it


def test_similar_costs_keep_reusing() -> None:
    state = PoolState()
    state.measured(SHAPE, recycling=False, seconds=0.015)
    state.measured(SHAPE, recycling=True, seconds=0.025)  # a bit slower than a creation: still reused
    recycling = _coming(state, recycling=True, started=0.0)
    assert state.take(SHAPE, now=0.0) is recycling


def test_a_discarded_or_failed_arrival_is_not_idle() -> None:
    state = PoolState()
    discarded = _coming(state, recycling=True)
    assert _idle_after(state, discarded, None)
    failed = _coming(state, recycling=False)
    failed.future.set_exception(RuntimeError("creation failed"))
    assert state.arrived(SHAPE, failed)
    assert state.take(SHAPE, now=0.0) is None


def test_drain_closes_and_hands_over_everything() -> None:
    state = PoolState()
    idle = _coming(state, recycling=True)
    _idle_after(state, idle, _pooled("idle"))
    on_its_way = _coming(state, recycling=False)
    drained_idle, drained_coming = state.drain()
    assert state.closed
    assert [p.resource for p in drained_idle] == ["idle"] and drained_coming == [on_its_way]
    assert not _idle_after(state, on_its_way, _pooled("late"))  # whoever closed has it
    assert state.take(SHAPE, now=0.0) is None
