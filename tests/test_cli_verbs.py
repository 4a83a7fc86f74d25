"""Every command line verb through its real entry point (the ``sandboxres`` script, in a subprocess), on the
embedded target and on an external emulator (``sandboxres emulator`` in a process of its own)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._safety.guard_settings import CI_VARIABLES

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
VERBS = ("check", "env", "doctor", "emulator", "policy", "init", "sweep", "pool")
CANARIES = {
    "AWS_ACCESS_KEY_ID": "AKIACANARY7Q2W3E4R5T",
    "AWS_SECRET_ACCESS_KEY": "canary-secret-Zx9Yw8Vu7Ts6Rq5Po4",
    "AWS_SESSION_TOKEN": "canary-token-Ab1Cd2Ef3Gh4Ij5Kl6",
}


def _entry_point() -> list[str]:
    script = Path(sys.executable).with_name("sandboxres")
    if script.exists():
        return [str(script)]
    found = shutil.which("sandboxres")
    return [found] if found else [sys.executable, "-m", "sandboxres"]


ENTRY = _entry_point()


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus every variable that selects a target or carries credentials, plus ``extra``."""
    drop = {*ENDPOINT_VARIABLES, *CANARIES, "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("SANDBOXRES_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # never ask an instance metadata service
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env.update(extra)
    return env


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120) -> Any:
    return subprocess.run(
        [*ENTRY, *args],
        env=env if env is not None else clean_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class EmulatorProcess:
    """``sandboxres emulator`` running in a child process; ``env`` holds the variables it printed."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*ENTRY, "emulator", "--json", *args],
            env=env or clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            raise AssertionError(
                f"the emulator did not start: {self.process.stderr.read() if self.process.stderr else ''}"
            )
        data = json.loads(line)
        self.url: str = data["url"]
        self.env: dict[str, str] = data["env"]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess()
    try:
        yield process
    finally:
        assert process.stop() == 0


@pytest.fixture(params=["embedded", "emulator"])
def target_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of each target: nothing set (embedded), or the exports of the external emulator."""
    if request.param == "embedded":
        return clean_env()
    process: EmulatorProcess = request.getfixturevalue("emulator")
    return clean_env(**process.env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_exit_codes(verb: str) -> None:
    result = cli(verb, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: sandboxres {verb}" in result.stdout
    assert "Exit codes" in " ".join(result.stdout.split())


def test_top_level_help_lists_every_verb() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for verb in VERBS:
        assert verb in result.stdout


def test_check_on_each_target(target_env: dict[str, str]) -> None:
    result = cli("check", "--json", env=target_env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "ok"
    assert [(r["kind"], r["ok"]) for r in report["results"]] == [
        ("table", True),
        ("bucket", True),
        ("queue", True),
        ("topic", True),
    ]
    assert report["target"]["target"] == ("emulator" if "AWS_ENDPOINT_URL" in target_env else "embedded")
    text = cli("check", "queue", env=target_env)
    assert text.returncode == 0 and "verdict:  OK" in text.stdout and "test_check_" in text.stdout


def test_version_comes_from_the_installed_package() -> None:
    from importlib.metadata import version

    result = cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sandboxres {version('sandboxres')}"


def test_check_with_an_unknown_kind_lists_the_choices() -> None:
    result = cli("check", "tabel")
    assert result.returncode == 2 and result.stdout == ""
    assert "invalid choice: 'tabel' (choose from table, bucket, queue, topic)" in result.stderr
    assert "[]" not in result.stderr


def test_check_with_keep_says_the_resources_were_kept(target_env: dict[str, str]) -> None:
    env = {**target_env, "SANDBOXRES_KEEP": "1"}
    report = json.loads(cli("check", "--json", "table", "queue", env=env).stdout)
    assert report["verdict"] == "ok"
    assert [(r["kind"], r["kept"], r["delete_s"]) for r in report["results"]] == [
        ("table", True, None),
        ("queue", True, None),
    ]
    text = cli("check", "table", env=env)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "created, used and deleted" not in text.stdout and "kept, not deleted (SANDBOXRES_KEEP)" in text.stdout
    row = next(line for line in text.stdout.splitlines() if line.startswith("table "))
    assert row.split()[-2:] == ["kept", "ok"]
    if "AWS_ENDPOINT_URL" in target_env:  # an external emulator: the tables are still there
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=target_env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        names = dynamodb.list_tables()["TableNames"]
        kept = [report["results"][0]["name"], row.split()[1]]
        assert set(kept) <= set(names)
        for name in kept:
            dynamodb.delete_table(TableName=name)
        assert "delete them yourself or with sandboxres sweep" in text.stdout
    else:
        assert "live only as long as this process's embedded emulator" in text.stdout


# env ------------------------------------------------------------------------------------------------------


def test_env_reports_each_target_and_where_values_came_from(target_env: dict[str, str]) -> None:
    result = cli("env", "--json", env=target_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    if "AWS_ENDPOINT_URL" in target_env:
        assert data["target"] == "emulator"
        assert data["sources"]["kind"] == "AWS_ENDPOINT_URL"
        assert data["endpoints"]["sqs"] == target_env["AWS_ENDPOINT_URL"]
        assert data["sources"]["endpoint:dynamodb"] == "AWS_ENDPOINT_URL"
        assert data["region"] == target_env["AWS_REGION"] and data["sources"]["region"] == "AWS_REGION"
        assert data["credential_source"].startswith("environment variables")
    else:
        assert data["target"] == "embedded"
        assert data["endpoints"] == dict.fromkeys(["dynamodb", "dynamodbstreams", "s3", "sqs", "sns", "sts"])
        assert data["sources"]["kind"].startswith("default")
        assert "dummy" in data["credential_source"]
    assert data["sources"]["run_id"] == "random per process"
    text = cli("env", env={**target_env, "SANDBOXRES_RUN_ID": "nightly-42"})
    assert text.returncode == 0
    assert f"target:      {data['target']}  (from {data['sources']['kind']})" in text.stdout
    assert "run id:      nightly-42  (from SANDBOXRES_RUN_ID)" in text.stdout


def test_env_reads_the_env_file_and_says_so(tmp_path: Path) -> None:
    env_file = tmp_path / "ci.env"
    env_file.write_text("AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324\nAWS_REGION=eu-west-1\n")
    result = cli("env", "--json", env=clean_env(SANDBOXRES_ENV_FILE=str(env_file)))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["env_file"] == str(env_file)
    assert data["target"] == "emulator"
    assert data["endpoints"]["sqs"] == "http://127.0.0.1:9324"
    assert data["endpoints"]["s3"] is None and data["sources"]["endpoint:s3"] == "not set"
    assert data["region"] == "eu-west-1"


@pytest.mark.parametrize("kind", ["aws", "emulator"])
def test_env_never_prints_credentials(kind: str) -> None:
    extra = {"SANDBOXRES_TARGET": "aws"} if kind == "aws" else {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    env = clean_env(**CANARIES, **extra)
    for args in (("env",), ("env", "--json")):
        result = cli(*args, env=env)
        assert result.returncode == 0, result.stderr
        for value in CANARIES.values():
            assert value not in result.stdout + result.stderr
        assert "environment variables AWS_ACCESS_KEY_ID" in result.stdout
    assert json.loads(cli("env", "--json", env=env).stdout)["target"] == kind


def test_env_names_the_profile_on_aws_without_calling_anything(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[profile sandbox-tests]\nregion = eu-west-1\n")
    env = clean_env(SANDBOXRES_TARGET="aws", AWS_PROFILE="sandbox-tests", AWS_CONFIG_FILE=str(tmp_path / "config"))
    result = cli("env", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["target"] == "aws" and "'sandbox-tests'" in data["credential_source"]
    assert data["sources"]["endpoint:s3"] == "SDK default (AWS)"


def test_env_refuses_a_profile_missing_on_aws(tmp_path: Path) -> None:
    env = clean_env(SANDBOXRES_TARGET="aws", AWS_PROFILE="nope", AWS_CONFIG_FILE=str(tmp_path / "none"))
    result = cli("env", env=env)
    assert result.returncode == 2
    assert "AWS_PROFILE='nope'" in result.stderr


@pytest.mark.parametrize("verb", ["check", "env", "doctor"])
def test_a_missing_profile_does_not_break_the_embedded_target(tmp_path: Path, verb: str) -> None:
    """The embedded emulator runs in the process: moto's own SDK sessions must not read the missing profile either
    (every request answered 500 before, the verbs failed with a raw ProfileNotFound)."""
    env = clean_env(AWS_PROFILE="nope", AWS_DEFAULT_PROFILE="nope", AWS_CONFIG_FILE=str(tmp_path / "none"))
    result = cli(verb, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ProfileNotFound" not in result.stdout + result.stderr
    if verb != "env":
        assert "could NOT delete" not in result.stderr


def test_env_inconsistent_environment_exits_2() -> None:
    result = cli("env", env=clean_env(SANDBOXRES_TARGET="aws", AWS_ENDPOINT_URL="http://127.0.0.1:4566"))
    assert result.returncode == 2
    assert "AWS_ENDPOINT_URL" in result.stderr and result.stdout == ""


# doctor ---------------------------------------------------------------------------------------------------


def test_doctor_passes_on_each_target(target_env: dict[str, str]) -> None:
    result = cli("doctor", "--json", env=target_env)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "ok"
    statuses = {c["check"]: c["status"] for c in data["checks"]}
    for name in ("configuration", "reachability dynamodb", "reachability s3", "reachability sqs"):
        assert statuses[name] == "ok"
    for kind in ("table", "bucket", "queue"):
        assert statuses[f"lifecycle {kind}"] == "ok"
    assert data["target"]["target"] == ("emulator" if "AWS_ENDPOINT_URL" in target_env else "embedded")
    text = cli("doctor", "queue", "--no-lifecycle", env=target_env)
    assert text.returncode == 0, text.stdout
    assert "verdict: OK" in text.stdout and "reachability sqs" in text.stdout and "reachability s3" not in text.stdout


def test_doctor_points_at_the_emulator_when_nothing_answers() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("doctor", "--json", "--timeout", "2", env=clean_env(AWS_ENDPOINT_URL=url))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "failed"
    by_name = {c["check"]: c for c in data["checks"]}
    dynamodb = by_name["reachability dynamodb"]
    assert dynamodb["status"] == "failed" and "EndpointConnectionError" in dynamodb["error"]
    assert url in dynamodb["hint"] and "sandboxres emulator" in dynamodb["hint"]
    assert by_name["lifecycle table"]["status"] == "skipped"
    text = cli("doctor", "bucket", "--timeout", "2", env=clean_env(AWS_ENDPOINT_URL_S3=url, AWS_ENDPOINT_URL=url))
    assert text.returncode == 1 and "hint: nothing answers at" in text.stdout and "AWS_ENDPOINT_URL_S3" in text.stdout


def test_doctor_explains_a_configuration_error() -> None:
    result = cli("doctor", "--json", env=clean_env(SANDBOXRES_TARGET="staging"))
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["target"] is None and data["verdict"] == "failed"
    (check,) = data["checks"]
    assert check["check"] == "configuration" and "SANDBOXRES_TARGET" in check["error"]
    assert "sandboxres env" in check["hint"]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"CI": "true", "SANDBOXRES_AWS_ACCOUNTS": "123456789012"}, "CI"),
        ({}, "SANDBOXRES_AWS_ACCOUNTS"),
    ],
)
def test_doctor_on_aws_stops_at_the_guards_before_calling_aws(extra: dict[str, str], reason: str) -> None:
    """A refusing guard is reported with its reason, and nothing after it runs: no AWS call is made."""
    env = {k: v for k, v in clean_env(**CANARIES).items() if k not in CI_VARIABLES}
    env.update(SANDBOXRES_TARGET="aws", AWS_REGION="eu-west-1", **extra)
    result = cli("doctor", "--json", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    for value in CANARIES.values():
        assert value not in result.stdout + result.stderr
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["guards"]["status"] == "failed" and reason in checks["guards"]["error"]
    assert "safety guard" in checks["guards"]["hint"]
    skipped = [name for name, c in checks.items() if c["status"] == "skipped"]
    assert set(skipped) == set(checks) - {"configuration", "guards"}
    assert len(skipped) == 9  # reachability of dynamodb, s3, sqs, sns; lifecycle of each kind; identity


def test_doctor_hints_at_credentials_and_at_the_policy() -> None:
    """An emulator that enforces IAM: unknown keys are rejected, a user holding only the S3 policy from
    `sandboxres policy --service s3` passes the S3 probe but not the DynamoDB one, and a user holding the whole
    generated policy passes every probe."""
    # The six IAM calls below go unauthenticated; every later request is checked.
    process = EmulatorProcess(env=clean_env(INITIAL_NO_AUTH_ACTION_COUNT="6"))
    try:
        iam = boto3.client("iam", endpoint_url=process.url, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
        keys = {}
        for user, args in (("sandbox-tests", ("--service", "s3")), ("sandbox-all", ())):
            policy = cli("policy", *args, "--compact")
            assert policy.returncode == 0
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="sandboxres", PolicyDocument=policy.stdout)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

        rejected = cli("doctor", "--json", "--no-lifecycle", env=clean_env(**process.env))
        assert rejected.returncode == 1
        checks = {c["check"]: c for c in json.loads(rejected.stdout)["checks"]}
        assert "rejected the credentials" in checks["reachability sqs"]["hint"]

        user_env = clean_env(**{**process.env, **keys["sandbox-tests"]})
        denied = cli("doctor", "table", "bucket", "--json", "--no-lifecycle", env=user_env)
        assert denied.returncode == 1, denied.stdout
        assert keys["sandbox-tests"]["AWS_SECRET_ACCESS_KEY"] not in denied.stdout + denied.stderr
        checks = {c["check"]: c for c in json.loads(denied.stdout)["checks"]}
        assert checks["reachability s3"]["status"] == "ok"
        assert checks["reachability dynamodb"]["status"] == "failed"
        assert "AccessDenied" in checks["reachability dynamodb"]["error"]
        assert "sandboxres policy" in checks["reachability dynamodb"]["hint"]

        # The whole generated policy passes every probe: the doctor calls only what that policy grants.
        granted = cli("doctor", "--json", "--no-lifecycle", env=clean_env(**{**process.env, **keys["sandbox-all"]}))
        checks = {c["check"]: c for c in json.loads(granted.stdout)["checks"]}
        assert {name: c["status"] for name, c in checks.items() if name.startswith("reachability")} == {
            "reachability dynamodb": "ok",
            "reachability s3": "ok",
            "reachability sqs": "ok",
            "reachability sns": "ok",
        }, granted.stdout
        assert granted.returncode == 0, granted.stdout
    finally:
        assert process.stop() == 0


def test_doctor_on_three_emulators_one_per_service() -> None:
    """The recipe of the emulator documentation: dynalite, s3rver and local-aws-sqs side by side."""
    from tests.emulators.launch import start_emulator

    with start_emulator("dynalite") as dynamodb, start_emulator("s3rver") as s3, start_emulator("sqs") as sqs:
        endpoints = {
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.url,
            "AWS_ENDPOINT_URL_S3": s3.url,
            "AWS_ENDPOINT_URL_SQS": sqs.url,
        }
        result = cli(
            "doctor", "--json", env=clean_env(**endpoints, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER")
        )
        assert result.returncode == 0, result.stdout + result.stderr
        data = json.loads(result.stdout)
        assert data["target"]["endpoints"]["s3"] == s3.url and data["target"]["endpoints"]["sqs"] == sqs.url
        assert {c["check"] for c in data["checks"] if c["status"] == "ok"} >= {"lifecycle table", "lifecycle queue"}

        wrong_keys = cli("doctor", "bucket", "--json", env=clean_env(**endpoints))
        assert wrong_keys.returncode == 1
        check = {c["check"]: c for c in json.loads(wrong_keys.stdout)["checks"]}["reachability s3"]
        assert "InvalidAccessKeyId" in check["error"] and "S3RVER" in check["hint"]


# emulator -------------------------------------------------------------------------------------------------


def test_emulator_prints_exports_that_other_processes_use() -> None:
    process = subprocess.Popen(
        [*ENTRY, "emulator", "--region", "eu-central-1"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(4)]
        assert all(line.startswith("export ") for line in lines), lines
        exported = dict(line.removeprefix("export ").split("=", 1) for line in lines)
        assert exported["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert exported["AWS_REGION"] == "eu-central-1"
        checked = cli("check", "--json", env=clean_env(**exported))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        assert report["verdict"] == "ok" and report["target"]["target"] == "emulator"
        assert report["target"]["endpoints"]["s3"] == exported["AWS_ENDPOINT_URL"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None and "stopping" in process.stderr.read()
        process.stdout.close() if process.stdout else None
        process.stderr.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_emulator_refuses_non_loopback_hosts(host: str) -> None:
    result = cli("emulator", "--host", host, timeout=60)
    assert result.returncode == 2
    assert "--host" in result.stderr and result.stdout == ""


def test_emulator_refuses_a_taken_port(emulator: EmulatorProcess) -> None:
    port = emulator.url.rsplit(":", 1)[1]
    result = cli("emulator", "--port", port, timeout=60)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "not free" in result.stderr


def test_emulator_on_a_chosen_port() -> None:
    port = free_port()
    process = EmulatorProcess("--port", str(port), "--host", "localhost")
    try:
        assert process.url == f"http://127.0.0.1:{port}"
        listed = cli("doctor", "queue", "--json", env=clean_env(**process.env))
        assert json.loads(listed.stdout)["verdict"] == "ok"
    finally:
        assert process.stop() == 0


# policy ---------------------------------------------------------------------------------------------------


def test_policy_is_json_for_each_target(target_env: dict[str, str]) -> None:
    result = cli("policy", "--json", env=target_env)
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)
    assert policy["Version"] == "2012-10-17"
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"dynamodb:CreateTable", "s3:CreateBucket", "sqs:CreateQueue", "s3:ListAllMyBuckets"} <= actions
    assert json.loads(cli("policy", env=target_env).stdout) == policy


def test_policy_for_some_services_and_a_narrower_prefix() -> None:
    result = cli(
        "policy", "--service", "s3", "--service", "dynamodb", "--prefix", "test_ci_", "--account", "123456789012"
    )
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert not any(a.startswith("sqs:") for a in actions)
    resources = {r for s in policy["Statement"] if s["Resource"] != "*" for r in s["Resource"]}
    assert "arn:aws:s3:::test-ci-*" in resources
    assert "arn:aws:dynamodb:*:123456789012:table/test_ci_*" in resources


def _prefix_table() -> list[tuple[list[str], dict[str, str]]]:
    """The rows of the prefix table in docs/cli.md: options, and the pattern each kind's name gets."""
    rows = []
    for line in (ROOT / "docs" / "cli.md").read_text().splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].endswith("*") and "test" in cells[1]:
            options = [] if cells[0] == "(none)" else cells[0].split()
            rows.append((options, dict(zip(("table", "queue", "bucket"), cells[1:], strict=True))))
    return rows


def test_the_documented_prefix_rule_is_what_policy_prints() -> None:
    rows = _prefix_table()
    assert len(rows) >= 4
    for options, patterns in rows:
        result = cli("policy", *options)
        assert result.returncode == 0, result.stderr
        resources = {
            r
            for s in json.loads(result.stdout)["Statement"]
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        }
        assert f"arn:aws:dynamodb:*:*:table/{patterns['table']}" in resources, (options, resources)
        assert f"arn:aws:sqs:*:*:{patterns['queue']}" in resources, (options, resources)
        assert f"arn:aws:s3:::{patterns['bucket']}" in resources, (options, resources)


@pytest.mark.parametrize(
    "args",
    [("--prefix", "prod_"), ("--bucket-prefix", "prod-"), ("--account", "42"), ("--service", "ec2")],
)
def test_policy_bad_options_exit_2(args: tuple[str, ...]) -> None:
    result = cli("policy", *args)
    assert result.returncode == 2
    assert result.stdout == "" and result.stderr


# init -----------------------------------------------------------------------------------------------------


def test_init_scaffolds_once_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/")  # no trailing newline
    first = cli("init", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["files"] == {".env.emulated": "written", ".env.integration": "written"}
    assert report["gitignore_added"] == [".env.emulated", ".env.integration", ".secrets/"]
    assert (tmp_path / ".secrets").is_dir()
    gitignore = (tmp_path / ".gitignore").read_text()
    assert gitignore.splitlines()[0] == "node_modules/"
    assert {".env.emulated", ".env.integration", ".secrets/"} <= set(gitignore.splitlines())
    integration = (tmp_path / ".env.integration").read_text()
    assert "SANDBOXRES_TARGET=aws" in integration and "SANDBOXRES_AWS_ACCOUNTS=" in integration

    again = cli("init", "--json", cwd=tmp_path)
    assert again.returncode == 0
    report = json.loads(again.stdout)
    assert report["files"] == {".env.emulated": "unchanged", ".env.integration": "unchanged"}
    assert report["gitignore_added"] == [] and report["secrets_dir"] == {".secrets": "exists"}
    assert (tmp_path / ".gitignore").read_text() == gitignore

    (tmp_path / ".env.emulated").write_text("AWS_ENDPOINT_URL=http://127.0.0.1:9999\n")
    kept = cli("init", cwd=tmp_path)
    assert kept.returncode == 0 and "--force" in kept.stdout
    assert (tmp_path / ".env.emulated").read_text() == "AWS_ENDPOINT_URL=http://127.0.0.1:9999\n"
    forced = cli("init", "--json", "--force", "--dir", str(tmp_path))
    assert json.loads(forced.stdout)["files"][".env.emulated"] == "overwritten"
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:4566" in (tmp_path / ".env.emulated").read_text()


def test_init_refuses_a_missing_directory(tmp_path: Path) -> None:
    result = cli("init", "--dir", str(tmp_path / "missing"))
    assert result.returncode == 2 and "not a directory" in result.stderr


def test_init_templates_drive_each_tier(tmp_path: Path, emulator: EmulatorProcess) -> None:
    """The written .env.emulated, pointed at a running emulator, selects it; .env.integration selects aws."""
    assert cli("init", "--dir", str(tmp_path)).returncode == 0
    emulated = tmp_path / ".env.emulated"
    emulated.write_text(emulated.read_text().replace("http://127.0.0.1:4566", emulator.url))
    doctor = cli("doctor", "--json", env=clean_env(SANDBOXRES_ENV_FILE=str(emulated)))
    assert doctor.returncode == 0, doctor.stdout
    assert json.loads(doctor.stdout)["target"]["endpoints"]["dynamodb"] == emulator.url
    (tmp_path / "aws-config").write_text("[profile sandboxres-sandbox]\nregion = eu-west-1\n")
    integration = cli(
        "env",
        "--json",
        env=clean_env(
            SANDBOXRES_ENV_FILE=str(tmp_path / ".env.integration"), AWS_CONFIG_FILE=str(tmp_path / "aws-config")
        ),
    )
    assert integration.returncode == 0, integration.stderr
    data = json.loads(integration.stdout)
    assert data["target"] == "aws" and "'sandboxres-sandbox'" in data["credential_source"]
