"""A ``moto_server`` process of a test's own (started through :mod:`tests.emulators.launch`), and its reset."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from tests.emulators import launch


@contextmanager
def moto_process(env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A ``moto_server`` process started now, with ``env`` added to its environment; yields its URL and stops it
    afterwards. Its state is the caller's alone (to reset, to check). Skips the test when moto is not installed."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        try:
            emulator = launch.start_moto()
        except launch.EmulatorUnavailable as error:
            pytest.skip(str(error))
    try:
        yield emulator.url
    finally:
        emulator.stop()


def reset(url: str) -> None:
    """Forget every resource of the moto server at ``url``."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
