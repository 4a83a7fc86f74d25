"""Python child processes that use the library (the scripts in ``tests/safety_children``), for the tests that
must signal, kill or outlive a process: its environment, its stdout read line by line, its end."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.inventory import DEFAULT_REGION as REGION

ROOT = Path(__file__).resolve().parents[2]
CHILDREN = ROOT / "tests" / "safety_children"
CHILD_TIMEOUT = 90.0


def child_env(url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a child: no target setting inherited, ``url`` as the emulator endpoint (None: the
    embedded emulator), the package importable, output unbuffered."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "SANDBOXRES_", "PYTEST_", "DYNAMODB_", "S3_", "SQS_"))
    }
    if url is not None:
        env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    env.update(AWS_REGION=REGION, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(extra)
    return env


class Child:
    """A Python child process whose stdout is read line by line in the background."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            env=dict(env),
            cwd=str(cwd or ROOT),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr_lines: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def wait_for(self, marker: str, timeout: float = CHILD_TIMEOUT) -> str:
        """The rest of the first stdout line with ``marker`` (then a space); fails if the child ends first."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                pytest.fail(f"no {marker!r} from the child within {timeout} s; stderr:\n{self.stderr}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.finish(10)
                output = "".join(self.stdout)
                pytest.fail(f"the child ended before {marker!r}; stdout:\n{output}\nstderr:\n{self.stderr}")
            at = line.find(marker + " ")  # pytest may print its progress dots in front
            if at >= 0 or line.strip() == marker:
                return line[at + len(marker) :].strip() if at >= 0 else ""

    def wait_json(self, marker: str, timeout: float = CHILD_TIMEOUT) -> Any:
        return json.loads(self.wait_for(marker, timeout))

    def say(self, line: str = "") -> None:
        """Write a line to the child's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def finish(self, timeout: float = CHILD_TIMEOUT) -> int:
        """Wait for the child to end (killing it after ``timeout``) and return its exit status."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the child did not end within {timeout} s; stderr:\n{self.stderr}")
        for reader in self._readers:
            reader.join(10)
        return int(self.process.returncode)


@contextmanager
def child(args: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> Iterator[Child]:
    """A :class:`Child` that is killed (by its pid) if the test leaves it running."""
    started = Child(args, env, cwd)
    try:
        yield started
    finally:
        if started.process.poll() is None:
            started.kill()


def script(name: str) -> str:
    return str(CHILDREN / name)


SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
