"""The public report of the target in force."""

from __future__ import annotations

from dataclasses import replace

from sandboxres._engine.redaction import redact_url
from sandboxres._runtime.clients import active_target
from sandboxres._runtime.embedded import embedded_url
from sandboxres._runtime.target import Target, resolve_target


def _shown(target: Target) -> Target:
    """``target`` with any ``user:password@`` part of its endpoints masked."""
    endpoints = {service: redact_url(url) if url else url for service, url in target.endpoints.items()}
    return replace(target, endpoints=endpoints) if endpoints != dict(target.endpoints) else target


def describe_target(*, start: bool = False) -> Target:
    """The resolved target: kind, per-service endpoint, region, run id, and where each value came from.

    With ``start=True`` the embedded emulator is started (when it is the target) so that its endpoint is known;
    otherwise its endpoints are reported once it runs, and as None before. Never contains credentials.
    """
    if start:
        return _shown(active_target())
    target = resolve_target()
    url = embedded_url()
    if target.kind == "embedded" and url:
        return target.with_endpoint(url)
    return _shown(target)
