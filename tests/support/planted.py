"""Resources planted on an emulator with plain boto3, the way another tool would: untagged, or with the
library's tags (``library_tags``) to pass for the library's own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.support.inventory import raw_client


def library_tags(run_id: str, created_at: str) -> dict[str, str]:
    return {"sandboxres:managed": "true", "sandboxres:run-id": run_id, "sandboxres:created-at": created_at}


def make_table(url: str, name: str, tags: Mapping[str, str] | None = None) -> None:
    """A table created with plain boto3 (optionally with tags), the way another tool would."""
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    raw_client("dynamodb", url).create_table(**params)


def make_bucket(url: str, name: str, tags: Mapping[str, str] | None = None) -> None:
    client = raw_client("s3", url)
    client.create_bucket(Bucket=name)
    if tags:
        client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def make_queue(url: str, name: str, tags: Mapping[str, str] | None = None) -> None:
    params: dict[str, Any] = {"QueueName": name}
    if tags:
        params["tags"] = dict(tags)
    raw_client("sqs", url).create_queue(**params)
