"""Async work that a cancellation must not cut short: cleanup, and giving pooled resources back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def shielded(work: Awaitable[T], *, propagating: bool) -> T:
    """Run ``work`` to the end even if the calling task is cancelled meanwhile.

    A cancellation that arrived during ``work`` is re-raised afterwards, unless the caller is already
    propagating an exception (``propagating=True``), which then wins.
    """
    task = asyncio.ensure_future(work)
    interrupted = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            interrupted = True
    if interrupted and not propagating:
        raise asyncio.CancelledError
    return task.result()
