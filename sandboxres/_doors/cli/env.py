"""``sandboxres env``: the resolved target, per-service endpoints, region, credential source, and where each
value came from. Never prints a secret: credentials are described by their source only.

Exit codes: 0 printed; 2 the environment is inconsistent (for example ``SANDBOXRES_TARGET=aws`` together with an
endpoint variable), with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from sandboxres._engine.redaction import redact as redact_credentials
from sandboxres._runtime.clients import describe_target
from sandboxres._runtime.settings import SERVICES
from sandboxres._runtime.target import Target

_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` without credentials (see ``sandboxres._engine.redaction``) nor the ``user:password@`` part of URLs."""
    return _URL_USERINFO.sub(r"\g<scheme>***@", redact_credentials(text))


def credential_source(target: Target, environ: Mapping[str, str] | None = None) -> str:
    """Where the SDK will take credentials from on ``target``, without reading or resolving them."""
    environ = os.environ if environ is None else environ
    if target.in_process:
        return "dummy credentials for the embedded emulator"
    if target.external:
        if target.credentials == "environment":
            return "environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
        return "dummy credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY not set)"
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        token = " and AWS_SESSION_TOKEN" if environ.get("AWS_SESSION_TOKEN") else ""
        return f"environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY{token}"
    if environ.get("AWS_PROFILE"):
        return f"profile {environ['AWS_PROFILE']!r} (AWS_PROFILE) of the shared config and credentials files"
    if environ.get("AWS_WEB_IDENTITY_TOKEN_FILE") and environ.get("AWS_ROLE_ARN"):
        return "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)"
    if environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return "container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*)"
    return "SDK default chain: the default profile of the shared files, else the instance or container role"


def report(target: Target, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The data ``sandboxres env`` prints: the target's description plus credential source and env file."""
    environ = os.environ if environ is None else environ
    data = target.describe()
    data["credential_source"] = credential_source(target, environ)
    data["env_file"] = environ.get("SANDBOXRES_ENV_FILE") or None
    return data


def render_text(target: Target, data: Mapping[str, Any]) -> str:
    sources = target.sources
    rows = [
        ("target", target.kind, sources.get("kind", "")),
        ("region", target.region or "not set", sources.get("region", "")),
        ("credentials", str(data["credential_source"]), sources.get("credentials", "")),
        ("run id", target.run_id, sources.get("run_id", "")),
        ("keep", "yes" if target.keep else "no", sources.get("keep", "")),
        ("env file", str(data["env_file"] or "none"), "SANDBOXRES_ENV_FILE" if data["env_file"] else ""),
    ]
    simulation = target.simulation
    if simulation is not None:
        rows += [
            ("seed", str(simulation.run_seed), sources.get("seed", "")),
            ("speed", f"{simulation.speed:g}", sources.get("speed", "")),
        ]
        if simulation.worker:
            rows.append(("worker seed", str(simulation.seed), f"seed and xdist worker {simulation.worker}"))
    lines = [f"{name + ':':<13}{value}" + (f"  (from {source})" if source else "") for name, value, source in rows]
    if simulation is not None:
        enabled = simulation.profile.enabled
        lines.append(f"{'behaviours:':<13}" + ("all" if enabled is None else ", ".join(sorted(enabled)) or "none"))
        lines.append(f"{'replay:':<13}{simulation.replay()}")
    lines.append("endpoints:")
    for service in SERVICES:
        url, source = target.endpoints.get(service), sources.get(f"endpoint:{service}", "not set")
        lines.append(f"  {service:<16} {url}  (from {source})" if url else f"  {service:<16} {source}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    target = describe_target()
    data = report(target)
    text = json.dumps(data, indent=2) if args.json else render_text(target, data)
    print(redact(text))
    return 0


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "env",
        help="show the resolved target, endpoints, region and credential source, and where each came from",
        description="Show what the environment selects: the target (embedded, emulator, simulated, aws), the "
        "endpoint of each service, the region, the run id, the simulator's seed and speed (simulated), where "
        "credentials will come from (never the credentials), and "
        "the variable or default behind each value. Calls nothing and starts nothing. "
        "Exit codes: 0 printed, 2 the environment is inconsistent.",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)
