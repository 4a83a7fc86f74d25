"""The pytest plugin, exercised by running pytest on small test suites (pytester) against the embedded emulator.

Each inner run creates real resources on moto's server over HTTP. In-process runs share this process's embedded
emulator, so the outer test can check afterwards what exists and what was deleted; the pytest-xdist run is a
subprocess whose workers each start their own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import sandboxres
import sandboxres._safety.registry as _registry
import sandboxres.aio
from sandboxres._doors.pytest_summary import _safe_url
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.embedded import ensure_embedded
from sandboxres._runtime.settings import ENDPOINT_VARIABLES

pytest_plugins = ["pytester"]

_CLEARED = (
    *ENDPOINT_VARIABLES,
    "SANDBOXRES_TARGET",
    "SANDBOXRES_KEEP",
    "SANDBOXRES_RUN_ID",
    "SANDBOXRES_ENV_FILE",
    "PYTEST_XDIST_WORKER",
    "PYTEST_ADDOPTS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
_INI = """[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = ignore::DeprecationWarning
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs see no target settings from the outer run: the target is the embedded emulator."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(_INI)
    return pytester


@pytest.fixture(scope="module", autouse=True)
def _emulator_fully_imported() -> None:
    """Run every kind of call once in this process before any in-process inner run.

    An in-process pytester run removes from ``sys.modules`` whatever was imported during it. moto's server imports
    each service's modules on the first request, in its own thread: if that happened inside an inner run, the
    shared embedded emulator would be left with half-forgotten modules. Importing them here keeps them.
    """
    import asyncio
    import importlib
    import pkgutil

    for package in ("moto.dynamodb", "moto.dynamodbstreams", "moto.s3", "moto.sqs", "moto.sts", "moto.moto_api"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    with (
        sandboxres.ephemeral_table("warm", range_key="sk") as table,
        sandboxres.ephemeral_bucket("warm", versioning=True) as bucket,
        sandboxres.ephemeral_queue("warm", fifo=True, dead_letter=2) as queue,
    ):
        table.table.put_item(Item={"pk": "p", "sk": "s"})
        table.client.list_tags_of_resource(ResourceArn=table.arn)
        table.client.update_table(TableName=table.name, DeletionProtectionEnabled=False)
        bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"x")
        queue.client.send_message(QueueUrl=queue.url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="1")
    assert not table_exists(table.name) and not bucket_exists(bucket.name) and not queue_exists(queue.name)

    async def warm_async() -> None:
        async with sandboxres.aio.ephemeral_table("warm") as table, sandboxres.aio.ephemeral_bucket("warm"):
            await table.client.put_item(TableName=table.name, Item={"pk": {"S": "p"}})

    asyncio.run(warm_async())


def write_ini(pytester: pytest.Pytester, **settings: str) -> None:
    pytester.makeini(_INI + "".join(f"{key} = {value}\n" for key, value in settings.items()))


def client(service: str) -> Any:
    """A boto3 client on this process's embedded emulator (the one in-process inner runs use)."""
    return client_pool(active_target()).client(service)


def table_exists(name: str) -> bool:
    try:
        client("dynamodb").describe_table(TableName=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def bucket_exists(name: str) -> bool:
    try:
        client("s3").head_bucket(Bucket=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchBucket")
        return False
    return True


def queue_exists(name: str) -> bool:
    try:
        client("sqs").get_queue_url(QueueName=name)
    except ClientError as exc:
        assert "NonExistentQueue" in exc.response["Error"]["Code"] or "QueueDoesNotExist" in str(exc)
        return False
    return True


def sandboxres_environ() -> dict[str, str]:
    """The variables the plugin may set for a run (it must restore them)."""
    return {k: v for k, v in os.environ.items() if k.startswith(("SANDBOXRES_", "AWS_"))}


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


RECORD = """
import json, pathlib

def record(**values):
    with open(pathlib.Path(__file__).parent / "records.jsonl", "a") as out:
        out.write(json.dumps(values) + "\\n")
"""


# ---------------------------------------------------------------------------------------------------------
# registration


def test_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    found = [ep for ep in entry_points(group="pytest11") if ep.name == "sandboxres"]
    assert [ep.value for ep in found] == ["sandboxres.pytest_plugin"]


def test_help_lists_options_ini_settings_and_markers(inner: pytest.Pytester) -> None:
    help_text = inner.runpytest("--help")
    help_text.stdout.fnmatch_lines(
        ["*--sandboxres-target=*", "*--sandboxres-keep*", "*--sandboxres-no-keep*", "*sandboxres_target*"]
    )
    assert "sandboxres_keep" in help_text.stdout.str()
    markers = inner.runpytest("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.sandboxres_aws_only*", "@pytest.mark.sandboxres_emulator_only*"])


def test_core_works_with_the_plugin_disabled(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import sandboxres

        def test_core_alone():
            with sandboxres.ephemeral_queue("plain") as queue:
                attributes = queue.client.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["QueueArn"])
                assert attributes["Attributes"]["QueueArn"].endswith(queue.name)

        def test_fixture_needs_the_plugin(sandboxres_table):
            raise AssertionError("never reached")
        """
    )
    result = inner.runpytest("-p", "no:sandboxres")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'sandboxres_table' not found*"])
    assert "-- sandboxres --" not in result.stdout.str()


# ---------------------------------------------------------------------------------------------------------
# fixtures


def test_function_scoped_factories_create_on_demand_and_delete_at_test_end(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        RECORD
        + """
def test_make(sandboxres_table, sandboxres_bucket, sandboxres_queue):
    table = sandboxres_table("users", range_key="sk")
    table.table.put_item(Item={"pk": "u1", "sk": "profile"})
    assert table.table.get_item(Key={"pk": "u1", "sk": "profile"})["Item"]["sk"] == "profile"
    other = sandboxres_table("users")
    assert other.name != table.name
    bucket = sandboxres_bucket("uploads", versioning=True)
    bucket.client.put_object(Bucket=bucket.name, Key="a.txt", Body=b"x")
    assert bucket.client.get_bucket_versioning(Bucket=bucket.name)["Status"] == "Enabled"
    queue = sandboxres_queue("jobs", fifo=True, dead_letter=2)
    assert queue.name.endswith(".fifo") and queue.dead_letter is not None
    record(tables=[table.name, other.name], bucket=bucket.name, queues=[queue.name, queue.dead_letter.name])
"""
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=1)
    (made,) = records(inner.path / "records.jsonl")
    assert not any(table_exists(name) for name in made["tables"])
    assert not bucket_exists(made["bucket"])
    assert not any(queue_exists(name) for name in made["queues"])
    result.stdout.fnmatch_lines(
        [
            "*- sandboxres -*",
            "target: embedded (moto server on 127.0.0.1, one per process)",
            "chosen by: default (no endpoint variable set); run id: *",
            "resources: 5 created, 5 deleted, 0 kept, 0 left behind",  # the dead-letter queue counts
            "waiting for readiness: *.* s",
        ]
    )


def test_session_scoped_factories_outlive_tests_and_die_with_the_session(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        RECORD
        + """
import pytest

SEEN = {}

def test_first(sandboxres_session_table, sandboxres_session_bucket, sandboxres_session_queue, sandboxres_table):
    SEEN["factory"] = sandboxres_session_table
    SEEN["table"] = sandboxres_session_table("shared")
    SEEN["bucket"] = sandboxres_session_bucket("shared")
    SEEN["queue"] = sandboxres_session_queue("shared")
    SEEN["short"] = sandboxres_table("short")
    record(table=SEEN["table"].name, bucket=SEEN["bucket"].name, queue=SEEN["queue"].name)

def test_second(sandboxres_session_table):
    assert sandboxres_session_table is SEEN["factory"]
    table = SEEN["table"]
    assert table.client.describe_table(TableName=table.name)["Table"]["TableStatus"] == "ACTIVE"
    SEEN["bucket"].client.head_bucket(Bucket=SEEN["bucket"].name)
    SEEN["queue"].client.get_queue_attributes(QueueUrl=SEEN["queue"].url, AttributeNames=["QueueArn"])
    with pytest.raises(table.client.exceptions.ResourceNotFoundException):
        table.client.describe_table(TableName=SEEN["short"].name)
"""
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=2)
    (made,) = records(inner.path / "records.jsonl")
    assert not table_exists(made["table"])
    assert not bucket_exists(made["bucket"])
    assert not queue_exists(made["queue"])
    result.stdout.fnmatch_lines(["resources: 4 created, 4 deleted, 0 kept, 0 left behind"])


def test_async_factories_hand_out_aioboto3_handles_and_delete_at_test_end(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        RECORD
        + """
import pytest

@pytest.mark.asyncio
async def test_async(sandboxres_async_table, sandboxres_async_bucket, sandboxres_async_queue):
    table = await sandboxres_async_table("events", range_key="at")
    key = {"pk": {"S": "e1"}, "at": {"S": "2024"}}
    await table.client.put_item(TableName=table.name, Item=key)
    assert (await table.client.get_item(TableName=table.name, Key=key))["Item"] == key
    bucket = await sandboxres_async_bucket("blobs")
    await bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"v")
    queue = await sandboxres_async_queue("work")
    await queue.client.send_message(QueueUrl=queue.url, MessageBody="m")
    received = await queue.client.receive_message(QueueUrl=queue.url, WaitTimeSeconds=1)
    assert [m["Body"] for m in received["Messages"]] == ["m"]
    record(table=table.name, bucket=bucket.name, queue=queue.name)
"""
    )
    result = inner.runpytest()  # strict asyncio mode: the fixtures are pytest-asyncio fixtures
    result.assert_outcomes(passed=1)
    (made,) = records(inner.path / "records.jsonl")
    assert not table_exists(made["table"])
    assert not bucket_exists(made["bucket"])
    assert not queue_exists(made["queue"])
    result.stdout.fnmatch_lines(["resources: 3 created, 3 deleted, 0 kept, 0 left behind"])


_CONFTEST_FACTORIES = """
from sandboxres.pytest_plugin import (
    async_bucket_factory, async_bucket_fixture, async_queue_fixture, async_table_fixture,
    bucket_factory, bucket_fixture, queue_factory, queue_fixture, table_factory, table_fixture,
)

module_tables = table_factory(scope="module")
module_buckets = bucket_factory(scope="module")
module_queues = queue_factory(scope="module")
users = table_fixture("users", scope="module", range_key="sk")
files = bucket_fixture("files")
events = queue_fixture("events", scope="class", fifo=True)
async_jobs = async_queue_fixture("jobs")
async_orders = async_table_fixture("orders", range_key="line")
async_blobs = async_bucket_fixture("blobs")
session_blobs = async_bucket_factory(scope="session", loop_scope="session")
session_blob = async_bucket_fixture("shared", scope="session", loop_scope="session")
"""

_MODULE_USING_FACTORIES = """
import pytest

def test_a(users, module_tables, module_buckets, module_queues, files):
    users.table.put_item(Item={"pk": "u", "sk": "a"})
    record(module=__name__, users=users.name, made=[module_tables("m").name, module_buckets("m").name,
           module_queues("m").name], files=files.name)

def test_b(users, module_tables):
    assert users.table.get_item(Key={"pk": "u", "sk": "a"})["Item"]["sk"] == "a"
    record(module=__name__, users=users.name, made=[module_tables("m").name])

class TestEvents:
    def test_send(self, events):
        events.client.send_message(QueueUrl=events.url, MessageBody="1", MessageGroupId="g", MessageDeduplicationId="1")
        record(module=__name__, events=events.name)

    def test_receive(self, events):
        got = events.client.receive_message(QueueUrl=events.url, WaitTimeSeconds=1)
        assert [m["Body"] for m in got["Messages"]] == ["1"]

@pytest.mark.asyncio
async def test_async(async_jobs, async_orders, async_blobs):
    await async_jobs.client.send_message(QueueUrl=async_jobs.url, MessageBody="j")
    await async_orders.client.put_item(TableName=async_orders.name, Item={"pk": {"S": "o"}, "line": {"S": "1"}})
    await async_blobs.client.put_object(Bucket=async_blobs.name, Key="b", Body=b"b")
    record(module=__name__, singles=[async_jobs.name, async_orders.name, async_blobs.name])

@pytest.mark.asyncio(loop_scope="session")
async def test_session_loop(session_blobs, session_blob):
    made = await session_blobs("more")
    await session_blob.client.put_object(Bucket=session_blob.name, Key=__name__, Body=b"x")
    listed = await session_blob.client.list_objects_v2(Bucket=session_blob.name)
    record(module=__name__, shared=session_blob.name, keys=sorted(o["Key"] for o in listed.get("Contents", [])),
           factory=id(session_blobs), more=made.name)
"""


def test_factory_functions_make_fixtures_of_any_scope(inner: pytest.Pytester) -> None:
    inner.makeconftest(_CONFTEST_FACTORIES)
    inner.makepyfile(test_one=RECORD + _MODULE_USING_FACTORIES, test_two=RECORD + _MODULE_USING_FACTORIES)
    result = inner.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=12)
    made = records(inner.path / "records.jsonl")
    users = {r["module"]: r["users"] for r in made if "users" in r}
    per_module = {m: {r["users"] for r in made if r.get("module") == m and "users" in r} for m in users}
    assert all(len(names) == 1 for names in per_module.values()), per_module  # one table per module
    assert len(set(users.values())) == 2  # and a new one in the next module
    module_tables = [r["made"][0] for r in made if "made" in r]
    assert len(set(module_tables)) == len(module_tables) == 4
    shared = [r for r in made if "shared" in r]
    assert len({r["shared"] for r in shared}) == 1  # a session-scoped async fixture outlives a module
    assert shared[1]["keys"] == ["test_one", "test_two"]
    assert len({r["factory"] for r in shared}) == 1 and len({r["more"] for r in shared}) == 2
    tables = [*users.values(), *module_tables, *(r["singles"][1] for r in made if "singles" in r)]
    buckets = [
        *(r["made"][1] for r in made if len(r.get("made", [])) > 1),
        *(r["files"] for r in made if "files" in r),
        *(r["singles"][2] for r in made if "singles" in r),
        *(r["more"] for r in shared),
        shared[0]["shared"],
    ]
    queues = [
        *(r["made"][2] for r in made if len(r.get("made", [])) > 1),
        *(r["events"] for r in made if "events" in r),
        *(r["singles"][0] for r in made if "singles" in r),
    ]
    assert not any(table_exists(name) for name in tables)
    assert not any(bucket_exists(name) for name in buckets)
    assert not any(queue_exists(name) for name in queues)
    created = len(set(tables)) + len(set(buckets)) + len(set(queues))
    result.stdout.fnmatch_lines([f"resources: {created} created, {created} deleted, 0 kept, 0 left behind"])


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ('table_fixture("users", range_key="pk")', "*range_key must differ from hash_key*"),
        ('queue_fixture("jobs", dead_letter=0)', "*dead_letter is the max receive count*"),
        ('table_factory(scope="forever")', "*scope must be one of session, package, module, class, function*"),
    ],
)
def test_bad_fixture_declarations_fail_before_any_call(inner: pytest.Pytester, declaration: str, message: str) -> None:
    inner.makeconftest(f"from sandboxres.pytest_plugin import *\nbroken = {declaration}\n")
    inner.makepyfile("def test_x():\n    assert True\n")
    result = inner.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # the conftest cannot load: nothing runs
    output = pytest.LineMatcher([*result.stdout.lines, *result.stderr.lines])
    output.fnmatch_lines(["*SpecError*", message])
    assert "resources:" not in result.stdout.str()


# ---------------------------------------------------------------------------------------------------------
# markers


_MARKED = """
import pytest
import sandboxres
import sandboxres.aio

@pytest.mark.sandboxres_aws_only
def test_aws_with_resource(never):
    raise AssertionError("the fixture must not even be set up outside AWS")

@pytest.mark.sandboxres_aws_only(reason="IAM policies")
def test_aws_reason():
    assert sandboxres.describe_target().kind == "aws"

@pytest.mark.sandboxres_emulator_only
def test_emulator():
    assert sandboxres.describe_target().kind in ("embedded", "emulator")

@pytest.mark.sandboxres_emulator_only("moto only")
class TestEmulatorOnly:
    def test_in_class(self):
        assert sandboxres.describe_target().kind != "aws"
"""


def test_markers_on_the_embedded_emulator_skip_aws_tests_before_their_fixtures(inner: pytest.Pytester) -> None:
    inner.makeconftest('from sandboxres.pytest_plugin import table_fixture\nnever = table_fixture("never")\n')
    inner.makepyfile(_MARKED)
    result = inner.runpytest("--strict-markers", "-rs")
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*test_markers_on_the_embedded*:5: needs real AWS, the sandboxres target is embedded",
            "*needs real AWS, the sandboxres target is embedded: IAM policies",
        ]
    )
    assert "resources:" not in result.stdout.str()  # the skipped test's table fixture never ran


def test_markers_on_an_external_emulator(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", ensure_embedded())  # an emulator reached through the environment
    inner.makeconftest('from sandboxres.pytest_plugin import table_fixture\nnever = table_fixture("never")\n')
    inner.makepyfile(_MARKED)
    result = inner.runpytest("--strict-markers", "-rs")
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["*needs real AWS, the sandboxres target is emulator: IAM policies"])


def test_markers_on_real_aws_skip_emulator_tests(inner: pytest.Pytester) -> None:
    inner.makeconftest('from sandboxres.pytest_plugin import table_fixture\nnever = table_fixture("never")\n')
    inner.makepyfile(_MARKED)
    # Only marker evaluation: the test that would create a resource is deselected (AWS is never reached here).
    result = inner.runpytest("--strict-markers", "-rs", "--sandboxres-target", "aws", "-k", "not with_resource")
    result.assert_outcomes(passed=1, skipped=2, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*needs an emulator, the sandboxres target is aws",
            "*needs an emulator, the sandboxres target is aws: moto only",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ('sandboxres_aws_only(reson="IAM")', "takes reason= only, not reson"),
        ('sandboxres_emulator_only(reasons="moto")', "takes reason= only, not reasons"),
        ('sandboxres_aws_only("a", "b")', "takes one reason (a string)"),
        ("sandboxres_emulator_only(42)", "takes one reason (a string)"),
    ],
)
def test_marker_keyword_typos_stop_the_run(inner: pytest.Pytester, marker: str, problem: str) -> None:
    inner.makepyfile(f"import pytest\n\n@pytest.mark.{marker}\ndef test_marked():\n    pass\n")
    result = inner.runpytest("--strict-markers")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*sandboxres: *test_marked: @pytest.mark.sandboxres_*{problem}*"])


def test_a_test_with_both_markers_is_skipped_with_a_warning(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        "import pytest\n\n@pytest.mark.sandboxres_aws_only\n@pytest.mark.sandboxres_emulator_only\n"
        "def test_never():\n    pass\n"
    )
    result = inner.runpytest("--strict-markers", "-rs")
    result.assert_outcomes(skipped=1, warnings=1)
    result.stdout.fnmatch_lines(["*test_never is marked both sandboxres_aws_only and sandboxres_emulator_only*"])


# ---------------------------------------------------------------------------------------------------------
# options, ini settings and their precedence

_REPORT_TARGET = """
import json, os
import sandboxres
import sandboxres.aio

def test_target():
    target = sandboxres.describe_target()
    with open("target.json", "w") as out:
        json.dump({"kind": target.kind, "source": target.sources["kind"]}, out)
"""


@pytest.mark.parametrize(
    ("env", "ini", "cli", "expected"),
    [
        ("aws", None, None, "aws"),  # environment alone
        ("aws", "embedded", None, "aws"),  # environment > ini
        ("embedded", "aws", None, "embedded"),
        (None, "aws", None, "aws"),  # the ini file when the environment is silent
        ("aws", "aws", "embedded", "embedded"),  # command line > environment and ini
        ("embedded", None, "aws", "aws"),
        (None, "embedded", "aws", "aws"),
        (None, None, None, "embedded"),  # nothing: the default
    ],
)
def test_target_precedence(
    inner: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    ini: str | None,
    cli: str | None,
    expected: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("SANDBOXRES_TARGET", env)
    if ini is not None:
        write_ini(inner, sandboxres_target=ini)
    inner.makepyfile(_REPORT_TARGET)
    environ_before = sandboxres_environ()
    result = inner.runpytest(*(["--sandboxres-target", cli] if cli else []))
    result.assert_outcomes(passed=1)
    seen = json.loads((inner.path / "target.json").read_text())
    assert seen["kind"] == expected
    assert sandboxres_environ() == environ_before  # the run's settings do not leak out of it


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "SANDBOXRES_ENV_FILE"])
def test_an_endpoint_variable_beats_the_ini_target(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """``sandboxres_target = embedded`` (the docs' own example) must not hide an external emulator's endpoint."""
    if variable == "SANDBOXRES_ENV_FILE":
        env_file = inner.path / "integration.env"
        env_file.write_text("AWS_ENDPOINT_URL=http://127.0.0.1:9\n")
        monkeypatch.setenv(variable, str(env_file))
    else:
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    write_ini(inner, sandboxres_target="embedded")
    inner.makepyfile(_REPORT_TARGET)
    result = inner.runpytest()
    result.assert_outcomes(passed=1)
    seen = json.loads((inner.path / "target.json").read_text())
    assert seen == {
        "kind": "emulator",
        "source": "AWS_ENDPOINT_URL" if variable != "AWS_ENDPOINT_URL_DYNAMODB" else variable,
    }


@pytest.mark.parametrize(
    ("args", "ini", "env", "message"),
    [
        (["--sandboxres-target", "cloud"], {}, {}, "*invalid choice: 'cloud'*"),
        ([], {"sandboxres_target": "cloud"}, {}, "*ini setting sandboxres_target='cloud' is not one of*"),
        (
            ["--sandboxres-target", "embedded"],
            {"sandboxres_keep": "maybe"},
            {"SANDBOXRES_TARGET": "aws"},
            "*ini setting sandboxres_keep='maybe' is not true or false*",
        ),
        (["--sandboxres-target", "emulator"], {}, {}, "*sandboxres: SANDBOXRES_TARGET=emulator needs an endpoint*"),
        (
            ["--sandboxres-target", "aws"],
            {},
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
            "*sandboxres: SANDBOXRES_TARGET=aws but endpoint variables are set (AWS_ENDPOINT_URL)*",
        ),
    ],
)
def test_bad_settings_stop_the_run_with_a_usage_error(
    inner: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    ini: dict[str, str],
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    write_ini(inner, **ini)
    inner.makepyfile(_REPORT_TARGET)
    environ_before = sandboxres_environ()
    result = inner.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (inner.path / "target.json").exists()
    assert sandboxres_environ() == environ_before


_KEEP = """
def test_keep(sandboxres_table):
    options = {} if KEEP is None else {"keep": KEEP}
    table = sandboxres_table("kept", **options)
    with open("name.txt", "w") as out:
        out.write(table.name)
"""


@pytest.fixture
def kept_tables() -> Iterator[list[str]]:
    """Names of tables an inner run kept: deleted at the end of the outer test."""
    names: list[str] = []
    yield names
    for name in names:
        if table_exists(name):
            client("dynamodb").delete_table(TableName=name)


@pytest.mark.parametrize(
    ("env", "ini", "cli", "keep_arg", "kept"),
    [
        ("1", None, None, None, True),  # environment alone
        ("1", "false", None, None, True),  # environment > ini
        ("0", "true", None, None, False),
        (None, "true", None, None, True),  # the ini file when the environment is silent
        (None, "true", "--sandboxres-no-keep", None, False),  # command line > ini
        ("1", None, "--sandboxres-no-keep", None, False),  # command line > environment
        ("0", "false", "--sandboxres-keep", None, True),
        (None, None, "--sandboxres-keep", False, False),  # keep= of the factory call > command line
        ("0", "false", "--sandboxres-no-keep", True, True),
        (None, None, None, None, False),  # default: delete
    ],
)
def test_keep_precedence(
    inner: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    kept_tables: list[str],
    env: str | None,
    ini: str | None,
    cli: str | None,
    keep_arg: bool | None,
    kept: bool,
) -> None:
    if env is not None:
        monkeypatch.setenv("SANDBOXRES_KEEP", env)
    if ini is not None:
        write_ini(inner, sandboxres_keep=ini)
    inner.makepyfile(f"KEEP = {keep_arg!r}\n" + _KEEP)
    result = inner.runpytest(*([cli] if cli else []))
    result.assert_outcomes(passed=1)
    name = (inner.path / "name.txt").read_text()
    kept_tables.append(name)
    assert table_exists(name) is kept
    counts = "1 created, 0 deleted, 1 kept" if kept else "1 created, 1 deleted, 0 kept"
    result.stdout.fnmatch_lines([f"resources: {counts}, 0 left behind"])


# ---------------------------------------------------------------------------------------------------------
# terminal summary


def test_summary_is_silent_when_nothing_was_created(inner: pytest.Pytester) -> None:
    inner.makepyfile("def test_plain():\n    assert 1 + 1 == 2\n")
    result = inner.runpytest()
    result.assert_outcomes(passed=1)
    assert "- sandboxres -" not in result.stdout.str() and "resources:" not in result.stdout.str()


class _StopEmulator:
    """A plugin for an inner run: the ``stop_emulator`` fixture stops the emulator its tests use."""

    def __init__(self, server: Any) -> None:
        self.server = server

    @pytest.fixture
    def stop_emulator(self) -> Any:
        return self.server.stop


def test_summary_names_resources_left_behind(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    inner.makepyfile(
        RECORD
        + """
import sandboxres

def test_forgotten():
    bucket = sandboxres.ephemeral_bucket("forgotten").create()
    record(bucket=bucket.name)

def test_doomed(sandboxres_table, stop_emulator):
    table = sandboxres_table("doomed", timeout=1)
    record(table=table.name)
    stop_emulator()  # the deletion at teardown cannot reach the emulator any more
"""
    )
    before = {id(lifecycle) for lifecycle in _registry.live()}
    try:
        result = inner.runpytest("-p", "no:randomly", plugins=[_StopEmulator(server)])
        result.assert_outcomes(passed=2, errors=1)
        made = {k: v for r in records(inner.path / "records.jsonl") for k, v in r.items()}
        result.stdout.fnmatch_lines(
            [
                "*CleanupError: table test_doomed_*could not be deleted*",
                "*- sandboxres -*",
                f"target: emulator (dynamodb http://{host}:{port}, s3 http://{host}:{port}, sqs http://{host}:{port})",
                "chosen by: AWS_ENDPOINT_URL; run id: *",
                "resources: 2 created, 0 deleted, 0 kept, 2 left behind",
                "waiting for readiness: *.* s",
                f"left behind: bucket {made['bucket']} *",
                f"left behind: table {made['table']} *",
            ]
        )
    finally:
        server.stop()
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        # moto servers in one process share their state: delete the leftovers through the embedded emulator.
        for lifecycle in _registry.live():
            if id(lifecycle) not in before:
                if lifecycle.kind == "table":
                    client("dynamodb").delete_table(TableName=lifecycle.name)
                else:
                    client("s3").delete_bucket(Bucket=lifecycle.name)
                _registry.unregister(lifecycle)


def test_summary_counts_dead_letter_queues(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        "def test_queue(sandboxres_queue):\n"
        "    q = sandboxres_queue('q', dead_letter=3)\n"
        "    assert q.url and q.dead_letter.url\n"
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["resources: 2 created, 2 deleted, 0 kept, 0 left behind"])


@pytest.mark.parametrize("target", ["embedded", "emulator"])
def test_summary_on_kept_resources_says_where_they_live(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kept_tables: list[str], target: str
) -> None:
    if target == "emulator":  # this process's embedded emulator, reached as an external one
        monkeypatch.setenv("AWS_ENDPOINT_URL", ensure_embedded())
    inner.makepyfile("KEEP = None\n" + _KEEP)
    result = inner.runpytest("--sandboxres-keep")
    result.assert_outcomes(passed=1)
    kept_tables.append((inner.path / "name.txt").read_text())
    result.stdout.fnmatch_lines(["resources: 1 created, 0 deleted, 1 kept, 0 left behind"])
    output = result.stdout.str()
    if target == "embedded":
        assert "delete them when done" not in output
        result.stdout.fnmatch_lines(
            ["*kept resources live only as long as this process's embedded emulator*sandboxres emulator*"]
        )
    else:
        assert "embedded emulator" not in output
        result.stdout.fnmatch_lines(["kept on purpose (keep=True, --sandboxres-keep or SANDBOXRES_KEEP): delete them*"])


def test_summary_on_an_external_emulator_shows_endpoints_and_no_credentials(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = ensure_embedded()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSUMMARYCHECK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "summary-secret-value")
    monkeypatch.setenv("SANDBOXRES_RUN_ID", "summary-run")
    inner.makepyfile("def test_queue(sandboxres_queue):\n    assert sandboxres_queue('q').url\n")
    result = inner.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"target: emulator (dynamodb {url}, s3 {url}, sqs {url})",
            "chosen by: AWS_ENDPOINT_URL; run id: summary-run",
            "resources: 1 created, 1 deleted, 0 kept, 0 left behind",
        ]
    )
    output = result.stdout.str() + result.stderr.str()
    assert "summary-secret-value" not in output and "AKIDSUMMARYCHECK" not in output


@pytest.mark.parametrize(
    ("args", "env", "ini", "chosen_by"),
    [
        # the command line beats the environment and the ini file
        (["--sandboxres-target", "embedded"], "aws", {"sandboxres_target": "aws"}, "--sandboxres-target"),
        # the ini file decides only when neither the command line nor the environment does
        ([], None, {"sandboxres_target": "embedded"}, "ini sandboxres_target"),
    ],
)
def test_summary_says_which_setting_chose_the_target(
    inner: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: str | None,
    ini: dict[str, str],
    chosen_by: str,
) -> None:
    if env is None:
        monkeypatch.delenv("SANDBOXRES_TARGET", raising=False)
    else:
        monkeypatch.setenv("SANDBOXRES_TARGET", env)
    write_ini(inner, **ini)
    inner.makepyfile("def test_bucket(sandboxres_bucket):\n    assert sandboxres_bucket('b').name\n")
    result = inner.runpytest(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["target: embedded (moto server on 127.0.0.1, one per process)", f"chosen by: {chosen_by}; run id: *"]
    )


def test_a_broken_env_file_does_not_stop_runs_that_make_nothing(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOXRES_ENV_FILE", str(inner.path / "missing.env"))
    inner.makepyfile("def test_plain():\n    assert True\n")
    inner.runpytest().assert_outcomes(passed=1)


def test_summary_urls_never_carry_credentials() -> None:
    assert _safe_url("http://key:secret@127.0.0.1:4566/path?token=x") == "http://127.0.0.1:4566/path"
    assert _safe_url("https://localhost") == "https://localhost"


# ---------------------------------------------------------------------------------------------------------
# pytest-xdist

_XDIST = """
import json, os, pathlib
import pytest
import sandboxres
import sandboxres.aio
from sandboxres._runtime.embedded import embedded_url

@pytest.mark.parametrize("n", range(8))
def test_worker(n, sandboxres_table):
    table = sandboxres_table(f"t{n}")
    tags = table.client.list_tags_of_resource(ResourceArn=table.arn)["Tags"]
    record = {
        "worker": os.environ["PYTEST_XDIST_WORKER"],
        "pid": os.getpid(),
        "url": embedded_url(),
        "run_id": sandboxres.describe_target().run_id,
        "tag": {t["Key"]: t["Value"] for t in tags}[sandboxres.TAG_RUN_ID],
        "name": table.name,
    }
    (pathlib.Path(__file__).parent / f"record-{n}.json").write_text(json.dumps(record))
"""


@pytest.mark.slow
@pytest.mark.parametrize("run_id", [None, "ci-7"])
def test_xdist_workers_have_their_own_emulator_names_and_run_ids(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, run_id: str | None
) -> None:
    if run_id is not None:
        monkeypatch.setenv("SANDBOXRES_RUN_ID", run_id)
    inner.makepyfile(_XDIST)
    result = inner.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    made = [json.loads((inner.path / f"record-{n}.json").read_text()) for n in range(8)]
    workers = {r["worker"] for r in made}
    assert workers == {"gw0", "gw1"}
    for worker in workers:
        mine = [r for r in made if r["worker"] == worker]
        assert len({r["url"] for r in mine}) == 1  # one embedded emulator per worker...
        assert len({r["pid"] for r in mine}) == 1
        assert all(f"_{worker}_" in r["name"] for r in mine)
        assert all(r["run_id"].endswith(f"-{worker}") and r["tag"] == r["run_id"] for r in mine)
    urls = {r["url"] for r in made}
    assert len(urls) == 2 and all(u.startswith("http://127.0.0.1:") for u in urls)  # ...on its own free port
    bases = {r["run_id"].rsplit("-", 1)[0] for r in made}
    assert len(bases) == 1  # the workers share the session's run id
    if run_id is not None:
        assert bases == {run_id}
    result.stdout.fnmatch_lines(
        [
            "target: embedded (moto server on 127.0.0.1, one per xdist worker)",
            f"chosen by: default (no endpoint variable set); run id: {bases.pop()}-gw<N>",
            "resources: 8 created, 8 deleted, 0 kept, 0 left behind",
        ]
    )


# ---------------------------------------------------------------------------------------------------------
# an unusable target ends the session once


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SANDBOXRES_TARGET": "aws", "AWS_REGION": "eu-west-1"}, "GuardError: SANDBOXRES_TARGET=aws needs"),
        ({"SANDBOXRES_TARGET": "emulator"}, "ConfigurationError"),
    ],
    ids=["guard refusal", "configuration error"],
)
def test_an_unusable_target_ends_the_session_once(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SANDBOXRES_AWS_ACCOUNTS", raising=False)
    inner.makepyfile("\n".join(f"def test_{n}(sandboxres_table):\n    sandboxres_table('t{n}')\n" for n in range(12)))
    result = inner.runpytest_subprocess("-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert expected in output and "stopping the session" in output
    result.assert_outcomes(failed=1)
    assert output.count(expected) <= 3, output  # the report, the exit line, the summary: not once per test
