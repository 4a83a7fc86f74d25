"""Keeping credentials out of every output: logs, exception messages, reprs and the command line.

Two layers, both applied by :func:`redact`:

- *values*: the access key id, secret key and session token in the environment (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_SECURITY_TOKEN``) and any credential value handed to
  :func:`remember` (the guards remember what the SDK resolved for real AWS) are replaced wherever they appear,
  also URL-encoded;
- *shapes*: whatever follows ``Credential=`` in a SigV4 ``Authorization`` header or a presigned URL, security
  token headers and query parameters (botocore logs them at DEBUG), ``SecretAccessKey`` / ``SessionToken``
  fields of STS responses, AWS access key ids (``AKIA...``, ``ASIA...``) and the ``user:password@`` part of
  URLs.

:func:`scrub_exception` redacts, in place, the arguments of an exception and of every exception it chains
(``__cause__``, ``__context__``, the failures a cleanup error holds): a traceback printed by Python or pytest
shows the chained SDK error too, and an emulator may echo request headers in its error message.

:func:`install_log_redaction` wraps the logging record factory so that every record of the SDK, HTTP and
sandboxres loggers is redacted when it is created, before any handler (or pytest's ``caplog``) sees it.
Every :class:`~sandboxres.SandboxresError` renders its message through :func:`redact`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

MASK = "***"
SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# Values that are not secrets (the emulators' well-known dummy keys) and would only blank ordinary words.
_NOT_SECRET = frozenset({"testing", "test", "dummy", "fake", "foobar", "S3RVER", "localstack"})
_MIN_SECRET_LENGTH = 6

# Loggers whose records are redacted: the SDKs, their HTTP stacks, the emulator servers, and this library.
REDACTED_LOGGERS = (
    "botocore",
    "boto3",
    "aiobotocore",
    "aioboto3",
    "s3transfer",
    "urllib3",
    "aiohttp",
    "werkzeug",
    "moto",
    "sandboxres",
)

_SHAPES: tuple[re.Pattern[str], ...] = (
    # SigV4: "Credential=AKID/20240101/us-east-1/sqs/aws4_request" and "X-Amz-Credential=AKID%2F2024..."
    re.compile(r"(Credential=)[^/%&\s,'\";]+", re.IGNORECASE),
    # Security token as a header (repr or canonical request) or a query parameter.
    re.compile(r"(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s&,;]+", re.IGNORECASE),
    # STS / credential-process documents (XML or JSON) and SDK keyword arguments.
    re.compile(
        r"((?:SecretAccessKey|SessionToken|SecurityToken|secret_access_key|session_token|aws_secret_access_key"
        r"|aws_session_token)['\"]?\s*(?:[:=>]|=>)\s*b?['\"]?)[A-Za-z0-9/+=%]{8,}",
    ),
)
# The user information of a URL (``scheme://user:password@host``), wherever a URL appears.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s'\"<>]+@")
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{12,124}\b")

_remembered: set[str] = set()
_lock = threading.Lock()
_installed = False


def remember(*values: str | None) -> None:
    """Treat these values as secrets from now on (credentials the SDK resolved, for example)."""
    with _lock:
        _remembered.update(v for v in values if v is not None and _is_secret_value(v))


def _is_secret_value(value: str | None) -> bool:
    return bool(value) and len(value or "") >= _MIN_SECRET_LENGTH and value not in _NOT_SECRET


def secret_values() -> list[str]:
    """The credential values known now, longest first (so a token is masked before a key inside it)."""
    found = {os.environ.get(name) for name in SECRET_VARIABLES}
    with _lock:
        found.update(_remembered)
    return sorted((v for v in found if v and _is_secret_value(v)), key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every known credential value and every credential-shaped string replaced by ``***``."""
    if not text:
        return text
    for value in secret_values():
        if value in text:
            text = text.replace(value, MASK)
        encoded = quote(value, safe="")
        if encoded != value and encoded in text:
            text = text.replace(encoded, MASK)
    for shape in _SHAPES:
        text = shape.sub(lambda match: match.group(1) + MASK, text)
    text = _URL_USERINFO.sub(lambda match: match.group(1) + MASK + "@", text)
    return _ACCESS_KEY_ID.sub(MASK, text)


def redact_url(url: str) -> str:
    """``url`` with its ``user:password@`` part (if any) masked; a URL without one is returned unchanged."""
    return _URL_USERINFO.sub(lambda match: match.group(1) + MASK + "@", url) if url else url


def _redact_value(value: Any) -> Any:
    """Strings redacted, also inside tuples, lists and dicts (the shapes exception arguments take)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, tuple):
        return tuple(_redact_value(v) for v in value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    return value


def _chained(exc: BaseException) -> Iterable[BaseException]:
    yield from (e for e in (exc.__cause__, exc.__context__) if e is not None)
    yield from (e for e in getattr(exc, "errors", None) or () if isinstance(e, BaseException))
    yield from (e for e in getattr(exc, "sandboxres_cleanup_errors", None) or () if isinstance(e, BaseException))
    yield from (e for e in getattr(exc, "exceptions", None) or () if isinstance(e, BaseException))


def scrub_exception(exc: BaseException | None) -> None:
    """Redact, in place, the arguments (and notes) of ``exc`` and of every exception it chains.

    SDK errors keep their type, code and (redacted) message: botocore's ``ClientError`` also has the message
    of its ``response`` redacted, a ``BotoCoreError`` the values it was formatted from.
    """
    seen: set[int] = set()
    pending = [exc] if exc is not None else []
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        try:
            cleaned = _redact_value(current.args)
            if cleaned != current.args:
                current.args = cleaned
            notes = getattr(current, "__notes__", None)
            if isinstance(notes, list):
                notes[:] = [_redact_value(note) for note in notes]
            for attribute in ("kwargs", "response"):  # BotoCoreError's format values; ClientError's response
                value = getattr(current, attribute, None)
                if isinstance(value, dict):
                    setattr(current, attribute, _redact_value(value))
        except Exception:  # an exception type that refuses new attributes: its chain is still walked
            pass
        pending.extend(_chained(current))


def _redacts(logger_name: str) -> bool:
    return any(logger_name == name or logger_name.startswith(name + ".") for name in REDACTED_LOGGERS)


def redact_record(record: logging.LogRecord) -> None:
    """Replace the message (and formatted traceback) of ``record`` by their redacted text when they differ."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: the handler reports it as usual
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        cleaned = redact(text)
        if cleaned != text:
            record.exc_text = cleaned


def install_log_redaction() -> None:
    """Redact every record of the SDK, HTTP, emulator and sandboxres loggers as it is created (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _redacts(record.name):
                redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
