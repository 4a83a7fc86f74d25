"""Orders in DynamoDB, read back by key and through the customer index."""

from __future__ import annotations

import pytest
from order_service import Order, OrderStore


def test_put_then_get(orders: OrderStore) -> None:
    order = Order("o-1", "alice", "2026-01-01T10:00:00Z", 1250)
    orders.put(order)
    assert orders.get("o-1") == order
    assert orders.get("o-2") is None


def test_an_order_id_is_stored_once(orders: OrderStore) -> None:
    orders.put(Order("o-1", "alice", "2026-01-01T10:00:00Z", 1250))
    with pytest.raises(ValueError, match="exists already"):
        orders.put(Order("o-1", "bob", "2026-01-02T10:00:00Z", 1))


def test_status_changes_and_missing_orders(orders: OrderStore) -> None:
    orders.put(Order("o-1", "alice", "2026-01-01T10:00:00Z", 1250))
    assert orders.set_status("o-1", "paid").status == "paid"
    with pytest.raises(KeyError):
        orders.set_status("o-404", "paid")


def test_orders_of_a_customer_newest_first(orders: OrderStore) -> None:
    for n, customer in enumerate(["alice", "bob", "alice", "alice"]):
        orders.put(Order(f"o-{n}", customer, f"2026-01-0{n + 1}T10:00:00Z", n))
    # the index is eventually consistent on real AWS: retry a few times before concluding
    for _ in range(20):
        found = [o.order_id for o in orders.for_customer("alice")]
        if len(found) == 3:
            break
    assert found == ["o-3", "o-2", "o-0"]
    assert [o.order_id for o in orders.for_customer("carol")] == []
