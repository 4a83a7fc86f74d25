"""The FIFO dispatcher: order per customer, duplicates dropped, failures to the dead-letter queue."""

from __future__ import annotations

from typing import Any

import pytest
from order_service import Dispatcher, Order


def _order(n: int, customer: str = "alice", status: str = "new") -> Order:
    return Order(f"o-{n}", customer, f"2026-01-01T10:00:0{n}Z", n, status)


def test_orders_of_a_customer_arrive_in_order_and_once(dispatcher: Dispatcher) -> None:
    for n in range(4):
        dispatcher.dispatch(_order(n))
    dispatcher.dispatch(_order(1))  # the same order and status again: deduplicated
    seen: list[str] = []
    for _ in range(10):
        dispatcher.process(lambda order: seen.append(order.order_id), wait_seconds=1)
        if len(seen) >= 4:
            break
    assert seen == ["o-0", "o-1", "o-2", "o-3"]


def test_an_order_that_keeps_failing_ends_in_the_dead_letter_queue(
    dispatcher: Dispatcher, dispatch_queue: Any
) -> None:
    def fail(order: Order) -> None:
        raise RuntimeError(f"cannot handle {order.order_id}")

    dispatcher.dispatch(_order(7, "bob"))
    failures = 0
    dead: list[str] = []
    for _ in range(10):
        failures += dispatcher.process(fail, wait_seconds=1)[1]
        dead = [order.order_id for order in dispatcher.dead_letters(dispatch_queue.dead_letter.url)]
        if dead:
            break
    assert dead == ["o-7"]
    # at most maxReceiveCount attempts (SQS moves it on the receive after the 2nd; some emulators after the 1st)
    assert 1 <= failures <= 2
    assert dispatcher.process(fail, wait_seconds=0) == (0, 0)


def test_only_fifo_queues(sandboxres_queue: Any) -> None:
    with pytest.raises(ValueError, match="FIFO"):
        Dispatcher(sandboxres_queue("plain").url)
