"""``sandboxres.eventually`` and ``sandboxres.aio.eventually``: an assertion retried until it holds, the last
AssertionError (with a note) at the deadline, other errors at once, bad timeouts before the first attempt; and on
the ``simulated`` target, the index read right after a write that fails naively and holds with ``eventually``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sandboxres
import sandboxres.aio
from sandboxres import Index, SpecError
from sandboxres._runtime.clients import active_target
from tests.support.runner import Runner


def said(exc: BaseException) -> str:
    """An error's text and notes (Python 3.10 has no notes: the library puts the note in the text there)."""
    return "\n".join([str(exc), *getattr(exc, "__notes__", [])])


def failing_until(passes_at: int) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def check() -> str:
        calls.append(len(calls) + 1)
        assert len(calls) >= passes_at, f"attempt {len(calls)}"
        return f"held at {len(calls)}"

    return calls, check


def test_retries_until_the_assertion_holds_and_returns_its_value() -> None:
    calls, check = failing_until(3)
    assert sandboxres.eventually(check, timeout=10) == "held at 3"
    assert calls == [1, 2, 3]


def test_the_last_assertion_error_is_raised_with_a_note() -> None:
    calls, check = failing_until(10**9)
    with pytest.raises(AssertionError) as caught:
        sandboxres.eventually(check, timeout=0.3)
    assert str(caught.value).startswith(f"attempt {len(calls)}")  # the last one, not the first
    assert len(calls) > 1
    note = said(caught.value)
    assert f"eventually: still failing after 0.3 s and {len(calls)} attempts" in note


def test_other_errors_propagate_at_once() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise KeyError("not an assertion")

    with pytest.raises(KeyError):
        sandboxres.eventually(broken, timeout=10)
    assert calls == [1]


def test_a_bad_timeout_is_refused_before_the_first_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, check = failing_until(1)
    for bad in (0, -1, "soon", float("inf")):
        with pytest.raises(SpecError, match="timeout"):
            sandboxres.eventually(check, timeout=bad)  # type: ignore[arg-type]
    monkeypatch.setenv("SANDBOXRES_HELPER_TIMEOUT", "never")
    with pytest.raises(sandboxres.ConfigurationError, match="SANDBOXRES_HELPER_TIMEOUT"):
        sandboxres.eventually(check)
    assert calls == []


def test_the_deadline_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXRES_HELPER_TIMEOUT", "0.2")
    _calls, check = failing_until(10**9)
    with pytest.raises(AssertionError) as caught:
        sandboxres.eventually(check)
    assert "still failing after 0.2 s" in said(caught.value)


async def test_the_async_twin_takes_coroutines_and_plain_functions() -> None:
    _calls, check = failing_until(2)

    async def async_check() -> str:
        await asyncio.sleep(0)
        return check()

    assert await sandboxres.aio.eventually(async_check, timeout=10) == "held at 2"
    assert await sandboxres.aio.eventually(check, timeout=10) == "held at 3"
    with pytest.raises(AssertionError) as caught:
        await sandboxres.aio.eventually(failing_until(10**9)[1], timeout=0.2)
    assert "eventually: still failing after" in said(caught.value)
    with pytest.raises(SpecError):
        await sandboxres.aio.eventually(async_check, timeout=0)


# ---------------------------------------------------------------------------------------------------------
# on the simulated target: an index read right after the write


@pytest.fixture
def lagging_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``simulated``, every behaviour on; index reads lag the table by 1 s (20 AWS seconds at speed 20)."""
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"seed": 4444, "eventual_reads": {"index_lag_seconds": 20, "probability": 1}}))
    monkeypatch.setenv("SANDBOXRES_TARGET", "simulated")
    monkeypatch.setenv("SANDBOXRES_SIMULATE_PROFILE", str(profile))
    active_target()


def test_on_simulated_the_index_read_holds_only_eventually(lagging_index: None, run: Runner) -> None:
    index = Index("by_owner", hash_key="owner")
    with run.lifecycle("table", f"lag_{run.mode}", global_indexes=[index]) as table:
        run.call(table.put_items([{"pk": "u1", "owner": "ann"}]))

        query = {
            "TableName": table.name,
            "IndexName": "by_owner",
            "KeyConditionExpression": "#o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": "ann"}},
        }

        def owner_is_indexed(found: dict[str, Any]) -> int:
            assert [item["pk"]["S"] for item in found["Items"]] == ["u1"]
            return len(found["Items"])

        with pytest.raises(AssertionError):
            owner_is_indexed(run.call(table.client.query(**query)))  # the naive read, right after the write
        if run.mode == "sync":
            assert sandboxres.eventually(lambda: owner_is_indexed(table.client.query(**query))) == 1
        else:

            async def indexed() -> int:  # on the handle's event loop: its client's calls are awaited there
                return owner_is_indexed(await table.client.query(**query))

            waited: Any = sandboxres.aio.eventually(indexed)
            assert run.call(waited) == 1
