"""The IAM permissions of an S3 bucket: lifecycle, emptying (every version and upload), sweeper, objects.

IAM action names are not always the operation's: ``HeadBucket`` and ``ListObjectsV2`` need ``s3:ListBucket``,
``ListObjectVersions`` ``s3:ListBucketVersions``, ``DeleteObjects`` ``s3:DeleteObject`` (and
``s3:DeleteObjectVersion`` for versions) on each object, ``CreateBucket`` with tags ``s3:TagResource``,
``GetBucketCors`` ``s3:GetBucketCORS``, ``GetBucketLifecycleConfiguration`` ``s3:GetLifecycleConfiguration``,
``GetBucketNotificationConfiguration`` ``s3:GetBucketNotification`` (``Put...``: ``s3:PutBucketNotification``),
``GetBucketEncryption`` ``s3:GetEncryptionConfiguration``, ``GetPublicAccessBlock`` ``s3:GetBucketPublicAccessBlock``,
``GetObjectLockConfiguration`` ``s3:GetBucketObjectLockConfiguration``, ``GetBucketAccelerateConfiguration``
``s3:GetAccelerateConfiguration``.
Buckets are scoped as ``<prefix>*``, their objects ``<prefix>*/*``; ``ListBuckets`` cannot be scoped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sandboxres._kinds.permissions import ArnKind, Operations, PolicyScope, Scope
from sandboxres._kinds.permissions import permissions as _p

BUCKET_OPERATIONS: Operations = {
    # Lifecycle (create, wait, tag, versioning, empty every version and upload, delete), sweeper, objects.
    ("s3", "CreateBucket"): _p(("s3:CreateBucket", "bucket"), ("s3:TagResource", "bucket")),
    ("s3", "HeadBucket"): _p(("s3:ListBucket", "bucket")),
    ("s3", "GetBucketLocation"): _p(("s3:GetBucketLocation", "bucket")),
    ("s3", "PutBucketTagging"): _p(("s3:PutBucketTagging", "bucket")),
    ("s3", "GetBucketTagging"): _p(("s3:GetBucketTagging", "bucket")),
    ("s3", "PutBucketVersioning"): _p(("s3:PutBucketVersioning", "bucket")),
    ("s3", "GetBucketVersioning"): _p(("s3:GetBucketVersioning", "bucket")),
    # Recycling: the configuration reads compared with the baseline read after creation.
    ("s3", "GetBucketPolicy"): _p(("s3:GetBucketPolicy", "bucket")),
    ("s3", "GetBucketCors"): _p(("s3:GetBucketCORS", "bucket")),
    ("s3", "GetBucketLifecycleConfiguration"): _p(("s3:GetLifecycleConfiguration", "bucket")),
    ("s3", "GetBucketNotificationConfiguration"): _p(("s3:GetBucketNotification", "bucket")),
    ("s3", "GetBucketEncryption"): _p(("s3:GetEncryptionConfiguration", "bucket")),
    ("s3", "GetPublicAccessBlock"): _p(("s3:GetBucketPublicAccessBlock", "bucket")),
    ("s3", "GetBucketOwnershipControls"): _p(("s3:GetBucketOwnershipControls", "bucket")),
    ("s3", "GetBucketWebsite"): _p(("s3:GetBucketWebsite", "bucket")),
    ("s3", "GetObjectLockConfiguration"): _p(("s3:GetBucketObjectLockConfiguration", "bucket")),
    ("s3", "GetBucketRequestPayment"): _p(("s3:GetBucketRequestPayment", "bucket")),
    ("s3", "GetBucketAccelerateConfiguration"): _p(("s3:GetAccelerateConfiguration", "bucket")),
    # Event notifications (bucket.notify): the configuration is read, merged with ours, written back.
    ("s3", "PutBucketNotificationConfiguration"): _p(("s3:PutBucketNotification", "bucket")),
    ("s3", "ListObjects"): _p(("s3:ListBucket", "bucket")),
    ("s3", "ListObjectsV2"): _p(("s3:ListBucket", "bucket")),
    ("s3", "ListObjectVersions"): _p(("s3:ListBucketVersions", "bucket")),
    ("s3", "ListMultipartUploads"): _p(("s3:ListBucketMultipartUploads", "bucket")),
    ("s3", "DeleteBucket"): _p(("s3:DeleteBucket", "bucket")),
    ("s3", "ListBuckets"): _p(("s3:ListAllMyBuckets", "*")),
    ("s3", "DeleteObjects"): _p(
        ("s3:DeleteObject", "object"),
        ("s3:DeleteObjectVersion", "object"),
        ("s3:BypassGovernanceRetention", "object"),
    ),
    ("s3", "DeleteObject"): _p(("s3:DeleteObject", "object"), ("s3:DeleteObjectVersion", "object")),
    ("s3", "AbortMultipartUpload"): _p(("s3:AbortMultipartUpload", "object")),
    ("s3", "PutObject"): _p(("s3:PutObject", "object")),
    ("s3", "GetObject"): _p(("s3:GetObject", "object"), ("s3:GetObjectVersion", "object")),
    ("s3", "HeadObject"): _p(("s3:GetObject", "object"), ("s3:GetObjectVersion", "object")),
    ("s3", "CopyObject"): _p(("s3:PutObject", "object"), ("s3:GetObject", "object")),
    ("s3", "CreateMultipartUpload"): _p(("s3:PutObject", "object")),
    ("s3", "UploadPart"): _p(("s3:PutObject", "object")),
    ("s3", "CompleteMultipartUpload"): _p(("s3:PutObject", "object")),
    ("s3", "ListParts"): _p(("s3:ListMultipartUploadParts", "object")),
    ("s3", "GetObjectTagging"): _p(("s3:GetObjectTagging", "object")),
    ("s3", "PutObjectTagging"): _p(("s3:PutObjectTagging", "object")),
}


def _arns(prefix: str, scope: Scope) -> Mapping[ArnKind, str]:
    return {"bucket": f"arn:{scope.partition}:s3:::{prefix}*", "object": f"arn:{scope.partition}:s3:::{prefix}*/*"}


BUCKET_POLICY = PolicyScope(
    statements=(("bucket", "S3TestBuckets"), ("object", "S3TestBucketObjects")),
    prefix_chars=re.compile(r"^[a-z0-9.-]+$"),
    arns=_arns,
)
