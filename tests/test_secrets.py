"""Secret hygiene: access keys and session tokens never appear in logs, reprs, exception messages or CLI output.

The credentials are unique canary values, set as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
for an emulator target (a moto server process; the fault-injecting proxy plays an emulator that echoes the key
in its error messages). Every captured output is searched for them. Each test also checks that the credentials
really passed through the channel it searches (``Credential=***`` in botocore's DEBUG logs, ``***`` where an
error message carried the key), so a channel that went silent cannot pass for a clean one.
"""

from __future__ import annotations

import http.server
import json
import logging
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import sandboxres
import sandboxres.aio
from sandboxres import AWSCallError, CleanupError, describe_target
from sandboxres._engine.redaction import redact
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._simulator import aws_error
from tests.support.child_processes import child_env
from tests.support.moto_server import reset

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

KEY_ID = "CANARYKEY" + secrets.token_hex(8).upper()
SECRET = "canary-secret-" + secrets.token_hex(12)
TOKEN = "canary-token-" + secrets.token_hex(24)
CANARIES = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}


def assert_clean(text: str, what: str) -> None:
    for name, value in CANARIES.items():
        assert value not in text, f"{name} appears in {what}"


@pytest.fixture
def canary_target(upstream_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This process targets the module's moto server with the canary credentials."""
    reset(upstream_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", upstream_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    yield upstream_url
    reset(upstream_url)


def captured(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(record.exc_text or "")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------------
# in this process: logs at DEBUG (botocore included), reprs, errors


async def test_logs_and_reprs_of_a_whole_lifecycle(canary_target: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    with sandboxres.ephemeral_table("canary") as table, sandboxres.ephemeral_bucket("canary") as bucket:
        table.table.put_item(Item={"pk": "a"})
        bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"x")
        with sandboxres.ephemeral_queue("canary", dead_letter=2) as queue:
            queue.client.send_message(QueueUrl=queue.url, MessageBody="m")
            shown += [repr(table), repr(bucket), repr(queue), str(queue)]
    async with sandboxres.aio.ephemeral_queue("canaryasync") as aqueue:
        await aqueue.client.send_message(QueueUrl=aqueue.url, MessageBody="m")
        shown.append(repr(aqueue))
    target = active_target()
    shown += [repr(target), str(target.describe()), repr(describe_target()), repr(client_pool(target))]
    shown.append(repr(sandboxres.ephemeral_table("never")))

    logs = captured(caplog)
    assert "Credential=***/" in logs, "botocore's request logs were not captured"
    assert "x-amz-security-token:***" in logs.lower() or "'x-amz-security-token': b'***'" in logs.lower()
    assert_clean(logs, "the DEBUG logs")
    assert_clean("\n".join(shown), "the reprs")


def test_errors_from_an_emulator_that_echoes_credentials(
    canary_target: str,
    fault_proxy: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = fault_proxy(canary_target)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    echo = f"The security token {TOKEN} of access key {KEY_ID} is not valid"
    proxy.add(aws_error("dynamodb", "CreateTable", "UnrecognizedClientException", echo))
    proxy.add(aws_error("sqs", "DeleteQueue", "AccessDenied", echo, 403))

    with pytest.raises(AWSCallError) as create_failed:
        sandboxres.ephemeral_table("echo").create()
    cause = create_failed.value.__cause__
    assert isinstance(cause, ClientError) and "access key *** is not valid" in str(cause)  # echoed, masked in the chain
    assert cause.response["Error"]["Code"] == "UnrecognizedClientException"  # the code is kept
    text = f"{create_failed.value}\n{create_failed.value!r}\n{create_failed.value.args}\n{cause!r}\n{cause.response}"
    assert "***" in str(create_failed.value)
    assert_clean(text, "the create error")

    left = sandboxres.ephemeral_queue("echo")
    with pytest.raises(CleanupError) as cleanup_failed:
        with left:
            pass
    text = f"{cleanup_failed.value}\n{cleanup_failed.value!r}"
    assert "***" in text
    assert_clean(text, "the cleanup error")
    assert_clean(captured(caplog), "the logs of the failing run")
    proxy.clear_rules()
    left.delete()  # the queue was left behind: once the emulator lets it go, it is deleted


def test_botocore_logs_of_credentials_unknown_by_value(upstream_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Credentials that never were in the environment (for instance from a profile) are masked by their
    shape: the key id after ``Credential=`` and AKIA..., the session token headers."""
    caplog.set_level(logging.DEBUG)
    key_id = "AKIA" + secrets.token_hex(8).upper()
    token = "FQoGZXIvYXdzE" + secrets.token_urlsafe(40)
    secret = secrets.token_urlsafe(30)
    client = boto3.client(
        "sqs",
        endpoint_url=upstream_url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.list_queues()
    logs = captured(caplog)
    assert "Credential=***/" in logs
    for value in (key_id, token, secret):
        assert value not in logs


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/20240101/us-east-1/sqs/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=abc",
        "https://b.s3.amazonaws.com/k?X-Amz-Credential=ASIAABCDEFGHIJKLMNOP%2F20240101%2Fus-east-1%2Fs3&"
        "X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2Btoken&X-Amz-Signature=00",
        "<Credentials><AccessKeyId>ASIAABCDEFGHIJKLMNOP</AccessKeyId><SecretAccessKey>wJalrXUtnFEMIK7MDENGbPxRfiCY"
        "</SecretAccessKey><SessionToken>IQoJb3JpZ2luX2VjEXAMPLEtoken</SessionToken></Credentials>",
        '{"Credentials": {"AccessKeyId": "ASIAABCDEFGHIJKLMNOP", "SecretAccessKey": "wJalrXUtnFEMIK7MDENGbPxRfiCY",'
        ' "SessionToken": "IQoJb3JpZ2luX2VjEXAMPLEtoken"}}',
        "{'aws_access_key_id': 'AKIAABCDEFGHIJKLMNOP', 'aws_secret_access_key': 'wJalrXUtnFEMIK7MDENGbPxRfiCY'}",
    ],
)
def test_credential_shapes_are_masked(text: str) -> None:
    cleaned = redact(text)
    for value in ("ABCDEFGHIJKLMNOP", "wJalrXUtnFEMIK7MDENGbPxRfiCY", "IQoJb3JpZ2luX2VjEXAMPLE"):
        assert value not in cleaned
    assert "***" in cleaned


def test_ordinary_text_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # the emulators' dummy key is no secret
    text = "table test_users_0123456789abcdef: testing CreateTable failed with ResourceInUseException"
    assert redact(text) == text


# ---------------------------------------------------------------------------------------------------------
# the command line


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "verb", [["check"], ["check", "--json"], ["env"], ["sweep"], ["sweep", "--yes", "--json"]], ids=" ".join
)
def test_cli_output(canary_target: str, verb: list[str]) -> None:
    env = child_env(canary_target, **CANARIES)
    result = run(["-m", "sandboxres", *verb], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout
    assert_clean(result.stdout + result.stderr, f"`sandboxres {' '.join(verb)}`")


def test_cli_output_of_a_failing_run_with_debug_logs(canary_target: str, fault_proxy: Callable[[str], Any]) -> None:
    proxy = fault_proxy(canary_target)
    echo = f"The security token {TOKEN} of access key {KEY_ID} is not valid"
    proxy.add(aws_error("dynamodb", "CreateTable", "UnrecognizedClientException", echo))
    code = (
        "import logging, sys; logging.basicConfig(level=logging.DEBUG);"
        " from sandboxres._doors.cli import main; sys.exit(main(['check', 'table', 'queue']))"
    )
    result = run(["-c", code], child_env(proxy.url, **CANARIES))
    assert result.returncode == 1
    assert "FAILED" in result.stdout and "UnrecognizedClientException" in result.stdout
    assert "***" in result.stdout  # the echoed key was there, masked
    assert "Credential=***/" in result.stderr  # botocore's DEBUG logs were there, masked
    assert_clean(result.stdout + result.stderr, "the failing run")


# ---------------------------------------------------------------------------------------------------------
# an emulator that echoes every request header in its error messages; uncaught errors in a child process


class _EchoHeaders(http.server.BaseHTTPRequestHandler):
    """Answers every request with a DynamoDB-style error whose message is the request's headers."""

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        echoed = "; ".join(f"{name}: {value}" for name, value in self.headers.items())
        body = json.dumps(
            {"__type": "com.amazonaws.dynamodb.v20120810#UnrecognizedClientException", "message": echoed}
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _echo

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


UNCAUGHT = (
    "import logging; logging.basicConfig(level=logging.DEBUG)\n"
    "import sandboxres\n"
    "with sandboxres.ephemeral_table('echo'):\n"
    "    pass\n"
)
PASSWORD = "canary-password-" + secrets.token_hex(8)


def test_uncaught_error_from_an_emulator_that_echoes_headers(echo_server: str) -> None:
    """The echoed Authorization header (key id) and X-Amz-Security-Token (session token) reach the message
    of botocore's ClientError, which the library's AWSCallError chains: Python's traceback prints both."""
    result = run(["-c", UNCAUGHT], child_env(echo_server, **CANARIES))
    assert result.returncode == 1
    assert "AWSCallError" in result.stderr and "UnrecognizedClientException" in result.stderr
    assert "The above exception was the direct cause" in result.stderr  # the chained SDK error was printed
    assert "X-Amz-Security-Token: ***" in result.stderr  # the echo was there, masked
    assert "Credential=***/" in result.stderr  # botocore's DEBUG logs were there, masked
    assert_clean(result.stdout + result.stderr, "an uncaught error's traceback")

    checked = run(["-m", "sandboxres", "check"], child_env(echo_server, **CANARIES))
    assert checked.returncode == 1 and "UnrecognizedClientException" in checked.stdout
    assert_clean(checked.stdout + checked.stderr, "`sandboxres check` against the echoing emulator")


def test_endpoint_password_never_shown(echo_server: str) -> None:
    """``http://user:password@host``: refused or used, its password appears nowhere (tracebacks, DEBUG logs,
    check, env, describe_target)."""
    url = echo_server.replace("http://", f"http://someone:{PASSWORD}@")
    env = child_env(url, **CANARIES)
    outputs = [run(["-c", UNCAUGHT], env)]
    describe = "import sandboxres; t = sandboxres.describe_target(); print(repr(t), t.describe(), t.endpoints)"
    outputs.append(run(["-c", describe], env))
    for verb in (["check"], ["check", "--json"], ["env"], ["sweep"]):
        outputs.append(run(["-m", "sandboxres", *verb], env))
    for result in outputs:
        assert result.returncode != 0 or result.stdout, result.stderr
        text = result.stdout + result.stderr
        assert PASSWORD not in text, f"the endpoint password appears in {result.args}:\n{text}"
        assert_clean(text, f"{result.args}")
    assert "someone:" not in outputs[1].stdout
    assert "***@127.0.0.1" in outputs[1].stdout or "ConfigurationError" in outputs[1].stderr
