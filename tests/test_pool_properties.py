"""A property of pools: whatever sequence of holders, of whatever shapes, leaving whatever traces (some blocks
raising), each holder observes nothing of the earlier ones; and once the pool is closed the moto server holds
no ``test_`` / ``test-`` resource. Sync and async pools, on a moto server of the module's own over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.inventory import Inventory
from tests.support.pool_residue_kinds import GSI, OBSERVE, RESIDUES, VERSIONED
from tests.support.pool_residues import lease, open_pool
from tests.support.runner import Runner

pytestmark = pytest.mark.slow

# (kind, options): the shapes holders ask for; every residue of the same kind and options may be left in them.
SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("table", {}),
    ("table", GSI),
    ("bucket", {}),
    ("bucket", VERSIONED),
    ("queue", {}),
]
RESIDUES_OF = {index: [r for r in RESIDUES if (r.kind, r.options) == shape] for index, shape in enumerate(SHAPES)}


class HolderFailed(Exception):
    """A holder's block raising."""


@st.composite
def holders(draw: st.DrawFn) -> list[tuple[int, list[Any], bool]]:
    """A sequence of holders: (shape index, residues it leaves, whether its block raises)."""
    count = draw(st.integers(min_value=1, max_value=5))
    drawn = []
    for _ in range(count):
        shape = draw(st.sampled_from(sorted(RESIDUES_OF)))
        left = draw(st.lists(st.sampled_from(RESIDUES_OF[shape]), unique_by=lambda r: r.name, max_size=3))
        drawn.append((shape, left, draw(st.booleans())))
    return drawn


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=holders())
def test_no_holder_observes_an_earlier_one(
    run: Runner, emulator: str, monkeypatch: pytest.MonkeyPatch, sequence: list[tuple[int, list[Any], bool]]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    look = Inventory(endpoint=emulator)
    with open_pool(run) as pool:
        for number, (shape, left, raises) in enumerate(sequence):
            kind, options = SHAPES[shape]
            try:
                with lease(run, pool, kind, "prop", **options) as handle:
                    seen = OBSERVE[kind](run, handle, look)
                    assert seen == [], f"holder {number} observed {seen} of an earlier holder"
                    for residue in left:
                        residue.leave(run, handle)
                    if raises:
                        raise HolderFailed
            except HolderFailed:
                pass
    assert not look.prefixed_names(), "the pool left resources behind"
