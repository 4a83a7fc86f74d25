"""Names: each service's real rules (checked directly, since emulators accept invalid names), and generated names
that satisfy them for any label: odd characters, unicode, very long labels, FIFO queues, xdist scopes."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxres import SpecError
from sandboxres._naming import (
    NAME_PROBLEM,
    PREFIXES,
    bucket_name_problem,
    make_name,
    queue_name_problem,
    table_name_problem,
)
from sandboxres._specs import bucket_spec, queue_spec, table_spec

MAX_LEN = {"table": 255, "bucket": 63, "queue": 80}
UNIQUE = re.compile(r"[0-9a-f]{16}")
PROPERTY = settings(max_examples=300, deadline=None, database=None)


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


def _has_alnum(text: str, kind: str = "table") -> bool:
    """Whether a label keeps any character once sanitised (bucket labels are lower-cased first: 'İ' -> 'i̇')."""
    text = text.lower() if kind == "bucket" else text
    return any(c in string.ascii_letters + string.digits for c in text)


def _check_generated(kind: str, label: str, name: str, *, fifo: bool = False) -> None:
    assert NAME_PROBLEM[kind](name) is None, f"{kind} name {name!r} breaks the {kind} rules"  # type: ignore[index]
    assert name.startswith(PREFIXES[kind])  # type: ignore[index]
    assert len(name) <= MAX_LEN[kind]
    core = name[: -len(".fifo")] if fifo else name
    assert name.endswith(".fifo") == fifo
    assert UNIQUE.fullmatch(core[-16:]), f"the 16 hex digits of uniqueness were cut from {name!r}"
    if kind == "bucket":
        assert name == name.lower()


labels = st.one_of(
    st.text(max_size=60),  # anything, including unicode and control characters
    st.text(alphabet=string.printable, max_size=60),  # odd ASCII punctuation
    st.text(alphabet=string.ascii_letters + string.digits + "-_. ", min_size=100, max_size=400),  # long
    st.text(alphabet=st.characters(min_codepoint=0x80), min_size=1, max_size=30),  # non-ASCII only
    st.from_regex(r"[A-Za-z0-9]{1,5}([-_. ]{1,3}[A-Za-z0-9]{1,5}){0,6}", fullmatch=True),  # realistic
)


@PROPERTY
@given(label=labels, fifo=st.booleans(), scope=st.sampled_from(["", "gw0", "gw17"]))
def test_generated_names_are_valid_for_any_label(label: str, fifo: bool, scope: str) -> None:
    for kind in ("table", "bucket", "queue"):
        is_fifo = fifo and kind == "queue"
        if not _has_alnum(label, kind):
            with pytest.raises(SpecError):
                make_name(kind, label, fifo=is_fifo, scope=scope)  # type: ignore[arg-type]
            continue
        name = make_name(kind, label, fifo=is_fifo, scope=scope)  # type: ignore[arg-type]
        _check_generated(kind, label, name, fifo=is_fifo)
        if scope:  # the xdist worker id survives any label: the label is cut, never the scope
            assert f"{scope}{'-' if kind == 'bucket' else '_'}{name.removesuffix('.fifo')[-16:]}" in name


@PROPERTY
@given(label=labels, fifo=st.booleans())
def test_specs_accept_exactly_the_labels_that_make_names(label: str, fifo: bool) -> None:
    if _has_alnum(label, "bucket"):
        bucket_spec(label)
    else:
        with pytest.raises(SpecError):
            bucket_spec(label)
    if not _has_alnum(label):
        for build in (lambda: table_spec(label), lambda: queue_spec(label, fifo=fifo)):
            with pytest.raises(SpecError):
                build()
        return
    table_spec(label)
    spec = queue_spec(label, fifo=fifo, dead_letter=3)
    _check_generated("queue", label, spec.new_name(), fifo=fifo)
    _check_generated("queue", label, spec.dead_letter_name(), fifo=fifo)


@pytest.mark.parametrize("kind", ["table", "bucket", "queue"])
def test_long_labels_are_cut_and_keep_the_unique_part(kind: str) -> None:
    label = "averyveryverylonglabel" * 30
    name = make_name(kind, label, fifo=kind == "queue")  # type: ignore[arg-type]
    assert len(name) == MAX_LEN[kind]
    _check_generated(kind, label, name, fifo=kind == "queue")


def test_labels_keep_their_readable_part() -> None:
    assert make_name("table", "user accounts!").startswith("test_user_accounts_")
    assert make_name("bucket", "Big_Uploads").startswith("test-big-uploads-")
    assert make_name("queue", "jobs", fifo=True).startswith("test_jobs_")
    assert make_name("table", "Ünïcode-tàble").startswith("test_n_code_t_ble_")


def test_names_are_unique() -> None:
    for kind in ("table", "bucket", "queue"):
        names = {make_name(kind, "same") for _ in range(2000)}  # type: ignore[arg-type]
        assert len(names) == 2000


@pytest.mark.parametrize("label", ["", "!!!", "___", "   ", "ü", "🙂"])
def test_labels_without_letters_or_digits_are_refused(label: str) -> None:
    with pytest.raises(SpecError, match="letters or digits"):
        make_name("table", label)


@pytest.mark.parametrize("label", [None, 3, b"bytes"])
def test_labels_must_be_strings(label: object) -> None:
    with pytest.raises(SpecError, match="string"):
        table_spec(label)  # type: ignore[arg-type]
