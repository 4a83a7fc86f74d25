"""Keeps each customer's order count and total in a totals table, from the stream records of an orders table
(``NEW_AND_OLD_IMAGES``): an insert adds the order, a modification adds the difference, a removal takes it away.
Records are applied in the order the stream gives per key, as a Lambda trigger would receive them."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any


def _amount(image: dict[str, Any] | None) -> Decimal:
    return Decimal(image["amount"]["N"]) if image else Decimal(0)


class TotalsConsumer:
    def __init__(self, totals: Any) -> None:
        self.totals = totals  # a DynamoDB Table resource keyed by "customer"

    def apply(self, records: Iterable[dict[str, Any]]) -> int:
        """Apply stream records (as GetRecords returns them); returns how many were applied."""
        applied = 0
        for record in records:
            change = record["dynamodb"]
            old, new = change.get("OldImage"), change.get("NewImage")
            customer = (new or old or {})["customer"]["S"]
            orders = {"INSERT": 1, "MODIFY": 0, "REMOVE": -1}[record["eventName"]]
            self.totals.update_item(
                Key={"customer": customer},
                UpdateExpression="ADD #orders :orders, #total :total",
                ExpressionAttributeNames={"#orders": "orders", "#total": "total"},
                ExpressionAttributeValues={":orders": orders, ":total": _amount(new) - _amount(old)},
            )
            applied += 1
        return applied

    def total(self, customer: str) -> tuple[int, Decimal]:
        """(orders, total) of ``customer``, read consistently."""
        item = self.totals.get_item(Key={"customer": customer}, ConsistentRead=True).get("Item") or {}
        return int(item.get("orders", 0)), Decimal(item.get("total", 0))
