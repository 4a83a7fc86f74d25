"""S3's REST protocol (path-style addressing): the operation of a request, from its method, path, query and
headers."""

from __future__ import annotations

from collections.abc import Sequence

_S3_BUCKET_SUBRESOURCES: dict[str, tuple[str, str, str]] = {
    # query key: (PUT, GET, DELETE) operation names
    "tagging": ("PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging"),
    "versioning": ("PutBucketVersioning", "GetBucketVersioning", ""),
    "policy": ("PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy"),
    "lifecycle": ("PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration", "DeleteBucketLifecycle"),
    "cors": ("PutBucketCors", "GetBucketCors", "DeleteBucketCors"),
    "acl": ("PutBucketAcl", "GetBucketAcl", ""),
    "encryption": ("PutBucketEncryption", "GetBucketEncryption", "DeleteBucketEncryption"),
    "ownershipControls": ("PutBucketOwnershipControls", "GetBucketOwnershipControls", "DeleteBucketOwnershipControls"),
    "publicAccessBlock": ("PutPublicAccessBlock", "GetPublicAccessBlock", "DeletePublicAccessBlock"),
    "notification": ("PutBucketNotificationConfiguration", "GetBucketNotificationConfiguration", ""),
    "object-lock": ("PutObjectLockConfiguration", "GetObjectLockConfiguration", ""),
    "website": ("PutBucketWebsite", "GetBucketWebsite", "DeleteBucketWebsite"),
    "logging": ("PutBucketLogging", "GetBucketLogging", ""),
    "replication": ("PutBucketReplication", "GetBucketReplication", "DeleteBucketReplication"),
    "accelerate": ("PutBucketAccelerateConfiguration", "GetBucketAccelerateConfiguration", ""),
    "requestPayment": ("PutBucketRequestPayment", "GetBucketRequestPayment", ""),
    "location": ("", "GetBucketLocation", ""),
    "versions": ("", "ListObjectVersions", ""),
    "uploads": ("", "ListMultipartUploads", ""),
}
_S3_OBJECT_SUBRESOURCES: dict[str, tuple[str, str, str]] = {
    "tagging": ("PutObjectTagging", "GetObjectTagging", "DeleteObjectTagging"),
    "acl": ("PutObjectAcl", "GetObjectAcl", ""),
    "retention": ("PutObjectRetention", "GetObjectRetention", ""),
    "legal-hold": ("PutObjectLegalHold", "GetObjectLegalHold", ""),
    "attributes": ("", "GetObjectAttributes", ""),
}


def s3_operation(method: str, path: str, query: dict[str, list[str]], headers: Sequence[tuple[str, str]]) -> str:
    """The S3 operation name of a path-style request."""
    method = method.upper()
    parts = path.lstrip("/").split("/", 1)
    bucket = parts[0]
    key = parts[1] if len(parts) > 1 else ""
    copy_source = any(k.lower() == "x-amz-copy-source" for k, _ in headers)
    column = {"PUT": 0, "GET": 1, "DELETE": 2}.get(method)
    if not bucket:
        return "ListBuckets" if method == "GET" else "Unknown"
    if not key:
        if method == "HEAD":
            return "HeadBucket"
        if method == "POST":
            return "DeleteObjects" if "delete" in query else "Unknown"
        if column is not None:
            for name, operations in _S3_BUCKET_SUBRESOURCES.items():
                if name in query and operations[column]:
                    return operations[column]
        if method == "PUT":
            return "CreateBucket"
        if method == "DELETE":
            return "DeleteBucket"
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return "Unknown"
    if method == "HEAD":
        return "HeadObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        if "restore" in query:
            return "RestoreObject"
        if "select" in query:
            return "SelectObjectContent"
        return "Unknown"
    if "uploadId" in query:
        if method == "PUT":
            return "UploadPartCopy" if copy_source else "UploadPart"
        return {"GET": "ListParts", "DELETE": "AbortMultipartUpload"}.get(method, "Unknown")
    if column is not None:
        for name, operations in _S3_OBJECT_SUBRESOURCES.items():
            if name in query and operations[column]:
                return operations[column]
    if method == "PUT":
        return "CopyObject" if copy_source else "PutObject"
    return {"GET": "GetObject", "DELETE": "DeleteObject"}.get(method, "Unknown")
