"""What the DynamoDB behaviours share: rules chosen by a predicate over the whole request, the tables a request
names, made-up JSON replies, the simulated lifecycle state of the tables (:class:`TableClock`), and plain calls to
the upstream emulator (never through the proxy).

The table states are the upstream account's: every simulator of this process in front of the same emulator sees
them, so a table being deleted is refused to CreateTable whichever behaviour asks.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sandboxres._simulator.faults import Fault
from sandboxres._simulator.messages import AMZ_JSON, ProxyRequest, Reply, new_request_id
from sandboxres._simulator.rules import Operations, Rule

_CREDENTIAL_REGION = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/[^/]+/aws4_request")
_TABLE_IN_ARN = re.compile(r"arn:[^:]*:dynamodb:([^:]*):[^:]*:table/([^/|]+)")
DEFAULT_REGION = "us-east-1"

TableId = tuple[str, str]  # (region, table name)


class When(Rule):
    """A rule for the requests of ``service`` and ``operations`` that ``when`` accepts (called once a request,
    under the proxy's lock: keep it quick)."""

    def __init__(
        self,
        fault: Fault,
        *,
        service: str = "dynamodb",
        operations: Operations = None,
        when: Callable[[ProxyRequest], bool] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(fault, service=service, operations=operations, name=name)
        self.when = when

    def selects(self, request: ProxyRequest) -> bool:
        return super().selects(request) and (self.when is None or self.when(request))


def region_of(request: ProxyRequest) -> str:
    """The region a request was signed for (the emulator keeps each region's tables apart)."""
    match = _CREDENTIAL_REGION.search(request.header("Authorization"))
    return match.group(1) if match else DEFAULT_REGION


def table_in_arn(arn: str) -> TableId | None:
    """(region, table) of a table, stream or shard-iterator ARN."""
    match = _TABLE_IN_ARN.search(arn)
    return (match.group(1), match.group(2)) if match else None


def table_names(request: ProxyRequest) -> list[str]:
    """Every table a DynamoDB request names (``TableName``, an ARN, batch and transaction items)."""
    params = request.params
    names: list[str] = []
    if isinstance(params.get("TableName"), str):
        names.append(params["TableName"])
    for key in ("ResourceArn", "TableArn"):
        if isinstance(params.get(key), str):
            found = table_in_arn(params[key])
            if found:
                names.append(found[1])
    if isinstance(params.get("RequestItems"), dict):
        names.extend(name for name in params["RequestItems"] if isinstance(name, str))
    for item in params.get("TransactItems") or []:
        if isinstance(item, dict):
            for action in item.values():
                if isinstance(action, dict) and isinstance(action.get("TableName"), str):
                    names.append(action["TableName"])
    return list(dict.fromkeys(names))


def tables_of(request: ProxyRequest) -> list[TableId]:
    region = region_of(request)
    return [(region, name) for name in table_names(request)]


def json_reply(document: dict[str, Any], status: int = 200) -> Reply:
    """A DynamoDB-style JSON reply (with the CRC32 header botocore checks)."""
    body = json.dumps(document).encode()
    headers = [
        ("Date", email.utils.formatdate(usegmt=True)),
        ("Content-Type", AMZ_JSON),
        ("x-amzn-RequestId", new_request_id()),
        ("x-amz-crc32", str(zlib.crc32(body))),
    ]
    return Reply(status, headers, body, "OK" if status == 200 else "")


def ok_json(reply: Reply) -> dict[str, Any] | None:
    """The JSON document of a successful reply, else None."""
    return reply.json() if 200 <= reply.status < 300 else None


# -- the tables' simulated lifecycle -----------------------------------------------------------------------


@dataclass
class TableState:
    """Until when (``time.monotonic()``) a table is CREATING, UPDATING, DELETING; when its TTL last changed."""

    creating_until: float = 0.0
    updating_until: float = 0.0
    ttl_until: float = 0.0
    deleting_until: float = 0.0
    ttl_changed_at: float | None = None
    ttl_cooldown_until: float = 0.0
    description: dict[str, Any] = field(default_factory=dict)  # the DeleteTable reply's table

    def over(self, now: float) -> bool:
        return max(self.creating_until, self.updating_until, self.deleting_until, self.ttl_cooldown_until) <= now


class TableClock:
    """The simulated states of the tables of one upstream emulator (see the module's docstring)."""

    _clocks: dict[str, TableClock] = {}
    _clocks_lock = threading.Lock()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[TableId, TableState] = {}

    @classmethod
    def of(cls, upstream_url: str) -> TableClock:
        with cls._clocks_lock:
            return cls._clocks.setdefault(upstream_url.rstrip("/"), cls())

    def state(self, table: TableId) -> TableState | None:
        with self._lock:
            return self._tables.get(table)

    def _is(self, tables: Iterable[TableId], attribute: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for table in tables:
                state = self._tables.get(table)
                if state is not None and getattr(state, attribute) > now:
                    return True
        return False

    def creating(self, *tables: TableId) -> bool:
        return self._is(tables, "creating_until")

    def updating(self, *tables: TableId) -> bool:
        return self._is(tables, "updating_until")

    def ttl_changing(self, *tables: TableId) -> bool:
        return self._is(tables, "ttl_until")

    def ttl_cooling(self, *tables: TableId) -> bool:
        return self._is(tables, "ttl_cooldown_until")

    def deleting(self, *tables: TableId) -> bool:
        return self._is(tables, "deleting_until")

    def record(self, table: TableId, **changes: Any) -> None:
        """Set fields of the table's state (a new table's state starts empty when ``fresh``)."""
        now = time.monotonic()
        fresh = changes.pop("fresh", False)
        with self._lock:
            for key in [key for key, state in self._tables.items() if state.over(now)]:
                del self._tables[key]
            state = TableState() if fresh else self._tables.get(table, TableState())
            for name, value in changes.items():
                setattr(state, name, value)
            self._tables[table] = state


# -- the upstream emulator, called directly ----------------------------------------------------------------


class Upstream:
    """DynamoDB JSON calls to the upstream emulator, signed as the client's request was (the emulator reads the
    account and region from it)."""

    def __init__(self, upstream_url: str, timeout: float = 30.0) -> None:
        split = urlsplit(upstream_url)
        self.host = split.hostname or "127.0.0.1"
        self.port = split.port or 80
        self.timeout = timeout

    def call(self, operation: str, params: dict[str, Any], like: ProxyRequest) -> dict[str, Any] | None:
        """The reply's document, or None on any error."""
        body = json.dumps(params).encode()
        headers = {
            "Content-Type": AMZ_JSON,
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Host": f"{self.host}:{self.port}",
        }
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            value = like.header(name)
            if value:
                headers[name] = value
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                return None
            document = json.loads(data) if data else {}
            return document if isinstance(document, dict) else None
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            connection.close()
