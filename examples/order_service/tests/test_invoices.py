"""Invoices in a versioned bucket: every issue is kept."""

from __future__ import annotations

import uuid

from order_service import invoice_history, store_invoice


def test_reissued_invoices_keep_every_version(invoice_bucket: str) -> None:
    order_id = uuid.uuid4().hex
    first = store_invoice(invoice_bucket, order_id, "total: 12.50")
    second = store_invoice(invoice_bucket, order_id, "total: 10.00 (discount)")
    assert first.version_id != second.version_id
    assert invoice_history(invoice_bucket, order_id) == ["total: 12.50", "total: 10.00 (discount)"]


def test_an_order_without_invoice_has_no_history(invoice_bucket: str) -> None:
    assert invoice_history(invoice_bucket, uuid.uuid4().hex) == []
