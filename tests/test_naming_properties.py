"""Generated names satisfy each service's rules for any label (property tests over many random labels: odd
characters, unicode, very long labels, FIFO queues, xdist scopes), and the specs accept exactly the labels that
make names."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxres import SpecError
from sandboxres._kinds import KINDS
from sandboxres._kinds.bucket import bucket_spec
from sandboxres._kinds.queue import queue_spec
from sandboxres._kinds.table import table_spec


def make_name(kind: str, label: str, *, fifo: bool = False, scope: str = "") -> str:
    return KINDS[kind].new_name(label, scope=scope, fifo=fifo)


MAX_LEN = {"table": 255, "bucket": 63, "queue": 80}
UNIQUE = re.compile(r"[0-9a-f]{16}")
PROPERTY = settings(max_examples=300, deadline=None, database=None)


def _has_alnum(text: str, kind: str = "table") -> bool:
    """Whether a label keeps any character once sanitised (bucket labels are lower-cased first: 'İ' -> 'i̇')."""
    text = text.lower() if kind == "bucket" else text
    return any(c in string.ascii_letters + string.digits for c in text)


def _check_generated(kind: str, label: str, name: str, *, fifo: bool = False) -> None:
    assert KINDS[kind].names.problem(name) is None, f"{kind} name {name!r} breaks the {kind} rules"
    assert name.startswith(KINDS[kind].names.prefix)
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
                make_name(kind, label, fifo=is_fifo, scope=scope)
            continue
        name = make_name(kind, label, fifo=is_fifo, scope=scope)
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
