"""The consumer fed from the orders table's stream, read with ``table.stream_records``: every shard, from the
beginning, until the expected records arrived. Passes on the emulators, on ``SANDBOXRES_TARGET=simulated`` and on
AWS, unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stream_consumer import TotalsConsumer


def test_orders_add_up_per_customer(orders: Any, consumer: TotalsConsumer) -> None:
    orders.put_items(
        [
            {"order": "o1", "customer": "ada", "amount": Decimal("10.50")},
            {"order": "o2", "customer": "ada", "amount": Decimal("4.50")},
            {"order": "o3", "customer": "bob", "amount": Decimal("7")},
        ]
    )
    assert consumer.apply(orders.stream_records(count=3)) == 3
    assert consumer.total("ada") == (2, Decimal("15.00"))
    assert consumer.total("bob") == (1, Decimal("7"))


def test_changes_and_removals_follow_the_orders(orders: Any, consumer: TotalsConsumer) -> None:
    orders.table.put_item(Item={"order": "o1", "customer": "ada", "amount": Decimal("10")})
    orders.table.put_item(Item={"order": "o1", "customer": "ada", "amount": Decimal("12")})
    orders.table.put_item(Item={"order": "o2", "customer": "ada", "amount": Decimal("3")})
    orders.table.delete_item(Key={"order": "o2"})

    records = orders.stream_records(count=4)
    assert [r["eventName"] for r in records if r["dynamodb"]["Keys"]["order"]["S"] == "o1"] == ["INSERT", "MODIFY"]
    consumer.apply(records)
    assert consumer.total("ada") == (1, Decimal("12"))
