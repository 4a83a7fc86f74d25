"""Names: each service's real rules (checked directly, since emulators accept invalid names), and generated names
for typical and extreme labels. Generated names over many random labels: ``test_naming_properties.py``."""

from __future__ import annotations

import re

import pytest

from sandboxres import SpecError
from sandboxres._kinds import KINDS
from sandboxres._kinds.bucket.spec import bucket_name_problem
from sandboxres._kinds.queue.spec import queue_name_problem
from sandboxres._kinds.table.spec import table_name_problem, table_spec


def make_name(kind: str, label: str, *, fifo: bool = False, scope: str = "") -> str:
    return KINDS[kind].new_name(label, scope=scope, fifo=fifo)


MAX_LEN = {"table": 255, "bucket": 63, "queue": 80}
UNIQUE = re.compile(r"[0-9a-f]{16}")


# ---------------------------------------------------------------------------------------------------------
# the rules themselves, against names known to be valid or invalid


@pytest.mark.parametrize("name", ["abc", "a.b-c_D9", "Users", "0_9", "x" * 255, "test_users_0123456789abcdef"])
def test_valid_table_names(name: str) -> None:
    assert table_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "ab", "x" * 256, "has space", "tab/le", "a:b", "ünïcode", "emoji🙂x"])
def test_invalid_table_names(name: str) -> None:
    assert table_name_problem(name)


@pytest.mark.parametrize(
    "name", ["q", "a-b_C9", "x" * 80, "x" * 75 + ".fifo", "orders.fifo", "test_jobs_0123456789abcdef.fifo"]
)
def test_valid_queue_names(name: str) -> None:
    assert queue_name_problem(name) is None


@pytest.mark.parametrize(
    "name", ["", "x" * 81, "x" * 76 + ".fifo", ".fifo", "a.b", "q.fifo.fifo", "has space", "q/1", "ü", "q.FIFO"]
)
def test_invalid_queue_names(name: str) -> None:
    assert queue_name_problem(name)


@pytest.mark.parametrize("name", ["abc", "my-bucket.v2", "a" * 63, "1bucket", "test-uploads-0123456789abcdef"])
def test_valid_bucket_names(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "My-bucket",
        "my_bucket",
        "-abc",
        "abc-",
        ".abc",
        "abc.",
        "a..b",
        "192.168.1.1",
        "10.0.0.255",
        "xn--abc",
        "sthree-abc",
        "amzn-s3-demo-abc",
        "abc-s3alias",
        "abc--ol-s3",
        "abc.mrap",
        "abc--x-s3",
        "abc--table-s3",
        "bücket",
    ],
)
def test_invalid_bucket_names(name: str) -> None:
    assert bucket_name_problem(name)


# ---------------------------------------------------------------------------------------------------------
# generated names


@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_long_labels_are_cut_and_keep_the_scope_and_the_unique_part(kind: str) -> None:
    name = make_name(kind, "averyveryverylonglabel" * 30, fifo=kind == "queue", scope="gw3")
    assert len(name) == MAX_LEN[kind]
    assert KINDS[kind].names.problem(name) is None
    core = name.removesuffix(".fifo")
    assert UNIQUE.fullmatch(core[-16:])
    assert core[:-17].endswith("gw3")
    assert name.startswith(KINDS[kind].names.prefix + "averyvery")


def test_labels_keep_their_readable_part() -> None:
    assert make_name("table", "user accounts!").startswith("test_user_accounts_")
    assert make_name("bucket", "Big_Uploads").startswith("test-big-uploads-")
    assert make_name("queue", "jobs", fifo=True).startswith("test_jobs_")
    assert make_name("table", "Ünïcode-tàble").startswith("test_n_code_t_ble_")


def test_names_are_unique() -> None:
    for kind in ("table", "bucket", "queue"):
        names = {make_name(kind, "same") for _ in range(2000)}
        assert len(names) == 2000


@pytest.mark.parametrize("label", ["", "!!!", "___", "   ", "ü", "🙂"])
def test_labels_without_letters_or_digits_are_refused(label: str) -> None:
    with pytest.raises(SpecError, match="letters or digits"):
        make_name("table", label)


@pytest.mark.parametrize("label", [None, 3, b"bytes"])
def test_labels_must_be_strings(label: object) -> None:
    with pytest.raises(SpecError, match="string"):
        table_spec(label)  # type: ignore[arg-type]
