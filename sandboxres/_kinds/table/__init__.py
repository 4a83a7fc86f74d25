"""DynamoDB tables: ``test_<label>_<unique>``, ACTIVE (indexes, TTL, stream) before use, deleted after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandboxres._engine.wiring import HandleContext
from sandboxres._kinds.base import ResourceKind
from sandboxres._kinds.table.handle import AsyncTableHandle, TableHandle
from sandboxres._kinds.table.indexes import Index
from sandboxres._kinds.table.permissions import TABLE_OPERATIONS, TABLE_POLICY
from sandboxres._kinds.table.plans import TableFacts, create_table, delete_table, list_tables, read_table_tags
from sandboxres._kinds.table.probes import probe_tables, verify_table
from sandboxres._kinds.table.recycling import recycle_table, table_baseline
from sandboxres._kinds.table.spec import DEFAULT_TIMEOUT, TABLE_NAMES, TABLE_PREFIX, TableSpec, table_spec

__all__ = ["TABLE", "TABLE_PREFIX", "Index", "TableFacts", "TableHandle", "TableKind", "TableSpec", "table_spec"]


class TableKind(ResourceKind[TableSpec, TableFacts]):
    name = "table"
    service = "dynamodb"
    names = TABLE_NAMES
    default_timeout = DEFAULT_TIMEOUT
    resource = ("dynamodb", "Table")
    bounded = True  # DynamoDB allows 500 table operations in flight per account (250 with indexes)
    spec_factory = staticmethod(table_spec)
    facts_type = TableFacts
    operations = TABLE_OPERATIONS
    policy = TABLE_POLICY

    def services(self, spec: TableSpec) -> tuple[str, ...]:
        return ("dynamodb", "dynamodbstreams") if spec.stream else ("dynamodb",)

    create = staticmethod(create_table)
    delete = staticmethod(delete_table)
    read_tags = staticmethod(read_table_tags)
    listing = staticmethod(list_tables)
    baseline = staticmethod(table_baseline)
    recycle = staticmethod(recycle_table)

    probe = staticmethod(probe_tables)
    verify = staticmethod(verify_table)

    def handle(
        self, facts: TableFacts, client: Any, make_resource: Callable[[], Any], context: HandleContext | None = None
    ) -> TableHandle[Any, Any]:
        cls = AsyncTableHandle if context is not None and context.is_async else TableHandle
        return cls(facts.name, facts.arn, client, make_resource, facts.stream_arn, context=context)


TABLE = TableKind()
