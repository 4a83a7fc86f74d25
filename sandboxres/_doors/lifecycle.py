"""The state of one ephemeral resource, without I/O: names, tags, plans, keep decisions, error reporting; and the
one description both front doors are generated from.

:class:`ResourceLifecycle` is shared by the sync front door (``_doors.sync``) and the async one
(``sandboxres.aio``); they only drive its plans and open SDK objects.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
import os
import time
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

import sandboxres._safety.registry as _registry
from sandboxres._engine.classify import as_resource_error
from sandboxres._engine.errors import CleanupError, attach_cleanup_failure
from sandboxres._engine.plans import Progress, label_of, resource_tags
from sandboxres._engine.redaction import scrub_exception
from sandboxres._engine.settings import unseen_grace
from sandboxres._engine.steps import Plan
from sandboxres._engine.validation import call_spec
from sandboxres._engine.wiring import HandleContext, Wirings, then
from sandboxres._kinds import AnyKind, Facts, Spec, kind_of
from sandboxres._runtime.target import Target

log = logging.getLogger("sandboxres")
P = ParamSpec("P")
D = TypeVar("D")


def name_scope() -> str:
    """The pytest-xdist worker id (``gw0``...) when running under xdist, so parallel workers never collide."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


class State(str, enum.Enum):
    """Where a resource is in its life."""

    NEW = "new"
    CREATING = "creating"  # registered; its create plan runs (or was interrupted)
    LIVE = "live"
    KEPT = "kept"  # left in place on purpose (keep=True, SANDBOXRES_KEEP)
    DELETED = "deleted"  # deleted, or nothing was ever sent


class ResourceLifecycle:
    """One resource: new -> creating -> live -> deleted (or kept). Entering twice is an error."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.resource_kind: AnyKind = kind_of(spec)
        self.kind = self.resource_kind.name
        self.state = State.NEW
        self.facts: Facts | None = None
        self.progress = Progress()
        self.target: Target | None = None
        self.extra_tags: dict[str, str] = {}  # the library's own tags besides the three every resource gets
        self.wirings = Wirings()  # what its handle's helpers set up with other resources: undone before deletion
        self._started = 0.0

    @property
    def name(self) -> str:
        return self.facts.name if self.facts is not None else ""

    @property
    def service(self) -> str:
        return self.resource_kind.service

    @property
    def resource(self) -> str:
        return label_of(self.kind, self.name or "(unnamed)")

    def begin(self, target: Target) -> Plan[Facts]:
        """Choose the names, register the resource (before any call) and return its create plan."""
        if self.state is not State.NEW:
            raise RuntimeError(
                f"{self.resource} was already {self.state.value}: an ephemeral resource can be entered once; "
                "call ephemeral_*() again for another"
            )
        target.endpoint(self.service)  # an emulator target without this service: refused before any call
        unseen_grace()  # a bad SANDBOXRES_UNSEEN_GRACE: refused before anything is registered
        self.target = target
        self.facts = facts = self.resource_kind.expected(self.spec, name_scope())
        self.state = State.CREATING
        self._started = time.monotonic()
        _registry.register(self)
        tags = {**resource_tags(target.run_id), **self.extra_tags}
        return self.resource_kind.create(self.spec, facts, tags, target.region, self.progress)

    def adopted(self, target: Target, facts: Facts) -> None:
        """Take over a live resource this process did not create (a warm pool's, leased from an earlier run):
        registered for the cleanup on exit like a created one, deleted through the same plan."""
        if self.state is not State.NEW:
            raise RuntimeError(f"{self.resource} was already {self.state.value}")
        self.resource_kind.names.check_own(facts.name)  # never a name without the library's prefix
        self.target, self.facts, self.state = target, facts, State.LIVE
        names = [facts.name, *([dead.name] if (dead := getattr(facts, "dead_letter", None)) is not None else [])]
        for name in names:
            self.progress.sent.add(name)
            self.progress.created.add(name)
            self.progress.confirmed.add(name)
        _registry.register(self)

    def released(self) -> None:
        """Left live on purpose, for a later run (a warm pool's release): no longer this process's to delete."""
        self.state = State.KEPT
        _registry.unregister(self)

    def created(self, facts: Facts) -> None:
        self.facts = facts
        self.state = State.LIVE
        _registry.count(created=self._counted(), ready_wait_seconds=time.monotonic() - self._started)
        log.debug("%s is ready", self.resource)

    def handle(
        self, client: Any, make_resource: Callable[[], Any], run: Callable[[Plan[Any]], Any], *, is_async: bool = False
    ) -> Any:
        """The handle of the live resource, on the SDK objects the front door opened; its helpers run their plans
        with ``run`` (the front door's driver)."""
        region, kind = (self.target.region, self.target.kind) if self.target is not None else (None, "embedded")
        context = HandleContext(run, self.wirings, is_async=is_async, region=region, target_kind=kind)
        return self.resource_kind.handle(self.facts, client, make_resource, context)

    def keeps(self) -> bool:
        """Whether this resource is kept at the end (``keep=True`` or ``SANDBOXRES_KEEP=1``)."""
        if self.spec.keep is not None:
            return self.spec.keep
        return bool(self.target and self.target.keep)

    def delete_plan(self) -> Plan[None] | None:
        """The delete plan, or None when there is nothing to delete (never begun, or kept)."""
        if self.state in (State.NEW, State.DELETED, State.KEPT) or self.facts is None:
            return None
        if self.state is State.LIVE and self.keeps():
            self.state = State.KEPT
            _registry.unregister(self)
            _registry.count(kept=self._counted())
            embedded = self.target is not None and self.target.in_process
            until = " until the embedded emulator ends" if embedded else ": delete it yourself or sweep it"
            log.warning("keeping %s (keep=True or SANDBOXRES_KEEP=1)%s", self.resource, until)
            return None
        if self.state is State.CREATING and not self.progress.started():
            # No create call ever left (or each was answered with "nothing created": a permanent error, a
            # refused connection): nothing can exist, so there is nothing to delete and nothing to report.
            self.abandoned()
            return None
        plan = self.resource_kind.delete(self.facts, self.progress, self.spec.timeout)
        return then(self.wirings.undo_plan(), plan) if len(self.wirings) else plan

    def deleted(self) -> None:
        self.state = State.DELETED
        _registry.unregister(self)
        _registry.count(deleted=self._counted())

    def _counted(self) -> int:
        """How many resources the counters see in this one: a queue with a dead-letter queue is two."""
        return self.resource_kind.count(self.facts) if self.facts is not None else 1

    def abandoned(self) -> None:
        """Nothing was ever sent for this resource (its clients could not be opened): forget it."""
        self.state = State.DELETED
        _registry.unregister(self)

    def deletion(self, can_run: bool) -> Plan[None] | None:
        """The delete plan a front door runs now, or None when there is nothing to run: never begun, kept, gone,
        or the front door failed before its first call (``can_run`` False: it has no driver, so nothing can
        exist; the plan is closed unrun and the resource forgotten)."""
        plan = self.delete_plan()
        if plan is not None and not can_run:
            plan.close()
            self.abandoned()
            return None
        return plan

    def delete_ran(self, error: Exception | None) -> CleanupError | None:
        """Record how the delete plan ended: deleted, or the cleanup failure to report."""
        if error is not None:
            return self.cleanup_failed(error)
        self.deleted()
        return None

    def cleanup_failed(self, error: BaseException) -> CleanupError:
        """Record a failed deletion: the resource stays registered (an exit handler may try again)."""
        _registry.count(left_behind=1)
        failure = error if isinstance(error, CleanupError) else CleanupError(self.resource, [error])
        log.error("%s", failure)
        return failure

    def failure(self, exc: BaseException) -> BaseException:
        """The error to raise for ``exc`` escaping a plan: botocore errors get the resource's name."""
        return as_resource_error(exc, self.resource)

    def create_failed(self, exc: BaseException, cleanup: CleanupError | None) -> NoReturn:
        """Raise the error for a failed creation (named after the resource), with any cleanup failure attached."""
        failure = self.failure(exc)
        self.report(failure, cleanup)
        for raised in (failure, exc):  # the SDK error it chains may carry what an emulator echoed
            scrub_exception(raised)
        if failure is exc:
            raise exc
        raise failure from exc

    @staticmethod
    def report(primary: BaseException | None, cleanup: CleanupError | None) -> None:
        """Never swallow a cleanup failure: attach it to the propagating error, or raise it."""
        if cleanup is None:
            return
        if primary is not None:
            attach_cleanup_failure(primary, cleanup)
            return
        raise cleanup


def report_many(primary: BaseException | None, failures: list[CleanupError | None]) -> None:
    """Report the cleanup failures of several resources as one CleanupError."""
    errors = [f for f in failures if f is not None]
    if not errors:
        return
    combined = errors[0] if len(errors) == 1 else CleanupError(f"{len(errors)} resources", errors)
    ResourceLifecycle.report(primary, combined)


def front_door(
    spec_factory: Callable[P, Spec], door: Callable[[Spec], D], name: str, module: str, returns: str
) -> Callable[P, D]:
    """A public ``ephemeral_*`` function of ``module`` with exactly the parameters of its spec factory: both front
    doors are made here, from each kind's spec factory, so their names, parameters and checks cannot drift."""

    @functools.wraps(spec_factory)
    def make(*args: P.args, **kwargs: P.kwargs) -> D:
        return door(call_spec(spec_factory, name, args, kwargs))

    make.__name__ = make.__qualname__ = name
    make.__module__ = module  # where users import it from
    make.__signature__ = inspect.signature(spec_factory).replace(  # type: ignore[attr-defined]
        return_annotation=returns
    )
    return make
