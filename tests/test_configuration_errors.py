"""Configuration errors found while resolving the target: a ConfigurationError naming the variable, 0 requests,
nothing registered (so no exit handler reports a leak for something that never existed).

The endpoint checks include the foreign-bucket case: an ``AWS_ENDPOINT_URL_S3`` with a path would, with
path-style addressing, turn a "bucket" into a key prefix inside someone else's bucket.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sandboxres
from sandboxres import ConfigurationError
from sandboxres._doors.cli import main
from sandboxres._runtime.target import resolve_target


def _port(url: str) -> str:
    return url.rsplit(":", 1)[1]


BAD_SETTINGS = [
    ("AWS_ENDPOINT_URL_DYNAMODB", "{proxy}/prod"),
    ("AWS_ENDPOINT_URL_SQS", "{proxy}/?x=1"),
    ("AWS_ENDPOINT_URL_S3", "{proxy}#frag"),
    ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:70000"),
    ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:0"),
    ("AWS_ENDPOINT_URL_DYNAMODB", "http://bad host:5000"),
    ("AWS_REGION", "bad region!"),
    ("AWS_DEFAULT_REGION", "-east-"),
    ("AWS_RETRY_MODE", "garbage"),
    ("AWS_MAX_ATTEMPTS", "abc"),
    ("AWS_MAX_ATTEMPTS", "0"),
    ("SANDBOXRES_TABLE_CONCURRENCY", "abc"),
    ("SANDBOXRES_TABLE_CONCURRENCY", "2.5"),
    ("SANDBOXRES_TABLE_CONCURRENCY", "0"),
    ("SANDBOXRES_TABLE_CONCURRENCY", "-3"),
    ("SANDBOXRES_KEEP", "maybe"),
    ("SANDBOXRES_KEEP", "2"),
    ("SANDBOXRES_RUN_ID", "my run"),
    ("SANDBOXRES_RUN_ID", "a/b"),
    ("SANDBOXRES_RUN_ID", "x" * 300),
    ("SANDBOXRES_RUN_ID", "   "),
    ("SANDBOXRES_TABLE_TIMEOUT", "nan"),
    ("SANDBOXRES_BUCKET_TIMEOUT", "inf"),
    ("SANDBOXRES_QUEUE_TIMEOUT", "-inf"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_SETTINGS, ids=lambda v: str(v)[:40])
@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_bad_settings_fail_before_any_call_and_register_nothing(
    run: Any, counted: Any, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, kind: str
) -> None:
    monkeypatch.setenv(variable, value.format(proxy=counted.url))
    with pytest.raises(ConfigurationError, match=variable):
        with run.lifecycle(kind, "cfg"):
            pytest.fail("the block must not run")


def test_credentials_in_an_endpoint_url_are_refused_without_showing_them(counted: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", counted.url.replace("http://", "http://user:s3cr3t-canary@"))
    with pytest.raises(ConfigurationError, match="AWS_ACCESS_KEY_ID") as caught:
        with sandboxres.ephemeral_table("cfg"):
            pytest.fail("the block must not run")
    assert "s3cr3t-canary" not in str(caught.value) and "s3cr3t-canary" not in repr(caught.value.args)


def test_an_endpoint_with_a_path_never_writes_into_the_foreign_bucket(
    moto_server: str, fault_proxy: Any, raw: Any
) -> None:
    """``AWS_ENDPOINT_URL_S3=http://host/prod-data`` made every test bucket a key prefix inside prod-data."""
    s3 = raw("s3", moto_server)
    s3.create_bucket(Bucket="prod-data")
    try:
        s3.put_object(Bucket="prod-data", Key="customers.csv", Body=b"id,name\n1,Ada\n")
        before = [(o["Key"], o["ETag"]) for o in s3.list_objects_v2(Bucket="prod-data").get("Contents", [])]
        proxy = fault_proxy(moto_server)
        os.environ["AWS_ENDPOINT_URL_S3"] = f"{proxy.url}/prod-data"
        with pytest.raises(ConfigurationError, match=r"AWS_ENDPOINT_URL_S3.*path") as caught:
            with sandboxres.ephemeral_bucket("uploads") as bucket:
                bucket.client.put_object(Bucket=bucket.name, Key="test.txt", Body=b"x")
        assert "someone else's bucket" in str(caught.value)
        assert proxy.requests == []
        after = [(o["Key"], o["ETag"]) for o in s3.list_objects_v2(Bucket="prod-data").get("Contents", [])]
        assert after == before
    finally:
        for obj in s3.list_objects_v2(Bucket="prod-data").get("Contents", []):
            s3.delete_object(Bucket="prod-data", Key=obj["Key"])
        s3.delete_bucket(Bucket="prod-data")


@pytest.mark.parametrize(("raw", "keep"), [("1", True), ("YES", True), ("On", True), ("false", False), ("", False)])
def test_keep_accepts_the_usual_spellings(raw: str, keep: bool) -> None:
    assert resolve_target({"SANDBOXRES_KEEP": raw}).keep is keep


@pytest.mark.parametrize("run_id", ["ci-1234", "gh.5:attempt=2", "a+b_c"])
def test_usual_run_ids_are_accepted(run_id: str) -> None:
    assert resolve_target({"SANDBOXRES_RUN_ID": run_id}).run_id == run_id


def test_an_empty_run_id_is_unset() -> None:
    assert resolve_target({"SANDBOXRES_RUN_ID": ""}).sources["run_id"] == "random per process"


def _no_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").write_text("[profile present]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "missing-profile")


def test_a_missing_profile_does_not_break_an_emulator_target(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: str
) -> None:
    """Emulators take dummy credentials: a profile named by the environment but absent here is not used."""
    _no_profiles(tmp_path, monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    with run.lifecycle("queue", "emulator_profile") as q:
        run.call(q.client.get_queue_attributes(QueueUrl=q.url))


def test_a_missing_profile_on_aws_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _no_profiles(tmp_path, monkeypatch)
    monkeypatch.setenv("SANDBOXRES_TARGET", "aws")
    with pytest.raises(ConfigurationError, match=r"AWS_PROFILE=.missing-profile.*profiles found: present"):
        resolve_target()
    assert main(["sweep"]) == 2
    assert "missing-profile" in capsys.readouterr().err


@pytest.mark.parametrize("verb", ["env", "check"])
def test_env_and_check_exit_2_on_a_bad_timeout(monkeypatch: pytest.MonkeyPatch, capsys: Any, verb: str) -> None:
    monkeypatch.setenv("SANDBOXRES_TABLE_TIMEOUT", "nan")
    assert main([verb]) == 2
    assert "SANDBOXRES_TABLE_TIMEOUT" in capsys.readouterr().err


def test_table_concurrency_is_read_from_the_env_file(tmp_path: Path) -> None:
    """Read at import before, so a value in SANDBOXRES_ENV_FILE was ignored."""
    env_file = tmp_path / "test.env"
    env_file.write_text("SANDBOXRES_TABLE_CONCURRENCY=7\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOXRES_", "AWS_"))}
    environ["SANDBOXRES_ENV_FILE"] = str(env_file)
    code = "from sandboxres._runtime.table_slots import TABLE_SLOTS; print(TABLE_SLOTS.limit)"
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "7"
