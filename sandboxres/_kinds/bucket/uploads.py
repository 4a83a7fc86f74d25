"""``bucket.upload``: a local directory (recursively) or a ``{key: bytes | str}`` mapping, one PutObject per object.

A directory's files are uploaded under their paths relative to it, with ``/`` separators whatever the platform;
each file is read when its turn comes. Strings are sent UTF-8 encoded. Bad input (a missing path, a value that is
neither bytes nor str, a key S3 refuses) raises SpecError before any call. Right after CreateBucket, S3 may answer
NoSuchBucket for a while (bucket operations are eventually consistent): PutObject retries it within the deadline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sandboxres._engine.classify import as_resource_error
from sandboxres._engine.errors import SpecError
from sandboxres._engine.helpers import helper_deadline
from sandboxres._engine.plans import label_of
from sandboxres._engine.steps import Call, Plan, RetryPolicy
from sandboxres._engine.wiring import HandleContext

KEY_MAX_BYTES = 1024


def _check_key(key: object, where: str) -> str:
    if not isinstance(key, str) or not key:
        raise SpecError(f"{where}: an object key must be a non-empty str, not {key!r}")
    if len(key.encode()) > KEY_MAX_BYTES:
        raise SpecError(f"{where}: the key {key[:40]!r}... is over S3's {KEY_MAX_BYTES} bytes")
    return key


def upload_sources(path_or_mapping: object) -> list[tuple[str, bytes | Path]]:
    """The objects to upload, sorted by key: (key, bytes) for a mapping, (key, file) for a directory."""
    if isinstance(path_or_mapping, Mapping):
        sources: list[tuple[str, bytes | Path]] = []
        for key, value in path_or_mapping.items():
            _check_key(key, "upload")
            if isinstance(value, str):
                value = value.encode()
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise SpecError(f"upload: the value of {key!r} must be bytes or str, not {type(value).__name__}")
            sources.append((key, bytes(value)))
        return sorted(sources, key=lambda source: source[0])
    if not isinstance(path_or_mapping, (str, os.PathLike)):
        raise SpecError(
            f"upload takes a directory (a path) or a mapping of keys to bytes or str, not {type(path_or_mapping)}"
        )
    root = Path(path_or_mapping)
    if not root.exists():
        raise SpecError(f"upload: {root} does not exist")
    if not root.is_dir():
        raise SpecError(f"upload: {root} is not a directory (give a directory, or a mapping {{key: bytes}})")
    files = [p for p in root.rglob("*") if p.is_file()]
    return sorted(((_check_key(p.relative_to(root).as_posix(), str(p)), p) for p in files), key=lambda s: s[0])


def upload_objects(
    context: HandleContext | None, bucket: str, path_or_mapping: object, timeout: float | None = None
) -> Plan[list[str]]:
    """Upload what ``path_or_mapping`` holds into ``bucket``; the keys uploaded, sorted."""
    sources = upload_sources(path_or_mapping)
    deadline = helper_deadline(context, timeout)
    policy = RetryPolicy(deadline).retrying_also("NoSuchBucket")
    keys = []
    for key, source in sources:
        body = source.read_bytes() if isinstance(source, Path) else source
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body}
        try:
            yield Call("s3", "put_object", params, policy)
        except ClientError as exc:
            raise as_resource_error(exc, label_of("bucket", bucket)) from exc
        keys.append(key)
    return keys
