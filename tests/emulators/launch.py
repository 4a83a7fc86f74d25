"""Start AWS emulators as child processes on free loopback ports.

Supported emulators:

* ``moto``     -- ``moto_server`` (DynamoDB, S3, SQS, ...), in a separate process.
* ``dynalite`` -- DynamoDB that keeps tables CREATING / DELETING / UPDATING for a configurable time.
* ``sqs``      -- local-aws-sqs with AWS's queue lifecycle (new queues unusable for ~1.15 s,
  QueueDeletedRecently for 60 s after a delete).
* ``s3rver``   -- basic S3 (credentials must be ``S3RVER`` / ``S3RVER``; path-style addressing).

From Python::

    from tests.emulators.launch import start_emulator

    with start_emulator("dynalite", create_ms=2000) as emu:
        client = boto3.client("dynamodb", endpoint_url=emu.url, ...)

Several side by side (started concurrently, stopped together), with the environment that selects them as a
tier: the endpoint variable of each service and, with s3rver, the only key pair it accepts::

    from tests.emulators.launch import emulators, tier_environment

    with emulators(dynalite={"create_ms": 500}, sqs={}, s3rver={}) as running:
        env = tier_environment(running)   # AWS_ENDPOINT_URL_DYNAMODB=..., AWS_ENDPOINT_URL_SQS=..., ...

The test fixtures (tests/conftest.py) and the nox sessions (noxfile.py) both start emulators through this module.

From a shell (prints the URL as the first line of stdout, runs until SIGTERM / SIGINT)::

    python tests/emulators/launch.py dynalite --create-ms 2000
    python -m tests.emulators.launch sqs --url-file sqs.url &

Every server binds to 127.0.0.1 on a port chosen by the OS. The node packages are installed into
``tests/emulators/node_modules`` on first use (``npm install``). This module uses the standard library only,
so it also runs as a plain script.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Literal

__all__ = [
    "EMULATORS",
    "EMULATORS_DIR",
    "Emulator",
    "EmulatorError",
    "EmulatorName",
    "EmulatorUnavailable",
    "emulators",
    "ensure_node_packages",
    "main",
    "start_dynalite",
    "start_emulator",
    "start_moto",
    "start_s3rver",
    "start_sqs",
    "tier_environment",
]

EmulatorName = Literal["moto", "dynalite", "sqs", "s3rver"]
EMULATORS: tuple[EmulatorName, ...] = ("moto", "dynalite", "sqs", "s3rver")

EMULATORS_DIR = Path(__file__).resolve().parent
NODE_MODULES = EMULATORS_DIR / "node_modules"
NODE_PACKAGES = ("dynalite", "local-aws-sqs", "s3rver")

# Credentials s3rver insists on (any other key pair gets InvalidAccessKeyId / SignatureDoesNotMatch).
S3RVER_ACCESS_KEY_ID = "S3RVER"
S3RVER_SECRET_ACCESS_KEY = "S3RVER"

DEFAULT_STARTUP_TIMEOUT = 30.0
NPM_INSTALL_TIMEOUT = 300.0
# Written into node_modules once npm has installed the whole tree for the current package.json / lock file.
INSTALL_STAMP = ".sandboxres-install-complete"

# The line each emulator prints once it listens; group 1 is the URL or group "port" the port.
_READY_PATTERNS: dict[str, re.Pattern[str]] = {
    "moto": re.compile(r"Running on (?P<url>http://127\.0\.0\.1:(?P<port>\d+))"),
    "dynalite": re.compile(r"DYNALITE_URL=(?P<url>http://127\.0\.0\.1:(?P<port>\d+))"),
    "sqs": re.compile(r"SQS_URL=(?P<url>http://127\.0\.0\.1:(?P<port>\d+))"),
    "s3rver": re.compile(r"S3rver listening on 127\.0\.0\.1:(?P<port>\d+)"),
}
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class EmulatorError(RuntimeError):
    """The emulator process failed to start or to answer."""


class EmulatorUnavailable(EmulatorError):
    """A prerequisite (node, npm, the npm packages, moto) is missing; tests should skip."""


# ----------------------------------------------------------------------------------------------------
# node packages


def _missing_node_packages(emulators_dir: Path = EMULATORS_DIR) -> list[str]:
    modules = emulators_dir / "node_modules"
    return [name for name in NODE_PACKAGES if not (modules / name / "package.json").is_file()]


def _manifest_digest(emulators_dir: Path) -> str:
    """What an install is for: the package manifest and its lock file."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = emulators_dir / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    return digest.hexdigest()


def _install_stamp(emulators_dir: Path) -> Path:
    return emulators_dir / "node_modules" / INSTALL_STAMP


def _install_complete(emulators_dir: Path = EMULATORS_DIR) -> bool:
    """True once an install of the current manifest has finished.

    The top-level packages' ``package.json`` files appear while npm is still unpacking their dependencies, so their
    presence alone does not say the tree is whole: a stamp, written after npm exits successfully, does.
    """
    stamp = _install_stamp(emulators_dir)
    try:
        recorded = stamp.read_text().strip()
    except OSError:
        return False
    return recorded == _manifest_digest(emulators_dir) and not _missing_node_packages(emulators_dir)


@contextlib.contextmanager
def _install_lock(emulators_dir: Path) -> Iterator[None]:
    """Serialise concurrent installs (parallel test workers, parallel sessions) with a lock file outside the tree."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    digest = hashlib.sha256(str(emulators_dir).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"sandboxres-npm-install-{digest}.lock"
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_node_packages(emulators_dir: Path = EMULATORS_DIR) -> Path:
    """Install dynalite, local-aws-sqs and s3rver into ``tests/emulators/node_modules`` unless already installed.

    Returns the ``node`` executable once the whole tree is installed: a caller that arrives while another process
    installs waits for it. Raises :class:`EmulatorUnavailable` when node or npm is absent or the install fails.
    """
    node = shutil.which("node")
    if node is None:
        raise EmulatorUnavailable("node is not on PATH: install Node.js >= 18 to run dynalite, local-aws-sqs, s3rver")
    if _install_complete(emulators_dir):
        return Path(node)
    with _install_lock(emulators_dir):
        if _install_complete(emulators_dir):
            return Path(node)
        npm = shutil.which("npm")
        if npm is None:
            missing = _missing_node_packages(emulators_dir)
            if not missing:  # put there by other means (a copied tree): nothing here can be installing it
                return Path(node)
            raise EmulatorUnavailable(
                f"npm packages {', '.join(missing)} are not installed in {emulators_dir / 'node_modules'} "
                "and npm is not on PATH: install npm, then run `npm ci --prefix tests/emulators`"
            )
        _install_stamp(emulators_dir).unlink(missing_ok=True)
        command = [npm, "install", "--prefix", str(emulators_dir), "--no-audit", "--no-fund"]
        try:
            result = subprocess.run(
                command,
                cwd=emulators_dir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=NPM_INSTALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise EmulatorUnavailable(f"`{' '.join(command)}` timed out after {NPM_INSTALL_TIMEOUT:.0f} s") from error
        still_missing = _missing_node_packages(emulators_dir)
        if result.returncode != 0 or still_missing:
            output = (result.stdout + result.stderr).strip()[-2000:]
            raise EmulatorUnavailable(
                f"`{' '.join(command)}` failed (exit {result.returncode}); "
                f"missing: {', '.join(still_missing)}\n{output}"
            )
        _install_stamp(emulators_dir).write_text(_manifest_digest(emulators_dir) + "\n")
    return Path(node)


# ----------------------------------------------------------------------------------------------------
# running emulators

_RUNNING: set[Emulator] = set()
_RUNNING_LOCK = threading.Lock()


class _OutputPump:
    """Drains a child's pipe on a daemon thread (so the child never blocks), keeping the last lines."""

    def __init__(self, stream: IO[str], name: str) -> None:
        self.lines: deque[str] = deque(maxlen=200)
        self.condition = threading.Condition()
        self.closed = False
        self._stream = stream
        self._thread = threading.Thread(target=self._run, name=f"emulator-output-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for line in self._stream:
                with self.condition:
                    self.lines.append(_ANSI_ESCAPE.sub("", line.rstrip("\r\n")))
                    self.condition.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self.condition:
                self.closed = True
                self.condition.notify_all()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def tail(self, count: int = 30) -> str:
        with self.condition:
            return "\n".join(list(self.lines)[-count:])


class Emulator:
    """A running emulator child process. Stop it with :meth:`stop` or use it as a context manager."""

    def __init__(
        self,
        name: str,
        url: str,
        process: subprocess.Popen[str],
        pumps: Sequence[_OutputPump],
        workdir: tempfile.TemporaryDirectory[str] | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.process = process
        self._pumps = tuple(pumps)
        self._workdir = workdir
        self._stopped = False

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def running(self) -> bool:
        return not self._stopped and self.process.poll() is None

    def output(self, count: int = 30) -> str:
        """The last lines the emulator wrote (stdout and stderr), for error messages."""
        return "\n".join(pump.tail(count) for pump in self._pumps if pump.tail(count))

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the child (SIGTERM), wait up to ``timeout`` s, then SIGKILL it. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        _terminate(self.process, timeout)
        for pump in self._pumps:
            pump.join(1.0)
        if self._workdir is not None:
            self._workdir.cleanup()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"Emulator({self.name!r}, url={self.url!r}, pid={self.pid}, {state})"


def _terminate(process: subprocess.Popen[str], timeout: float) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


@atexit.register
def _stop_all() -> None:
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for emulator in running:
        emulator.stop(timeout=2.0)


def _accepts_http(url: str, timeout: float = 1.0) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _spawn(
    name: str,
    command: Sequence[str],
    *,
    startup_timeout: float,
    workdir: tempfile.TemporaryDirectory[str] | None = None,
    env: dict[str, str] | None = None,
) -> Emulator:
    process = subprocess.Popen(
        list(command),
        cwd=EMULATORS_DIR,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=env,
        # Own process group: a Ctrl-C in the terminal reaches the parent, which then stops the child itself.
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    pumps = (_OutputPump(process.stdout, name), _OutputPump(process.stderr, name))
    emulator: Emulator | None = None
    try:
        url = _wait_for_url(name, process, pumps, startup_timeout)
        emulator = Emulator(name, url, process, pumps, workdir)
        with _RUNNING_LOCK:
            _RUNNING.add(emulator)
        deadline = time.monotonic() + startup_timeout
        while not _accepts_http(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise EmulatorError(f"{name} printed {url} but does not answer HTTP\n{emulator.output()}")
            time.sleep(0.02)
        return emulator
    except BaseException:
        if emulator is not None:
            emulator.stop()
        else:
            _terminate(process, 5.0)
            if workdir is not None:
                workdir.cleanup()
        raise


def _wait_for_url(name: str, process: subprocess.Popen[str], pumps: Sequence[_OutputPump], timeout: float) -> str:
    pattern = _READY_PATTERNS[name]
    deadline = time.monotonic() + timeout
    while True:
        for pump in pumps:
            with pump.condition:
                lines = list(pump.lines)
            for line in lines:
                match = pattern.search(line)
                if match:
                    return match.group("url") if "url" in pattern.groupindex else f"http://127.0.0.1:{match['port']}"
        if process.poll() is not None:
            output = "\n".join(pump.tail() for pump in pumps)
            raise EmulatorError(f"{name} exited with code {process.returncode} before listening\n{output}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            output = "\n".join(pump.tail() for pump in pumps)
            raise EmulatorError(f"{name} did not report its port within {timeout:.0f} s\n{output}")
        with pumps[0].condition:
            pumps[0].condition.wait(min(remaining, 0.05))


def start_moto(*, startup_timeout: float = DEFAULT_STARTUP_TIMEOUT) -> Emulator:
    """``moto_server -H 127.0.0.1 -p 0`` in a separate process (tables are ACTIVE at once)."""
    script = Path(sys.executable).with_name("moto_server")
    found = str(script) if script.is_file() else shutil.which("moto_server")
    if found is not None:
        command = [found, "-H", "127.0.0.1", "-p", "0"]
    else:
        try:
            import moto.server  # noqa: F401
        except ImportError as error:
            raise EmulatorUnavailable("moto[server] is not installed (pip install 'moto[server]>=5')") from error
        command = [
            sys.executable,
            "-c",
            "import sys; from moto.server import main; sys.exit(main())",
            "-H",
            "127.0.0.1",
            "-p",
            "0",
        ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return _spawn("moto", command, startup_timeout=startup_timeout, env=env)


def start_dynalite(
    *,
    create_ms: int | None = None,
    delete_ms: int | None = None,
    update_ms: int | None = None,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
) -> Emulator:
    """dynalite in memory. ``create_ms`` / ``delete_ms`` / ``update_ms`` set how long tables stay CREATING /
    DELETING / UPDATING (dynalite's ``--createTableMs`` / ``--deleteTableMs`` / ``--updateTableMs``; each
    defaults to 500 ms; ``update_ms`` defaults to ``create_ms`` when only that is given)."""
    node = ensure_node_packages()
    if update_ms is None:
        update_ms = create_ms
    command = [str(node), str(EMULATORS_DIR / "dynalite_server.js"), "--port", "0"]
    for flag, value in (
        ("--createTableMs", create_ms),
        ("--deleteTableMs", delete_ms),
        ("--updateTableMs", update_ms),
    ):
        if value is not None:
            if value < 0:
                raise ValueError(f"{flag} must be >= 0, got {value}")
            command += [flag, str(int(value))]
    return _spawn("dynalite", command, startup_timeout=startup_timeout)


def start_sqs(
    *,
    lazy_queues: bool = True,
    deletion_lifecycle: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
) -> Emulator:
    """local-aws-sqs. ``lazy_queues``: a new queue answers QueueDoesNotExist for ~1.15 s.
    ``deletion_lifecycle``: re-creating a deleted name raises QueueDeletedRecently for 60 s."""
    node = ensure_node_packages()
    command = [str(node), str(EMULATORS_DIR / "sqs_server.js"), "0"]
    if not lazy_queues:
        command.append("--no-lazy")
    if not deletion_lifecycle:
        command.append("--no-lifecycle")
    return _spawn("sqs", command, startup_timeout=startup_timeout)


def start_s3rver(*, startup_timeout: float = DEFAULT_STARTUP_TIMEOUT) -> Emulator:
    """s3rver on a fresh temporary data directory (removed on stop). Use credentials S3RVER / S3RVER."""
    node = ensure_node_packages()
    workdir = tempfile.TemporaryDirectory(prefix="s3rver-")
    script = NODE_MODULES / "s3rver" / "bin" / "s3rver.js"
    command = [str(node), str(script), "-d", workdir.name, "-a", "127.0.0.1", "-p", "0", "-s"]
    # s3rver's continuation tokens use DES, which Node 17+ offers only with OpenSSL's legacy provider: without it,
    # listing past 1,000 keys fails with InternalError.
    options = " ".join(filter(None, [os.environ.get("NODE_OPTIONS", ""), "--openssl-legacy-provider"]))
    env = dict(os.environ, NODE_OPTIONS=options)
    return _spawn("s3rver", command, startup_timeout=startup_timeout, workdir=workdir, env=env)


def start_emulator(
    name: str,
    *,
    create_ms: int | None = None,
    delete_ms: int | None = None,
    update_ms: int | None = None,
    lazy_queues: bool = True,
    deletion_lifecycle: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
) -> Emulator:
    """Start the emulator ``name`` (one of :data:`EMULATORS`); the result is also a context manager.

    Options that do not apply to ``name`` must be left at their defaults.
    """
    if name == "dynalite":
        return start_dynalite(
            create_ms=create_ms, delete_ms=delete_ms, update_ms=update_ms, startup_timeout=startup_timeout
        )
    if create_ms is not None or delete_ms is not None or update_ms is not None:
        raise ValueError("create_ms / delete_ms / update_ms only apply to dynalite")
    if name == "sqs":
        return start_sqs(
            lazy_queues=lazy_queues, deletion_lifecycle=deletion_lifecycle, startup_timeout=startup_timeout
        )
    if not lazy_queues or not deletion_lifecycle:
        raise ValueError("lazy_queues / deletion_lifecycle only apply to sqs")
    if name == "moto":
        return start_moto(startup_timeout=startup_timeout)
    if name == "s3rver":
        return start_s3rver(startup_timeout=startup_timeout)
    raise ValueError(f"unknown emulator {name!r}; expected one of {', '.join(EMULATORS)}")


@contextlib.contextmanager
def emulators(**options: Mapping[str, Any]) -> Iterator[dict[str, Emulator]]:
    """Start the emulators named by the keywords concurrently, each with its options (those of
    :func:`start_emulator`); yield ``{name: Emulator}``; stop them all on exit. When one fails to start, the others
    are stopped and the error is raised."""
    for name in options:
        if name not in EMULATORS:
            raise ValueError(f"unknown emulator {name!r}; expected one of {', '.join(EMULATORS)}")
    if set(options) & {"dynalite", "sqs", "s3rver"}:
        ensure_node_packages()  # once, before the launches run side by side
    with contextlib.ExitStack() as stack:
        with ThreadPoolExecutor(max_workers=max(1, len(options))) as pool:
            futures = {name: pool.submit(start_emulator, name, **dict(opts)) for name, opts in options.items()}
        started: dict[str, Emulator] = {}
        errors: list[BaseException] = []
        for name, future in futures.items():
            error = future.exception()
            if error is None:
                started[name] = stack.enter_context(future.result())
            else:
                errors.append(error)
        if errors:
            raise errors[0]
        yield started


# The endpoint variable each emulator answers for, when it stands for one service of a tier.
_TIER_VARIABLES = {
    "moto": "AWS_ENDPOINT_URL",
    "dynalite": "AWS_ENDPOINT_URL_DYNAMODB",
    "sqs": "AWS_ENDPOINT_URL_SQS",
    "s3rver": "AWS_ENDPOINT_URL_S3",
}


def tier_environment(running: Mapping[str, Emulator]) -> dict[str, str]:
    """The variables that select ``running`` as the target: one endpoint variable per emulator, and one key pair
    for all (s3rver accepts only its own; the others accept any)."""
    env = {_TIER_VARIABLES[emulator.name]: emulator.url for emulator in running.values()}
    if any(emulator.name == "s3rver" for emulator in running.values()):
        env["AWS_ACCESS_KEY_ID"] = S3RVER_ACCESS_KEY_ID
        env["AWS_SECRET_ACCESS_KEY"] = S3RVER_SECRET_ACCESS_KEY
    return env


# ----------------------------------------------------------------------------------------------------
# command line


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="launch.py",
        description="Start an AWS emulator on a free 127.0.0.1 port, print its URL, run until SIGTERM/SIGINT.",
    )
    parser.add_argument("emulator", choices=EMULATORS)
    parser.add_argument("--create-ms", type=int, help="dynalite: ms a table stays CREATING (and UPDATING)")
    parser.add_argument("--delete-ms", type=int, help="dynalite: ms a table stays DELETING")
    parser.add_argument("--update-ms", type=int, help="dynalite: ms a table stays UPDATING (default: --create-ms)")
    parser.add_argument("--no-lazy-queues", action="store_true", help="sqs: new queues are usable at once")
    parser.add_argument(
        "--no-deletion-lifecycle", action="store_true", help="sqs: deleted names can be re-created at once"
    )
    parser.add_argument("--url-file", type=Path, help="also write the URL to this file (after it answers)")
    parser.add_argument("--startup-timeout", type=float, default=DEFAULT_STARTUP_TIMEOUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        emulator = start_emulator(
            args.emulator,
            create_ms=args.create_ms,
            delete_ms=args.delete_ms,
            update_ms=args.update_ms,
            lazy_queues=not args.no_lazy_queues,
            deletion_lifecycle=not args.no_deletion_lifecycle,
            startup_timeout=args.startup_timeout,
        )
    except (EmulatorError, ValueError) as error:
        print(f"launch.py: {error}", file=sys.stderr)
        return 2 if isinstance(error, EmulatorUnavailable) else 1
    with emulator:
        if args.url_file is not None:
            tmp = args.url_file.with_name(args.url_file.name + ".tmp")
            tmp.write_text(emulator.url + "\n")
            tmp.replace(args.url_file)
        print(emulator.url, flush=True)
        print(f"launch.py: {emulator.name} pid {emulator.pid} at {emulator.url}", file=sys.stderr, flush=True)
        while not stop_requested.wait(0.5):
            if emulator.process.poll() is not None:
                print(
                    f"launch.py: {emulator.name} exited with code {emulator.process.returncode}\n{emulator.output()}",
                    file=sys.stderr,
                )
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
