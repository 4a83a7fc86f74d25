"""Pool isolation: the holder after another never observes anything the previous one did.

Each residue of :mod:`tests.support.pool_residues` (items in a table and its indexes, stream records, TTL,
definition and tag changes, deletion protection; object versions, delete markers, uploads, bucket
configurations; visible, in-flight and delayed messages, attribute changes, dead-letter messages) is left by
holder 1 and looked for by holder 2, through the sync and the async pool, on a moto server of the module's own
over HTTP, or on the target the run was started with (the ``emulators`` session of ``noxfile.py``: dynalite,
local-aws-sqs and s3rver chosen by endpoint variables; a residue needing a feature the target lacks, as
``SANDBOXRES_EMULATOR_LACKS`` declares, is skipped with the reason; :mod:`tests.support.target_env`). Holder 2
either gets the same resource emptied ("recycled") or another one ("discarded"), as each residue expects. The
sabotage tests replace the kind's recycling by a no-op and check that holder 2 then DOES see the trace, on that
target too: the isolation tests are known to be able to fail there. With the fault proxy, a global index that keeps
answering an item for longer than ``settle_seconds`` gets its table discarded (on the module's moto server
always: the proxy stands in front of it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandboxres import Index
from sandboxres._kinds.base import RecycleLimits
from sandboxres._simulator import FaultProxy, Rule
from sandboxres._simulator.faults import Fault, Trigger
from sandboxres._simulator.messages import ProxyRequest, Reply
from tests.support.inventory import Inventory
from tests.support.pool_residue_kinds import OBSERVE, RESIDUES
from tests.support.pool_residues import PoolTarget, Residue, lease, no_recycling, open_pool
from tests.support.runner import Runner, SyncRunner
from tests.support.target_env import needs


def _two_holders(run: Runner, residue: Residue, target: PoolTarget) -> tuple[str, str, list[str], Any]:
    """Holder 1 leaves the residue, holder 2 looks for it: (name 1, name 2, traces seen, counters)."""
    label = target.label(residue.label, residue.name, run.mode)
    with open_pool(run) as pool:
        with lease(run, pool, residue.kind, label, **residue.options) as first:
            residue.leave(run, first)
            first_name = first.name
        with lease(run, pool, residue.kind, label, **residue.options) as second:
            seen = OBSERVE[residue.kind](run, second, target.look)
            second_name = second.name
        counters = pool.counters[residue.kind]
    target.assert_nothing_left(label)
    return first_name, second_name, seen, counters


def _marks(residue: Residue) -> list[pytest.MarkDecorator]:
    marks = [needs(residue.needs)] if residue.needs else []
    if residue.name == "dead-letter":  # A dead-letter queue doubles the queue's settle time and creations
        marks.append(pytest.mark.slow)  # seconds long
    return marks


CASES = [pytest.param(r, marks=_marks(r)) for r in RESIDUES]


@pytest.mark.parametrize("residue", CASES, ids=lambda r: f"{r.kind}-{r.name}")
def test_next_holder_observes_nothing(run: Runner, residue: Residue, pool_target: PoolTarget) -> None:
    first, second, seen, counters = _two_holders(run, residue, pool_target)
    assert seen == [], f"holder 2 observed the previous holder's {seen}"
    if residue.expect == "recycled":
        assert second == first, "an emptied resource should have been handed out again"
        assert (counters.recycled, counters.discarded) == (1, 0)
    else:
        assert second != first, "a resource that cannot be proven clean was handed out again"
        assert counters.discarded >= 1 and counters.recycled == 0


@pytest.mark.parametrize(
    "residue", [pytest.param(r, marks=_marks(r)[:1]) for r in RESIDUES], ids=lambda r: f"{r.kind}-{r.name}"
)
def test_without_recycling_the_trace_is_observed(
    residue: Residue, pool_target: PoolTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sabotage: with a recycling that neither empties nor checks, holder 2 gets the same resource and the
    observer of the test above sees the residue (so that test can fail, on this target too)."""
    no_recycling(monkeypatch, residue.kind)
    first, second, seen, _ = _two_holders(SyncRunner(), residue, pool_target)
    assert second == first
    assert seen, f"the observer did not see the residue {residue.name!r}: the isolation test could not fail"


# ---------------------------------------------------------------------------------------------------------
# index lag


class IndexShowsAnItem(Fault):
    """Scans of a secondary index answer one item (a global index lagging behind the deletions), ``answers``
    times (None: always); ``answered`` holds when."""

    def __init__(self, answers: int | None = None) -> None:
        self.answers = answers
        self.answered: list[float] = []

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply:
        document = reply.json()
        if "IndexName" not in request.params or document is None or reply.status != 200:
            return reply
        if self.answers is not None and len(self.answered) >= self.answers:
            return reply
        self.answered.append(time.monotonic())
        document["Items"] = [{"pk": {"S": "lagging"}, "g": {"S": "x"}}]
        document["Count"] = document["ScannedCount"] = 1
        return reply.with_json(document)


@pytest.fixture
def through_proxy(proxy: FaultProxy, emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    proxy.clear()
    yield proxy
    proxy.clear()


@pytest.mark.slow
def test_a_lagging_global_index_discards_the_table(run: Runner, through_proxy: FaultProxy, emulator: str) -> None:
    settle = 0.5
    lag = IndexShowsAnItem()
    through_proxy.add(Rule(lag, service="dynamodb", operations="Scan"))
    options: dict[str, Any] = {"global_indexes": [Index("by_g", hash_key="g")]}
    with open_pool(run, RecycleLimits(settle_seconds=settle)) as pool:
        with lease(run, pool, "table", "lag", **options) as first:
            run.call(first.client.put_item(TableName=first.name, Item={"pk": {"S": "a"}, "g": {"S": "x"}}))
        pool._engine.settle()  # the recycling runs in the background
        assert len(lag.answered) >= 2, "the index was not polled"
        assert lag.answered[-1] - lag.answered[0] >= settle * 0.8, "the table was discarded before the settle time"
        through_proxy.clear_rules()
        with lease(run, pool, "table", "lag", **options) as second:
            assert second.name != first.name, "a table whose index still showed an item was handed out"
            assert run.call(second.client.scan(TableName=second.name, IndexName="by_g"))["Items"] == []
        counters = pool.counters["table"]
    assert (counters.created, counters.discarded, counters.recycled) == (2, 1, 0)
    assert not Inventory(endpoint=emulator).prefixed_names()


def test_index_lag_shorter_than_the_settle_time_recycles(through_proxy: FaultProxy, emulator: str) -> None:
    """The control: an index that lags a little (two answers) settles within the time, and is recycled."""
    run = SyncRunner()
    lag = IndexShowsAnItem(answers=2)
    through_proxy.add(Rule(lag, service="dynamodb", operations="Scan"))
    options: dict[str, Any] = {"global_indexes": [Index("by_g", hash_key="g")]}
    with open_pool(run, RecycleLimits(settle_seconds=5.0)) as pool:
        with lease(run, pool, "table", "lag", **options) as first:
            pass
        with lease(run, pool, "table", "lag", **options) as second:
            assert second.name == first.name
            assert run.call(second.client.scan(TableName=second.name, IndexName="by_g"))["Items"] == []
    assert len(lag.answered) == 2
