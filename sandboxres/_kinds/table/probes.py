"""The table's checks for ``sandboxres doctor`` and ``check``: does DynamoDB answer, does a table hold an item."""

from __future__ import annotations

from typing import Any


def probe_tables(client: Any) -> None:
    """One ListTables (``Limit=1``): the cheapest call that proves DynamoDB answers, granted by the policy."""
    client.list_tables(Limit=1)


def verify_table(handle: Any) -> None:
    """Write an item and read it back, consistently; AssertionError when something else comes back."""
    handle.table.put_item(Item={"pk": "check", "value": "sandboxres"})
    item = handle.table.get_item(Key={"pk": "check"}, ConsistentRead=True).get("Item")
    if item != {"pk": "check", "value": "sandboxres"}:
        raise AssertionError(f"read back {item!r} instead of the item written")
