"""Control-plane calls made by a client whose retries are off: naive (AWS throttles and fails such calls now and
then, and the SDK's retries are what make them succeed), beside the same calls with the SDK's standard retries."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def describe_often(table: str, client: Any) -> None:
    for _ in range(40):
        client.describe_table(TableName=table)


def test_naive_control_plane_calls_without_retries(sandboxres_table: Any) -> None:
    table = sandboxres_table("described")
    describe_often(table.name, boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1})))


def test_control_plane_calls_with_standard_retries(sandboxres_table: Any) -> None:
    table = sandboxres_table("described")
    describe_often(table.name, boto3.client("dynamodb", config=Config(retries={"mode": "standard"})))
