"""The record store against a real DynamoDB API: the same tests on every target sandboxres can use."""

from __future__ import annotations

from decimal import Decimal

import pytest
from record_store import RecordExists, RecordNotFound, RecordStore


def test_put_then_get_round_trips_values(store: RecordStore) -> None:
    data = {"name": "Ada", "age": 36, "admin": True, "tags": ["a", "b"], "address": {"city": "London"}}
    store.put("users", "u1", data)
    assert store.get("users", "u1") == {**data, "age": Decimal(36)}


def test_get_of_a_missing_record_is_none(store: RecordStore) -> None:
    store.put("users", "u1", {"name": "Ada"})
    assert store.get("users", "u2") is None
    assert store.get("others", "u1") is None


def test_put_replaces_unless_told_not_to(store: RecordStore) -> None:
    store.put("users", "u1", {"name": "Ada", "age": 36})
    store.put("users", "u1", {"name": "Grace"})
    assert store.get("users", "u1") == {"name": "Grace"}
    with pytest.raises(RecordExists):
        store.put("users", "u1", {"name": "Alan"}, overwrite=False)
    store.put("users", "u2", {"name": "Alan"}, overwrite=False)
    assert store.get("users", "u1") == {"name": "Grace"}
    assert store.get("users", "u2") == {"name": "Alan"}


def test_update_sets_attributes_and_keeps_the_rest(store: RecordStore) -> None:
    store.put("users", "u1", {"name": "Ada", "age": 36})
    assert store.update("users", "u1", {"age": 37, "email": "ada@example.com"}) == {
        "name": "Ada",
        "age": Decimal(37),
        "email": "ada@example.com",
    }
    assert store.get("users", "u1") == {"name": "Ada", "age": Decimal(37), "email": "ada@example.com"}


def test_update_of_a_missing_record_creates_nothing(store: RecordStore) -> None:
    with pytest.raises(RecordNotFound):
        store.update("users", "ghost", {"name": "Casper"})
    assert store.get("users", "ghost") is None


def test_key_attributes_are_refused_in_data(store: RecordStore) -> None:
    with pytest.raises(ValueError, match="key attributes"):
        store.put("users", "u1", {"sk": "other"})
    store.put("users", "u1", {"name": "Ada"})
    with pytest.raises(ValueError, match="cannot be updated"):
        store.update("users", "u1", {"pk": "elsewhere"})


def test_delete_says_whether_the_record_existed(store: RecordStore) -> None:
    store.put("users", "u1", {"name": "Ada"})
    assert store.delete("users", "u1") is True
    assert store.get("users", "u1") is None
    assert store.delete("users", "u1") is False


def test_query_returns_one_partition_in_sort_order(catalog: RecordStore) -> None:
    keys = [sort for sort, _ in catalog.query("alice")]
    assert keys == ["order#001", "order#002", "order#003", "order#004", "order#005", "profile"]
    assert [data for _, data in catalog.query("bob")] == [{"total": Decimal(99)}]
    assert list(catalog.query("nobody")) == []


def test_query_by_prefix_and_descending(catalog: RecordStore) -> None:
    orders = list(catalog.query("alice", prefix="order#", descending=True))
    assert [sort for sort, _ in orders] == ["order#005", "order#004", "order#003", "order#002", "order#001"]
    assert sum(data["total"] for _, data in orders) == 150


def test_query_follows_every_page(catalog: RecordStore) -> None:
    paged = list(catalog.query("alice", page_size=2))
    assert paged == list(catalog.query("alice"))
    assert len(paged) == 6
