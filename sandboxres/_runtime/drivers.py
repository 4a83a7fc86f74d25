"""Drivers: run lifecycle plans with boto3 (sync) or aioboto3 (async). They call, sleep and nothing else.

Both drivers hand every step's retry/poll policy (built once in ``_steps``) to tenacity unchanged; the only
difference between them is ``await``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Protocol, TypeVar

from sandboxres._engine.classify import is_refused
from sandboxres._engine.errors import EndpointUnreachableError
from sandboxres._engine.steps import Call, Plan, Poll, Step

T = TypeVar("T")


class _PlanRunner:
    """The part of running a plan that does no I/O: feeding results and errors back into the generator, and
    the retry arguments of each step.

    ``refused_is_final``: on an emulator target a refused connection means no emulator runs there; it ends
    the step at once with :class:`~sandboxres.EndpointUnreachableError` instead of being retried until the
    deadline. On real AWS a refused connection stays transient. ``None``: decided from the clients' target
    (``clients.target.kind``) when they have one.
    """

    refused_is_final = False

    def _decide(self, clients: Any, refused_is_final: bool | None) -> None:
        if refused_is_final is None:
            target = getattr(clients, "target", None)
            refused_is_final = target is not None and getattr(target, "kind", "aws") != "aws"
        self.refused_is_final = refused_is_final

    def arguments(self, step: Step) -> dict[str, Any]:
        """tenacity arguments of ``step``: its policy, less the retries of a refused connection when final."""
        import tenacity  # imported when first used: `import sandboxres` stays light

        kwargs = step.retrying()
        if self.refused_is_final:
            kwargs["retry"] = tenacity.retry_if_exception(lambda e: not is_refused(e)) & kwargs["retry"]
        return kwargs

    def unreachable(self, step: Step, exc: Exception) -> Exception:
        """The error to raise for ``exc`` ending ``step``: EndpointUnreachableError for a final refusal."""
        if not self.refused_is_final or not is_refused(exc) or isinstance(exc, EndpointUnreachableError):
            return exc
        call = step.call if isinstance(step, Poll) else step
        endpoint = ""
        with contextlib.suppress(Exception):  # the client's endpoint, not the request's URL (a bucket's path)
            endpoint = str(self.clients[call.service].meta.endpoint_url)
        if not endpoint:
            endpoint = str(getattr(exc, "kwargs", {}).get("endpoint_url") or "(unknown endpoint)")
        return EndpointUnreachableError(endpoint, call.service)

    clients: Any

    @staticmethod
    def advance(plan: Plan[T], reply: Any, error: BaseException | None) -> tuple[bool, Any]:
        """Send the previous step's outcome; return (True, step) or (False, the plan's return value)."""
        try:
            step = plan.throw(error) if error is not None else plan.send(reply)
        except StopIteration as stop:
            return False, stop.value
        return True, step


class Clients(Protocol):
    """Anything that gives a client per service name (a dict, or the lazy ``ClientPool``)."""

    def __getitem__(self, service: str) -> Any: ...


class SyncDriver(_PlanRunner):
    """Runs plans with boto3 clients (one per service) and ``time.sleep`` (through tenacity).

    ``stop``: an event that, once set, ends every wait at once and every retry or poll after its attempt in
    progress (a closing pool stops the recyclings it no longer needs; what they concluded is then ignored).
    """

    def __init__(
        self, clients: Clients, *, refused_is_final: bool | None = None, stop: threading.Event | None = None
    ) -> None:
        self.clients = clients
        self.stop = stop
        self._decide(clients, refused_is_final)

    def stopping(self, stop: threading.Event) -> SyncDriver:
        """This driver (same clients), also ended by ``stop``."""
        return SyncDriver(self.clients, refused_is_final=self.refused_is_final, stop=stop)

    def arguments(self, step: Step) -> dict[str, Any]:
        kwargs = super().arguments(step)
        stop = self.stop
        if stop is not None:
            until = kwargs["stop"]
            kwargs["stop"] = lambda state: stop.is_set() or until(state)
            kwargs["sleep"] = stop.wait
        return kwargs

    def run(self, plan: Plan[T]) -> T:
        reply: Any = None
        error: BaseException | None = None
        try:
            while True:
                more, step = self.advance(plan, reply, error)
                if not more:
                    return step  # type: ignore[no-any-return]
                reply, error = None, None
                try:
                    reply = self.perform(step)
                except Exception as exc:  # BaseException (Ctrl-C) is not the plan's business
                    error = exc
        finally:
            plan.close()

    def perform(self, step: Step) -> Any:
        try:
            return self._perform(step)
        except Exception as exc:
            final = self.unreachable(step, exc)
            if final is exc:
                raise
            raise final from exc

    def _perform(self, step: Step) -> Any:
        import tenacity

        if isinstance(step, Poll):
            for attempt in tenacity.Retrying(**self.arguments(step)):
                with attempt:
                    return step.settle(*(step.first(attempt) or self._probe(step.call)))
        assert isinstance(step, Call)
        for attempt in tenacity.Retrying(**self.arguments(step)):
            with attempt:
                return self._invoke(step)
        raise AssertionError("unreachable")  # pragma: no cover

    def _probe(self, call: Call) -> tuple[Any, BaseException | None]:
        try:
            return self._invoke(call), None
        except Exception as exc:
            return None, exc

    def _invoke(self, call: Call) -> Any:
        return getattr(self.clients[call.service], call.operation)(**call.request())


class AsyncDriver(_PlanRunner):
    """Runs the same plans with aioboto3 clients and ``asyncio.sleep`` (through tenacity)."""

    def __init__(self, clients: Clients, *, refused_is_final: bool | None = None) -> None:
        self.clients = clients
        self._decide(clients, refused_is_final)

    async def run(self, plan: Plan[T]) -> T:
        reply: Any = None
        error: BaseException | None = None
        try:
            while True:
                more, step = self.advance(plan, reply, error)
                if not more:
                    return step  # type: ignore[no-any-return]
                reply, error = None, None
                try:
                    reply = await self.perform(step)
                except Exception as exc:
                    error = exc
        finally:
            plan.close()

    async def perform(self, step: Step) -> Any:
        try:
            return await self._perform(step)
        except Exception as exc:
            final = self.unreachable(step, exc)
            if final is exc:
                raise
            raise final from exc

    async def _perform(self, step: Step) -> Any:
        import tenacity

        if isinstance(step, Poll):
            async for attempt in tenacity.AsyncRetrying(**self.arguments(step)):
                with attempt:
                    return step.settle(*(step.first(attempt) or await self._probe(step.call)))
        assert isinstance(step, Call)
        async for attempt in tenacity.AsyncRetrying(**self.arguments(step)):
            with attempt:
                return await self._invoke(step)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _probe(self, call: Call) -> tuple[Any, BaseException | None]:
        try:
            return await self._invoke(call), None
        except Exception as exc:
            return None, exc

    async def _invoke(self, call: Call) -> Any:
        opener = getattr(self.clients, "open", None)  # AioClients: opened on first use
        client = await opener(call.service) if opener is not None else self.clients[call.service]
        return await getattr(client, call.operation)(**call.request())
