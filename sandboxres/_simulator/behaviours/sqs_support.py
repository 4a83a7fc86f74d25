"""What the S3, SQS and SNS behaviours share: rules that decide on the request itself, the upstream emulator
reached directly (never through the proxy), SQS request parameters in both wire protocols, SQS replies."""

from __future__ import annotations

import email.utils
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import AMZ_JSON, ProxyRequest, Reply, new_request_id
from sandboxres._simulator.rules import Rule

DUMMY_CREDENTIALS = {"aws_access_key_id": "simulator", "aws_secret_access_key": "simulator"}
DEFAULT_REGION = "us-east-1"


# -- rules ------------------------------------------------------------------------------------------------------


@dataclass
class Decided(Trigger):
    """A trigger carrying what the rule decided for this request (see :class:`DecidingRule`)."""

    decision: Any = None


class DecidingRule(Rule):
    """A rule that applies only when ``decide(request)`` returns something else than None (before its window and
    probability are counted); ``choose(request, decision)`` then runs once the rule applies, in request order (under
    the proxy's lock: replayable). The fault gets both through the :class:`Decided` trigger's ``decision``.

    Deciding at claim time lets a rule that does not apply leave the request to the rules after it."""

    def __init__(
        self,
        fault: Fault,
        decide: Callable[[ProxyRequest], Any],
        *,
        choose: Callable[[ProxyRequest, Any], Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(fault, **options)
        self.decide = decide
        self.choose = choose

    def _claim(self, request: ProxyRequest, now: float) -> Trigger | None:
        if not self.selects(request):
            return None
        decision = self.decide(request)
        if decision is None:
            return None
        trigger = super()._claim(request, now)
        if trigger is None:
            return None
        if self.choose is not None:
            decision = self.choose(request, decision)
        return Decided(trigger.rule, trigger.anchor_time, trigger.anchor_document, decision=decision)


class Observer(Rule):
    """Never applies: shows every request of ``service`` to ``see`` (under the proxy's lock), e.g. to remember
    the attributes a queue was created with."""

    def __init__(self, see: Callable[[ProxyRequest], None], *, service: str, operations: Any = None) -> None:
        super().__init__(Fault(), service=service, operations=operations, name=f"{service}: observe")
        self.see = see

    def _claim(self, request: ProxyRequest, now: float) -> Trigger | None:
        if self.selects(request):
            self.see(request)
        return None


def decision_of(trigger: Trigger) -> Any:
    return trigger.decision if isinstance(trigger, Decided) else None


# -- the upstream, directly -------------------------------------------------------------------------------------

_clients: dict[tuple[str, str, str], Any] = {}
_clients_lock = threading.Lock()


def upstream_client(upstream_url: str, service: str, region: str = DEFAULT_REGION) -> Any:
    """A boto3 client of the upstream emulator itself (not the proxy: no request of a behaviour is simulated)."""
    key = (upstream_url, service, region or DEFAULT_REGION)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"total_max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"})
            session = boto3.session.Session()
            make: Callable[..., Any] = session.client  # any service name, not only the typed literals
            client = make(service, endpoint_url=upstream_url, region_name=key[2], config=config, **DUMMY_CREDENTIALS)
            _clients[key] = client
    return client


def region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else DEFAULT_REGION


# -- SQS requests and replies -----------------------------------------------------------------------------------


def sqs_param(request: ProxyRequest, name: str) -> Any:
    """A top-level parameter of an SQS request as sent now (JSON body or query form)."""
    if request.protocol == "json":
        try:
            document = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return document.get(name) if isinstance(document, dict) else None
    return request.params.get(name)


def set_sqs_param(request: ProxyRequest, name: str, value: Any) -> None:
    """Rewrite one parameter of the request before it is forwarded."""
    if request.protocol == "json":
        document = json.loads(request.body or b"{}")
        document[name] = value
        request.body = json.dumps(document).encode()
        request.params = document
        return
    form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
    form[name] = str(value)
    request.body = urlencode(form).encode()
    request.params = {**request.params, name: str(value)}


def int_param(request: ProxyRequest, name: str) -> int | None:
    value = sqs_param(request, name)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def queue_attributes(request: ProxyRequest) -> dict[str, str]:
    """The ``Attributes`` of a CreateQueue / SetQueueAttributes request, in either protocol."""
    if request.protocol == "json":
        attributes = request.params.get("Attributes")
        return {str(k): str(v) for k, v in attributes.items()} if isinstance(attributes, dict) else {}
    found: dict[str, str] = {}
    for key, name in request.params.items():
        if key.startswith("Attribute.") and key.endswith(".Name"):
            value = request.params.get(key[: -len("Name")] + "Value")
            if value is not None:
                found[str(name)] = str(value)
    return found


def queue_url(request: ProxyRequest) -> str | None:
    url = sqs_param(request, "QueueUrl")
    return url if isinstance(url, str) else None


def empty_receive(request: ProxyRequest) -> Reply:
    """A ReceiveMessage reply without messages, as SQS sends it in the request's protocol."""
    request_id = new_request_id()
    headers = [("Date", email.utils.formatdate(usegmt=True)), ("x-amzn-RequestId", request_id)]
    if request.protocol == "json":
        return Reply(200, [*headers, ("Content-Type", AMZ_JSON)], b"{}", "OK")
    body = (
        '<?xml version="1.0"?><ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
        f"<ReceiveMessageResult/><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</ReceiveMessageResponse>"
    ).encode()
    return Reply(200, [*headers, ("Content-Type", "text/xml")], body, "OK")


class QueueWaitTimes:
    """Each queue's ``ReceiveMessageWaitTimeSeconds``: seen in CreateQueue / SetQueueAttributes requests, else
    asked of the upstream once. A ReceiveMessage without ``WaitTimeSeconds`` long-polls when it is above 0."""

    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url
        self._seconds: dict[str, int] = {}

    def see(self, request: ProxyRequest) -> None:
        if request.resource is None:
            return
        if request.operation == "DeleteQueue":
            self._seconds.pop(request.resource, None)
            return
        attributes = queue_attributes(request)
        if "ReceiveMessageWaitTimeSeconds" in attributes:
            try:
                self._seconds[request.resource] = int(attributes["ReceiveMessageWaitTimeSeconds"])
            except ValueError:
                pass
        elif request.operation == "CreateQueue":
            self._seconds[request.resource] = 0

    def observer(self) -> Observer:
        return Observer(self.see, service="sqs", operations=("CreateQueue", "SetQueueAttributes", "DeleteQueue"))

    def wait_seconds(self, request: ProxyRequest) -> int:
        """How long this ReceiveMessage may wait: its ``WaitTimeSeconds``, else the queue's default."""
        asked = int_param(request, "WaitTimeSeconds")
        if asked is not None:
            return asked
        name = request.resource
        if name is None:
            return 0
        if name not in self._seconds:
            self._seconds[name] = self._ask_upstream(request)
        return self._seconds[name]

    def _ask_upstream(self, request: ProxyRequest) -> int:
        url = queue_url(request)
        if url is None:
            return 0
        try:
            got = upstream_client(self.upstream_url, "sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["ReceiveMessageWaitTimeSeconds"]
            )
            return int(got.get("Attributes", {}).get("ReceiveMessageWaitTimeSeconds", 0))
        except Exception:  # the queue is gone or the emulator cannot say: a short poll
            return 0
