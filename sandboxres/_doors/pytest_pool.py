"""The pytest plugin's session pool: ``--sandboxres-pool`` (``SANDBOXRES_POOL=1``, ini ``sandboxres_pool = true``),
or a warm one with ``--sandboxres-pool=warm`` (``SANDBOXRES_POOL=warm``, ini ``sandboxres_pool = warm``).

With the pool on, the function-scoped factory fixtures (``sandboxres_table`` & co, sync and async) draw their
resources from one pool per session (per xdist worker), created at first use, and give them back at the test's end:
the next test of the same shape gets the same resource, emptied and proven clean, or a new one. The pool closes
(deletes everything) at the end of the session, before the summary. Wider-scoped fixtures are not pooled.

Demand: per shape, the peak number of resources held at once is recorded in pytest's cache
(``sandboxres/pool-demand``, JSON: kind, label and options as the fixtures were called, never pickles). The next run
with the pool on pre-provisions that many of each shape at session start, concurrently. Under xdist the controller
records, per shape, the largest peak of any worker, and every worker pre-provisions that many.

Warm: the session pool is a ``Pool(warm=True)``: it first leases the idle resources earlier runs left in the
target's lease table, and when the session ends it releases its clean resources there for the next run instead of
deleting them. On the embedded emulator (which ends with the run) it is an in-run pool, and the summary says so.

The value is only taken with ``=`` (``--sandboxres-pool=warm``): a bare ``--sandboxres-pool`` never takes the next
argument, so ``pytest --sandboxres-pool tests/x.py`` runs tests/x.py. Each accepted spelling is an option string of
its own (``_Spelled``); any other ``--sandboxres-pool=...`` is a usage error naming them.

Registered by :mod:`sandboxres.pytest_plugin` (``pytest_plugins``), so its hooks sit beside the plugin's own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sandboxres._doors.async_pool import Pool as AsyncPool
from sandboxres._doors.pool import Pool, _spec
from sandboxres._doors.pool_state import Shape, shape_of
from sandboxres._doors.pytest_options import _FALSE, _TRUE
from sandboxres._engine.errors import ConfigurationError, SandboxresError
from sandboxres._kinds import KINDS
from sandboxres._runtime.clients import active_target
from sandboxres._runtime.settings import environ_view, load_env_file

log = logging.getLogger("sandboxres")

CACHE_KEY = "sandboxres/pool-demand"
MAX_PER_SHAPE = 8  # pre-provisioned resources of one shape, at most
MAX_SHAPES = 32  # shapes recorded, at most (the busiest)
_WORKER_KEY = "sandboxres_pool"
_UNSHAPED = ("timeout", "keep")  # options that are not part of a shape: not recorded


OFF, IN_RUN, WARM = "off", "in-run", "warm"  # the pool's modes
_OPTION = "--sandboxres-pool"
_SPELLINGS = {_OPTION: IN_RUN, f"{_OPTION}={WARM}": WARM}  # listed in --help; and the env's yes/no values:
_HIDDEN = {**{f"{_OPTION}={v}": IN_RUN for v in _TRUE}, **{f"{_OPTION}={v}": OFF for v in _FALSE}}


class _Spelled(argparse.Action):
    """An option whose value is in its spelling: each accepted ``--sandboxres-pool[=value]`` is an option string
    of its own, taking no argument, so that the bare flag never takes the next argument (a path) as its value. Any
    other ``--sandboxres-pool=value`` is argparse's usage error, which names the accepted spellings."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, {**_SPELLINGS, **_HIDDEN}[option_string or _OPTION])


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandboxres", "sandboxres (throw-away AWS resources)")
    group.addoption(
        *_SPELLINGS,
        dest="sandboxres_pool",
        action=_Spelled,
        default=None,
        help="the function-scoped factory fixtures draw from one session pool and recycle at teardown; "
        "each shape's demand is recorded in pytest's cache and pre-provisioned on the next run. "
        "=warm: the pool outlives the run: it first leases the idle resources earlier runs left (same account and "
        "region) and releases its clean ones for the next run instead of deleting them (an in-run pool on the "
        "embedded emulator). The value needs the '='. "
        "Overrides SANDBOXRES_POOL and the ini setting sandboxres_pool.",
    )
    group.addoption(*_HIDDEN, dest="sandboxres_pool", action=_Spelled, default=None, help=argparse.SUPPRESS)
    group.addoption(
        "--sandboxres-no-pool",
        dest="sandboxres_pool",
        action="store_const",
        const=OFF,
        default=None,
        help="no pool, even if SANDBOXRES_POOL or the ini setting sandboxres_pool turns it on.",
    )
    parser.addini(
        "sandboxres_pool",
        "sandboxres: draw the function-scoped factory fixtures from a session pool (true/false, or warm: a pool "
        "that outlives the run) unless SANDBOXRES_POOL is set",
        default="",
    )


def _mode(raw: str, what: str) -> str:
    value = raw.strip().lower()
    if value == WARM:
        return WARM
    if value in _TRUE:
        return IN_RUN
    if value in _FALSE:
        return OFF
    raise pytest.UsageError(
        f"{what}={raw!r} is neither warm nor a yes/no value: use warm (a warm pool, kept between runs), "
        f"one of {', '.join(_TRUE)} (an in-run pool) or {', '.join(_FALSE)} (off)"
    )


def pool_mode(config: pytest.Config) -> str:
    """``off``, ``in-run`` or ``warm``. Command line > ``SANDBOXRES_POOL`` (also from ``SANDBOXRES_ENV_FILE``) > ini;
    a bad value is a usage error."""
    try:
        environ = load_env_file(environ_view())
    except ConfigurationError:
        environ = environ_view()
    from_env = (environ.get("SANDBOXRES_POOL") or "").strip()
    env_value = _mode(from_env, "SANDBOXRES_POOL") if from_env else None  # checked even when overridden
    ini = str(config.getini("sandboxres_pool") or "").strip()
    ini_value = _mode(ini, "ini setting sandboxres_pool") if ini else None
    option = config.getoption("sandboxres_pool")
    for value in (option, env_value, ini_value):
        if value is not None:
            return str(value)
    return OFF


@dataclass
class _Demand:
    call: dict[str, Any] | None  # {"kind", "label", "options"}: None when the options do not survive JSON
    held: int = 0
    peak: int = 0


@dataclass
class SessionPool:
    """The run's pool (this process's), created at first use (in the main thread, where fixtures and the session
    hooks run: the pool holds the SIGTERM handler from there), and the demand per shape it met."""

    warm: bool = False  # a warm pool (``--sandboxres-pool=warm``)
    prepared: int = 0
    closing_error: str = ""
    demand: dict[Shape, _Demand] = field(default_factory=dict)
    embedded: bool = False  # warm asked on the embedded emulator: an in-run pool
    _sync: Pool | None = None
    _async: AsyncPool | None = None

    def pools(self) -> tuple[Pool, AsyncPool]:
        if self._sync is None or self._async is None:
            self._sync = Pool(warm=self.warm)
            self._async = AsyncPool._sharing(self._sync._engine)  # one engine: resources shared by both
            if self.warm:
                with contextlib.suppress(SandboxresError):  # the pool's first use raises it for the test
                    self.embedded = active_target().in_process
        return self._sync, self._async

    @contextlib.contextmanager
    def lease(self, kind: str, args: tuple[Any, ...], options: dict[str, Any]) -> Iterator[Any]:
        """A resource of the pool for a sync fixture, given back (recycled) at the block's end."""
        pool = self.pools()[0]
        with self._held(kind, args, options), getattr(pool, kind)(*args, **options) as handle:
            yield handle

    @contextlib.asynccontextmanager
    async def async_lease(self, kind: str, args: tuple[Any, ...], options: dict[str, Any]) -> AsyncIterator[Any]:
        """A resource of the pool for an async fixture (aioboto3 clients of the running loop)."""
        pool = self.pools()[1]
        with self._held(kind, args, options):
            async with getattr(pool, kind)(*args, **options) as handle:
                yield handle

    @contextlib.contextmanager
    def _held(self, kind: str, args: tuple[Any, ...], options: dict[str, Any]) -> Iterator[None]:
        demand = self._demand(kind, args, options)
        if demand is None:
            yield
            return
        demand.held += 1
        demand.peak = max(demand.peak, demand.held)
        try:
            yield
        finally:
            demand.held -= 1

    def _demand(self, kind: str, args: tuple[Any, ...], options: dict[str, Any]) -> _Demand | None:
        if len(args) > 1 or (args and "label" in options):
            return None  # a wrong call: the pool says what is wrong
        label = args[0] if args else options.get("label", kind)
        rest = {k: v for k, v in options.items() if k != "label"}
        try:
            shape = shape_of(_spec(KINDS[kind].spec_factory, f"sandboxres_{kind}", label, rest))
        except Exception:  # a bad call: the pool raises it for the test
            return None
        if shape not in self.demand:
            self.demand[shape] = _Demand(_recordable(kind, label, rest, shape))
        return self.demand[shape]

    def recorded(self) -> list[dict[str, Any]]:
        """The demand to record: each recordable shape's call and peak (capped)."""
        return [{**d.call, "count": min(d.peak, MAX_PER_SHAPE)} for d in self.demand.values() if d.call and d.peak > 0]

    def preprovision(self, entries: list[dict[str, Any]]) -> None:
        """Prepare each recorded shape's count, concurrently, in the background."""
        for entry in entries:
            try:
                kind, label, options = entry["kind"], entry["label"], dict(entry["options"])
                count = min(int(entry["count"]), MAX_PER_SHAPE)
                if kind not in KINDS or count < 1:
                    continue
                getattr(self.pools()[0], f"prepare_{kind}")(label, count=count, **options)
            except (SandboxresError, KeyError, TypeError, ValueError) as exc:
                log.warning("sandboxres pool: not pre-provisioning %r from pytest's cache: %s", entry, exc)
                continue
            self.prepared += count

    def close(self) -> None:
        if self._sync is None:
            return
        try:
            self._sync.close()
        except SandboxresError as exc:
            self.closing_error = str(exc)

    def report(self) -> dict[str, Any]:
        """What this process's pool did: per kind counters, pre-provisioned resources, the demand to record."""
        counters = self._sync.counters if self._sync is not None else {}
        return {
            "counters": {kind: c.as_dict() for kind, c in counters.items()},
            "prepared": self.prepared,
            "demand": self.recorded(),
            "closing_error": self.closing_error,
            "embedded": self.embedded,
        }


def _recordable(kind: str, label: str, options: dict[str, Any], shape: Shape) -> dict[str, Any] | None:
    """The call as JSON when it turns back into the same shape, else None (not recorded)."""
    kept = {k: v for k, v in options.items() if k not in _UNSHAPED}
    try:
        call = json.loads(json.dumps({"kind": kind, "label": label, "options": kept}))
        again = shape_of(_spec(KINDS[kind].spec_factory, f"sandboxres_{kind}", call["label"], call["options"]))
    except Exception:  # options that JSON cannot carry (Index objects...)
        return None
    return call if again == shape else None


@dataclass
class _State:
    mode: str
    pool: SessionPool = field(default_factory=SessionPool)
    workers: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pool.warm = self.mode == WARM

    @property
    def wanted(self) -> bool:
        return self.mode != OFF


_STATE = pytest.StashKey[_State]()


def session_pool(config: pytest.Config) -> SessionPool | None:
    """The run's pool when ``--sandboxres-pool`` is on (in-run or warm), else None (the fixtures create and delete
    as usual)."""
    state = config.stash.get(_STATE, None)
    return state.pool if state is not None and state.wanted else None


def _controller(config: pytest.Config) -> bool:
    """The xdist controller: it runs no test, so it has no pool; it records the workers' demand."""
    return not hasattr(config, "workerinput") and config.pluginmanager.getplugin("dsession") is not None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATE] = _State(mode=pool_mode(config))


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or not state.wanted or _controller(config) or getattr(config, "cache", None) is None:
        return
    cached = config.cache.get(CACHE_KEY, None)
    if isinstance(cached, dict) and isinstance(cached.get("shapes"), list):
        state.pool.preprovision(cached["shapes"][:MAX_SHAPES])


@pytest.hookimpl(tryfirst=True)  # before the plugin's own: the summary then sees the pool's deletions
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or not state.wanted:
        return
    state.pool.close()
    if hasattr(config, "workeroutput"):
        config.workeroutput[_WORKER_KEY] = state.pool.report()
        return
    reports = [state.pool.report(), *state.workers]
    demand: dict[str, dict[str, Any]] = {}
    for entry in (e for r in reports for e in r["demand"]):
        key = json.dumps({k: v for k, v in entry.items() if k != "count"}, sort_keys=True)
        if key not in demand or demand[key]["count"] < entry["count"]:
            demand[key] = entry
    if demand and getattr(config, "cache", None) is not None:
        busiest = sorted(demand.values(), key=lambda e: -int(e["count"]))[:MAX_SHAPES]
        config.cache.set(CACHE_KEY, {"version": 1, "shapes": busiest})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: collect what a finished worker's pool did."""
    report = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    state = node.config.stash.get(_STATE, None)
    if report is not None and state is not None:
        state.workers.append(report)


def used(config: pytest.Config) -> bool:
    """Whether the run's pool (any worker's) handed out anything: the summary is then worth showing, even when
    nothing was created (a warm pool that leased all it needed)."""
    state = config.stash.get(_STATE, None)
    if state is None or not state.wanted:
        return False
    return any(r["counters"] for r in [state.pool.report(), *state.workers])


def summary_lines(config: pytest.Config, embedded: bool = False) -> list[str]:
    """The pool's lines of the terminal summary (controller or single process): per kind, over every worker.
    ``embedded``: the target is the embedded emulator (a warm pool is then an in-run one)."""
    state = config.stash.get(_STATE, None)
    if state is None or not state.wanted:
        return []
    reports = [state.pool.report(), *state.workers]
    embedded = embedded or any(r.get("embedded") for r in reports)
    warm = state.mode == WARM and not embedded
    lines = []
    if state.mode == WARM and embedded:
        lines.append(
            "pool: warm asked, but the embedded emulator ends with the run: an in-run pool "
            "(a warm pool needs an external emulator or AWS)"
        )
    prepared = sum(r["prepared"] for r in reports)
    if prepared:
        lines.append(f"pool: pre-provisioned {prepared} from the demand recorded by the last run")
    keys = ("created", "leased", "recycled", "discarded", "released", "saved_seconds")
    for kind in KINDS:
        counts = [r["counters"][kind] for r in reports if kind in r["counters"]]
        if counts:
            total = {key: sum(c.get(key, 0) for c in counts) for key in keys}
            if warm:
                lines.append(
                    f"pool {kind}s: {total['created']} created, {total['leased']} leased, "
                    f"{total['recycled']} recycled, {total['discarded']} discarded, {total['released']} released, "
                    f"{total['saved_seconds']:.2f} s saved"
                )
            else:
                lines.append(
                    f"pool {kind}s: {total['created']} created, {total['recycled']} recycled, "
                    f"{total['discarded']} discarded, {total['saved_seconds']:.2f} s saved"
                )
    lines += [f"pool: closing failed: {r['closing_error']}" for r in reports if r["closing_error"]]
    return lines
