"""Where resources are created: the target, resolved from environment variables alone.

Resolution is pure: :func:`resolve_target` reads a mapping (``os.environ`` by default) and returns an immutable
:class:`Target` that also records where each value came from. Nothing here starts a server or calls AWS.

- nothing set                                   -> ``embedded`` (moto's server in this process)
- ``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SVC>``, ``DYNAMODB_ENDPOINT``, ``S3_ENDPOINT``, ``SQS_ENDPOINT``
                                                -> ``emulator``
- ``SANDBOXRES_TARGET=embedded|emulator|aws``   overrides; ``aws`` with an endpoint variable is an error.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

from sandboxres._engine.errors import ConfigurationError
from sandboxres._engine.redaction import redact, redact_url
from sandboxres._engine.settings import timeout_from_env
from sandboxres._runtime.settings import (
    ENDPOINT_VARIABLES,
    SERVICES,
    apply_env_file,
    check_profile,
    check_run_id,
    check_sdk_settings,
    endpoint_variables,
    endpoints_from_env,
    environ_view,
    keep_from_env,
    load_env_file,
    table_concurrency_from_env,
)

TargetKind = Literal["embedded", "emulator", "aws"]
DEFAULT_REGION = "us-east-1"
EMBEDDED_CREDENTIALS = ("testing", "testing")

_PROCESS_RUN_ID = secrets.token_hex(4)


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
            names = " or ".join(endpoint_variables(service))
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


def resolve_target(environ: Mapping[str, str] | None = None, *, sdk_region: str | None = None) -> Target:
    """Resolve the target from ``environ`` (default: ``os.environ`` plus ``SANDBOXRES_ENV_FILE``)."""
    if environ is None:
        apply_env_file()
        environ = environ_view()  # what the user set, not what an active redirect set
    else:
        environ = load_env_file(environ)
    endpoints, endpoint_sources = endpoints_from_env(environ)
    sources = {f"endpoint:{service}": name for service, name in endpoint_sources.items()}
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
    check_sdk_settings(environ)
    table_concurrency_from_env(environ)
    for timed in ("table", "bucket", "queue"):
        timeout_from_env(timed, 1.0, environ)
    if kind == "aws":
        check_profile(environ)
    return Target(
        kind=kind,
        endpoints=endpoints,
        region=region,
        run_id=run_id,
        keep=keep,
        credentials=credentials,
        sources=sources,
    )
