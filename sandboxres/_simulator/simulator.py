"""The AWS behaviour simulator: the proxy in front of an emulator, with the behaviours the profile turns on.

``start_simulator(upstream_url)`` serves on a free 127.0.0.1 port (or the ``port`` given); point clients at
``Simulator.url``.
"""

from __future__ import annotations

import logging
from types import TracebackType

from sandboxres._simulator.behaviours import BEHAVIOURS, BY_NAME, Behaviour, Context
from sandboxres._simulator.profile import Profile, profile_from_env
from sandboxres._simulator.proxy import FaultProxy

log = logging.getLogger("sandboxres")
MAX_RECORDS = 10_000  # the latest requests the simulator remembers (a long run must not grow without end)


class Simulator:
    """A running simulator: ``url`` (where clients go), ``profile`` (its speed and seed), ``proxy`` (its rules and
    the requests it saw)."""

    def __init__(self, upstream_url: str, profile: Profile | None = None, *, port: int = 0) -> None:
        self.profile = profile if profile is not None else profile_from_env(known=frozenset(BY_NAME))
        self.proxy = FaultProxy(upstream_url, port=port, max_records=MAX_RECORDS)
        self.url = self.proxy.url
        self.upstream_url = upstream_url
        for behaviour in self.behaviours:
            self.proxy.add(list(behaviour.install(self.context(behaviour))))
        log.debug(
            "simulator on %s in front of %s: speed %g, seed %d", self.url, upstream_url, self.profile.speed, self.seed
        )

    @property
    def seed(self) -> int:
        return self.profile.seed

    @property
    def behaviours(self) -> list[Behaviour]:
        """The behaviours on, in installation order."""
        return [behaviour for behaviour in BEHAVIOURS if self.profile.is_on(behaviour.name)]

    def context(self, behaviour: Behaviour) -> Context:
        settings = {**behaviour.settings, **self.profile.settings.get(behaviour.name, {})}
        return Context(behaviour.name, settings, self.profile.speed, self.profile.seed, self.upstream_url)

    def stop(self) -> None:
        self.proxy.stop()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Simulator({self.url} -> {self.upstream_url}, speed {self.profile.speed:g}, seed {self.seed})"


def start_simulator(upstream_url: str, profile: Profile | None = None, *, port: int = 0) -> Simulator:
    """Start a simulator in front of ``upstream_url`` (the profile from the environment by default), on 127.0.0.1
    and ``port`` (0: a free one)."""
    return Simulator(upstream_url, profile, port=port)
