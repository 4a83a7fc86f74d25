"""The plans of a DynamoDB table: create and wait until ACTIVE (indexes, TTL and stream included), delete and
wait until gone, read its tags, list the library's tables."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import error_code, error_message
from sandboxres._engine.errors import ReadinessTimeoutError
from sandboxres._engine.plans import DELETE_DEADLINE, Progress, create_call, label_of, not_found, not_found_policy
from sandboxres._engine.steps import Call, NotReady, Outcome, Plan, Poll, RetryPolicy
from sandboxres._kinds.base import Facts, Listed, tag_dict
from sandboxres._kinds.table.spec import TABLE_NAMES, TableSpec

log = logging.getLogger("sandboxres")

_CREATE = RetryPolicy()
# Deletes wait out racy states for DELETE_DEADLINE even when the resource's timeout is shorter.
_DELETE = RetryPolicy(DELETE_DEADLINE, {"ResourceInUseException": DELETE_DEADLINE})
_UPDATE = RetryPolicy(racy={"ResourceInUseException": None})
_READ = RetryPolicy(deadline=60.0)
_LIST = RetryPolicy(deadline=120.0)


@dataclass
class TableFacts(Facts):
    """A table: its name, and once created its ARN and (with ``stream=``) its stream's ARN."""

    arn: str = ""
    stream_arn: str | None = None


def _active(response: Mapping[str, Any]) -> dict[str, Any]:
    table = response["Table"]
    status = table.get("TableStatus", "UNKNOWN")
    if status != "ACTIVE":
        raise NotReady(status)
    for index in table.get("GlobalSecondaryIndexes", []):
        if index.get("IndexStatus", "ACTIVE") != "ACTIVE":
            raise NotReady(f"index {index.get('IndexName')} {index.get('IndexStatus')}")
    return dict(table)


def _ttl_enabled(response: Mapping[str, Any]) -> None:
    status = response.get("TimeToLiveDescription", {}).get("TimeToLiveStatus", "UNKNOWN")
    if status != "ENABLED":
        raise NotReady(f"TTL {status}")


def _stream_enabled(response: Mapping[str, Any]) -> None:
    status = response.get("StreamDescription", {}).get("StreamStatus", "UNKNOWN")
    if status != "ENABLED":
        raise NotReady(f"stream {status}")


def _still_there(response: Mapping[str, Any]) -> None:
    raise NotReady(response.get("Table", {}).get("TableStatus", "present"))


def create_table(
    spec: TableSpec, facts: TableFacts, tags: Mapping[str, str], region: str | None, progress: Progress
) -> Plan[TableFacts]:
    """Create the table and wait until it, its indexes, TTL and stream are ACTIVE (``region``: in the ARN DynamoDB
    returns)."""
    name = facts.name
    resource = label_of("table", name)
    created = None
    try:
        call = Call("dynamodb", "create_table", spec.create_request(name, tags), _CREATE.cut_to(spec.timeout))
        response = yield from create_call(call, name, progress)
        created = {"Table": response["TableDescription"]}  # its status is the first readiness probe
    except ClientError as exc:
        # Names are unique: "in use" here means an earlier attempt of this very call succeeded.
        if error_code(exc) != "ResourceInUseException":
            raise
    progress.created.add(name)
    table = yield Poll(
        Call("dynamodb", "describe_table", {"TableName": name}),
        _active,
        resource,
        spec.timeout,
        {"ResourceNotFoundException": Outcome.NOT_READY},
        known=created,
    )
    progress.confirmed.add(name)
    if spec.ttl_attribute:
        ttl = {"Enabled": True, "AttributeName": spec.ttl_attribute}
        params = {"TableName": name, "TimeToLiveSpecification": ttl}
        yield Call("dynamodb", "update_time_to_live", params, _UPDATE.cut_to(spec.timeout))
        yield Poll(Call("dynamodb", "describe_time_to_live", {"TableName": name}), _ttl_enabled, resource, spec.timeout)
    stream_arn = table.get("LatestStreamArn")
    if spec.stream and stream_arn:
        yield Poll(
            Call("dynamodbstreams", "describe_stream", {"StreamArn": stream_arn}),
            _stream_enabled,
            resource,
            spec.timeout,
            {"ResourceNotFoundException": Outcome.NOT_READY},
        )
    facts.arn, facts.stream_arn = table.get("TableArn", ""), stream_arn
    return facts


def delete_table(facts: TableFacts, progress: Progress, timeout: float = DELETE_DEADLINE) -> Plan[None]:
    name = facts.name
    TABLE_NAMES.check_own(name)
    for attempt in range(2):  # pragma: no branch - the second attempt always breaks, returns or raises
        try:
            # ResourceInUseException while the table is still CREATING or UPDATING: retried until it settles.
            policy = not_found_policy(_DELETE.cut_to(timeout), name, progress, "ResourceNotFoundException")
            yield Call("dynamodb", "delete_table", {"TableName": name}, policy)
            break
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                not_found("table", name, progress)
                return
            if attempt or error_code(exc) != "ValidationException" or "protect" not in error_message(exc).lower():
                raise
        # Deletion protection (DeletionProtectionEnabled in create_args): turn it off, then delete.
        params = {"TableName": name, "DeletionProtectionEnabled": False}
        yield Call("dynamodb", "update_table", params, _UPDATE.cut_to(timeout))
    try:
        yield Poll(
            Call("dynamodb", "describe_table", {"TableName": name}),
            _still_there,
            label_of("table", name),
            timeout,
            {"ResourceNotFoundException": Outcome.DONE},
        )
    except ReadinessTimeoutError as exc:
        if exc.last_status != "DELETING":
            raise
        # DeleteTable was accepted and the table is on its way out: not a leak, only slower than the deadline.
        log.info("table %s is still DELETING after %.1f s; it will disappear on its own", name, exc.waited)


def read_table_tags(facts: TableFacts) -> Plan[dict[str, str] | None]:
    """The table's tags, every page; None when it does not exist (anymore)."""
    try:
        described = yield Call("dynamodb", "describe_table", {"TableName": facts.name}, _READ)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    arn = described["Table"]["TableArn"]
    tags: dict[str, str] = {}
    params: dict[str, Any] = {"ResourceArn": arn}
    while True:
        try:
            page = yield Call("dynamodb", "list_tags_of_resource", params, _READ)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        tags.update(tag_dict(page.get("Tags")))
        if not page.get("NextToken"):
            return tags
        params = {"ResourceArn": arn, "NextToken": page["NextToken"]}


def list_tables() -> Plan[list[Listed]]:
    """The library's tables (by prefix), every page."""
    found: list[Listed] = []
    params: dict[str, Any] = {}
    while True:
        page = yield Call("dynamodb", "list_tables", params, _LIST)
        found.extend(Listed(TableFacts(name)) for name in page.get("TableNames", []) if TABLE_NAMES.owns(name))
        last = page.get("LastEvaluatedTableName")
        if not last:
            return found
        params = {"ExclusiveStartTableName": last}
