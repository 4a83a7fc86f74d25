"""Secondary indexes of a DynamoDB table: the :class:`Index` users pass, its checks, its request part."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sandboxres._engine.errors import SpecError
from sandboxres._engine.validation import check_attr_name

PROJECTIONS = ("ALL", "KEYS_ONLY")
INDEX_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
MAX_GLOBAL_INDEXES = 20
MAX_LOCAL_INDEXES = 5


@dataclass(frozen=True)
class Index:
    """A secondary index: ``Index("by_email", hash_key="email")``.

    ``projection`` is ``"ALL"``, ``"KEYS_ONLY"`` or a list of non-key attributes to include.
    For a local index ``hash_key`` must be the table's hash key (it defaults to it).
    """

    name: str
    hash_key: str | None = None
    range_key: str | None = None
    projection: str | Sequence[str] = "ALL"


def projection(index: Index) -> dict[str, Any]:
    if isinstance(index.projection, str):
        if index.projection not in PROJECTIONS:
            raise SpecError(f"index {index.name!r}: projection must be 'ALL', 'KEYS_ONLY' or a list of attribute names")
        return {"ProjectionType": index.projection}
    attrs = [check_attr_name(f"index {index.name!r} projected attribute", a) for a in index.projection]
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": attrs}


def check_indexes(
    global_indexes: Sequence[Index], local_indexes: Sequence[Index], hash_key: str, range_key: str | None
) -> tuple[tuple[Index, ...], tuple[Index, ...]]:
    """The indexes of a table, checked; local indexes get the table's hash key."""
    gsis, lsis = tuple(global_indexes), tuple(local_indexes)
    if len(gsis) > MAX_GLOBAL_INDEXES:
        raise SpecError(f"at most {MAX_GLOBAL_INDEXES} global secondary indexes, got {len(gsis)}")
    if len(lsis) > MAX_LOCAL_INDEXES:
        raise SpecError(f"at most {MAX_LOCAL_INDEXES} local secondary indexes, got {len(lsis)}")
    if lsis and range_key is None:
        raise SpecError("local secondary indexes need a table with a range_key")
    names: set[str] = set()
    for index in (*gsis, *lsis):
        if not isinstance(index, Index):
            raise SpecError(f"indexes must be sandboxres.Index objects, got {type(index).__name__}")
        if not isinstance(index.name, str) or not INDEX_NAME_RE.fullmatch(index.name):
            raise SpecError(f"index name must be 3-255 characters of A-Z a-z 0-9 _ . -, got {index.name!r}")
        if index.name in names:
            raise SpecError(f"index name {index.name!r} is used twice")
        names.add(index.name)
        projection(index)
    for index in gsis:
        check_attr_name(f"index {index.name!r} hash_key", index.hash_key)
        if index.range_key is not None:
            check_attr_name(f"index {index.name!r} range_key", index.range_key)
            if index.range_key == index.hash_key:
                raise SpecError(
                    f"index {index.name!r}: range_key must differ from hash_key, both are {index.hash_key!r}"
                )
    fixed_lsis = []
    for index in lsis:
        if index.hash_key not in (None, hash_key):
            raise SpecError(f"local index {index.name!r} must use the table's hash key {hash_key!r}")
        check_attr_name(f"local index {index.name!r} range_key", index.range_key)
        if index.range_key in (hash_key, range_key):
            raise SpecError(
                f"local index {index.name!r}: its range_key {index.range_key!r} is the table's "
                f"{'hash' if index.range_key == hash_key else 'range'} key; a local index sorts by another attribute"
            )
        fixed_lsis.append(Index(index.name, hash_key, index.range_key, index.projection))
    return gsis, tuple(fixed_lsis)
