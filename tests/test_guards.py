"""The real-AWS guards: each refusal, and a pass, for ``SANDBOXRES_TARGET=aws``.

Real AWS is never reachable from the tests: where the guards need an account, STS is a moto server process
(started with ``MOTO_ACCOUNT_ID``, so the account id really comes from STS), handed to
:func:`sandboxres._safety.guards.check_aws` as its STS client. The endpoint checks ask botocore how it resolves
endpoints, which makes no network call.
"""

from __future__ import annotations

import logging
import re
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

import sandboxres
import sandboxres._safety.registry as _registry
import sandboxres.aio
from sandboxres import GuardError
from sandboxres._runtime.target import Target, resolve_target
from sandboxres._safety.guards import (
    check_aws,
    check_endpoint_hosts,
    check_target,
    is_aws_host,
    reset_guards,
    resolved_endpoints,
    sts_client,
)
from tests.support.child_processes import child_env
from tests.support.inventory import raw_client
from tests.support.moto_server import moto_process

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

ACCOUNT = "210987654321"
OK_ENV = {"SANDBOXRES_AWS_ACCOUNTS": ACCOUNT}


@pytest.fixture(scope="module")
def sts_url() -> Iterator[str]:
    with moto_process({"MOTO_ACCOUNT_ID": ACCOUNT}) as url:
        yield url


@pytest.fixture(autouse=True)
def no_aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No AWS config or credentials file of this machine takes part; the guard cache starts empty."""
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    reset_guards()
    yield
    reset_guards()


class StsOn:
    """An STS client factory on a given URL that counts how often it is asked for a client."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self.options = options
        self.calls = 0

    def __call__(self, target: Target) -> Any:
        self.calls += 1
        return raw_client("sts", self.url, **self.options)


def aws(region: str | None = "us-east-1") -> Target:
    environ = {"SANDBOXRES_TARGET": "aws"}
    if region:
        environ["AWS_REGION"] = region
    return resolve_target(environ)


# ---------------------------------------------------------------------------------------------------------
# CI


@pytest.mark.parametrize(
    "variable",
    [("CI", "true"), ("CI", "1"), ("GITHUB_ACTIONS", "true"), ("GITLAB_CI", "true"), ("JENKINS_URL", "http://ci/")],
)
def test_refused_in_ci(sts_url: str, variable: tuple[str, str]) -> None:
    sts = StsOn(sts_url)
    with pytest.raises(GuardError, match="refusing real AWS in CI") as refused:
        check_aws(aws(), {**OK_ENV, variable[0]: variable[1]}, sts_client_factory=sts)
    assert "SANDBOXRES_ALLOW_CI=1" in str(refused.value)
    assert f"{variable[0]}={variable[1]}" in str(refused.value)
    assert sts.calls == 0  # refused before anything else


@pytest.mark.parametrize("value", ["false", "0", "", "no"])
def test_false_ci_values_are_not_ci(sts_url: str, value: str) -> None:
    assert check_aws(aws(), {**OK_ENV, "CI": value}, sts_client_factory=StsOn(sts_url)) == ACCOUNT


def test_allow_ci_passes_with_a_loud_warning(sts_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sandboxres")
    environ = {**OK_ENV, "CI": "true", "SANDBOXRES_ALLOW_CI": "1"}
    assert check_aws(aws(), environ, sts_client_factory=StsOn(sts_url)) == ACCOUNT
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings, "no warning logged"
    assert "SANDBOXRES_ALLOW_CI=1" in warnings[0].getMessage()
    assert "REAL AWS" in warnings[0].getMessage() and "CI=true" in warnings[0].getMessage()


# ---------------------------------------------------------------------------------------------------------
# the account allow-list and STS


def test_accounts_variable_is_required(sts_url: str) -> None:
    sts = StsOn(sts_url)
    with pytest.raises(GuardError, match="needs SANDBOXRES_AWS_ACCOUNTS"):
        check_aws(aws(), {}, sts_client_factory=sts)
    assert sts.calls == 0


@pytest.mark.parametrize("value", ["12345", "21098765432a", "210987654321,nope", " , "])
def test_malformed_accounts_are_refused(sts_url: str, value: str) -> None:
    with pytest.raises(GuardError, match="SANDBOXRES_AWS_ACCOUNTS"):
        check_aws(aws(), {"SANDBOXRES_AWS_ACCOUNTS": value}, sts_client_factory=StsOn(sts_url))


def test_account_from_sts_must_be_listed(sts_url: str) -> None:
    with pytest.raises(GuardError) as refused:
        check_aws(aws(), {"SANDBOXRES_AWS_ACCOUNTS": "111111111111"}, sts_client_factory=StsOn(sts_url))
    message = str(refused.value)
    assert f"account {ACCOUNT}" in message and "111111111111" in message and "SANDBOXRES_AWS_ACCOUNTS" in message


def test_listed_account_passes(sts_url: str) -> None:
    environ = {"SANDBOXRES_AWS_ACCOUNTS": f"111111111111, {ACCOUNT}"}
    assert check_aws(aws("eu-west-1"), environ, sts_client_factory=StsOn(sts_url)) == ACCOUNT


def test_unreachable_sts_is_refused() -> None:
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sts = StsOn(f"http://127.0.0.1:{port}", config=Config(retries={"total_max_attempts": 1}, connect_timeout=2))
    with pytest.raises(GuardError, match="could not ask STS"):
        check_aws(aws(), OK_ENV, sts_client_factory=sts)


# ---------------------------------------------------------------------------------------------------------
# endpoints


def test_endpoint_variables_are_refused(sts_url: str) -> None:
    sts = StsOn(sts_url)
    with pytest.raises(GuardError, match="AWS_ENDPOINT_URL_SQS"):
        check_aws(aws(), {**OK_ENV, "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566"}, sts_client_factory=sts)
    assert sts.calls == 0


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://dynamodb.us-east-1.amazonaws.com", True),
        ("https://s3.amazonaws.com", True),
        ("https://sqs.cn-north-1.amazonaws.com.cn", True),
        ("https://dynamodb.us-east-1.api.aws", True),
        ("http://dynamodb.us-east-1.amazonaws.com", False),
        ("https://127.0.0.1:4566", False),
        ("http://localhost:4566", False),
        ("https://amazonaws.com.example.net", False),
        ("https://dynamodb.us-east-1.amazonaws.com.example.net", False),
        (None, False),
    ],
)
def test_aws_hosts(url: str | None, ok: bool) -> None:
    assert is_aws_host(url) is ok
    if ok:
        check_endpoint_hosts({"dynamodb": url})
    else:
        with pytest.raises(GuardError, match="endpoints outside AWS"):
            check_endpoint_hosts({"dynamodb": url, "s3": "https://s3.amazonaws.com"})


@pytest.mark.parametrize(("region", "suffix"), [("eu-west-1", ".amazonaws.com"), ("cn-north-1", ".amazonaws.com.cn")])
def test_resolved_endpoints_are_aws_hosts(region: str, suffix: str) -> None:
    endpoints = resolved_endpoints(aws(region))
    assert set(endpoints) == {"dynamodb", "s3", "sqs"}
    for url in endpoints.values():
        assert url.startswith("https://") and url.endswith(suffix), endpoints
    check_endpoint_hosts(endpoints)


def test_configured_endpoints_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``services`` section of the config file and AWS_ENDPOINT_URL_STS would send plain clients to a local
    server; the library's clients for ``aws`` and the guard's STS client ignore them."""
    config = tmp_path / "config"
    config.write_text(
        "[default]\nservices = local\n\n[services local]\n"
        "dynamodb =\n  endpoint_url = http://127.0.0.1:9\nsqs =\n  endpoint_url = http://127.0.0.1:9\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    plain = boto3.session.Session(region_name="us-east-1")
    assert plain.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:9"  # the setting is in force
    assert plain.client("sts").meta.endpoint_url == "http://127.0.0.1:9"

    target = aws()
    check_endpoint_hosts(resolved_endpoints(target))
    assert is_aws_host(sts_client(target).meta.endpoint_url)


def test_region_is_required() -> None:
    with pytest.raises(GuardError, match="needs a region: set AWS_REGION"):
        check_aws(aws(region=None), OK_ENV, sts_client_factory=StsOn("http://127.0.0.1:9"))


# ---------------------------------------------------------------------------------------------------------
# once per process and target; the front doors


def test_a_pass_is_remembered_per_target(
    sts_url: str, fault_proxy: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = fault_proxy(sts_url)
    sts = StsOn(proxy.url)
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", ACCOUNT)
    check_target(aws(), sts_client_factory=sts)
    check_target(aws(), sts_client_factory=sts)
    assert len(proxy.requests) == 1  # one GetCallerIdentity
    check_target(aws("eu-west-1"), sts_client_factory=sts)  # another target: checked again
    assert len(proxy.requests) == 2
    reset_guards()
    check_target(aws(), sts_client_factory=sts)
    assert len(proxy.requests) == 3
    check_target(resolve_target({}), sts_client_factory=sts)  # the embedded target needs no guard
    assert len(proxy.requests) == 3 and sts.calls == 3


def test_a_refusal_is_checked_again(sts_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sts = StsOn(sts_url)
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", "111111111111")
    with pytest.raises(GuardError):
        check_target(aws(), sts_client_factory=sts)
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", ACCOUNT)
    check_target(aws(), sts_client_factory=sts)
    assert sts.calls == 2


@pytest.mark.parametrize("door", ["sync", "async"])
@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "SANDBOXRES_AWS_ACCOUNTS"), ({"CI": "true", "SANDBOXRES_AWS_ACCOUNTS": ACCOUNT}, "in CI")],
)
async def test_front_doors_refuse_before_anything_is_registered(
    monkeypatch: pytest.MonkeyPatch, door: str, env: dict[str, str], expected: str
) -> None:
    monkeypatch.setenv("SANDBOXRES_TARGET", "aws")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    live_before = _registry.live_count()
    with pytest.raises(GuardError, match=expected):
        if door == "sync":
            sandboxres.ephemeral_table("guarded").create()
        else:
            await sandboxres.aio.ephemeral_queue("guarded").create()
    assert _registry.live_count() == live_before


# ---------------------------------------------------------------------------------------------------------
# decided once, bounded, and no secret in a traceback


def test_a_refusal_is_remembered(sts_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sts = StsOn(sts_url)
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", "111111111111")
    for _ in range(3):
        with pytest.raises(GuardError, match=f"account {ACCOUNT}, which is not in"):
            check_target(aws(), sts_client_factory=sts)
    assert sts.calls == 1  # STS was asked once; the refusal is raised again from memory


class ClosingListener:
    """A TCP port on 127.0.0.1 that accepts each connection and closes it at once, counting them (STS with no
    network behind it: every attempt fails fast)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.socket.close()


def test_an_unreachable_sts_is_asked_twice_at_most_and_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard's own STS client (its timeouts and retries), pointed at a port that drops every connection:
    one attempt and one retry, then a refusal that later creates get from memory."""
    listener = ClosingListener()
    monkeypatch.setenv("SANDBOXRES_AWS_ACCOUNTS", ACCOUNT)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret-key")
    made: list[Any] = []

    def guard_client(target: Target) -> Any:
        client = sts_client(target, endpoint_url=listener.url)
        made.append(client)
        return client

    try:
        for _ in range(3):
            with pytest.raises(GuardError, match="could not ask STS"):
                check_target(aws(), sts_client_factory=guard_client)
    finally:
        listener.close()
    assert listener.accepted == 2
    assert len(made) == 1
    config = made[0].meta.config
    assert (config.connect_timeout, config.read_timeout) == (3.0, 10.0)


SHOWLOCALS_SUITE = """
import sandboxres


def test_one():
    with sandboxres.ephemeral_table("guarded"):
        pass


def test_two():
    with sandboxres.ephemeral_queue("guarded"):
        pass
"""


@pytest.mark.parametrize("plugin", ["plugin", "no plugin"])
def test_no_secret_in_pytest_showlocals(tmp_path: Path, plugin: str) -> None:
    """A guard refusal under ``pytest --showlocals --tb=long``: with the plugin, the session ends at once with
    the message alone; without it, the full traceback with every frame's locals shows no credential from
    ``SANDBOXRES_ENV_FILE``."""
    secret = "canary-secret-" + secrets.token_hex(12)
    key_id = "CANARYKEY" + secrets.token_hex(8).upper()
    env_file = tmp_path / ".env.integration"
    env_file.write_text(
        f"SANDBOXRES_TARGET=aws\nAWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"
    )
    (tmp_path / "test_suite.py").write_text(SHOWLOCALS_SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = child_env(None, SANDBOXRES_ENV_FILE=str(env_file))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        env.pop(name, None)
    args = [sys.executable, "-m", "pytest", "--showlocals", "--tb=long", "-p", "no:cacheprovider", "test_suite.py"]
    if plugin == "no plugin":
        args += ["-p", "no:sandboxres"]
    result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert "needs SANDBOXRES_AWS_ACCOUNTS" in output, output
    assert secret not in output and key_id not in output
    if plugin == "plugin":
        assert result.returncode == 4, output
        assert "stopping the session" in output and "1 failed" in output
        assert "test_two" not in output.split("short test summary info")[-1]
    else:
        assert result.returncode == 1 and "2 failed" in output
        assert re.search(r"settings +=", output), output  # the frames' locals were shown


OFF_THE_LOOP = """
import asyncio, sys, threading
imported_in = {}


class Watch:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "aioboto3":
            imported_in.setdefault(name, threading.current_thread().name)
        return None


sys.meta_path.insert(0, Watch)
import sandboxres.aio
import sandboxres._safety.guards as _guards
from sandboxres import GuardError

checked_in = []
check_target = _guards.check_target


def recording_check(target, **kwargs):
    checked_in.append(threading.current_thread().name)
    return check_target(target, **kwargs)


_guards.check_target = recording_check


async def main():
    loop_thread = threading.current_thread().name
    if sys.argv[1] == "aws":
        try:
            await sandboxres.aio.ephemeral_table("guarded").create()
        except GuardError:
            pass
        print("GUARD", checked_in[0] != loop_thread, flush=True)
    else:
        async with sandboxres.aio.ephemeral_queue("first"):
            pass
        print("IMPORT", imported_in["aioboto3"] != loop_thread, flush=True)


asyncio.run(main())
"""


@pytest.mark.parametrize("target", ["aws", "embedded"])
def test_async_create_keeps_the_event_loop_free(target: str) -> None:
    """The first async create runs the guards (the STS call) and imports aioboto3 in a worker thread, never on
    the event loop's thread."""
    env = child_env(None, SANDBOXRES_TARGET=target)
    result = subprocess.run(
        [sys.executable, "-c", OFF_THE_LOOP, target], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["GUARD" if target == "aws" else "IMPORT", "True"], result.stdout
