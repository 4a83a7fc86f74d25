"""DynamoDB tables: ``test_<label>_<unique>``, ACTIVE (indexes, TTL, stream) before use, deleted after."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandboxres._engine.plans import Progress
from sandboxres._engine.steps import Plan
from sandboxres._kinds.base import Listed, ResourceKind
from sandboxres._kinds.table.handle import TableHandle
from sandboxres._kinds.table.permissions import TABLE_OPERATIONS, TABLE_POLICY
from sandboxres._kinds.table.plans import TableFacts, create_table, delete_table, list_tables, read_table_tags
from sandboxres._kinds.table.probes import probe_tables, verify_table
from sandboxres._kinds.table.spec import DEFAULT_TIMEOUT, TABLE_NAMES, TABLE_PREFIX, Index, TableSpec, table_spec

__all__ = ["TABLE", "TABLE_PREFIX", "Index", "TableFacts", "TableHandle", "TableKind", "TableSpec", "table_spec"]


class TableKind(ResourceKind[TableSpec, TableFacts]):
    name = "table"
    service = "dynamodb"
    names = TABLE_NAMES
    default_timeout = DEFAULT_TIMEOUT
    resource = ("dynamodb", "Table")
    bounded = True  # DynamoDB allows 500 table operations in flight per account (250 with indexes)
    spec_factory = staticmethod(table_spec)
    operations = TABLE_OPERATIONS
    policy = TABLE_POLICY

    def services(self, spec: TableSpec) -> tuple[str, ...]:
        return ("dynamodb", "dynamodbstreams") if spec.stream else ("dynamodb",)

    def expected(self, spec: TableSpec, scope: str) -> TableFacts:
        return TableFacts(TABLE_NAMES.make(spec.label, scope=scope))

    def named(self, name: str) -> TableFacts:
        return TableFacts(name)

    def create(
        self, spec: TableSpec, facts: TableFacts, tags: Mapping[str, str], region: str | None, progress: Progress
    ) -> Plan[TableFacts]:
        return create_table(spec, facts, tags, progress)

    def delete(self, facts: TableFacts, progress: Progress, timeout: float) -> Plan[None]:
        return delete_table(facts, progress, timeout)

    def read_tags(self, facts: TableFacts) -> Plan[dict[str, str] | None]:
        return read_table_tags(facts)

    def listing(self) -> Plan[list[Listed]]:
        return list_tables()

    def probe(self, client: Any) -> None:
        probe_tables(client)

    def verify(self, handle: Any) -> None:
        verify_table(handle)

    def handle(self, facts: TableFacts, client: Any, make_resource: Callable[[], Any]) -> TableHandle[Any, Any]:
        return TableHandle(facts.name, facts.arn, client, make_resource, facts.stream_arn)


TABLE = TableKind()
