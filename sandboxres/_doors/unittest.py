"""unittest support: ``self.enterContext(ephemeral_table(...))`` on every supported Python.

Python 3.11 added ``TestCase.enterContext``, ``TestCase.enterClassContext`` and
``IsolatedAsyncioTestCase.enterAsyncContext``: they enter a context manager and register its exit as a cleanup, so
a resource made in ``setUp`` (or ``setUpClass``) is deleted after the test (or the class) whatever happens.
:class:`EnterContextMixin` provides the same methods on Python 3.10 and adds nothing on 3.11+::

    class UsersTest(sandboxres.EnterContextMixin, unittest.TestCase):
        def setUp(self):
            self.users = self.enterContext(sandboxres.ephemeral_table("users"))
"""

from __future__ import annotations

import sys
import unittest
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["EnterContextMixin", "enter_async_context", "enter_class_context", "enter_context"]


def _methods(manager: object, enter: str, exit: str, what: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    cls = type(manager)
    try:
        return getattr(cls, enter), getattr(cls, exit)
    except AttributeError:
        raise TypeError(
            f"'{cls.__module__}.{cls.__qualname__}' object does not support the {what}context manager protocol"
        ) from None


def enter_context(test: unittest.TestCase, manager: AbstractContextManager[T]) -> T:
    """Enter ``manager`` and register its exit as a cleanup of ``test`` (``TestCase.enterContext`` of 3.11)."""
    enter, exit = _methods(manager, "__enter__", "__exit__", "")
    result: T = enter(manager)
    test.addCleanup(exit, manager, None, None, None)
    return result


def enter_class_context(cls: type[unittest.TestCase], manager: AbstractContextManager[T]) -> T:
    """Enter ``manager`` and register its exit as a class cleanup (``TestCase.enterClassContext`` of 3.11)."""
    enter, exit = _methods(manager, "__enter__", "__exit__", "")
    result: T = enter(manager)
    cls.addClassCleanup(exit, manager, None, None, None)
    return result


async def enter_async_context(test: unittest.IsolatedAsyncioTestCase, manager: AbstractAsyncContextManager[T]) -> T:
    """Enter ``manager`` and register its exit as an async cleanup (``enterAsyncContext`` of 3.11)."""
    enter, exit = _methods(manager, "__aenter__", "__aexit__", "asynchronous ")
    result: T = await enter(manager)
    test.addAsyncCleanup(exit, manager, None, None, None)
    return result


class EnterContextMixin:
    """``enterContext`` / ``enterClassContext`` / ``enterAsyncContext`` for ``unittest`` on Python 3.10.

    Python 3.11 and later have them in the standard library; there the mixin adds nothing.

    List it before ``unittest.TestCase`` or ``unittest.IsolatedAsyncioTestCase`` in the bases.
    """

    if sys.version_info < (3, 11):

        def enterContext(self, cm: AbstractContextManager[T]) -> T:
            """Enter ``cm``; its exit runs as a cleanup after the test."""
            if not isinstance(self, unittest.TestCase):
                raise TypeError("EnterContextMixin must be combined with unittest.TestCase")
            return enter_context(self, cm)

        @classmethod
        def enterClassContext(cls, cm: AbstractContextManager[T]) -> T:
            """Enter ``cm``; its exit runs as a class cleanup after the class's tests."""
            if not issubclass(cls, unittest.TestCase):
                raise TypeError("EnterContextMixin must be combined with unittest.TestCase")
            return enter_class_context(cls, cm)

        async def enterAsyncContext(self, cm: AbstractAsyncContextManager[T]) -> T:
            """Enter the async ``cm``; its exit runs as an async cleanup after the test."""
            if not isinstance(self, unittest.IsolatedAsyncioTestCase):
                raise TypeError("enterAsyncContext needs unittest.IsolatedAsyncioTestCase")
            return await enter_async_context(self, cm)
