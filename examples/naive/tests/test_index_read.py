"""A user written, then found: by its index at once (naive), or read consistently and looked up by the index until
a deadline (correct).

On AWS, reads without ``ConsistentRead`` may return the item as it was before a recent write, and a global
secondary index is updated asynchronously: a query on it right after a write may not find the item yet.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandboxres import Index


@pytest.fixture
def users(sandboxres_table: Any) -> Any:
    return sandboxres_table("users", global_indexes=[Index("by_email", hash_key="email")]).table


def by_email(users: Any, email: str) -> list[str]:
    found = users.query(
        IndexName="by_email",
        KeyConditionExpression="email = :e",
        ExpressionAttributeValues={":e": email},
    )
    return [item["pk"] for item in found["Items"]]


def test_naive_index_read_right_after_a_write(users: Any) -> None:
    users.put_item(Item={"pk": "u1", "email": "ada@example.com"})
    assert by_email(users, "ada@example.com") == ["u1"]


def test_consistent_read_then_index_read_until_a_deadline(users: Any) -> None:
    users.put_item(Item={"pk": "u1", "email": "ada@example.com"})
    item = users.get_item(Key={"pk": "u1"}, ConsistentRead=True)["Item"]
    assert item["email"] == "ada@example.com"
    found: list[str] = []
    deadline = time.monotonic() + 30
    while not found and time.monotonic() < deadline:
        found = by_email(users, "ada@example.com")
        time.sleep(0 if found else 0.1)
    assert found == ["u1"]
