"""Targets chosen by the environment alone: resolution rules, describe_target(), and resources really landing on
the embedded emulator, a separately started moto_server, or one server per service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sandboxres
import sandboxres.aio
from sandboxres import ConfigurationError
from sandboxres._runtime.target import resolve_target
from tests.support.inventory import Inventory, InventoryAt
from tests.support.runner import Runner

# ---------------------------------------------------------------------------------------------------------
# resolution (pure: a mapping in, a Target out)


def test_nothing_set_means_embedded() -> None:
    target = resolve_target({})
    assert target.kind == "embedded"
    assert target.region == "us-east-1" and target.sources["region"] == "default"
    assert target.sources["kind"].startswith("default")
    assert target.keep is False


def test_one_endpoint_variable_means_emulator_for_every_service() -> None:
    target = resolve_target({"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    assert target.kind == "emulator" and target.sources["kind"] == "AWS_ENDPOINT_URL"
    for service in ("dynamodb", "s3", "sqs"):
        assert target.endpoint(service) == "http://127.0.0.1:1"
        assert target.sources[f"endpoint:{service}"] == "AWS_ENDPOINT_URL"


def test_per_service_endpoints_may_differ_and_win_over_the_general_one() -> None:
    target = resolve_target(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2",
            "S3_ENDPOINT": "http://127.0.0.1:3",
        }
    )
    assert target.kind == "emulator"
    assert target.endpoint("dynamodb") == "http://127.0.0.1:2"
    assert target.endpoint("dynamodbstreams") == "http://127.0.0.1:2"
    assert target.endpoint("s3") == "http://127.0.0.1:3"
    assert target.endpoint("sqs") == "http://127.0.0.1:1"
    assert target.sources["endpoint:s3"] == "S3_ENDPOINT"


def test_an_emulator_without_an_endpoint_for_a_service_says_which_variable_to_set() -> None:
    target = resolve_target({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2"})
    with pytest.raises(ConfigurationError, match="AWS_ENDPOINT_URL_SQS"):
        target.endpoint("sqs")


@pytest.mark.parametrize("kind", ["embedded", "EMBEDDED", " embedded "])
def test_sandboxres_target_overrides_endpoint_variables(kind: str) -> None:
    target = resolve_target({"SANDBOXRES_TARGET": kind, "AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    assert target.kind == "embedded" and target.sources["kind"] == "SANDBOXRES_TARGET"
    assert set(target.endpoints.values()) == {None}  # filled in once the embedded emulator runs


def test_aws_with_an_endpoint_variable_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="AWS_ENDPOINT_URL_S3"):
        resolve_target({"SANDBOXRES_TARGET": "aws", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"})


def test_aws_alone_uses_the_sdk_defaults() -> None:
    target = resolve_target({"SANDBOXRES_TARGET": "aws", "AWS_REGION": "eu-west-1"})
    assert target.kind == "aws" and target.region == "eu-west-1"
    assert set(target.endpoints.values()) == {None}
    assert target.credentials == "sdk chain"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"SANDBOXRES_TARGET": "emulator"}, "needs an endpoint"),
        ({"SANDBOXRES_TARGET": "staging"}, "not one of"),
        ({"SANDBOXRES_ENV_FILE": "/nonexistent/sandboxres.env"}, "not a readable file"),
        ({"AWS_ENDPOINT_URL": "localhost:4566"}, "AWS_ENDPOINT_URL='localhost:4566' is not an http"),
        ({"AWS_ENDPOINT_URL_S3": "ftp://127.0.0.1:9000"}, "AWS_ENDPOINT_URL_S3='ftp://127.0.0.1:9000'"),
        ({"SQS_ENDPOINT": "http://"}, "SQS_ENDPOINT='http://' is not an http"),
    ],
)
def test_unusable_settings_are_configuration_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        resolve_target(environ)


@pytest.mark.parametrize(
    "environ, region, source",
    [
        ({}, "us-east-1", "default"),
        ({"AWS_DEFAULT_REGION": "eu-west-1"}, "eu-west-1", "AWS_DEFAULT_REGION"),
        ({"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "eu-west-1"}, "ap-south-1", "AWS_REGION"),
    ],
)
def test_region_precedence(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], region: str, source: str) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    described = sandboxres.describe_target().describe()
    assert described["region"] == region
    sources = described["sources"]
    assert isinstance(sources, dict) and sources["region"] == source


def test_run_id_and_keep_from_the_environment() -> None:
    target = resolve_target({"SANDBOXRES_RUN_ID": "ci-1234", "SANDBOXRES_KEEP": "1"})
    assert target.run_id == "ci-1234" and target.sources["run_id"] == "SANDBOXRES_RUN_ID"
    assert target.keep is True
    assert resolve_target({}).run_id == resolve_target({}).run_id  # one random id per process
    assert resolve_target({"SANDBOXRES_KEEP": "0"}).keep is False


def test_env_file_is_loaded_without_overriding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "sandboxres.env"
    env_file.write_text("AWS_ENDPOINT_URL=http://127.0.0.1:9\nAWS_REGION=eu-west-1\nSANDBOXRES_RUN_ID=from-file\n")
    monkeypatch.setenv("SANDBOXRES_ENV_FILE", str(env_file))
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    target = sandboxres.describe_target()
    assert target.kind == "emulator" and target.endpoint("sqs") == "http://127.0.0.1:9"
    assert target.region == "ap-south-1"  # set in the environment: the file does not override it
    assert target.run_id == "from-file"


def test_describe_target_reports_and_never_shows_credentials(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    target = sandboxres.describe_target()
    described = target.describe()
    assert described["target"] == "emulator"
    endpoints = described["endpoints"]
    assert isinstance(endpoints, dict)
    assert endpoints["dynamodb"] == moto_server
    assert endpoints["s3"] is None
    assert described["credentials"] == "environment"
    for text in (repr(target), str(described)):
        assert secret not in text and "AKIAIOSFODNN7EXAMPLE" not in text
    with sandboxres.ephemeral_table("creds") as t:  # the credentials really work against the emulator
        assert secret not in repr(t)


def test_describe_target_on_embedded_reports_the_running_emulator() -> None:
    target = sandboxres.describe_target(start=True)
    assert target.kind == "embedded"
    url = target.endpoint("dynamodb")
    assert url and url.startswith("http://127.0.0.1:")
    assert {target.endpoint(s) for s in ("dynamodb", "s3", "sqs")} == {url}
    assert sandboxres.describe_target().endpoint("sqs") == url


# ---------------------------------------------------------------------------------------------------------
# where resources really land


def _has_table(inventory_result: Inventory, name: str) -> bool:
    return name in inventory_result.tables()


def test_endpoint_variable_switches_to_the_separate_emulator(
    run: Runner, monkeypatch: pytest.MonkeyPatch, moto_server: str, inventory: InventoryAt
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    with (
        run.lifecycle("table", "switched") as t,
        run.lifecycle("bucket", "switched") as b,
        run.lifecycle("queue", "switched") as q,
    ):
        assert t.client.meta.endpoint_url == moto_server
        there, embedded = inventory(moto_server), inventory()
        assert _has_table(there, t.name) and not _has_table(embedded, t.name)
        assert b.name in there.buckets() and b.name not in embedded.buckets()
        assert q.url.startswith(moto_server)
        assert (
            f"queue us-east-1/{q.name}" in there.snapshot() and f"queue us-east-1/{q.name}" not in embedded.snapshot()
        )
        names = (t.name, b.name, q.name)
    there = inventory(moto_server)
    assert not _has_table(there, names[0]) and names[1] not in there.buckets()


def test_each_service_on_its_own_server(
    run: Runner, monkeypatch: pytest.MonkeyPatch, moto_server: str, moto_server_b: str, inventory: InventoryAt
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server_b)
    with run.lifecycle("table", "split") as t, run.lifecycle("bucket", "split") as b:
        a, other = inventory(moto_server), inventory(moto_server_b)
        assert _has_table(a, t.name) and not _has_table(other, t.name)
        assert b.name in other.buckets() and b.name not in a.buckets()
    with pytest.raises(ConfigurationError, match="sqs"):  # no endpoint for SQS: refused, not sent to AWS
        with run.lifecycle("queue", "nowhere"):
            pytest.fail("the block must not run")


def test_sandboxres_target_embedded_wins_over_endpoints(
    run: Runner, monkeypatch: pytest.MonkeyPatch, moto_server: str, inventory: InventoryAt
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("SANDBOXRES_TARGET", "embedded")
    with run.lifecycle("table", "forced") as t:
        assert _has_table(inventory(), t.name) and not _has_table(inventory(moto_server), t.name)


def test_aws_with_an_endpoint_creates_nothing(
    run: Runner, monkeypatch: pytest.MonkeyPatch, moto_server: str, inventory: InventoryAt
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("SANDBOXRES_TARGET", "aws")
    before = inventory(moto_server).snapshot()
    with pytest.raises(ConfigurationError, match="SANDBOXRES_TARGET=aws"):
        with run.lifecycle("table", "refused"):
            pytest.fail("the block must not run")
    assert inventory(moto_server).snapshot() == before


def test_env_file_selects_the_emulator(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: str, inventory: InventoryAt
) -> None:
    env_file = tmp_path / "test.env"
    env_file.write_text(f"AWS_ENDPOINT_URL={moto_server}\nSANDBOXRES_RUN_ID=from-env-file\n")
    monkeypatch.setenv("SANDBOXRES_ENV_FILE", str(env_file))
    with run.lifecycle("queue", "dotenv") as q:
        assert f"queue us-east-1/{q.name}" in inventory(moto_server).snapshot()
        tags = run.call(q.client.list_queue_tags(QueueUrl=q.url))
        assert tags["Tags"][sandboxres.TAG_RUN_ID] == "from-env-file"


def test_run_id_is_tagged_on_every_resource(
    run: Runner, monkeypatch: pytest.MonkeyPatch, managed_tags: Callable[..., None]
) -> None:
    monkeypatch.setenv("SANDBOXRES_RUN_ID", "run-42")
    with (
        run.lifecycle("table", "tagged") as t,
        run.lifecycle("bucket", "tagged") as b,
        run.lifecycle("queue", "tagged") as q,
    ):
        tags = run.call(t.client.list_tags_of_resource(ResourceArn=t.arn))
        managed_tags({x["Key"]: x["Value"] for x in tags["Tags"]}, "run-42")
        tags = run.call(b.client.get_bucket_tagging(Bucket=b.name))
        managed_tags({x["Key"]: x["Value"] for x in tags["TagSet"]}, "run-42")
        managed_tags(run.call(q.client.list_queue_tags(QueueUrl=q.url))["Tags"], "run-42")


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_a_region_other_than_us_east_1(
    run: Runner, monkeypatch: pytest.MonkeyPatch, raw: Callable[..., Any], variable: str
) -> None:
    region = "eu-central-1"
    monkeypatch.setenv(variable, region)
    with (
        run.lifecycle("table", "regional") as t,
        run.lifecycle("bucket", "regional") as b,
        run.lifecycle("queue", "regional", dead_letter=2) as q,
    ):
        assert f":{region}:" in t.arn
        location = run.call(b.client.get_bucket_location(Bucket=b.name))
        assert location["LocationConstraint"] == region
        assert f":{region}:" in q.arn and f":{region}:" in q.dead_letter.arn
        assert t.name in raw("dynamodb", region=region).list_tables()["TableNames"]
        assert t.name not in raw("dynamodb").list_tables()["TableNames"]


async def test_sync_and_async_share_the_embedded_emulator(raw: Callable[..., Any]) -> None:
    with sandboxres.ephemeral_table("from_sync") as sync_table:
        async with sandboxres.aio.ephemeral_table("from_async") as async_table:
            assert sync_table.client.meta.endpoint_url == async_table.client.meta.endpoint_url
            assert sync_table.client.meta.endpoint_url == sandboxres.describe_target().endpoint("dynamodb")
            names = raw("dynamodb").list_tables()["TableNames"]
            assert {sync_table.name, async_table.name} <= set(names)
            described = await async_table.client.describe_table(TableName=sync_table.name)
            assert described["Table"]["TableArn"] == sync_table.arn
            await asyncio.to_thread(sync_table.client.describe_table, TableName=async_table.name)


def test_a_malformed_endpoint_registers_and_sends_nothing(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "htp:/not a url")
    resource = run.make("queue", "malformed")
    with pytest.raises(ConfigurationError, match="AWS_ENDPOINT_URL"):
        run.call(resource.create())
    assert resource.lifecycle.state == "new"
    assert resource.lifecycle not in sandboxres._safety.registry.live()
