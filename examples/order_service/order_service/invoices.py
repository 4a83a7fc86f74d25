"""Invoices in a versioned S3 bucket: every re-issue of an order's invoice is kept as a new version."""

from __future__ import annotations

from dataclasses import dataclass

import boto3


@dataclass(frozen=True)
class Invoice:
    key: str
    version_id: str
    size: int


def _key(order_id: str) -> str:
    return f"invoices/{order_id}.txt"


def store_invoice(bucket: str, order_id: str, text: str) -> Invoice:
    """Store (or re-issue) the invoice of ``order_id``; returns its new version."""
    s3 = boto3.client("s3")  # a client per call, from the environment
    body = text.encode()
    stored = s3.put_object(Bucket=bucket, Key=_key(order_id), Body=body, ContentType="text/plain")
    return Invoice(_key(order_id), stored["VersionId"], len(body))


def invoice_history(bucket: str, order_id: str) -> list[str]:
    """Every issued text of the invoice of ``order_id``, oldest first."""
    s3 = boto3.client("s3")
    versions = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=_key(order_id)):
        versions += [v for v in page.get("Versions", []) if v["Key"] == _key(order_id)]
    versions.reverse()  # S3 lists the versions of a key newest first
    return [
        s3.get_object(Bucket=bucket, Key=_key(order_id), VersionId=v["VersionId"])["Body"].read().decode()
        for v in versions
    ]
