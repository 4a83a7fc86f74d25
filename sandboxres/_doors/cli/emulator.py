"""``sandboxres emulator``: run moto's server in the foreground so that other processes share one emulator.

It listens on a loopback address only (127.0.0.1 by default; anything outside 127.0.0.0/8 is refused), on the
given port or a free one, prints the shell lines that point any AWS SDK at it::

    export AWS_ENDPOINT_URL=http://127.0.0.1:PORT
    export AWS_ACCESS_KEY_ID=testing
    export AWS_SECRET_ACCESS_KEY=testing
    export AWS_REGION=us-east-1

and runs until SIGINT (Ctrl-C) or SIGTERM. The credentials are dummies the emulator accepts; they are not secrets.

With ``--simulate`` the port serves the AWS behaviour simulator, in front of a moto server on a free port: the
exports point at the simulator, and a comment line (and stderr) gives its speed and seed, read from
``SANDBOXRES_SIMULATE_SPEED`` / ``_SEED`` / ``_OFF`` / ``_ONLY`` / ``_PROFILE`` like the ``simulated`` target's.

Exit codes: 0 stopped by a signal; 2 bad option (non-loopback host, port taken or out of range).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any

from sandboxres._engine.errors import ConfigurationError
from sandboxres._runtime.target import DEFAULT_REGION, EMBEDDED_CREDENTIALS, Simulation, simulation_from_env


def loopback_host(host: str) -> str:
    """``host`` as a loopback IPv4 address; ConfigurationError for anything that is not on 127.0.0.0/8."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigurationError(f"--host {host!r} is not an IP address: use 127.0.0.1 (the default)") from None
    if address.version != 4 or not address.is_loopback:
        raise ConfigurationError(
            f"--host {host} is not a loopback IPv4 address: the emulator accepts any credentials and must not be "
            "reachable from other machines; use 127.0.0.1 (or another 127.x.y.z)"
        )
    return str(address)


def check_port_free(host: str, port: int) -> None:
    """Raise ConfigurationError when ``port`` is out of range or already taken on ``host``."""
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"--port {port} is out of range (0-65535; 0 picks a free port)")
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"port {port} on {host} is not free ({exc.strerror}): choose another, or omit --port for a free one"
            ) from None


def exports(url: str, region: str) -> dict[str, str]:
    """The variables that point an AWS SDK (or the AWS CLI) at the emulator."""
    key, secret = EMBEDDED_CREDENTIALS
    return {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": region}


def _simulation() -> Simulation:
    """The simulator's settings from the environment, checked; the replay line names this command."""
    environ = {**os.environ, "SANDBOXRES_TARGET": "simulated"}
    environ.pop("PYTEST_XDIST_WORKER", None)  # a server for other processes: the seed given, never a worker's
    simulation = simulation_from_env(environ, {"kind": "SANDBOXRES_TARGET"})
    replay = {k: v for k, v in simulation.replay_variables.items() if k != "SANDBOXRES_TARGET"}
    return Simulation(simulation.profile, simulation.run_seed, "", replay)


def run(args: argparse.Namespace) -> int:
    host = loopback_host(args.host)
    if args.simulate and host != "127.0.0.1":
        raise ConfigurationError(f"--host {host}: with --simulate the simulator listens on 127.0.0.1 only")
    check_port_free(host, args.port)
    simulation = _simulation() if args.simulate else None  # a wrong setting stops here, before anything starts
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import ThreadedMotoServer

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = ThreadedMotoServer(ip_address=host, port=0 if simulation else args.port, verbose=args.verbose)
    server.start()
    simulator: Any = None
    try:
        bound_host, bound_port = server.get_host_and_port()
        url = moto_url = f"http://{bound_host}:{bound_port}"
        if simulation is not None:
            from sandboxres._simulator.simulator import start_simulator

            simulator = start_simulator(moto_url, simulation.profile, port=args.port)
            url = simulator.url
        variables = exports(url, region)
        if args.json:
            data: dict[str, Any] = {"url": url, "env": variables}
            if simulation is not None:
                data["simulator"] = {
                    "upstream": moto_url,
                    "seed": simulation.seed,
                    "speed": simulation.speed,
                    "replay": simulation.replay(),
                }
            print(json.dumps(data))
        else:
            for name, value in variables.items():
                print(f"export {name}={value}")
            if simulation is not None:
                print(f"# sandboxres simulator: speed {simulation.speed:g}, seed {simulation.seed}")
        sys.stdout.flush()
        if simulation is not None:
            print(
                f"sandboxres emulator: AWS behaviour simulator listening on {url} in front of moto on {moto_url}, "
                f"speed {simulation.speed:g}, seed {simulation.seed} (replay: {simulation.replay()} sandboxres "
                "emulator --simulate); Ctrl-C or SIGTERM stops it",
                file=sys.stderr,
            )
        else:
            print(f"sandboxres emulator: moto listening on {url}; Ctrl-C or SIGTERM stops it", file=sys.stderr)
        while not stop.wait(0.5):
            pass
        print("sandboxres emulator: stopping", file=sys.stderr)
    finally:
        if simulator is not None:
            simulator.stop()
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "emulator",
        help="run the embedded emulator (moto) in the foreground and print the export lines to use it",
        description="Run moto's server on a loopback address and the given (or a free) port, print "
        "`export AWS_ENDPOINT_URL=...` and dummy credential and region exports, and serve until SIGINT or "
        "SIGTERM, so that tests in other processes and languages share one emulator. "
        "Exit codes: 0 stopped by a signal, 2 bad option.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free port)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--region", help="region for the AWS_REGION export (default: AWS_REGION, else us-east-1)")
    parser.add_argument("--json", action="store_true", help="print {'url': ..., 'env': {...}} as one JSON line")
    parser.add_argument("--verbose", action="store_true", help="log every request the emulator serves (stderr)")
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="serve the AWS behaviour simulator (AWS's timing and consistency) in front of the emulator; its seed "
        "and speed come from SANDBOXRES_SIMULATE_SEED / SANDBOXRES_SIMULATE_SPEED (see the simulated target)",
    )
    parser.set_defaults(run=run)
