"""Plan tests do no I/O: no socket connects and nothing sleeps while they run."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # ``tests.support`` however pytest is started
    sys.path.insert(0, _ROOT)


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a plan test tried to connect or sleep")


@pytest.fixture(autouse=True)
def no_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(time, "sleep", _refuse)
    yield
