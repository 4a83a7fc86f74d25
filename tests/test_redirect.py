"""Code under test that builds its own SDK clients reaches the same target: ``sandboxres.redirect()``, the pytest
plugin's session-wide redirect and fixture, ``sandboxres.client`` and ``sandboxres.aio.client``.

The application modules here are written to files and imported for real; every call goes over HTTP to the embedded
emulator or to a separately started ``moto_server``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import sandboxres
import sandboxres.aio
from sandboxres._runtime.embedded import ensure_embedded
from sandboxres._runtime.redirect import redirect_variables
from sandboxres._runtime.settings import ENDPOINT_VARIABLES
from sandboxres._runtime.target import resolve_target

pytest_plugins = ["pytester"]

_REDIRECTED = (
    *ENDPOINT_VARIABLES,
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)
_CLEARED = (*_REDIRECTED, "SANDBOXRES_TARGET", "SANDBOXRES_KEEP", "SANDBOXRES_ENV_FILE", "SANDBOXRES_REDIRECT")

# An application module as teams write them: its own clients, one built at import, one per call; no sandboxres.
_APP = """
import boto3

TABLES = boto3.client("dynamodb")  # built while the module is imported


def table_names():
    return TABLES.list_tables()["TableNames"]


def bucket_names():
    return [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]  # built at call time


def queue_urls():
    return boto3.resource("sqs").meta.client.list_queues().get("QueueUrls", [])


def store(bucket, key, body):
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def app_module(tmp_path: Path) -> Iterator[Any]:
    """``load()`` imports a fresh copy of the application module (its import-time client built now)."""
    name = f"own_clients_app_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(_APP)
    sys.path.insert(0, str(tmp_path))
    try:
        yield lambda: importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def _env(names: tuple[str, ...] = _REDIRECTED) -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in names}


# ---------------------------------------------------------------------------------------------------------
# what is set, and that it is restored exactly


def test_embedded_sets_every_standard_variable_and_dummy_credentials(clean_env: pytest.MonkeyPatch) -> None:
    url = ensure_embedded()
    clean_env.setenv("AWS_PROFILE", "no-such-profile")
    clean_env.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    with sandboxres.redirect() as active:
        assert active.active and active.target.kind == "embedded"
        for name in ENDPOINT_VARIABLES:
            assert os.environ[name] == url, name
        assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        assert (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_SESSION_TOKEN"):
            assert name not in os.environ, name
        assert "testing" not in repr(active)  # the Redirect names variables, never values
    assert os.environ["AWS_PROFILE"] == "no-such-profile"
    assert os.environ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] == "true"


def test_every_variable_is_restored_exactly_set_and_unset_nested_too(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AWS_REGION", "eu-west-1")
    clean_env.setenv("AWS_SESSION_TOKEN", "token-before")
    clean_env.setenv("SQS_ENDPOINT", "")  # set but empty stays set but empty
    before = dict(os.environ)
    with sandboxres.redirect():
        assert os.environ["AWS_REGION"] == "eu-west-1"  # the target's region, from the user's setting
        with sandboxres.redirect():
            assert os.environ["AWS_ENDPOINT_URL_SQS"] == ensure_embedded()
        assert os.environ["AWS_ENDPOINT_URL_SQS"] == ensure_embedded()
    assert dict(os.environ) == before


def test_restored_when_the_block_raises(clean_env: pytest.MonkeyPatch) -> None:
    before = dict(os.environ)
    with pytest.raises(KeyError), sandboxres.redirect():
        raise KeyError("boom")
    assert dict(os.environ) == before


def test_the_library_still_sees_the_embedded_target_while_redirected(clean_env: pytest.MonkeyPatch) -> None:
    with sandboxres.redirect():
        target = resolve_target()
        assert target.kind == "embedded" and target.credentials == "dummy"
        with sandboxres.ephemeral_table("seen") as table:
            assert table.name in boto3.client("dynamodb").list_tables()["TableNames"]


def test_real_aws_is_never_redirected(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[profile sandbox]\nregion = eu-west-1\n")
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    clean_env.setenv("SANDBOXRES_TARGET", "aws")
    clean_env.setenv("AWS_PROFILE", "sandbox")
    target = resolve_target()
    assert redirect_variables(target) == {}
    before = dict(os.environ)
    with sandboxres.redirect(target) as active:
        assert not active.active
        assert dict(os.environ) == before


def test_external_emulator_variables_follow_the_target() -> None:
    target = resolve_target(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4567",
            "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4568",
            "S3_ENDPOINT": "http://127.0.0.1:4569",
            "AWS_ACCESS_KEY_ID": "S3RVER",
            "AWS_SECRET_ACCESS_KEY": "S3RVER",
        }
    )
    changes = redirect_variables(target)
    assert changes["AWS_ENDPOINT_URL_DYNAMODB"] == changes["DYNAMODB_ENDPOINT"] == "http://127.0.0.1:4567"
    assert changes["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] == "http://127.0.0.1:4567"
    assert changes["AWS_ENDPOINT_URL_S3"] == changes["S3_ENDPOINT"] == "http://127.0.0.1:4569"
    assert changes["AWS_ENDPOINT_URL_SQS"] == changes["SQS_ENDPOINT"] == "http://127.0.0.1:4568"
    # the emulator serves no STS here: the STS variable is left alone, so is AWS_ENDPOINT_URL; keys stay the user's
    assert "AWS_ENDPOINT_URL_STS" not in changes and "AWS_ENDPOINT_URL" not in changes
    assert "AWS_ACCESS_KEY_ID" not in changes and changes["AWS_PROFILE"] is None


# ---------------------------------------------------------------------------------------------------------
# the application's own clients reach the target


def test_import_time_and_call_time_clients_reach_the_embedded_emulator(
    clean_env: pytest.MonkeyPatch, app_module: Any
) -> None:
    with sandboxres.redirect(), sandboxres.ephemeral_table("app") as table:
        with sandboxres.ephemeral_bucket("app") as bucket, sandboxres.ephemeral_queue("app") as queue:
            app = app_module()
            assert table.name in app.table_names()
            assert bucket.name in app.bucket_names()
            assert queue.url in app.queue_urls()
            app.store(bucket.name, "k", b"v")
            assert bucket.client.get_object(Bucket=bucket.name, Key="k")["Body"].read() == b"v"


def test_clients_reach_an_external_moto_server(
    clean_env: pytest.MonkeyPatch, app_module: Any, moto_server: str
) -> None:
    clean_env.setenv("AWS_ENDPOINT_URL", moto_server)
    with sandboxres.redirect() as active, sandboxres.ephemeral_bucket("external") as bucket:
        assert active.target.kind == "emulator"
        app = app_module()
        assert bucket.name in app.bucket_names()
        app.store(bucket.name, "k", b"external")
        assert (
            boto3.client("s3", endpoint_url=moto_server).get_object(Bucket=bucket.name, Key="k")["Body"].read()
            == b"external"
        )
        assert app.TABLES.meta.endpoint_url == moto_server
    assert os.environ["AWS_ENDPOINT_URL"] == moto_server
    assert "AWS_ENDPOINT_URL_S3" not in os.environ


def test_no_client_built_inside_points_at_aws(clean_env: pytest.MonkeyPatch) -> None:
    url = ensure_embedded()
    with sandboxres.redirect():
        for service in ("dynamodb", "dynamodbstreams", "s3", "sqs", "sts", "sns", "lambda"):
            client = boto3.client(service)
            assert client.meta.endpoint_url == url, service
        assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"  # moto's, not AWS's
    assert "AWS_ENDPOINT_URL" not in os.environ and "AWS_ACCESS_KEY_ID" not in os.environ


def test_s3_with_the_default_addressing_style_works_on_the_emulator(clean_env: pytest.MonkeyPatch) -> None:
    """No path-style setting in the application: botocore uses path style for an IP-address endpoint."""
    with sandboxres.redirect(), sandboxres.ephemeral_bucket("style") as bucket:
        s3 = boto3.client("s3")
        s3.put_object(Bucket=bucket.name, Key="a/b.txt", Body=b"x")
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket.name)["Contents"]] == ["a/b.txt"]


def test_client_of_the_target(clean_env: pytest.MonkeyPatch) -> None:
    from botocore.config import Config

    with sandboxres.ephemeral_queue("own") as queue:
        sqs = sandboxres.client("sqs", config=Config(read_timeout=7))
        assert sqs.meta.endpoint_url == ensure_embedded()
        assert sqs.meta.config.read_timeout == 7 and sqs.meta.config.retries["mode"] == "standard"
        assert queue.url in sqs.list_queues()["QueueUrls"]
        assert sqs is not sandboxres.client("sqs")
    assert "AWS_ENDPOINT_URL" not in os.environ  # no redirect needed for it


async def test_async_client_of_the_target(clean_env: pytest.MonkeyPatch) -> None:
    async with sandboxres.aio.ephemeral_table("own") as table, sandboxres.aio.client("dynamodb") as dynamodb:
        assert table.name in (await dynamodb.list_tables())["TableNames"]


# ---------------------------------------------------------------------------------------------------------
# the pytest plugin: on by default for the session, before conftest files import the application

_INI = """[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = ignore::DeprecationWarning
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch) -> pytest.Pytester:
    import pkgutil

    # moto's server imports a service's modules on its first request; an in-process run would forget them after
    for package in ("moto.dynamodb", "moto.s3", "moto.sqs", "moto.sts", "moto.moto_api"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    clean_env.delenv("PYTEST_ADDOPTS", raising=False)
    clean_env.delenv("PYTEST_XDIST_WORKER", raising=False)
    pytester.makeini(_INI)
    pytester.makepyfile(own_clients_app=_APP)
    pytester.makeconftest(
        """
        import own_clients_app  # the application imported at the top of the conftest: its client is built now
        """
    )
    pytester.makepyfile(
        test_app="""
        import os
        import own_clients_app

        def test_tables(sandboxres_table):
            table = sandboxres_table("orders")
            assert table.name in own_clients_app.table_names()

        def test_buckets(sandboxres_bucket):
            bucket = sandboxres_bucket("files")
            own_clients_app.store(bucket.name, "k", b"v")
            assert bucket.name in own_clients_app.bucket_names()
        """
    )
    return pytester


def test_the_plugin_redirects_the_session_by_default(inner: pytest.Pytester) -> None:
    before = _env()
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert _env() == before


@pytest.mark.parametrize(
    ("args", "env", "ini"),
    [
        (["--sandboxres-no-redirect"], {}, ""),
        ([], {"SANDBOXRES_REDIRECT": "0"}, ""),
        ([], {}, "sandboxres_redirect = false\n"),
        (["--sandboxres-no-redirect"], {"SANDBOXRES_REDIRECT": "1"}, "sandboxres_redirect = true\n"),
        ([], {"SANDBOXRES_REDIRECT": "off"}, "sandboxres_redirect = true\n"),
    ],
    ids=["option", "env", "ini", "option-beats-env-and-ini", "env-beats-ini"],
)
def test_the_session_redirect_can_be_turned_off(
    inner: pytest.Pytester, clean_env: pytest.MonkeyPatch, args: list[str], env: dict[str, str], ini: str
) -> None:
    inner.makeini(_INI + ini)
    for name, value in env.items():
        clean_env.setenv(name, value)
    inner.makepyfile(
        test_app="""
        import os, sandboxres

        def test_untouched():
            assert "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ

        def test_fixture_redirects_one_test(sandboxres_redirect, sandboxres_table):
            import own_clients_app
            assert sandboxres_redirect.target.kind == "embedded"
            assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == sandboxres_redirect.target.endpoints["dynamodb"]
            table = sandboxres_table("t")
            import boto3
            assert table.name in boto3.client("dynamodb").list_tables()["TableNames"]
        """
    )
    inner.makeconftest("")
    result = inner.runpytest_inprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=2)


def test_a_bad_redirect_setting_is_a_usage_error(inner: pytest.Pytester, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SANDBOXRES_REDIRECT", "maybe")
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*SANDBOXRES_REDIRECT='maybe' is not true or false*"])


@pytest.mark.slow  # about ten seconds, not Python-version specific
def test_xdist_workers_each_redirect_to_their_own_emulator(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_workers="""
        import os

        def test_worker_url(sandboxres_queue):
            queue = sandboxres_queue("w")
            assert os.environ["PYTEST_XDIST_WORKER"]
            assert queue.url.startswith(os.environ["AWS_ENDPOINT_URL_SQS"])
        """
    )
    result = inner.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=3)


def test_every_fixture_has_a_docstring(inner: pytest.Pytester) -> None:
    result = inner.runpytest_inprocess("-p", "no:cacheprovider", "--fixtures")
    lines = result.stdout.lines
    names = [line.split()[0] for line in lines if line.startswith("sandboxres_")]
    assert len(names) >= 10, lines
    for name in names:
        index = next(i for i, line in enumerate(lines) if line.startswith(name + " "))
        assert lines[index + 1].startswith("    ") and lines[index + 1].strip(), f"{name} has no docstring"
        assert "no docstring available" not in lines[index + 1], name
