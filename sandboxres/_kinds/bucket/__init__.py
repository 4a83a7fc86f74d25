"""S3 buckets: ``test-<label>-<unique>``, tagged from birth, visible before use, emptied and deleted after."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandboxres._engine.plans import Progress
from sandboxres._engine.steps import Plan
from sandboxres._kinds.base import Listed, ResourceKind
from sandboxres._kinds.bucket.handle import BucketHandle
from sandboxres._kinds.bucket.permissions import BUCKET_OPERATIONS, BUCKET_POLICY
from sandboxres._kinds.bucket.plans import BucketFacts, create_bucket, delete_bucket, list_buckets, read_bucket_tags
from sandboxres._kinds.bucket.probes import probe_buckets, verify_bucket
from sandboxres._kinds.bucket.spec import BUCKET_NAMES, BUCKET_PREFIX, DEFAULT_TIMEOUT, BucketSpec, bucket_spec

__all__ = ["BUCKET", "BUCKET_PREFIX", "BucketFacts", "BucketHandle", "BucketKind", "BucketSpec", "bucket_spec"]


class BucketKind(ResourceKind[BucketSpec, BucketFacts]):
    name = "bucket"
    service = "s3"
    names = BUCKET_NAMES
    default_timeout = DEFAULT_TIMEOUT
    resource = ("s3", "Bucket")
    spec_factory = staticmethod(bucket_spec)
    operations = BUCKET_OPERATIONS
    policy = BUCKET_POLICY

    def expected(self, spec: BucketSpec, scope: str) -> BucketFacts:
        return BucketFacts(BUCKET_NAMES.make(spec.label, scope=scope))

    def named(self, name: str) -> BucketFacts:
        return BucketFacts(name)

    def create(
        self, spec: BucketSpec, facts: BucketFacts, tags: Mapping[str, str], region: str | None, progress: Progress
    ) -> Plan[BucketFacts]:
        return create_bucket(spec, facts, tags, region, progress)

    def delete(self, facts: BucketFacts, progress: Progress, timeout: float) -> Plan[None]:
        return delete_bucket(facts, progress, timeout)

    def read_tags(self, facts: BucketFacts) -> Plan[dict[str, str] | None]:
        return read_bucket_tags(facts)

    def listing(self) -> Plan[list[Listed]]:
        return list_buckets()

    def probe(self, client: Any) -> None:
        probe_buckets(client)

    def verify(self, handle: Any) -> None:
        verify_bucket(handle)

    def handle(self, facts: BucketFacts, client: Any, make_resource: Callable[[], Any]) -> BucketHandle[Any, Any]:
        return BucketHandle(facts.name, facts.arn, client, make_resource)


BUCKET = BucketKind()
