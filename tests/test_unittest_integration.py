"""unittest test cases using sandboxres: ``self.enterContext(...)`` and ``await self.enterAsyncContext(...)``.

The first two classes are written the way a unittest suite would use the library and are collected by pytest as
they are. The tests after them run such cases with the standard library's runner and check, on the emulator,
that every resource was deleted after each test, also when the test fails, and that a failed deletion is
reported. ``EnterContextMixin`` gives Python 3.10 the two methods that 3.11 added; the fallback functions behind
it are also run directly here, on every version.
"""

from __future__ import annotations

import io
import sys
import unittest
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from botocore.exceptions import ClientError

import sandboxres
import sandboxres._safety.registry as _registry
import sandboxres.aio
from sandboxres._doors.unittest import enter_async_context, enter_class_context, enter_context


class UsersTableTest(sandboxres.EnterContextMixin, unittest.TestCase):
    """A synchronous unittest case: one fresh table per test."""

    def setUp(self) -> None:
        self.users = self.enterContext(sandboxres.ephemeral_table("users", range_key="sk"))

    def test_put_then_get(self) -> None:
        self.users.table.put_item(Item={"pk": "u1", "sk": "profile", "name": "Ada"})
        item = self.users.table.get_item(Key={"pk": "u1", "sk": "profile"})["Item"]
        self.assertEqual(item["name"], "Ada")

    def test_starts_empty(self) -> None:
        self.assertEqual(self.users.table.scan()["Items"], [])


class UploadsAsyncTest(sandboxres.EnterContextMixin, unittest.IsolatedAsyncioTestCase):
    """An asyncio unittest case: a bucket and a queue per test, on aioboto3."""

    async def asyncSetUp(self) -> None:
        self.bucket = await self.enterAsyncContext(sandboxres.aio.ephemeral_bucket("uploads"))
        self.queue = await self.enterAsyncContext(sandboxres.aio.ephemeral_queue("notices"))

    async def test_upload_then_notify(self) -> None:
        await self.bucket.client.put_object(Bucket=self.bucket.name, Key="a.txt", Body=b"hello")
        await self.queue.client.send_message(QueueUrl=self.queue.url, MessageBody="a.txt")
        got = await self.queue.client.receive_message(QueueUrl=self.queue.url, WaitTimeSeconds=1)
        key = got["Messages"][0]["Body"]
        body = await (await self.bucket.client.get_object(Bucket=self.bucket.name, Key=key))["Body"].read()
        self.assertEqual(body, b"hello")


# ---------------------------------------------------------------------------------------------------------
# running cases with the standard library's runner


def run_case(case: type[unittest.TestCase]) -> unittest.TestResult:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    return unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)


class _Seen:
    """Names the cases below record, for checks after the run."""

    names: ClassVar[list[tuple[str, str]]] = []


class _SyncCase(sandboxres.EnterContextMixin, unittest.TestCase):
    __test__ = False  # run by the tests below, not collected on its own

    def setUp(self) -> None:
        self.table = self.enterContext(sandboxres.ephemeral_table("unit"))
        self.bucket = self.enterContext(sandboxres.ephemeral_bucket("unit"))
        _Seen.names += [("table", self.table.name), ("bucket", self.bucket.name)]

    def test_passes(self) -> None:
        self.bucket.client.put_object(Bucket=self.bucket.name, Key="k", Body=b"v")  # a non-empty bucket
        self.table.table.put_item(Item={"pk": "x"})

    def test_fails(self) -> None:
        self.fail("a failing test still deletes what setUp made")


class _AsyncCase(sandboxres.EnterContextMixin, unittest.IsolatedAsyncioTestCase):
    __test__ = False

    async def asyncSetUp(self) -> None:
        self.queue = await self.enterAsyncContext(sandboxres.aio.ephemeral_queue("unit", fifo=True))
        self.table = await self.enterAsyncContext(sandboxres.aio.ephemeral_table("unit"))
        _Seen.names += [("queue", self.queue.name), ("table", self.table.name)]

    async def test_passes(self) -> None:
        await self.table.client.put_item(TableName=self.table.name, Item={"pk": {"S": "x"}})

    async def test_raises(self) -> None:
        raise RuntimeError("an error in an async test still deletes what asyncSetUp made")


class _ClassCase(sandboxres.EnterContextMixin, unittest.TestCase):
    """One table for the whole class (``setUpClass``), made concurrently with a bucket."""

    __test__ = False
    seen: ClassVar[list[str]] = []
    table: ClassVar[sandboxres.TableHandle[Any, Any]]
    bucket: ClassVar[sandboxres.BucketHandle[Any, Any]]

    @classmethod
    def setUpClass(cls) -> None:
        both = sandboxres.ephemeral_all(sandboxres.ephemeral_table("shared"), sandboxres.ephemeral_bucket("shared"))
        cls.table, cls.bucket = cls.enterClassContext(both)
        _Seen.names += [("table", cls.table.name), ("bucket", cls.bucket.name)]

    def test_first(self) -> None:
        self.table.table.put_item(Item={"pk": "from-first"})

    def test_second(self) -> None:  # the same table, with what the first test wrote
        self.assertEqual(self.table.table.get_item(Key={"pk": "from-first"})["Item"], {"pk": "from-first"})


class _FallbackClassCase(unittest.TestCase):
    __test__ = False
    queue: ClassVar[sandboxres.QueueHandle[Any]]

    @classmethod
    def setUpClass(cls) -> None:
        cls.queue = enter_class_context(cls, sandboxres.ephemeral_queue("fallback"))
        _Seen.names += [("queue", cls.queue.name)]

    def test_uses_it(self) -> None:
        self.queue.client.send_message(QueueUrl=self.queue.url, MessageBody="m")


class _FallbackCase(unittest.IsolatedAsyncioTestCase):
    """The Python 3.10 path, called explicitly so that it runs on every version."""

    __test__ = False

    async def asyncSetUp(self) -> None:
        self.queue = await enter_async_context(self, sandboxres.aio.ephemeral_queue("fallback"))
        self.bucket = enter_context(self, sandboxres.ephemeral_bucket("fallback"))
        _Seen.names += [("queue", self.queue.name), ("bucket", self.bucket.name)]

    async def test_uses_both(self) -> None:
        await self.queue.client.send_message(QueueUrl=self.queue.url, MessageBody="m")
        self.bucket.client.put_object(Bucket=self.bucket.name, Key="k", Body=b"v")


@pytest.fixture
def seen() -> list[tuple[str, str]]:
    _Seen.names = []
    return _Seen.names


@pytest.fixture
def exists(raw: Callable[..., Any]) -> Callable[[str, str], bool]:
    """``exists(kind, name)`` on the embedded emulator, asked with a plain boto3 client."""

    def check(kind: str, name: str) -> bool:
        try:
            if kind == "table":
                raw("dynamodb").describe_table(TableName=name)
            elif kind == "bucket":
                raw("s3").head_bucket(Bucket=name)
            else:
                raw("sqs").get_queue_url(QueueName=name)
        except ClientError:
            return False
        return True

    return check


def test_sync_case_deletes_after_each_test_passing_or_failing(
    seen: list[tuple[str, str]], exists: Callable[[str, str], bool]
) -> None:
    result = run_case(_SyncCase)
    assert result.testsRun == 2
    assert len(result.failures) == 1 and not result.errors
    assert len(seen) == 4 and len(set(seen)) == 4  # fresh resources for each test
    assert not [resource for resource in seen if exists(*resource)]


def test_async_case_deletes_after_each_test_passing_or_raising(
    seen: list[tuple[str, str]], exists: Callable[[str, str], bool]
) -> None:
    result = run_case(_AsyncCase)
    assert result.testsRun == 2
    assert len(result.errors) == 1 and "RuntimeError" in result.errors[0][1] and not result.failures
    assert len(seen) == 4 and seen[0][1].endswith(".fifo")
    assert not [resource for resource in seen if exists(*resource)]


def test_fallback_functions_enter_and_register_cleanups(
    seen: list[tuple[str, str]], exists: Callable[[str, str], bool]
) -> None:
    result = run_case(_FallbackCase)
    assert result.wasSuccessful(), result.errors
    assert len(seen) == 2
    assert not [resource for resource in seen if exists(*resource)]


def test_class_context_lives_for_the_class_and_is_deleted_after_it(
    seen: list[tuple[str, str]], exists: Callable[[str, str], bool]
) -> None:
    result = run_case(_ClassCase)
    assert result.testsRun == 2 and result.wasSuccessful(), result.failures + result.errors
    assert len(seen) == 2
    assert not [resource for resource in seen if exists(*resource)]
    fallback = run_case(_FallbackClassCase)
    assert fallback.wasSuccessful(), fallback.errors
    assert len(seen) == 3 and not exists(*seen[2])


def test_fallback_refuses_what_is_not_a_context_manager() -> None:
    case = _FallbackCase("test_uses_both")
    with pytest.raises(TypeError, match=r"'builtins\.object' object does not support the context manager protocol"):
        enter_context(case, object())  # type: ignore[arg-type]


async def test_async_fallback_refuses_a_sync_context_manager() -> None:
    case = _FallbackCase("test_uses_both")
    with pytest.raises(TypeError, match="does not support the asynchronous context manager protocol"):
        await enter_async_context(case, sandboxres.ephemeral_table("never"))  # type: ignore[arg-type]


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="3.11+ has enterContext itself")
def test_mixin_adds_the_methods_on_python_3_10() -> None:
    assert {"enterContext", "enterClassContext", "enterAsyncContext"} <= set(vars(sandboxres.EnterContextMixin))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the standard library's methods exist from 3.11")
def test_mixin_leaves_the_standard_methods_alone_on_3_11_and_later() -> None:
    if sys.version_info < (3, 11):  # never (the skipif); the type checker learns that the methods exist
        pytest.fail("3.11 or later only")
    assert UsersTableTest.enterContext is unittest.TestCase.enterContext
    assert not {"enterContext", "enterClassContext", "enterAsyncContext"} & set(vars(sandboxres.EnterContextMixin))
    assert UploadsAsyncTest.enterAsyncContext is unittest.IsolatedAsyncioTestCase.enterAsyncContext


def test_a_failed_deletion_is_reported_as_an_error_of_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator goes away during the test: the cleanup cannot delete, and unittest reports it."""
    from tests.emulators.launch import EmulatorUnavailable, start_moto

    try:
        emulator = start_moto()
    except EmulatorUnavailable as error:
        pytest.skip(str(error))
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)

    class Doomed(sandboxres.EnterContextMixin, unittest.TestCase):
        def setUp(self) -> None:
            self.table = self.enterContext(sandboxres.ephemeral_table("doomed", timeout=1))

        def test_loses_its_emulator(self) -> None:
            emulator.stop()

    before = {id(lifecycle) for lifecycle in _registry.live()}
    try:
        result = run_case(Doomed)
        assert result.testsRun == 1 and len(result.errors) == 1
        assert "CleanupError" in result.errors[0][1] and "could not be deleted" in result.errors[0][1]
    finally:
        emulator.stop()
        for lifecycle in _registry.live():  # its emulator process is gone, and the table with it
            if id(lifecycle) not in before:
                _registry.unregister(lifecycle)
