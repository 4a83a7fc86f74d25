"""Orders in DynamoDB: key ``order_id``; the ``by_customer`` index (``customer_id``, ``created_at``) lists a
customer's orders, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

_dynamodb = boto3.resource("dynamodb")  # built once, when the module is imported

BY_CUSTOMER = "by_customer"


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    created_at: str
    total_cents: int
    status: str = "new"


class OrderStore:
    """Orders in the table ``table_name``."""

    def __init__(self, table_name: str) -> None:
        self.table: Any = _dynamodb.Table(table_name)

    def put(self, order: Order) -> None:
        """Store a new order; an existing ``order_id`` is refused (ValueError)."""
        try:
            self.table.put_item(
                Item={**order.__dict__}, ConditionExpression="attribute_not_exists(order_id)"
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise ValueError(f"order {order.order_id} exists already") from None

    def get(self, order_id: str) -> Order | None:
        item = self.table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
        return None if item is None else _order(item)

    def set_status(self, order_id: str, status: str) -> Order:
        """Change an existing order's status; a missing order is a KeyError."""
        try:
            item = self.table.update_item(
                Key={"order_id": order_id},
                UpdateExpression="SET #s = :s",
                ConditionExpression="attribute_exists(order_id)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": status},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise KeyError(order_id) from None
        return _order(item)

    def for_customer(self, customer_id: str) -> list[Order]:
        """The customer's orders, newest first (all pages of the index)."""
        orders: list[Order] = []
        kwargs: dict[str, Any] = {
            "IndexName": BY_CUSTOMER,
            "KeyConditionExpression": Key("customer_id").eq(customer_id),
            "ScanIndexForward": False,
        }
        while True:
            page = self.table.query(**kwargs)
            orders += [_order(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return orders
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _order(item: dict[str, Any]) -> Order:
    return Order(
        order_id=item["order_id"],
        customer_id=item["customer_id"],
        created_at=item["created_at"],
        total_cents=int(item["total_cents"]),
        status=item.get("status", "new"),
    )
