"""Simulated behaviours: buckets (a new bucket invisible for a moment, a deleted bucket's name blocked)."""

from __future__ import annotations

from collections.abc import Sequence

from sandboxres._simulator.aws_errors import AwsError
from sandboxres._simulator.behaviours.base import Behaviour, Context
from sandboxres._simulator.rules import Rule

NO_SUCH_BUCKET = "The specified bucket does not exist"
OPERATION_ABORTED = (
    "A conflicting conditional operation is currently in progress against this resource. Please try again."
)


def _bucket_invisible(ctx: Context) -> Sequence[Rule]:
    return [
        Rule(
            AwsError("NoSuchBucket", NO_SUCH_BUCKET, 404),
            service="s3",
            # DeleteBucket goes through: a cleanup right after a create must not take the bucket for gone.
            exclude=("CreateBucket", "ListBuckets", "DeleteBucket"),
            for_seconds=ctx.seconds("seconds"),
            after="CreateBucket",
            name="bucket_invisible",
        )
    ]


def _bucket_name_blocked(ctx: Context) -> Sequence[Rule]:
    return [
        Rule(
            AwsError("OperationAborted", OPERATION_ABORTED, 409),
            service="s3",
            operations="CreateBucket",
            for_seconds=ctx.seconds("seconds"),
            after="DeleteBucket",
            name="bucket_name_blocked",
        )
    ]


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        name="bucket_invisible",
        imitates=(
            "Right after CreateBucket, calls on the new bucket (HeadBucket, PutObject, PutBucketTagging, GetObject, "
            "ListObjectsV2, ...) may answer NoSuchBucket (404) for a while: bucket operations are eventually "
            "consistent (Terraform retries them for up to 2 minutes). DeleteBucket is let through."
        ),
        source=(
            "Amazon S3 User Guide, 'Amazon S3 data consistency model' (bucket configurations are eventually "
            "consistent); Terraform AWS provider, aws_s3_bucket (retries NoSuchBucket after create)"
        ),
        settings={"seconds": 3.0},
        install=_bucket_invisible,
    ),
    Behaviour(
        name="bucket_name_blocked",
        imitates=(
            "After DeleteBucket, creating a bucket of the same name answers 409 OperationAborted ('A conflicting "
            "conditional operation is currently in progress') for a while (up to about an hour on AWS)."
        ),
        source=(
            "Amazon S3 API Reference, 'Error responses' (OperationAborted, 409 Conflict); Amazon S3 User Guide, "
            "'Deleting a bucket' (a deleted bucket's name may not be available for reuse at once)"
        ),
        settings={"seconds": 60.0},
        install=_bucket_name_blocked,
    ),
)
