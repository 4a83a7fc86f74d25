"""Naming a raw AWS request: its service, operation and resource, for DynamoDB (JSON protocol), DynamoDB
Streams, SQS (JSON and query protocols), SNS (query protocol: the topic in ``parsing_sns``), other query-protocol
services, and S3 (REST, path-style addressing: its operations are named in ``parsing_s3``)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sandboxres._simulator.messages import ProxyRequest, WireProtocol
from sandboxres._simulator.parsing_s3 import s3_operation
from sandboxres._simulator.parsing_sns import sns_resource

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def _parse_json(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _queue_name_from_url(url: str) -> str | None:
    path = urlsplit(url).path.rstrip("/")
    return unquote(path.rsplit("/", 1)[-1]) if path else None


def _table_from_arn(arn: str) -> str | None:
    match = re.search(r":table/([^/]+)", arn)
    return match.group(1) if match else None


def parse_request(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> ProxyRequest:
    """Name the service, operation and resource of a raw AWS request."""
    split = urlsplit(target)
    path = split.path or "/"
    query = parse_qs(split.query, keep_blank_values=True)
    lowered = {k.lower(): v for k, v in headers}
    scope = _CREDENTIAL_SCOPE.search(lowered.get("authorization", ""))
    signing_service = scope.group(1) if scope else None
    if signing_service is None and "X-Amz-Credential" in query:
        credential = query["X-Amz-Credential"][0].split("/")
        signing_service = credential[3] if len(credential) > 3 else None

    def make(
        service: str,
        operation: str,
        resource: str | None,
        protocol: WireProtocol,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> ProxyRequest:
        return ProxyRequest(
            method, target, path, query, headers, body, service, operation or "Unknown", resource, protocol, key,
            params or {},
        )  # fmt: skip

    amz_target = lowered.get("x-amz-target", "")
    if amz_target:
        prefix, _, operation = amz_target.partition(".")
        params = _parse_json(body)
        if prefix.startswith("DynamoDBStreams_"):
            stream = params.get("StreamArn")
            return make("dynamodbstreams", operation, stream if isinstance(stream, str) else None, "json", None, params)
        if prefix.startswith("DynamoDB_"):
            resource = params.get("TableName")
            if not isinstance(resource, str):
                arn = params.get("ResourceArn") or params.get("TableArn")
                resource = _table_from_arn(arn) if isinstance(arn, str) else None
            if resource is None and isinstance(params.get("RequestItems"), dict):
                tables = list(params["RequestItems"])
                resource = tables[0] if len(tables) == 1 else None
            return make("dynamodb", operation, resource, "json", None, params)
        if prefix == "AmazonSQS":
            return make("sqs", operation, _sqs_resource(params, path), "json", None, params)
        return make(signing_service or prefix, operation, None, "json", None, params)

    form: dict[str, list[str]] = {}
    if "application/x-www-form-urlencoded" in lowered.get("content-type", "") and body:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    actions = form.get("Action") or query.get("Action")
    if actions:
        action = actions[0]
        params = {k: v[0] for k, v in {**query, **form}.items()}
        if signing_service in (None, "sqs"):
            return make("sqs", action, _sqs_resource(params, path), "query", None, params)
        if signing_service == "sns":
            return make("sns", action, sns_resource(params), "query", None, params)
        return make(signing_service, action, None, "query", None, params)
    if signing_service in (None, "s3"):
        parts = unquote(path).lstrip("/").split("/", 1)
        bucket = parts[0] or None
        key = parts[1] if len(parts) > 1 and parts[1] else None
        return make("s3", s3_operation(method, unquote(path), query, headers), bucket, "rest-xml", key)
    return make(signing_service, "Unknown", None, "unknown")


def _sqs_resource(params: dict[str, Any], path: str) -> str | None:
    name = params.get("QueueName")
    if isinstance(name, str):
        return name
    url = params.get("QueueUrl")
    if isinstance(url, str):
        return _queue_name_from_url(url)
    segments = [s for s in path.split("/") if s]
    return unquote(segments[-1]) if len(segments) >= 2 else None
