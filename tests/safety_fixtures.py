"""Helpers of the safety tests (guards, sweeper, interruptions, secrets): emulator processes of their own,
child processes that use the library, resources made with plain boto3.

Imported explicitly by ``tests/test_guards.py``, ``test_sweeper.py``, ``test_interrupts.py`` and
``test_secrets.py``. Everything talks HTTP to real servers started on 127.0.0.1 and free ports.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.faultproxy import Fault, ProxyRequest, Reply, Trigger
from tests.support.inventory import DEFAULT_REGION as REGION
from tests.support.inventory import raw_client

ROOT = Path(__file__).resolve().parents[1]
CHILDREN = Path(__file__).resolve().parent / "safety_children"
CHILD_TIMEOUT = 90.0


# ---------------------------------------------------------------------------------------------------------
# emulators


@contextmanager
def moto_process(env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A ``moto_server`` process of this test module (its state is ours alone to reset); yields its URL."""
    from tests.emulators import launch

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


def library_tags(run_id: str, created_at: str) -> dict[str, str]:
    return {"sandboxres:managed": "true", "sandboxres:run-id": run_id, "sandboxres:created-at": created_at}


def make_table(url: str, name: str, tags: Mapping[str, str] | None = None) -> None:
    """A table created with plain boto3 (optionally with tags), the way another tool would."""
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    raw_client("dynamodb", url).create_table(**params)


def make_bucket(url: str, name: str, tags: Mapping[str, str] | None = None) -> None:
    client = raw_client("s3", url)
    client.create_bucket(Bucket=name)
    if tags:
        client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def make_queue(url: str, name: str, tags: Mapping[str, str] | None = None) -> None:
    params: dict[str, Any] = {"QueueName": name}
    if tags:
        params["tags"] = dict(tags)
    raw_client("sqs", url).create_queue(**params)


# ---------------------------------------------------------------------------------------------------------
# child processes


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


# ---------------------------------------------------------------------------------------------------------
# faults


class SlowReply(Fault):
    """Forward the request, then hold the upstream's reply back (up to ``seconds``): the operation has
    happened, the client is still waiting for the answer. ``started`` is set when a reply is being held."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.release = threading.Event()

    @property
    def label(self) -> str:
        return f"slow reply {self.seconds:g}s"

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply:
        self.started.set()
        self.release.wait(self.seconds)
        return reply


class HeldRequest(Fault):
    """Hold the request back for ``seconds`` before forwarding it: the client is waiting, the operation has
    not happened yet and happens once the hold ends, whatever became of the client meanwhile (an in-flight
    create). ``started`` is set when a request is being held, ``forwarded`` once it went upstream."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.forwarded = threading.Event()
        # Set by a test once it has interrupted the client: the hold's seconds count from then (so that a loaded
        # machine cannot let the create land before the interruption). Unset, they count from the request.
        self.interrupted = threading.Event()
        self.counts_from_interruption = False

    def after_interruption(self) -> HeldRequest:
        """Hold until :attr:`interrupted` is set (at most a minute), then ``seconds`` more."""
        self.counts_from_interruption = True
        return self

    @property
    def label(self) -> str:
        return f"hold {self.seconds:g}s"

    def before(self, request: ProxyRequest, trigger: Trigger) -> None:
        self.started.set()
        if self.counts_from_interruption:
            self.interrupted.wait(60)
        time.sleep(self.seconds)
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply:
        self.forwarded.set()
        return reply
