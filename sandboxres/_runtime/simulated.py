"""The simulators of this process: one per emulator URL (and simulator settings), started on first use.

On the ``simulated`` target every client of the library goes to a simulator (:mod:`sandboxres._simulator`) in
front of the emulator: the embedded one of this process, or the external one the endpoint variables name. The
simulators serve on 127.0.0.1 from daemon threads, so they answer until the interpreter ends (the exit cleanup
goes through them too).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import TYPE_CHECKING

from sandboxres._runtime.settings import SERVICES

if TYPE_CHECKING:
    from sandboxres._runtime.target import Target
    from sandboxres._simulator.profile import Profile
    from sandboxres._simulator.simulator import Simulator

log = logging.getLogger("sandboxres")

_lock = threading.Lock()
_simulators: dict[tuple[str, str], Simulator] = {}


_MOTO_PURGE_MINUTE = "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"  # read by the embedded moto at each purge


def _key(upstream_url: str, profile: Profile) -> tuple[str, str]:
    enabled = sorted(profile.enabled) if profile.enabled is not None else None
    settings = {name: dict(values) for name, values in profile.settings.items()}
    shape = json.dumps([profile.speed, profile.seed, enabled, settings], sort_keys=True)
    return upstream_url.rstrip("/"), shape


def ensure_simulator(upstream_url: str, profile: Profile) -> Simulator:
    """The simulator of this process in front of ``upstream_url`` with ``profile``, started if needed."""
    key = _key(upstream_url, profile)
    with _lock:
        simulator = _simulators.get(key)
        if simulator is None:
            from sandboxres._simulator.simulator import start_simulator

            simulator = _simulators[key] = start_simulator(upstream_url, profile)
            log.info(
                "simulator on %s in front of %s: speed %g, seed %d",
                simulator.url,
                upstream_url,
                profile.speed,
                profile.seed,
            )
        return simulator


def find_simulator(upstream_url: str, profile: Profile) -> Simulator | None:
    """The running simulator in front of ``upstream_url`` with ``profile``, or None."""
    with _lock:
        return _simulators.get(_key(upstream_url, profile))


def running_simulators() -> list[Simulator]:
    """The simulators started by this process, oldest first."""
    with _lock:
        return list(_simulators.values())


def simulator_at(url: str) -> Simulator | None:
    """The simulator of this process serving ``url``, or None."""
    with _lock:
        return next((s for s in _simulators.values() if s.url == url.rstrip("/")), None)


def stop_simulators() -> None:
    """Stop every simulator this process started."""
    with _lock:
        simulators = list(_simulators.values())
        _simulators.clear()
    for simulator in simulators:
        simulator.stop()


def start_simulated(target: Target, upstream_url: str | None, *, start: bool = True) -> Target:
    """``target`` (``simulated``) with its endpoints filled in: each service's simulator, in front of its emulator
    (``upstream_url``: the embedded emulator's URL, when it is the emulator). ``start=False``: only those already
    running (the others stay None)."""
    if target.simulation is None:  # pragma: no cover - a simulated target always has its settings
        raise ValueError("not a simulated target")
    profile = target.simulation.profile
    if target.upstream_kind == "embedded":
        if upstream_url is None:
            return target
        # moto's own PurgeQueue minute passes in real time, whatever the speed: the simulator's behaviour
        # (purge_once_a_minute) imitates it at the simulation's speed, or not at all when it is off
        os.environ.setdefault(_MOTO_PURGE_MINUTE, "false")
        target = target.with_endpoint(upstream_url)
    urls: dict[str, str | None] = {}
    for service in SERVICES:
        upstream = target.upstream.get(service)
        if upstream is None:
            urls[service] = None
            continue
        simulator = ensure_simulator(upstream, profile) if start else find_simulator(upstream, profile)
        urls[service] = simulator.url if simulator is not None else None
    return target.with_simulators(urls)
