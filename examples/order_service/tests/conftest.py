"""Fixtures of the order service's suite, on sandboxres's pytest plugin.

The service builds its own boto3 clients (one while ``order_service.orders`` is imported, here, at the top of this
conftest). The plugin points every client the process builds at the target the environment selects (embedded
emulator, external emulator or a sandbox AWS account), so nothing here passes an endpoint or a client.
"""

from __future__ import annotations

from typing import Any

import pytest
from order_service import Dispatcher, OrderStore
from order_service.orders import BY_CUSTOMER

from sandboxres import Index, ResourceError


@pytest.fixture
def orders(sandboxres_table: Any) -> OrderStore:
    """A store on a fresh orders table of its own, with the ``by_customer`` index."""
    table = sandboxres_table(
        "orders",
        hash_key="order_id",
        global_indexes=[Index(BY_CUSTOMER, hash_key="customer_id", range_key="created_at")],
    )
    return OrderStore(table.name)


@pytest.fixture(scope="session")
def invoice_bucket(sandboxres_session_bucket: Any) -> str:
    """One versioned bucket for the session (each test uses its own order ids)."""
    try:
        return str(sandboxres_session_bucket("invoices", versioning=True).name)
    except ResourceError as error:  # s3rver, for one, has no versioning
        pytest.skip(f"the S3 target cannot make a versioned bucket: {error}")


@pytest.fixture
def dispatch_queue(sandboxres_queue: Any) -> Any:
    """A FIFO queue whose messages move to its dead-letter queue after 2 receives."""
    return sandboxres_queue("dispatch", fifo=True, dead_letter=2)


@pytest.fixture
def dispatcher(dispatch_queue: Any) -> Dispatcher:
    return Dispatcher(dispatch_queue.url)
