"""Buckets through the sync and the async front door: handle, tags, versioning, emptying at exit, bad input."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import sandboxres
from sandboxres import SpecError
from tests.support.inventory import InventoryAt
from tests.support.runner import Runner


def test_defaults_and_handle(run: Runner, inventory: InventoryAt, managed_tags: Callable[..., None]) -> None:
    with run.lifecycle("bucket", "uploads") as b:
        assert b.name.startswith("test-uploads-")
        assert b.arn == f"arn:aws:s3:::{b.name}"
        assert b.name in inventory().buckets()
        run.call(b.client.head_bucket(Bucket=b.name))
        versioning = run.call(b.client.get_bucket_versioning(Bucket=b.name))
        assert versioning.get("Status") != "Enabled"
        run.call(b.bucket.put_object(Key="a.txt", Body=b"hello"))
        got = run.call(b.client.get_object(Bucket=b.name, Key="a.txt"))
        assert run.call(got["Body"].read()) == b"hello"
        tags = run.call(b.client.get_bucket_tagging(Bucket=b.name))
        managed_tags({tag["Key"]: tag["Value"] for tag in tags["TagSet"]})
        assert "client" not in repr(b) and b.name in repr(b)
        name = b.name
    assert name not in inventory().buckets()


def test_versioning(run: Runner, inventory: InventoryAt) -> None:
    with run.lifecycle("bucket", "versioned", versioning=True) as b:
        versioning = run.call(b.client.get_bucket_versioning(Bucket=b.name))
        assert versioning["Status"] == "Enabled"
        for body in (b"one", b"two"):
            run.call(b.client.put_object(Bucket=b.name, Key="k", Body=body))
        run.call(b.client.delete_object(Bucket=b.name, Key="k"))  # leaves a delete marker
        listing = run.call(b.client.list_object_versions(Bucket=b.name))
        assert len(listing["Versions"]) == 2 and len(listing["DeleteMarkers"]) == 1
        name = b.name
    assert name not in inventory().buckets()  # every version and delete marker was removed first


def test_a_bucket_left_full_is_emptied_and_deleted(run: Runner, inventory: InventoryAt) -> None:
    with run.lifecycle("bucket", "full", versioning=True) as b:
        for i in range(5):
            run.call(b.client.put_object(Bucket=b.name, Key=f"dir/{i}.txt", Body=b"x" * i))
        run.call(b.client.put_object(Bucket=b.name, Key="dir/0.txt", Body=b"again"))
        upload = run.call(b.client.create_multipart_upload(Bucket=b.name, Key="big.bin"))
        assert upload["UploadId"]
        name = b.name
    assert name not in inventory().buckets()


def test_more_than_one_page_of_objects_is_emptied(
    monkeypatch: pytest.MonkeyPatch, moto_server: str, inventory: InventoryAt
) -> None:
    """1,001 objects: the listing takes two pages and DeleteObjects two batches (at most 1,000 keys each).

    On the separate moto_server process (the server does not share this process's interpreter lock); the objects
    are written with plain HTTP PUTs (moto does not check signatures), which costs a tenth of boto3's CPU time.
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    host, port = moto_server.removeprefix("http://").split(":")

    def put(keys: range) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            for key in keys:
                connection.request("PUT", f"/{b.name}/o/{key:05}", body=b"")
                response = connection.getresponse()
                response.read()
                assert response.status == 200, response.status
        finally:
            connection.close()

    with sandboxres.ephemeral_bucket("many") as b:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(put, [range(i, 1001, 4) for i in range(4)]))
        assert b.client.list_objects_v2(Bucket=b.name)["KeyCount"] == 1000  # a full first page, and more
        assert b.client.list_objects_v2(Bucket=b.name, StartAfter="o/00999")["KeyCount"] == 1
        name = b.name
    assert name not in inventory(moto_server).buckets()


def test_explicit_create_and_delete(run: Runner, inventory: InventoryAt) -> None:
    resource = run.api.ephemeral_bucket("explicit")
    handle = run.call(resource.create())
    assert handle.name in inventory().buckets()
    run.call(handle.client.put_object(Bucket=handle.name, Key="k", Body=b"v"))
    run.call(resource.delete())
    assert handle.name not in inventory().buckets()
    run.call(resource.delete())  # idempotent


BAD_BUCKET_OPTIONS = [
    {"label": "!!!"},
    {"label": "___"},
    {"label": 7},
    {"versioning": "yes"},
    {"versioning": 1},
    {"timeout": 0},
    {"timeout": "1"},
    {"keep": "no"},
]


@pytest.mark.parametrize("options", BAD_BUCKET_OPTIONS, ids=repr)
def test_bad_options_raise_spec_error_and_create_nothing(
    run: Runner, inventory: InventoryAt, options: dict[str, Any]
) -> None:
    before = inventory().snapshot()
    options = dict(options)
    label = options.pop("label", "bad")
    with pytest.raises(SpecError):
        with run.lifecycle("bucket", label, **options):
            pytest.fail("the block must not run")
    assert inventory().snapshot() == before
