"""Fixtures of the record store's suite. The tables come from sandboxres's pytest plugin: each is created on the
target chosen by the environment (embedded emulator, external emulator or a sandbox AWS account) and deleted
when its fixture's scope ends."""

from __future__ import annotations

from typing import Any

import pytest
from record_store import RecordStore

from sandboxres.pytest_plugin import table_fixture

# One table for the whole module, for read-only tests over the same seeded records.
catalog_table = table_fixture("catalog", scope="module", range_key="sk")


@pytest.fixture
def store(sandboxres_table: Any) -> RecordStore:
    """A store on a fresh, empty table of its own."""
    table = sandboxres_table("records", range_key="sk")
    return RecordStore(table.name, table.client)


@pytest.fixture(scope="module")
def catalog(catalog_table: Any) -> RecordStore:
    """A store on the module's table, seeded once: two owners, five orders and a profile."""
    store = RecordStore(catalog_table.name, catalog_table.client)
    for n in range(1, 6):
        store.put("alice", f"order#{n:03d}", {"total": n * 10})
    store.put("alice", "profile", {"name": "Alice"})
    store.put("bob", "order#001", {"total": 99})
    return store
