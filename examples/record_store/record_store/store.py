"""``RecordStore``: write, get, update, query and delete records in one DynamoDB table.

The table's key is a partition key plus a sort key (``pk`` / ``sk`` by default): all records of one owner share a
partition, and a query returns them in sort-key order, optionally only those whose sort key starts with a prefix.
Values are plain Python (str, int, Decimal, bool, bytes, lists, dicts); numbers come back as ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class RecordNotFound(KeyError):
    """No record has this key."""


class RecordExists(ValueError):
    """A record with this key exists already (``put(..., overwrite=False)``)."""


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class RecordStore:
    """Records in the DynamoDB table ``table_name``, through a boto3 DynamoDB ``client``."""

    def __init__(self, table_name: str, client: Any, *, partition_key: str = "pk", sort_key: str = "sk") -> None:
        self.table_name = table_name
        self.client = client
        self.partition_key = partition_key
        self.sort_key = sort_key

    def _key(self, partition: str, sort: str) -> dict[str, Any]:
        return _to_item({self.partition_key: partition, self.sort_key: sort})

    def put(self, partition: str, sort: str, data: Mapping[str, Any], *, overwrite: bool = True) -> None:
        """Write a record; with ``overwrite=False`` raise :class:`RecordExists` instead of replacing one."""
        clash = {self.partition_key, self.sort_key} & set(data)
        if clash:
            raise ValueError(f"data may not contain the key attributes {sorted(clash)}")
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": {**self._key(partition, sort), **_to_item(data)},
        }
        if not overwrite:
            request["ConditionExpression"] = "attribute_not_exists(#pk)"
            request["ExpressionAttributeNames"] = {"#pk": self.partition_key}
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if _conditional_failure(error):
                raise RecordExists((partition, sort)) from None
            raise

    def get(self, partition: str, sort: str) -> dict[str, Any] | None:
        """The record's data (without its key), or None. Reads are strongly consistent."""
        response = self.client.get_item(TableName=self.table_name, Key=self._key(partition, sort), ConsistentRead=True)
        if "Item" not in response:
            return None
        return self._data(response["Item"])

    def update(self, partition: str, sort: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Set the attributes in ``changes`` on an existing record and return its new data."""
        if not changes:
            raise ValueError("no changes given")
        clash = {self.partition_key, self.sort_key} & set(changes)
        if clash:
            raise ValueError(f"the key attributes {sorted(clash)} cannot be updated: write a new record")
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": _serializer.serialize(value) for i, value in enumerate(changes.values())}
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=self._key(partition, sort),
                UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={**names, "#pk": self.partition_key},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _conditional_failure(error):
                raise RecordNotFound((partition, sort)) from None
            raise
        return self._data(response["Attributes"])

    def query(
        self, partition: str, *, prefix: str | None = None, descending: bool = False, page_size: int | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(sort key, data)`` of the partition's records in sort-key order, following every page."""
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": _serializer.serialize(partition)}
        if prefix is not None:
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"] = _serializer.serialize(prefix)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": self.partition_key, **({"#sk": self.sort_key} if prefix else {})},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not descending,
            "ConsistentRead": True,
        }
        if page_size is not None:
            request["Limit"] = page_size
        while True:
            response = self.client.query(**request)
            for item in response.get("Items", []):
                yield item[self.sort_key]["S"], self._data(item)
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete(self, partition: str, sort: str) -> bool:
        """Delete the record; True when it existed."""
        response = self.client.delete_item(
            TableName=self.table_name, Key=self._key(partition, sort), ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def _data(self, item: Mapping[str, Any]) -> dict[str, Any]:
        record = _from_item(item)
        record.pop(self.partition_key, None)
        record.pop(self.sort_key, None)
        return record
