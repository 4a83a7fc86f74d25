"""The running proxy: scripting (rules), observing (recorded requests), serving (rules applied, upstream)."""

from __future__ import annotations

import collections
import http.client
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from urllib.parse import urlsplit

from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.http_server import HOP_BY_HOP, _Handler, _Server
from sandboxres._simulator.messages import ProxyRequest, Reply, ResetType, SeenRequest
from sandboxres._simulator.parsing import parse_request
from sandboxres._simulator.rules import Rule


class FaultProxy:
    """The running proxy. Use :func:`start_fault_proxy` to create one."""

    def __init__(
        self,
        upstream_url: str,
        *,
        upstream_timeout: float = 60.0,
        verbose: bool = False,
        port: int = 0,
        max_records: int | None = None,
    ) -> None:
        """``port``: where to listen on 127.0.0.1 (0: a free port); ``max_records``: how many requests to remember
        (the latest; None: all)."""
        split = urlsplit(upstream_url)
        if split.scheme != "http" or not split.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream_url!r}")
        self.upstream_url = upstream_url.rstrip("/")
        self.upstream_timeout = upstream_timeout
        self.verbose = verbose
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._records: collections.deque[SeenRequest] = collections.deque(maxlen=max_records)
        self._serialized: list[Callable[[ProxyRequest], bool]] = []
        self._one_at_a_time = threading.Lock()
        self._server = _Server(self, port)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-proxy", daemon=True
        )
        self._thread.start()
        self._stopped = False

    # -- scripting ---------------------------------------------------------------------------------

    def add(self, *rules: Rule | Iterable[Rule]) -> list[Rule]:
        """Add rules (or lists of rules) after the existing ones; returns them flattened."""
        flat: list[Rule] = []
        for item in rules:
            if isinstance(item, Rule):
                flat.append(item)
            else:
                flat.extend(item)
        with self._lock:
            self._rules.extend(flat)
        return flat

    def serialize(self, select: Callable[[ProxyRequest], bool]) -> None:
        """Forward the requests ``select`` accepts to the upstream one at a time (faults still apply around them).

        moto evaluates a DynamoDB write's condition and applies the write without a lock: two concurrent writes
        conditional on one version may both succeed, which DynamoDB never allows. Serializing a table's requests
        gives them DynamoDB's atomicity. Undone by :meth:`clear`."""
        with self._lock:
            self._serialized.append(select)

    def remove(self, *rules: Rule) -> None:
        with self._lock:
            self._rules = [rule for rule in self._rules if all(rule is not r for r in rules)]

    def clear(self) -> None:
        """Remove all rules and serializations, and forget all recorded requests."""
        with self._lock:
            self._rules.clear()
            self._records.clear()
            self._serialized.clear()

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    def clear_records(self) -> None:
        with self._lock:
            self._records.clear()

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    # -- observing ---------------------------------------------------------------------------------

    @property
    def requests(self) -> list[SeenRequest]:
        """Every request seen so far, in the order they completed."""
        with self._lock:
            return list(self._records)

    def seen(
        self,
        service: str | None = None,
        operation: str | None = None,
        resource: str | None = None,
        *,
        faulted: bool | None = None,
    ) -> list[SeenRequest]:
        """Recorded requests filtered by service, operation, resource and whether a fault was applied."""
        return [
            record
            for record in self.requests
            if (service is None or record.service == service)
            and (operation is None or record.operation == operation)
            and (resource is None or record.resource == resource)
            and (faulted is None or (record.fault is not None) == faulted)
        ]

    def count(
        self,
        service: str | None = None,
        operation: str | None = None,
        resource: str | None = None,
        *,
        faulted: bool | None = None,
    ) -> int:
        return len(self.seen(service, operation, resource, faulted=faulted))

    # -- lifecycle ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop listening and drop open connections. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(5.0)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FaultProxy({self.url} -> {self.upstream_url}, {len(self.rules)} rules)"

    # -- serving -----------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        started = time.monotonic()
        body = handler._read_body()
        headers = list(handler.headers.items())
        request = parse_request(handler.command, handler.path, headers, body)

        delays: list[tuple[Fault, Trigger]] = []
        decisive: tuple[Fault, Trigger] | None = None
        with self._lock:
            now = time.monotonic()
            for rule in self._rules:
                trigger = rule._claim(request, now)
                if trigger is None:
                    continue
                if rule.fault.terminal:
                    decisive = (rule.fault, trigger)
                    break
                delays.append((rule.fault, trigger))

        labels = [fault.label for fault, _ in delays]
        for fault, trigger in delays:
            fault.before(request, trigger)

        action: Reply | ResetType | None = None
        upstream_status: int | None = None
        if decisive is not None:
            fault, trigger = decisive
            action = fault.before(request, trigger)
            if action is not None or trigger.chosen is not None:
                labels.append(trigger.chosen.label if trigger.chosen else fault.label)
        if action is None:
            reply = self._forward(request)
            upstream_status = reply.status if reply.from_upstream else None
            self._anchor(request, reply)
            action = reply
            if decisive is not None:
                fault, trigger = decisive
                action = fault.after(request, reply, trigger)
                if action is not reply and trigger.chosen is None:
                    labels.append(trigger.chosen.label if trigger.chosen else fault.label)
            # Non-terminal faults see the reply too, innermost first (the deciding rule's answer, if any)
            for fault, trigger in reversed(delays):
                if not isinstance(action, Reply):
                    break
                before_fault = action
                action = fault.after(request, action, trigger)
                if action is not before_fault:
                    labels.append(fault.label)

        status = action.status if isinstance(action, Reply) else None
        record = SeenRequest(
            service=request.service,
            operation=request.operation,
            resource=request.resource,
            status=status,
            fault="; ".join(labels) or None,
            upstream_status=upstream_status,
            method=request.method,
            path=request.path,
            key=request.key,
            started=started,
            duration=time.monotonic() - started,
        )
        # Recorded before the client gets the answer, so a test sees it as soon as its call returns.
        with self._lock:
            self._records.append(record)
        if isinstance(action, Reply):
            handler.send_reply(action)
        else:
            handler.reset()

    def _anchor(self, request: ProxyRequest, reply: Reply) -> None:
        if not reply.from_upstream or not 200 <= reply.status < 300:
            return
        document = reply.json() if request.protocol == "json" else None
        now = time.monotonic()
        with self._lock:
            for rule in self._rules:
                rule._anchor_event(request.service, request.operation, request.resource, document, now)

    def _forward(self, request: ProxyRequest) -> Reply:
        with self._lock:
            serialized = any(select(request) for select in self._serialized)
        if not serialized:
            return self._forward_now(request)
        with self._one_at_a_time:
            return self._forward_now(request)

    def _forward_now(self, request: ProxyRequest) -> Reply:
        try:
            return send_upstream(self.upstream_url, request, self.upstream_timeout)
        except (OSError, http.client.HTTPException) as error:
            message = f"fault proxy: upstream {self.upstream_url} failed: {error}".encode()
            return Reply(502, [("Content-Type", "text/plain")], message, "Bad Gateway")


def send_upstream(upstream_url: str, request: ProxyRequest, timeout: float = 60.0) -> Reply:
    """Send ``request`` (as it is now) to the emulator at ``upstream_url`` and return its reply; a connection
    failure raises (OSError, HTTPException)."""
    split = urlsplit(upstream_url)
    connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port or 80, timeout=timeout)
    try:
        connection.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers:
            if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                continue
            connection.putheader(name, value)
        if request.body or request.method.upper() in ("POST", "PUT", "PATCH") or request.header("Content-Length"):
            connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body or None)
        response = connection.getresponse()
        body = response.read()
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        return Reply(response.status, headers, body, response.reason, from_upstream=True)
    finally:
        connection.close()


def start_fault_proxy(upstream_url: str, *, upstream_timeout: float = 60.0, verbose: bool = False) -> FaultProxy:
    """Start a proxy on a free 127.0.0.1 port in front of ``upstream_url``; also a context manager."""
    return FaultProxy(upstream_url, upstream_timeout=upstream_timeout, verbose=verbose)
