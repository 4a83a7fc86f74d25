"""The options of a throw-away S3 bucket, and the rules of its name."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from sandboxres._engine.errors import SpecError
from sandboxres._engine.naming import NameRules
from sandboxres._engine.validation import check_keep, check_timeout
from sandboxres._kinds.base import Spec

BUCKET_PREFIX = "test-"
DEFAULT_TIMEOUT = 120.0
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid S3 bucket name, or None when it is."""
    if not _BUCKET_RE.match(name):
        return "must be 3-63 characters of a-z 0-9 . - starting and ending with a letter or digit"
    if ".." in name:
        return "must not contain '..'"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "must not look like an IP address"
    if name.startswith(_BUCKET_RESERVED_PREFIXES):
        return f"must not start with any of {', '.join(_BUCKET_RESERVED_PREFIXES)}"
    if name.endswith(_BUCKET_RESERVED_SUFFIXES):
        return f"must not end with any of {', '.join(_BUCKET_RESERVED_SUFFIXES)}"
    return None


# S3 forbids "_": buckets are test-<label>-<unique>, lower case.
BUCKET_NAMES = NameRules("bucket", BUCKET_PREFIX, "-", 63, bucket_name_problem, lower_case=True)


@dataclass(frozen=True)
class BucketSpec(Spec):
    kind: str = field(init=False, default="bucket")
    versioning: bool = False


def bucket_spec(
    label: str = "bucket", *, versioning: bool = False, timeout: float | None = None, keep: bool | None = None
) -> BucketSpec:
    """A throw-away S3 bucket: ``with ephemeral_bucket("uploads") as b:`` gives a :class:`BucketHandle`.

    The bucket is named ``test-<label>-<unique>``, tagged and answering when the block starts; at the end it is
    emptied of every object version, delete marker and unfinished upload, and deleted. Every option is checked
    here, before any call: bad input raises :class:`SpecError`.

    :param label: readable part of the name (lower-case letters and digits; anything else becomes ``-``).
    :param versioning: enable versioning before the block starts.
    :param timeout: readiness deadline in seconds (default ``SANDBOXRES_BUCKET_TIMEOUT``, else 120).
    :param keep: keep the bucket after the block (default ``SANDBOXRES_KEEP``, else delete it).
    """
    BUCKET_NAMES.make(label)
    if not isinstance(versioning, bool):
        raise SpecError(f"versioning must be True or False, got {versioning!r}")
    timeout = check_timeout("bucket", timeout, DEFAULT_TIMEOUT)
    return BucketSpec(label=label, timeout=timeout, keep=check_keep(keep), versioning=versioning)
