"""The async front door mirrors the sync one: same names, parameters, defaults, handle classes and errors; its
handles carry aioboto3 objects that work inside the block."""

from __future__ import annotations

import inspect

import pytest

import sandboxres
import sandboxres.aio as aio
from sandboxres import BucketHandle, QueueHandle, SpecError, TableHandle

DOORS = ["ephemeral_table", "ephemeral_bucket", "ephemeral_queue"]


@pytest.mark.parametrize("name", DOORS)
def test_same_names_parameters_and_defaults(name: str) -> None:
    sync_door, async_door = getattr(sandboxres, name), getattr(aio, name)
    assert async_door.__name__ == sync_door.__name__ == name
    sync_params = inspect.signature(sync_door).parameters
    async_params = inspect.signature(async_door).parameters
    assert list(sync_params) == list(async_params)
    for param in sync_params.values():
        other = async_params[param.name]
        assert (other.kind, other.default) == (param.kind, param.default), param.name


@pytest.mark.parametrize("name", DOORS)
def test_same_errors_for_bad_input(name: str) -> None:
    for door in (getattr(sandboxres, name), getattr(aio, name)):
        with pytest.raises(SpecError, match="letters or digits"):
            door("!!!")
        with pytest.raises(SpecError, match="timeout"):
            door("ok", timeout=-1)


async def test_handles_are_the_same_classes_with_aioboto3_objects() -> None:
    async with aio.ephemeral_table("aio", stream="KEYS_ONLY") as t, aio.ephemeral_bucket("aio") as b:
        async with aio.ephemeral_queue("aio", dead_letter=1) as q:
            assert isinstance(t, TableHandle) and isinstance(b, BucketHandle) and isinstance(q, QueueHandle)
            assert isinstance(q.dead_letter, QueueHandle)
            assert type(t.client).__module__.startswith("aiobotocore")
            described = t.client.describe_table(TableName=t.name)
            assert inspect.isawaitable(described)
            assert (await described)["Table"]["TableArn"] == t.arn
            await t.table.put_item(Item={"pk": "a"})  # aioboto3 Table resource
            assert (await t.table.get_item(Key={"pk": "a"}))["Item"] == {"pk": "a"}
            await b.bucket.put_object(Key="k", Body=b"v")  # aioboto3 Bucket resource
            assert [o.key async for o in b.bucket.objects.all()] == ["k"]
            assert t.stream_arn and (await t.client.describe_table(TableName=t.name))["Table"]["LatestStreamArn"]
            assert (await q.client.get_queue_url(QueueName=q.dead_letter.name))["QueueUrl"] == q.dead_letter.url
