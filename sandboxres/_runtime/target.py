"""Where resources are created: the target, resolved from environment variables alone.

Resolution is pure: :func:`resolve_target` reads a mapping (``os.environ`` by default) and returns an immutable
:class:`Target` that also records where each value came from. Nothing here starts a server or calls AWS.

- nothing set                                   -> ``embedded`` (moto's server in this process)
- ``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SVC>``, ``DYNAMODB_ENDPOINT``, ``S3_ENDPOINT``, ``SQS_ENDPOINT``
                                                -> ``emulator``
- ``SANDBOXRES_TARGET=simulated``               ``simulated``: the embedded emulator behind the AWS behaviour
                                                simulator (endpoint variables are ignored, as for ``embedded``)
- ``SANDBOXRES_SIMULATE=1`` with an emulator     ``simulated``: the simulator in front of that emulator (external, or
                                                embedded when no endpoint variable is set)
- ``SANDBOXRES_TARGET=embedded|emulator|aws``   overrides; ``aws`` with an endpoint variable (or with
                                                ``SANDBOXRES_SIMULATE=1``) is an error.

On ``simulated`` the simulator's settings (``SANDBOXRES_SIMULATE_SPEED``, ``_SEED``, ``_OFF``, ``_ONLY``,
``_PROFILE``) are read and checked here too, into :class:`Simulation`. The seed of the run is
``SANDBOXRES_SIMULATE_SEED`` (else the profile file's, else one drawn once per process); a pytest-xdist worker
derives its own from it and its worker id (:func:`worker_seed`), so one printed seed replays the whole run.
"""

from __future__ import annotations

import json
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sandboxres._engine.errors import ConfigurationError
from sandboxres._engine.redaction import redact, redact_url
from sandboxres._engine.settings import timeout_from_env
from sandboxres._kinds import KINDS
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

if TYPE_CHECKING:
    from sandboxres._simulator.profile import Profile

TargetKind = Literal["embedded", "emulator", "simulated", "aws"]
TARGET_KINDS: tuple[TargetKind, ...] = ("embedded", "emulator", "simulated", "aws")
# What a simulator stands in front of: the embedded emulator of this process, or an external one.
UpstreamKind = Literal["embedded", "emulator"]
DEFAULT_REGION = "us-east-1"
EMBEDDED_CREDENTIALS = ("testing", "testing")

_PROCESS_RUN_ID = secrets.token_hex(4)
_PROCESS_SEED = secrets.randbelow(10**6)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
SIMULATE_VARIABLES = (
    "SANDBOXRES_SIMULATE_SPEED",
    "SANDBOXRES_SIMULATE_OFF",
    "SANDBOXRES_SIMULATE_ONLY",
    "SANDBOXRES_SIMULATE_PROFILE",
)


def worker_seed(run_seed: int, worker: str) -> int:
    """The seed of one pytest-xdist worker's simulator: derived from the run's seed and the worker id alone."""
    return zlib.crc32(f"{run_seed}:{worker}".encode()) % 10**6


@dataclass(frozen=True)
class Simulation:
    """The simulator's settings on the ``simulated`` target: the profile (its ``seed`` is this process's), the
    run's seed (the one to print and replay with), the xdist worker deriving its own from it (empty: none), and
    the variables to set again to replay the run."""

    profile: Profile
    run_seed: int
    worker: str = ""
    replay_variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        """The seed of this process's simulator (the run's seed, or the worker's derived from it)."""
        return self.profile.seed

    @property
    def speed(self) -> float:
        return self.profile.speed

    def replay(self) -> str:
        """The variables that replay this run's random decisions, as a shell prefix."""
        return " ".join(f"{name}={value}" for name, value in self.replay_variables.items())

    def describe(self) -> dict[str, object]:
        return {
            "seed": self.run_seed,
            "process_seed": self.seed,
            "worker": self.worker or None,
            "speed": self.speed,
            "behaviours": sorted(self.profile.enabled) if self.profile.enabled is not None else "all",
            "replay": self.replay(),
        }


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
    upstream_kind: UpstreamKind | None = None
    upstream: Mapping[str, str | None] = field(default_factory=dict)
    simulation: Simulation | None = None

    @property
    def emulated(self) -> bool:
        """Not real AWS: an emulator, embedded or external, simulated or not (dummy credentials, no guards)."""
        return self.kind != "aws"

    @property
    def in_process(self) -> bool:
        """Whether its emulator is this process's embedded one (it ends with the process, and so does all of it)."""
        return self.kind == "embedded" or (self.kind == "simulated" and self.upstream_kind == "embedded")

    @property
    def external(self) -> bool:
        """Whether its endpoints come from the endpoint variables (an emulator another process runs)."""
        return self.kind == "emulator" or (self.kind == "simulated" and self.upstream_kind == "emulator")

    def emulator_url(self, service: str) -> str | None:
        """The URL of the emulator itself for ``service``: behind the simulator on ``simulated``."""
        return self.upstream.get(service) if self.kind == "simulated" else self.endpoints.get(service)

    def endpoint(self, service: str) -> str | None:
        """The endpoint for ``service``; raise ConfigurationError when an emulator target lacks one."""
        url = self.endpoints.get(service)
        if url is None and self.external:
            names = " or ".join(endpoint_variables(service))
            raise ConfigurationError(
                f"the {self.kind} target has no endpoint for {service}: set {names}, "
                "or unset the endpoint variables to use the embedded emulator"
            )
        if url is None and self.kind == "simulated":
            raise ConfigurationError("the simulated target's simulator is not started yet (see active_target)")
        return url

    def with_endpoint(self, url: str) -> Target:
        """This target with every service pointed at ``url`` (used once the embedded emulator runs)."""
        if self.kind == "simulated":
            return replace(self, upstream=dict.fromkeys(SERVICES, url))
        return replace(
            self,
            endpoints=dict.fromkeys(SERVICES, url),
            sources={**self.sources, **{f"endpoint:{s}": "embedded emulator" for s in SERVICES}},
        )

    def with_simulators(self, urls: Mapping[str, str | None]) -> Target:
        """This ``simulated`` target with each service pointed at the simulator in front of its emulator."""
        sources = dict(self.sources)
        for service in SERVICES:
            if urls.get(service):
                sources[f"endpoint:{service}"] = f"simulator in front of {_upstream_label(self, service)}"
        return replace(self, endpoints={s: urls.get(s) for s in SERVICES}, sources=sources)

    def describe(self) -> dict[str, object]:
        """A JSON-friendly description, safe to print (no secrets)."""
        data: dict[str, object] = {
            "target": self.kind,
            "region": self.region,
            "run_id": self.run_id,
            "keep": self.keep,
            "credentials": self.credentials,
            "endpoints": {service: redact_url(url) if url else url for service, url in self.endpoints.items()},
            "sources": dict(self.sources),
        }
        if self.simulation is not None:
            data["upstream"] = {
                "kind": self.upstream_kind,
                "endpoints": {service: redact_url(url) if url else url for service, url in self.upstream.items()},
            }
            data["simulation"] = self.simulation.describe()
        return data

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
    simulate = simulate_from_env(environ)
    kind: TargetKind
    if explicit:
        if explicit not in TARGET_KINDS:
            raise ConfigurationError(f"SANDBOXRES_TARGET={explicit!r} is not one of {', '.join(TARGET_KINDS)}")
        kind = explicit
        sources["kind"] = "SANDBOXRES_TARGET"
    elif set_endpoint_vars:
        kind = "emulator"
        sources["kind"] = set_endpoint_vars[0]
    else:
        kind = "embedded"
        sources["kind"] = "default (no endpoint variable set)"

    if kind == "aws" and simulate:
        raise ConfigurationError(
            "SANDBOXRES_TARGET=aws with SANDBOXRES_SIMULATE=1: the simulator stands in front of an emulator, never "
            "of real AWS; unset SANDBOXRES_SIMULATE, or choose SANDBOXRES_TARGET=simulated"
        )
    if kind == "simulated" and simulate is False:
        raise ConfigurationError(
            "SANDBOXRES_TARGET=simulated with SANDBOXRES_SIMULATE=0 contradict each other: unset one of them"
        )
    upstream_kind: UpstreamKind | None = None
    if kind == "simulated":
        upstream_kind = "embedded"
    elif simulate and kind in ("embedded", "emulator"):
        upstream_kind = kind
        kind = "simulated"
        sources["kind"] = f"SANDBOXRES_SIMULATE with {sources['kind']}"
    if kind == "aws" and set_endpoint_vars:
        raise ConfigurationError(
            "SANDBOXRES_TARGET=aws but endpoint variables are set "
            f"({', '.join(set_endpoint_vars)}): unset them to use real AWS, or choose SANDBOXRES_TARGET=emulator"
        )
    if (kind == "emulator" or upstream_kind == "emulator") and not set_endpoint_vars:
        raise ConfigurationError(
            "SANDBOXRES_TARGET=emulator needs an endpoint: set AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_DYNAMODB, "
            "AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_SNS)"
        )
    upstream: dict[str, str | None] = {}
    if kind == "embedded":
        endpoints = dict.fromkeys(SERVICES)
        for service in SERVICES:
            sources[f"endpoint:{service}"] = "embedded emulator (started on first use)"
    elif kind == "simulated":
        upstream = dict(endpoints) if upstream_kind == "emulator" else dict.fromkeys(SERVICES)
        endpoints = dict.fromkeys(SERVICES)
        for service in SERVICES:
            if upstream_kind == "emulator" and upstream[service] is None:
                sources[f"endpoint:{service}"] = "not set"
            else:
                where = sources.get(f"endpoint:{service}", "") if upstream_kind == "emulator" else ""
                what = f"the emulator of {where}" if where else "the embedded emulator"
                sources[f"endpoint:{service}"] = f"simulator in front of {what} (started on first use)"
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

    if kind == "embedded" or upstream_kind == "embedded":
        credentials, sources["credentials"] = "dummy", "embedded emulator"
    elif kind in ("emulator", "simulated"):
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
    for timed in KINDS:  # each kind's SANDBOXRES_<KIND>_TIMEOUT
        timeout_from_env(timed, 1.0, environ)
    if kind == "aws":
        check_profile(environ)
    simulation = None
    if kind == "simulated":
        simulation = simulation_from_env(environ, sources)
    return Target(
        kind=kind,
        endpoints=endpoints,
        region=region,
        run_id=run_id,
        keep=keep,
        credentials=credentials,
        sources=sources,
        upstream_kind=upstream_kind,
        upstream=upstream,
        simulation=simulation,
    )


def _upstream_label(target: Target, service: str) -> str:
    url = target.upstream.get(service)
    if target.upstream_kind == "embedded":
        return f"the embedded emulator ({url})" if url else "the embedded emulator"
    return f"the emulator at {redact_url(url)}" if url else "the emulator"


def simulate_from_env(environ: Mapping[str, str]) -> bool | None:
    """``SANDBOXRES_SIMULATE``: True (1/true/yes/on), False (0/false/no/off), None when unset or empty."""
    raw = (environ.get("SANDBOXRES_SIMULATE") or "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(
        f"SANDBOXRES_SIMULATE={environ['SANDBOXRES_SIMULATE']!r} is not one of 1/0, true/false, yes/no, on/off"
    )


def _profile_has_seed(environ: Mapping[str, str]) -> bool:
    path = (environ.get("SANDBOXRES_SIMULATE_PROFILE") or "").strip()
    if not path:
        return False
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # profile_from_env has said what is wrong with it
    return isinstance(document, dict) and "seed" in document


def simulation_from_env(environ: Mapping[str, str], sources: dict[str, str] | None = None) -> Simulation:
    """The simulator's settings the environment asks for, checked (ConfigurationError naming the variable).

    The run's seed is ``SANDBOXRES_SIMULATE_SEED``, else the profile file's, else one drawn once per process; in a
    pytest-xdist worker (``PYTEST_XDIST_WORKER``) the simulator's seed is derived from it and the worker id."""
    from sandboxres._simulator.behaviours import BY_NAME
    from sandboxres._simulator.profile import profile_from_env

    sources = {} if sources is None else sources
    profile = profile_from_env(environ, known=frozenset(BY_NAME))
    if (environ.get("SANDBOXRES_SIMULATE_SEED") or "").strip():
        sources["seed"] = "SANDBOXRES_SIMULATE_SEED"
    elif _profile_has_seed(environ):
        sources["seed"] = "SANDBOXRES_SIMULATE_PROFILE"
    else:
        profile = replace(profile, seed=_PROCESS_SEED)
        sources["seed"] = "random per process"
    if (environ.get("SANDBOXRES_SIMULATE_SPEED") or "").strip():
        sources["speed"] = "SANDBOXRES_SIMULATE_SPEED"
    else:
        sources["speed"] = "SANDBOXRES_SIMULATE_PROFILE" if profile.speed != _default_speed() else "default"
    run_seed = profile.seed
    worker = (environ.get("PYTEST_XDIST_WORKER") or "").strip()
    if worker:
        profile = replace(profile, seed=worker_seed(run_seed, worker))
    replay = {"SANDBOXRES_TARGET": "simulated"} if sources.get("kind") == "SANDBOXRES_TARGET" else {}
    if not replay:
        replay["SANDBOXRES_SIMULATE"] = "1"
    replay["SANDBOXRES_SIMULATE_SEED"] = str(run_seed)
    for name in SIMULATE_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            replay[name] = value
    return Simulation(profile=profile, run_seed=run_seed, worker=worker, replay_variables=replay)


def _default_speed() -> float:
    from sandboxres._simulator.profile import DEFAULT_SPEED

    return DEFAULT_SPEED
