"""Resource names: the rules of each service, and turning a label into a valid unique name.

Tables and queues are named ``test_<label>_<unique>``, buckets ``test-<label>-<unique>`` (S3 forbids ``_``),
FIFO queues end in ``.fifo``. The unique part is 16 hex digits (64 random bits) and is never shortened:
a long label is cut instead.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Literal

from sandboxres._engine.errors import SpecError

Kind = Literal["table", "bucket", "queue"]

TABLE_PREFIX = "test_"
QUEUE_PREFIX = "test_"
BUCKET_PREFIX = "test-"
PREFIXES: dict[Kind, str] = {"table": TABLE_PREFIX, "bucket": BUCKET_PREFIX, "queue": QUEUE_PREFIX}

UNIQUE_HEX_DIGITS = 16
_MAX_LEN: dict[Kind, int] = {"table": 255, "bucket": 63, "queue": 80}

_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_QUEUE_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def table_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid DynamoDB table name, or None when it is."""
    if not _TABLE_RE.match(name):
        return "must be 3-255 characters of A-Z a-z 0-9 _ . -"
    return None


def queue_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid SQS queue name, or None when it is."""
    base = name[: -len(".fifo")] if name.endswith(".fifo") else name
    if len(name) > 80 or not _QUEUE_RE.match(base):
        return "must be 1-80 characters of A-Z a-z 0-9 _ - (a FIFO queue ends in .fifo, counted in the 80)"
    return None


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


NAME_PROBLEM = {"table": table_name_problem, "bucket": bucket_name_problem, "queue": queue_name_problem}


def unique_part() -> str:
    """64 random bits as 16 lowercase hex digits."""
    return secrets.token_hex(UNIQUE_HEX_DIGITS // 2)


def sanitize_label(kind: Kind, label: str) -> str:
    """Make ``label`` fit the character rules of ``kind``; raise SpecError when nothing usable is left."""
    if not isinstance(label, str):
        raise SpecError(f"label must be a string, got {type(label).__name__}")
    if kind == "bucket":
        cleaned = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    else:
        cleaned = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")
    if not cleaned:
        raise SpecError(f"label {label!r} has no letters or digits; give a label such as 'users' or 'uploads'")
    return cleaned


def make_name(kind: Kind, label: str, *, fifo: bool = False, unique: str | None = None, scope: str = "") -> str:
    """A valid, unique name for a resource of ``kind``.

    ``scope`` (for example a pytest-xdist worker id) is placed between the label and the unique part.
    """
    unique = unique or unique_part()
    sep = "-" if kind == "bucket" else "_"
    cleaned = sanitize_label(kind, label)
    scope_part = sep + sanitize_label(kind, scope) if scope else ""
    suffix = ".fifo" if fifo else ""
    fixed = len(PREFIXES[kind]) + len(scope_part) + len(sep) + len(unique) + len(suffix)
    room = _MAX_LEN[kind] - fixed
    middle = cleaned[:room].rstrip(sep + ".")  # a long label is cut; the scope and the unique part never are
    if not middle:
        raise SpecError(f"label {label!r} leaves no room for a {kind} name")
    name = f"{PREFIXES[kind]}{middle}{scope_part}{sep}{unique}{suffix}"
    problem = NAME_PROBLEM[kind](name)
    if problem:  # pragma: no cover - sanitising above guarantees validity; this guards future edits
        raise SpecError(f"{kind} name {name!r} {problem}")
    return name


def has_prefix(kind: Kind, name: str) -> bool:
    """True when ``name`` carries this library's prefix for ``kind`` (case-sensitive)."""
    return name.startswith(PREFIXES[kind])


# The exact shape of a bucket name this library generates: prefix, label (and scope), the 16 hex digits.
_GENERATED_BUCKET_RE = re.compile(rf"^{BUCKET_PREFIX}[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9a-f]{{{UNIQUE_HEX_DIGITS}}}$")


def is_generated_bucket_name(name: str) -> bool:
    """True when ``name`` has exactly the shape of a bucket name from :func:`make_name` (prefix, label, unique
    part of 16 hex digits, at most 63 characters). Used to recognise our buckets that lack tags."""
    return len(name) <= _MAX_LEN["bucket"] and _GENERATED_BUCKET_RE.match(name) is not None
