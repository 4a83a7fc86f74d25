"""The worker: takes an S3 event record (``ObjectCreated``), reads the CSV object it names, and stores its summary
(rows, columns of the header) in a DynamoDB table keyed by the object's key."""

from __future__ import annotations

import csv
import io
import urllib.parse
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    key: str
    rows: int
    columns: tuple[str, ...]


class UploadWorker:
    def __init__(self, s3: Any, table: Any) -> None:
        self.s3 = s3  # an S3 client
        self.table = table  # a DynamoDB Table resource

    def handle(self, record: dict[str, Any]) -> Summary:
        """Summarise the object an S3 event record names, and store the summary."""
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])  # S3 events URL-encode keys
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        rows = list(csv.reader(io.StringIO(body)))
        header, data = (rows[0], rows[1:]) if rows else ([], [])
        summary = Summary(key, len(data), tuple(header))
        self.table.put_item(Item={"key": key, "rows": summary.rows, "columns": list(summary.columns)})
        return summary

    def summary(self, key: str) -> Summary | None:
        """The stored summary of ``key`` (an eventually consistent read, as the SDK does by default)."""
        item = self.table.get_item(Key={"key": key}).get("Item")
        if item is None:
            return None
        return Summary(item["key"], int(item["rows"]), tuple(item["columns"]))
