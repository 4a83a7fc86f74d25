"""Fixtures of the stream consumer's suites: an orders table with a stream, a totals table.

``test_consumer.py`` is written with sandboxres's handle helpers and passes on every target;
``test_naive_consumer.py`` reads the stream as first written: it passes on the emulators and fails on AWS and on
``SANDBOXRES_TARGET=simulated``, where stream records appear after a delay.
"""

from __future__ import annotations

from typing import Any

import pytest
from stream_consumer import TotalsConsumer


@pytest.fixture
def orders(sandboxres_table: Any) -> Any:
    return sandboxres_table("orders", hash_key="order", stream="NEW_AND_OLD_IMAGES")


@pytest.fixture
def consumer(sandboxres_table: Any) -> TotalsConsumer:
    return TotalsConsumer(sandboxres_table("totals", hash_key="customer").table)
