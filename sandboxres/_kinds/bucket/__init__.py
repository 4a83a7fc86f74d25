"""S3 buckets: ``test-<label>-<unique>``, tagged from birth, visible before use, emptied and deleted after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandboxres._engine.wiring import HandleContext
from sandboxres._kinds.base import ResourceKind
from sandboxres._kinds.bucket.handle import AsyncBucketHandle, BucketHandle
from sandboxres._kinds.bucket.permissions import BUCKET_OPERATIONS, BUCKET_POLICY
from sandboxres._kinds.bucket.plans import BucketFacts, create_bucket, delete_bucket, list_buckets, read_bucket_tags
from sandboxres._kinds.bucket.probes import probe_buckets, verify_bucket
from sandboxres._kinds.bucket.recycling import read_bucket_baseline, recycle_bucket
from sandboxres._kinds.bucket.spec import BUCKET_NAMES, BUCKET_PREFIX, DEFAULT_TIMEOUT, BucketSpec, bucket_spec

__all__ = ["BUCKET", "BUCKET_PREFIX", "BucketFacts", "BucketHandle", "BucketKind", "BucketSpec", "bucket_spec"]


class BucketKind(ResourceKind[BucketSpec, BucketFacts]):
    name = "bucket"
    service = "s3"
    names = BUCKET_NAMES
    default_timeout = DEFAULT_TIMEOUT
    resource = ("s3", "Bucket")
    spec_factory = staticmethod(bucket_spec)
    facts_type = BucketFacts
    operations = BUCKET_OPERATIONS
    policy = BUCKET_POLICY

    create = staticmethod(create_bucket)
    delete = staticmethod(delete_bucket)
    read_tags = staticmethod(read_bucket_tags)
    listing = staticmethod(list_buckets)
    baseline = staticmethod(read_bucket_baseline)
    recycle = staticmethod(recycle_bucket)

    probe = staticmethod(probe_buckets)
    verify = staticmethod(verify_bucket)

    def handle(
        self, facts: BucketFacts, client: Any, make_resource: Callable[[], Any], context: HandleContext | None = None
    ) -> BucketHandle[Any, Any]:
        cls = AsyncBucketHandle if context is not None and context.is_async else BucketHandle
        return cls(facts.name, facts.arn, client, make_resource, context=context)


BUCKET = BucketKind()
