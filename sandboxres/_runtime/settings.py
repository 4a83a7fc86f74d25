"""The environment variables that choose and tune the target: where to find them, and whether they are usable.

What the user set (:func:`environ_view`: ``os.environ`` seen through the variables an active
:func:`sandboxres.redirect` set, plus ``SANDBOXRES_ENV_FILE``), the endpoint variables of each service, and the
checks of the ``SANDBOXRES_*`` and ``AWS_*`` settings that would otherwise fail only when a client is built or
at the first call. Each check raises :class:`~sandboxres.ConfigurationError` naming the variable. Nothing here
resolves a target (``target``), starts a server or calls AWS.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from sandboxres._engine.errors import ConfigurationError

Service = Literal["dynamodb", "dynamodbstreams", "s3", "sqs", "sns", "sts"]
SERVICES: tuple[Service, ...] = ("dynamodb", "dynamodbstreams", "s3", "sqs", "sns", "sts")

# Endpoint variables per service, most specific first. The seed names (DYNAMODB_ENDPOINT...) come after boto3's.
_ENDPOINT_VARS: dict[Service, tuple[str, ...]] = {
    "dynamodb": ("AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_ENDPOINT"),
    "dynamodbstreams": ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_ENDPOINT"),
    "s3": ("AWS_ENDPOINT_URL_S3", "S3_ENDPOINT"),
    "sqs": ("AWS_ENDPOINT_URL_SQS", "SQS_ENDPOINT"),
    "sns": ("AWS_ENDPOINT_URL_SNS",),
    "sts": ("AWS_ENDPOINT_URL_STS",),
}
ENDPOINT_VARIABLES: tuple[str, ...] = tuple(
    dict.fromkeys(["AWS_ENDPOINT_URL", *(v for names in _ENDPOINT_VARS.values() for v in names)])
)


def endpoint_variables(service: str) -> tuple[str, ...]:
    """The variables that can set the endpoint of ``service``, most specific first (``AWS_ENDPOINT_URL`` last)."""
    return (*_ENDPOINT_VARS.get(service, ()), "AWS_ENDPOINT_URL")  # type: ignore[call-overload]


def endpoints_from_env(environ: Mapping[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """The endpoint of each service that ``environ`` sets (None: not set), checked, and the variable it came from."""
    endpoints: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for service in _ENDPOINT_VARS:
        for name in endpoint_variables(service):
            if environ.get(name):
                endpoints[service] = checked_url(name, environ[name])
                sources[service] = name
                break
        else:
            endpoints[service] = None
    return endpoints, sources


_TRUE = {"1", "true", "yes", "on"}
_loaded_env_files: set[str] = set()


def checked_url(variable: str, url: str) -> str:
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


def check_sdk_settings(environ: Mapping[str, str]) -> None:
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


def check_profile(environ: Mapping[str, str]) -> None:
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


# ---------------------------------------------------------------------------------------------------------
# The environment as the user set it

_redirect_lock = threading.Lock()
# the active redirects, outermost first: for each, variable -> (value before, value set; None = unset)
_redirected: list[dict[str, tuple[str | None, str | None]]] = []


def environ_view(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` as the user set it: the values the active redirects set are replaced by the earlier ones.

    A variable changed since a redirect set it is the user's again and is kept as it is now.
    """
    view = dict(os.environ if environ is None else environ)
    with _redirect_lock:
        layers = list(reversed(_redirected))
    for layer in layers:
        for name, (before, ours) in layer.items():
            if view.get(name) == ours:
                if before is None:
                    view.pop(name, None)
                else:
                    view[name] = before
    return view


def _apply(changes: Mapping[str, str | None]) -> dict[str, tuple[str | None, str | None]]:
    layer: dict[str, tuple[str | None, str | None]] = {}
    for name, value in changes.items():
        layer[name] = (os.environ.get(name), value)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return layer


def _restore(layer: Mapping[str, tuple[str | None, str | None]]) -> None:
    for name, (before, _) in layer.items():
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def environ_redirected(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Set ``changes`` in ``os.environ`` (``None``: unset) for the block, then restore every variable to exactly
    what it was. :func:`environ_view` sees through them meanwhile. Nested blocks restore in order."""
    with _redirect_lock:
        layer = _apply(changes)
        _redirected.append(layer)
    try:
        yield
    finally:
        with _redirect_lock:
            for index, active in enumerate(_redirected):
                if active is layer:
                    del _redirected[index]
                    break
            _restore(layer)
