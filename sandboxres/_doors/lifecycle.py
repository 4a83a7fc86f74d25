"""The state of one ephemeral resource, without I/O: names, tags, plans, keep decisions, error reporting.

:class:`ResourceLifecycle` is shared by the sync front door (``_ephemeral``) and the async one (``aio``); they
only drive its plans and open SDK objects.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any, NoReturn

import sandboxres._safety.registry as _registry
from sandboxres._engine.errors import CleanupError, attach_cleanup_failure
from sandboxres._engine.handles import CLIENT_OF
from sandboxres._engine.plans import create_plan, delete_plan, label_of, resource_tags, unseen_grace
from sandboxres._engine.redaction import scrub_exception
from sandboxres._engine.specs import QueueSpec, Spec
from sandboxres._engine.steps import Plan, as_resource_error
from sandboxres._runtime.target import Target

log = logging.getLogger("sandboxres")


def name_scope() -> str:
    """The pytest-xdist worker id (``gw0``...) when running under xdist, so parallel workers never collide."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


class ResourceLifecycle:
    """One resource: new -> creating -> live -> deleted (or kept). Entering twice is an error."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.state = "new"
        self.name = ""
        self.extra_names: dict[str, str] = {}
        self.facts: dict[str, Any] = {}
        self.progress: dict[str, set[str]] = {}
        self.target: Target | None = None
        self._started = 0.0

    @property
    def resource(self) -> str:
        return label_of(self.kind, self.name or "(unnamed)")

    def begin(self, target: Target) -> Plan[dict[str, Any]]:
        """Choose the names, register the resource (before any call) and return its create plan."""
        if self.state != "new":
            raise RuntimeError(
                f"{self.resource} was already {self.state}: an ephemeral resource can be entered once; "
                "call ephemeral_*() again for another"
            )
        target.endpoint(CLIENT_OF[self.kind])  # an emulator target without this service: refused before any call
        unseen_grace()  # a bad SANDBOXRES_UNSEEN_GRACE: refused before anything is registered
        scope = name_scope()
        self.target = target
        self.name = self.spec.new_name(scope)
        if isinstance(self.spec, QueueSpec) and self.spec.dead_letter is not None:
            self.extra_names["dead_letter_name"] = self.spec.dead_letter_name(scope)
        self.state = "creating"
        self._started = time.monotonic()
        _registry.register(self)
        tags = resource_tags(target.run_id)
        return create_plan(self.spec, self.name, tags, target.region, self.extra_names, self.progress)

    def created(self, facts: Mapping[str, Any]) -> None:
        self.facts = dict(facts)
        self.state = "live"
        _registry.count(created=self._queues_or_one(), ready_wait_seconds=time.monotonic() - self._started)
        log.debug("%s is ready", self.resource)

    def keeps(self) -> bool:
        """Whether this resource is kept at the end (``keep=True`` or ``SANDBOXRES_KEEP=1``)."""
        if self.spec.keep is not None:
            return self.spec.keep
        return bool(self.target and self.target.keep)

    def delete_plan(self) -> Plan[None] | None:
        """The delete plan, or None when there is nothing to delete (never begun, or kept)."""
        if self.state in ("new", "deleted", "kept"):
            return None
        if self.state == "live" and self.keeps():
            self.state = "kept"
            _registry.unregister(self)
            _registry.count(kept=self._queues_or_one())
            embedded = self.target is not None and self.target.kind == "embedded"
            then = " until the embedded emulator ends" if embedded else ": delete it yourself or sweep it"
            log.warning("keeping %s (keep=True or SANDBOXRES_KEEP=1)%s", self.resource, then)
            return None
        if self.state == "creating" and not any(self.progress.get(stage) for stage in ("sent", "created")):
            # No create call ever left (or each was answered with "nothing created": a permanent error, a
            # refused connection): nothing can exist, so there is nothing to delete and nothing to report.
            self.abandoned()
            return None
        return delete_plan(self.kind, self.name, {**self.facts, **self.extra_names, **self.progress}, self.spec.timeout)

    def deleted(self) -> None:
        self.state = "deleted"
        _registry.unregister(self)
        _registry.count(deleted=self._queues_or_one())

    def _queues_or_one(self) -> int:
        """How many resources the counters see in this one: a queue with a dead-letter queue is two."""
        return 2 if "dead_letter_name" in self.extra_names else 1

    def abandoned(self) -> None:
        """Nothing was ever sent for this resource (its clients could not be opened): forget it."""
        self.state = "deleted"
        _registry.unregister(self)

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
