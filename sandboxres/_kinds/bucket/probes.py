"""The bucket's checks for ``sandboxres doctor`` and ``check``: does S3 answer, does a bucket hold an object."""

from __future__ import annotations

from typing import Any

from sandboxres._engine.classify import error_code
from sandboxres._kinds.bucket.spec import BUCKET_NAMES


def probe_buckets(client: Any) -> None:
    """GetBucketLocation of a bucket that does not exist, named like the library's own: NoSuchBucket is the answer.

    Not ListBuckets: its permission is ``s3:ListAllMyBuckets``, a name emulators that enforce IAM disagree on
    (moto 5.2.6 checks ``s3:ListBuckets``), and it lists every bucket of the account. GetBucketLocation on a
    ``test-`` name needs exactly the permission the generated policy grants on the library's buckets, so a denial
    means that policy is missing.
    """
    try:
        client.get_bucket_location(Bucket=BUCKET_NAMES.make("doctor"))
    except Exception as exc:
        if error_code(exc) != "NoSuchBucket":
            raise


def verify_bucket(handle: Any) -> None:
    """Put an object and read it back; AssertionError when something else comes back."""
    handle.client.put_object(Bucket=handle.name, Key="check.txt", Body=b"sandboxres")
    body = handle.client.get_object(Bucket=handle.name, Key="check.txt")["Body"].read()
    if body != b"sandboxres":
        raise AssertionError(f"read back {body!r} instead of the object written")
