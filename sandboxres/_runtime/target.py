"""Where resources are created: the target, resolved from environment variables alone.

Resolution is pure: :func:`resolve_target` reads a mapping (``os.environ`` by default) and returns an immutable
:class:`Target` that also records where each value came from. Nothing here starts a server or calls AWS.

- nothing set                                   -> ``embedded`` (moto's server in this process)
- ``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SVC>``, ``DYNAMODB_ENDPOINT``, ``S3_ENDPOINT``, ``SQS_ENDPOINT``
                                                -> ``emulator``
- ``SANDBOXRES_TARGET=embedded|emulator|aws``   overrides; ``aws`` with an endpoint variable is an error.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from sandboxres._engine.errors import ConfigurationError
from sandboxres._engine.redaction import redact, redact_url
from sandboxres._engine.settings import timeout_from_env

TargetKind = Literal["embedded", "emulator", "aws"]
Service = Literal["dynamodb", "dynamodbstreams", "s3", "sqs", "sts"]
SERVICES: tuple[Service, ...] = ("dynamodb", "dynamodbstreams", "s3", "sqs", "sts")

DEFAULT_REGION = "us-east-1"
EMBEDDED_CREDENTIALS = ("testing", "testing")

# Endpoint variables per service, most specific first. The seed names (DYNAMODB_ENDPOINT...) come after boto3's.
_ENDPOINT_VARS: dict[Service, tuple[str, ...]] = {
    "dynamodb": ("AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_ENDPOINT"),
    "dynamodbstreams": ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_ENDPOINT"),
    "s3": ("AWS_ENDPOINT_URL_S3", "S3_ENDPOINT"),
    "sqs": ("AWS_ENDPOINT_URL_SQS", "SQS_ENDPOINT"),
    "sts": ("AWS_ENDPOINT_URL_STS",),
}
ENDPOINT_VARIABLES: tuple[str, ...] = tuple(
    dict.fromkeys(["AWS_ENDPOINT_URL", *(v for names in _ENDPOINT_VARS.values() for v in names)])
)
_TRUE = {"1", "true", "yes", "on"}

_PROCESS_RUN_ID = secrets.token_hex(4)
_loaded_env_files: set[str] = set()


@dataclass(frozen=True)
class Target:
    """The resolved target: kind, endpoint per service, region, and where each value came from.

    ``endpoints`` maps each service to its URL; ``None`` means the SDK's own (real AWS), and for the embedded
    target the URL is filled in once the emulator runs (see :meth:`with_endpoint`). ``sources`` maps
    ``kind``, ``region``, ``credentials``, ``run_id`` and ``endpoint:<service>`` to the variable (or default)
    that decided them. Credentials themselves are never stored here.
    """

    kind: TargetKind
    endpoints: Mapping[str, str | None]
    region: str | None
    run_id: str
    keep: bool = False
    credentials: str = "sdk chain"
    sources: Mapping[str, str] = field(default_factory=dict)

    def endpoint(self, service: str) -> str | None:
        """The endpoint for ``service``; raise ConfigurationError when an emulator target lacks one."""
        url = self.endpoints.get(service)
        if url is None and self.kind == "emulator":
            names = " or ".join((*_ENDPOINT_VARS.get(service, ()), "AWS_ENDPOINT_URL"))  # type: ignore[call-overload]
            raise ConfigurationError(
                f"the emulator target has no endpoint for {service}: set {names}, "
                "or unset the endpoint variables to use the embedded emulator"
            )
        return url

    def with_endpoint(self, url: str) -> Target:
        """This target with every service pointed at ``url`` (used once the embedded emulator runs)."""
        return Target(
            kind=self.kind,
            endpoints=dict.fromkeys(SERVICES, url),
            region=self.region,
            run_id=self.run_id,
            keep=self.keep,
            credentials=self.credentials,
            sources={**self.sources, **{f"endpoint:{s}": "embedded emulator" for s in SERVICES}},
        )

    def describe(self) -> dict[str, object]:
        """A JSON-friendly description, safe to print (no secrets)."""
        return {
            "target": self.kind,
            "region": self.region,
            "run_id": self.run_id,
            "keep": self.keep,
            "credentials": self.credentials,
            "endpoints": {service: redact_url(url) if url else url for service, url in self.endpoints.items()},
            "sources": dict(self.sources),
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return redact(f"Target({shown})")


def _checked_url(variable: str, url: str) -> str:
    """``url`` when it is an http(s) URL of a host (and port) alone; otherwise a ConfigurationError naming the
    variable. A path would be a key prefix inside someone else's bucket (path-style S3 addressing puts the bucket
    name after it), credentials in the URL never reach the SDK, and an invalid host or port fails only later."""
    from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{variable}={_shown(text)!r} is not an http(s) URL such as http://127.0.0.1:5000")
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"{variable} carries credentials (user:password@) in its URL, which the SDK never sends: remove them and "
            "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ConfigurationError(
            f"{variable}={text!r} has a path, query or fragment: an endpoint is scheme://host:port alone. With a "
            "path, S3's path-style addressing would put every bucket under it (http://host/prod-data/<bucket> is "
            "a key prefix inside the bucket prod-data), so the test would write into someone else's bucket"
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ConfigurationError(f"{variable}={text!r} has an invalid port: use 1-65535")
    if not (is_valid_endpoint_url(text) or is_valid_ipv6_endpoint_url(text)):
        raise ConfigurationError(f"{variable}={text!r} does not name a valid host")
    return text


def _shown(url: str) -> str:
    """``url`` with any ``user:password@`` part masked."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, "***@" + parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))


_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
_REGION_RE = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$")  # botocore's rule: a valid host label
_RETRY_MODES = ("legacy", "standard", "adaptive")
RUN_ID_MAX_LEN = 100
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:=+-]*$")
_FALSE = {"0", "false", "no", "off"}


def _check_sdk_settings(environ: Mapping[str, str]) -> None:
    """The SDK settings that would otherwise fail only when a client is built or at the first call."""
    for name in _REGION_VARIABLES:
        value = environ.get(name)
        if value and not _REGION_RE.match(value):
            raise ConfigurationError(f"{name}={value!r} is not a region name such as us-east-1")
    mode = environ.get("AWS_RETRY_MODE")
    if mode and mode not in _RETRY_MODES:
        raise ConfigurationError(f"AWS_RETRY_MODE={mode!r} is not one of {', '.join(_RETRY_MODES)}")
    attempts = environ.get("AWS_MAX_ATTEMPTS")
    if attempts:
        try:
            count = int(attempts)
        except ValueError:
            count = 0
        if count < 1:
            raise ConfigurationError(f"AWS_MAX_ATTEMPTS={attempts!r} is not a positive whole number of attempts")


def check_run_id(variable: str, value: str) -> str:
    """A run id fit for the ``sandboxres:run-id`` tag of every service (DynamoDB allows the fewest characters),
    with room for the ``-gw<N>`` pytest-xdist adds."""
    if len(value) > RUN_ID_MAX_LEN or not _RUN_ID_RE.match(value):
        raise ConfigurationError(
            f"{variable}={value[:40] + ('...' if len(value) > 40 else '')!r} is not a usable run id: it goes into "
            f"the sandboxres:run-id tag, so use 1-{RUN_ID_MAX_LEN} characters of letters, digits and "
            "_ . : = + - (no spaces or slashes), starting with a letter or digit"
        )
    return value


def keep_from_env(environ: Mapping[str, str]) -> bool:
    """``SANDBOXRES_KEEP``: 1/0, true/false, yes/no, on/off (any case); empty is unset (False)."""
    raw = (environ.get("SANDBOXRES_KEEP") or "").strip().lower()
    if not raw or raw in _FALSE:
        return False
    if raw in _TRUE:
        return True
    raise ConfigurationError(
        f"SANDBOXRES_KEEP={environ['SANDBOXRES_KEEP']!r} is not one of 1/0, true/false, yes/no, on/off"
    )


DEFAULT_TABLE_CONCURRENCY = 100


def table_concurrency_from_env(environ: Mapping[str, str] | None = None) -> int:
    """``SANDBOXRES_TABLE_CONCURRENCY`` (a whole number >= 1), else 100."""
    environ = os.environ if environ is None else environ
    raw = (environ.get("SANDBOXRES_TABLE_CONCURRENCY") or "").strip()
    if not raw:
        return DEFAULT_TABLE_CONCURRENCY
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(
            f"SANDBOXRES_TABLE_CONCURRENCY={raw!r} is not a whole number >= 1 (table operations at once)"
        )
    return value


@functools.lru_cache(maxsize=8)
def _profiles(config_file: str, credentials_file: str) -> frozenset[str]:
    """The profile names in the shared config and credentials files (read once per process and pair of files)."""
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session.set_config_variable("config_file", config_file)
    session.set_config_variable("credentials_file", credentials_file)
    try:
        return frozenset(session.available_profiles)
    except botocore.exceptions.BotoCoreError as exc:
        raise ValueError(str(exc)) from None


def _check_profile(environ: Mapping[str, str]) -> None:
    """On real AWS, the profile named by AWS_DEFAULT_PROFILE / AWS_PROFILE (botocore's order) must exist."""
    for name in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        profile = environ.get(name)
        if profile:
            break
    else:
        return
    try:
        profiles = _profiles(
            environ.get("AWS_CONFIG_FILE") or "~/.aws/config",
            environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials",
        )
    except ValueError as exc:
        raise ConfigurationError(f"{name}={profile!r}: the shared config files cannot be read ({exc})") from None
    if profile not in profiles:
        raise ConfigurationError(
            f"{name}={profile!r} names a profile that is in neither the shared config file nor the credentials "
            f"file (profiles found: {', '.join(sorted(profiles)) or 'none'}): fix the name, or unset {name}"
        )


def load_env_file(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus the values of ``SANDBOXRES_ENV_FILE`` (a dotenv file) that ``environ`` does not set."""
    path = environ.get("SANDBOXRES_ENV_FILE")
    if not path:
        return dict(environ)
    if not os.path.isfile(path):
        raise ConfigurationError(f"SANDBOXRES_ENV_FILE names {path!r}, which is not a readable file")
    from dotenv import dotenv_values  # imported when first needed: `import sandboxres` stays light

    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return {**values, **environ}


def apply_env_file() -> None:
    """Load ``SANDBOXRES_ENV_FILE`` into ``os.environ`` once, without overriding variables already set."""
    path = os.environ.get("SANDBOXRES_ENV_FILE")
    if not path or path in _loaded_env_files:
        return
    merged = load_env_file(os.environ)
    for key, value in merged.items():
        os.environ.setdefault(key, value)
    _loaded_env_files.add(path)


def resolve_target(environ: Mapping[str, str] | None = None, *, sdk_region: str | None = None) -> Target:
    """Resolve the target from ``environ`` (default: ``os.environ`` plus ``SANDBOXRES_ENV_FILE``)."""
    if environ is None:
        apply_env_file()
        from sandboxres._runtime.redirect import environ_view  # what the user set, not what an active redirect set

        environ = environ_view()
    else:
        environ = load_env_file(environ)
    sources: dict[str, str] = {}

    endpoints: dict[str, str | None] = {}
    for service, names in _ENDPOINT_VARS.items():
        for name in (*names, "AWS_ENDPOINT_URL"):
            if environ.get(name):
                endpoints[service] = _checked_url(name, environ[name])
                sources[f"endpoint:{service}"] = name
                break
        else:
            endpoints[service] = None
    set_endpoint_vars = [name for name in ENDPOINT_VARIABLES if environ.get(name)]

    explicit = (environ.get("SANDBOXRES_TARGET") or "").strip().lower()
    kind: TargetKind
    if explicit:
        if explicit not in ("embedded", "emulator", "aws"):
            raise ConfigurationError(f"SANDBOXRES_TARGET={explicit!r} is not one of embedded, emulator, aws")
        kind = explicit  # type: ignore[assignment]
        sources["kind"] = "SANDBOXRES_TARGET"
    elif set_endpoint_vars:
        kind = "emulator"
        sources["kind"] = set_endpoint_vars[0]
    else:
        kind = "embedded"
        sources["kind"] = "default (no endpoint variable set)"

    if kind == "aws" and set_endpoint_vars:
        raise ConfigurationError(
            "SANDBOXRES_TARGET=aws but endpoint variables are set "
            f"({', '.join(set_endpoint_vars)}): unset them to use real AWS, or choose SANDBOXRES_TARGET=emulator"
        )
    if kind == "emulator" and not set_endpoint_vars:
        raise ConfigurationError(
            "SANDBOXRES_TARGET=emulator needs an endpoint: set AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_DYNAMODB, "
            "AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS)"
        )
    if kind == "embedded":
        endpoints = dict.fromkeys(SERVICES)
        for service in SERVICES:
            sources[f"endpoint:{service}"] = "embedded emulator (started on first use)"
    elif kind == "aws":
        for service in SERVICES:
            sources[f"endpoint:{service}"] = "SDK default (AWS)"
    else:
        for service in SERVICES:
            if endpoints[service] is None:
                sources[f"endpoint:{service}"] = "not set"

    region: str | None
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(name):
            region, sources["region"] = environ[name], name
            break
    else:
        if kind == "aws" and sdk_region:
            region, sources["region"] = sdk_region, "SDK configuration"
        elif kind == "aws":
            region, sources["region"] = None, "not set"
        else:
            region, sources["region"] = DEFAULT_REGION, "default"

    if kind == "embedded":
        credentials, sources["credentials"] = "dummy", "embedded emulator"
    elif kind == "emulator":
        has_keys = bool(environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"))
        credentials = "environment" if has_keys else "dummy"
        sources["credentials"] = "AWS_ACCESS_KEY_ID" if has_keys else "default for emulators"
    else:
        credentials, sources["credentials"] = "sdk chain", "SDK credential chain"

    raw_run_id = environ.get("SANDBOXRES_RUN_ID") or ""
    run_id = check_run_id("SANDBOXRES_RUN_ID", raw_run_id) if raw_run_id else _PROCESS_RUN_ID
    sources["run_id"] = "SANDBOXRES_RUN_ID" if raw_run_id else "random per process"
    keep = keep_from_env(environ)
    sources["keep"] = "SANDBOXRES_KEEP" if environ.get("SANDBOXRES_KEEP", "").strip() else "default"
    _check_sdk_settings(environ)
    table_concurrency_from_env(environ)
    for timed in ("table", "bucket", "queue"):
        timeout_from_env(timed, 1.0, environ)
    if kind == "aws":
        _check_profile(environ)
    return Target(
        kind=kind,
        endpoints=endpoints,
        region=region,
        run_id=run_id,
        keep=keep,
        credentials=credentials,
        sources=sources,
    )
