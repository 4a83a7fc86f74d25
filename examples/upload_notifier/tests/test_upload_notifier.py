"""The upload notifier against real S3 and SQS APIs: the same tests on every target sandboxres can use."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError
from upload_notifier import Upload, UploadNotifier


def test_upload_stores_the_object_then_announces_it(notifier: UploadNotifier, prefix: str) -> None:
    upload = notifier.upload(f"{prefix}report.csv", b"a,b\n1,2\n", content_type="text/csv")
    assert upload == Upload(
        notifier.bucket, f"{prefix}report.csv", 8, hashlib.md5(b"a,b\n1,2\n").hexdigest(), "text/csv"
    )
    head = notifier.s3.head_object(Bucket=notifier.bucket, Key=upload.key)
    assert head["ContentLength"] == 8 and head["ContentType"] == "text/csv"
    assert notifier.receive() == [upload]
    assert notifier.fetch(upload) == b"a,b\n1,2\n"


def test_received_notices_are_gone_from_the_queue(notifier: UploadNotifier, prefix: str) -> None:
    notifier.upload(f"{prefix}a.bin", b"\x00\x01")
    assert len(notifier.receive()) == 1
    assert notifier.receive(wait_seconds=0) == []


def test_several_uploads_several_notices(notifier: UploadNotifier, prefix: str) -> None:
    sent = {notifier.upload(f"{prefix}{n}.txt", f"file {n}".encode()) for n in range(3)}
    received: set[Upload] = set()
    for _ in range(5):
        received.update(notifier.receive())
        if received == sent:
            break
    assert received == sent


def test_fifo_notices_keep_their_order(fifo_notifier: UploadNotifier, prefix: str) -> None:
    sent = [fifo_notifier.upload(f"{prefix}{n}.txt", f"part {n}".encode()) for n in range(4)]
    received: list[Upload] = []
    for _ in range(5):
        received += fifo_notifier.receive()
        if len(received) >= len(sent):
            break
    assert received == sent


def test_fifo_announces_the_same_upload_once(fifo_notifier: UploadNotifier, prefix: str) -> None:
    first = fifo_notifier.upload(f"{prefix}same.txt", b"same")
    again = fifo_notifier.upload(f"{prefix}same.txt", b"same")
    assert first == again
    assert fifo_notifier.receive() == [first]
    assert fifo_notifier.receive(wait_seconds=0) == []


def test_a_failed_upload_announces_nothing(notifier: UploadNotifier, prefix: str) -> None:
    missing = UploadNotifier(f"{notifier.bucket}-missing", notifier.queue_url, notifier.s3, notifier.sqs)
    with pytest.raises(ClientError) as caught:
        missing.upload(f"{prefix}lost.txt", b"x")
    assert caught.value.response["Error"]["Code"] == "NoSuchBucket"
    assert notifier.receive(wait_seconds=0) == []


def test_bad_keys_are_refused_before_any_call(notifier: UploadNotifier) -> None:
    for key in ("", "/absolute"):
        with pytest.raises(ValueError, match="relative path"):
            notifier.upload(key, b"x")
    assert notifier.receive(wait_seconds=0) == []


@pytest.mark.sandboxres_aws_only(reason="S3 encrypts every new object (SSE-S3); emulators do not report it")
def test_objects_are_encrypted_at_rest(notifier: UploadNotifier, prefix: str) -> None:
    upload = notifier.upload(f"{prefix}secret.txt", b"s")
    head = notifier.s3.head_object(Bucket=notifier.bucket, Key=upload.key)
    assert head["ServerSideEncryption"] in ("AES256", "aws:kms")
