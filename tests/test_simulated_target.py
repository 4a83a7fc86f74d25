"""The ``simulated`` target: its resolution (pure), lifecycles going through the simulator (embedded and external
emulators behind it), the redirect, the sweeper, the command line (``env``, ``check``, ``doctor``, ``emulator
--simulate``) and bad settings refused before any call. The pytest side is in ``test_simulated_target_pytest``.

No behaviour is asserted here: what the simulator does to requests is tested with each behaviour. These tests show
the wiring: every client of the library (and of the code under test) reaches the simulator, whose proxy sees the
requests, and the seed in force is the one reported.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

import sandboxres
import sandboxres.aio
from sandboxres import ConfigurationError
from sandboxres._doors.cli import main
from sandboxres._runtime.clients import active_target, describe_target
from sandboxres._runtime.embedded import ensure_embedded
from sandboxres._runtime.simulated import running_simulators, simulator_at
from sandboxres._runtime.target import TARGET_KINDS, Target, resolve_target, worker_seed
from sandboxres._simulator import FaultProxy
from sandboxres._simulator.simulator import Simulator
from tests.support.inventory import Inventory
from tests.test_cli_verbs import ENTRY, clean_env

MOTO = "http://127.0.0.1:4999"


def resolve(**environ: str) -> Target:
    return resolve_target(environ)


def proxy_of(target: Target, service: str = "dynamodb") -> FaultProxy:
    """The proxy of the simulator the started ``target`` sends ``service`` to."""
    url = target.endpoints[service]
    assert url is not None
    simulator = simulator_at(url)
    assert simulator is not None, f"no simulator of this process serves {url}"
    return simulator.proxy


# ---------------------------------------------------------------------------------------------------------
# resolution (pure)


@pytest.mark.parametrize(
    ("environ", "upstream_kind", "kind_source"),
    [
        ({"SANDBOXRES_TARGET": "simulated"}, "embedded", "SANDBOXRES_TARGET"),
        ({"SANDBOXRES_TARGET": " Simulated "}, "embedded", "SANDBOXRES_TARGET"),
        ({"SANDBOXRES_TARGET": "simulated", "AWS_ENDPOINT_URL": MOTO}, "embedded", "SANDBOXRES_TARGET"),
        ({"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE": "1"}, "embedded", "SANDBOXRES_TARGET"),
        ({"SANDBOXRES_SIMULATE": "1"}, "embedded", "SANDBOXRES_SIMULATE with default (no endpoint variable set)"),
        ({"SANDBOXRES_SIMULATE": "on", "SANDBOXRES_TARGET": "embedded"}, "embedded", None),
        (
            {"SANDBOXRES_SIMULATE": "true", "AWS_ENDPOINT_URL": MOTO},
            "emulator",
            "SANDBOXRES_SIMULATE with AWS_ENDPOINT_URL",
        ),
        ({"SANDBOXRES_SIMULATE": "YES", "SANDBOXRES_TARGET": "emulator", "AWS_ENDPOINT_URL": MOTO}, "emulator", None),
    ],
)
def test_every_spelling_of_the_simulated_target(
    environ: dict[str, str], upstream_kind: str, kind_source: str | None
) -> None:
    target = resolve(**environ)
    assert target.kind == "simulated"
    assert target.upstream_kind == upstream_kind
    assert target.emulated and target.credentials == "dummy"
    assert target.in_process is (upstream_kind == "embedded")
    assert target.endpoints == dict.fromkeys(target.endpoints)  # the simulator is not started by a resolution
    if upstream_kind == "emulator":
        assert set(target.upstream.values()) == {MOTO}
    else:
        assert set(target.upstream.values()) == {None}
    if kind_source is not None:
        assert target.sources["kind"] == kind_source
    assert target.simulation is not None and target.simulation.speed == 20


@pytest.mark.parametrize(
    ("environ", "kind"),
    [
        ({}, "embedded"),
        ({"SANDBOXRES_SIMULATE": ""}, "embedded"),
        ({"SANDBOXRES_SIMULATE": "0"}, "embedded"),
        ({"SANDBOXRES_SIMULATE": "off", "AWS_ENDPOINT_URL": MOTO}, "emulator"),
        ({"SANDBOXRES_TARGET": "aws", "SANDBOXRES_SIMULATE": "no"}, "aws"),
    ],
)
def test_without_simulate_the_targets_are_as_before(environ: dict[str, str], kind: str) -> None:
    target = resolve(**environ)
    assert target.kind == kind
    assert target.simulation is None and target.upstream_kind is None


def test_per_service_endpoints_each_get_their_emulator_behind_the_simulator() -> None:
    target = resolve(SANDBOXRES_SIMULATE="1", AWS_ENDPOINT_URL_DYNAMODB=MOTO)
    assert target.upstream["dynamodb"] == target.upstream["dynamodbstreams"] == MOTO
    assert target.upstream["s3"] is None
    assert target.sources["endpoint:s3"] == "not set"
    with pytest.raises(ConfigurationError, match="AWS_ENDPOINT_URL_S3"):
        target.endpoint("s3")


def test_the_seed_and_what_replays_it() -> None:
    target = resolve(SANDBOXRES_TARGET="simulated", SANDBOXRES_SIMULATE_SEED="1234", SANDBOXRES_SIMULATE_SPEED="5")
    assert target.simulation is not None
    assert (target.simulation.seed, target.simulation.run_seed, target.simulation.speed) == (1234, 1234, 5)
    assert target.sources["seed"] == "SANDBOXRES_SIMULATE_SEED"
    assert target.sources["speed"] == "SANDBOXRES_SIMULATE_SPEED"
    assert target.simulation.replay() == (
        "SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED=1234 SANDBOXRES_SIMULATE_SPEED=5"
    )
    external = resolve(SANDBOXRES_SIMULATE="1", AWS_ENDPOINT_URL=MOTO, SANDBOXRES_SIMULATE_SEED="7")
    assert external.simulation is not None
    assert external.simulation.replay() == "SANDBOXRES_SIMULATE=1 SANDBOXRES_SIMULATE_SEED=7"
    described = target.describe()["simulation"]
    assert isinstance(described, dict) and described["seed"] == 1234


def test_without_a_seed_one_is_drawn_once_per_process() -> None:
    first, second = resolve(SANDBOXRES_TARGET="simulated"), resolve(SANDBOXRES_TARGET="simulated")
    assert first.simulation is not None and second.simulation is not None
    assert first.simulation.seed == second.simulation.seed
    assert first.sources["seed"] == "random per process"


def test_the_profile_file_seed_counts(tmp_path: Any) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"seed": 99, "speed": 4}))
    target = resolve(SANDBOXRES_TARGET="simulated", SANDBOXRES_SIMULATE_PROFILE=str(profile))
    assert target.simulation is not None
    assert (target.simulation.seed, target.simulation.speed) == (99, 4)
    assert target.sources["seed"] == target.sources["speed"] == "SANDBOXRES_SIMULATE_PROFILE"


def test_an_xdist_worker_derives_its_seed_from_the_runs_and_its_id() -> None:
    def seed_of(worker: str) -> tuple[int, int]:
        environ = {"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE_SEED": "555", "PYTEST_XDIST_WORKER": worker}
        simulation = resolve(**environ).simulation
        assert simulation is not None and simulation.worker == worker
        return simulation.seed, simulation.run_seed

    gw0, gw1 = seed_of("gw0"), seed_of("gw1")
    assert gw0 == seed_of("gw0") == (worker_seed(555, "gw0"), 555)
    assert gw1 == (worker_seed(555, "gw1"), 555)
    assert len({gw0[0], gw1[0], 555}) == 3


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SANDBOXRES_SIMULATE": "maybe"}, "SANDBOXRES_SIMULATE='maybe' is not one of 1/0"),
        ({"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE_SEED": "x"}, "SANDBOXRES_SIMULATE_SEED='x': not an"),
        ({"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE_SPEED": "0"}, "SANDBOXRES_SIMULATE_SPEED='0': must"),
        ({"SANDBOXRES_SIMULATE": "1", "SANDBOXRES_SIMULATE_SPEED": "fast"}, "SANDBOXRES_SIMULATE_SPEED='fast': not"),
        ({"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE_OFF": "no_such_one"}, "unknown simulated behaviour"),
        ({"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE_PROFILE": "/nonexistent.json"}, "PROFILE"),
        ({"SANDBOXRES_TARGET": "aws", "SANDBOXRES_SIMULATE": "1"}, "never of real AWS"),
        ({"SANDBOXRES_TARGET": "simulated", "SANDBOXRES_SIMULATE": "0"}, "contradict"),
        ({"SANDBOXRES_TARGET": "simulate"}, "embedded, emulator, simulated, aws"),
        ({"SANDBOXRES_TARGET": "emulator", "SANDBOXRES_SIMULATE": "1"}, "needs an endpoint"),
    ],
)
def test_bad_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        resolve(**environ)


@pytest.mark.parametrize(
    "environ",
    [
        {"SANDBOXRES_SIMULATE": "maybe"},
        {"SANDBOXRES_SIMULATE": "1", "SANDBOXRES_SIMULATE_SEED": "x"},
        {"SANDBOXRES_SIMULATE": "1", "SANDBOXRES_SIMULATE_SPEED": "0"},
    ],
)
def test_bad_settings_stop_a_resource_before_any_call(
    counted: FaultProxy, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError), sandboxres.ephemeral_queue("never"):
        pass  # pragma: no cover
    assert all(simulator.upstream_url != counted.url for simulator in running_simulators())


def test_the_pytest_option_offers_simulated() -> None:
    assert "simulated" in TARGET_KINDS


# ---------------------------------------------------------------------------------------------------------
# lifecycles through the simulator


@pytest.fixture
def simulated(monkeypatch: pytest.MonkeyPatch) -> Target:
    """This process's target is ``simulated`` (the embedded emulator behind a simulator), seed 4321."""
    monkeypatch.setenv("SANDBOXRES_TARGET", "simulated")
    monkeypatch.setenv("SANDBOXRES_SIMULATE_SEED", "4321")
    return active_target()


def test_the_simulated_target_starts_a_simulator_in_front_of_the_embedded_emulator(simulated: Target) -> None:
    url = simulated.endpoints["dynamodb"]
    assert url is not None and set(simulated.endpoints.values()) == {url}
    assert set(simulated.upstream.values()) == {ensure_embedded()} and url != ensure_embedded()
    simulator = simulator_at(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    assert isinstance(simulator, Simulator) and simulator.seed == (worker_seed(4321, worker) if worker else 4321)
    assert simulator.upstream_url == ensure_embedded()
    assert active_target().endpoints == simulated.endpoints  # one simulator per process and settings
    assert describe_target().endpoints == simulated.endpoints


def test_each_kind_lives_and_dies_through_the_simulator(simulated: Target) -> None:
    proxy = proxy_of(simulated)
    with (
        sandboxres.ephemeral_table("sim") as table,
        sandboxres.ephemeral_bucket("sim") as bucket,
        sandboxres.ephemeral_queue("sim") as queue,
    ):
        table.table.put_item(Item={"pk": "a"})
        bucket.client.put_object(Bucket=bucket.name, Key="k", Body=b"v")
        queue.client.send_message(QueueUrl=queue.url, MessageBody="m")
    for service, operation, name in (
        ("dynamodb", "CreateTable", table.name),
        ("dynamodb", "PutItem", table.name),
        ("dynamodb", "DeleteTable", table.name),
        ("s3", "CreateBucket", bucket.name),
        ("s3", "PutObject", bucket.name),
        ("s3", "DeleteBucket", bucket.name),
        ("sqs", "CreateQueue", queue.name),
        ("sqs", "SendMessage", queue.name),
        ("sqs", "DeleteQueue", queue.name),
    ):
        assert proxy.seen(service, operation, name), f"the simulator did not see {operation} of {name}"
    held = Inventory(ensure_embedded()).snapshot()
    assert not {f"table us-east-1/{table.name}", f"bucket {bucket.name}", f"queue us-east-1/{queue.name}"} & held


async def test_the_async_api_goes_through_the_simulator_too(simulated: Target) -> None:
    proxy = proxy_of(simulated)
    async with sandboxres.aio.ephemeral_queue("simasync") as queue:
        await queue.client.send_message(QueueUrl=queue.url, MessageBody="m")
    assert next(r.operation for r in proxy.seen("sqs", resource=queue.name)) == "CreateQueue"
    assert proxy.seen("sqs", "DeleteQueue", queue.name)


def test_the_redirect_points_the_code_under_tests_clients_at_the_simulator(
    simulated: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOXRES_SIMULATE", "1")
    proxy = proxy_of(simulated)
    with sandboxres.redirect() as active, sandboxres.ephemeral_queue("redirected") as queue:
        assert os.environ["AWS_ENDPOINT_URL"] == simulated.endpoints["sqs"] == os.environ["AWS_ENDPOINT_URL_SQS"]
        assert "SANDBOXRES_SIMULATE" not in os.environ  # a child reaching the simulator adds no second one
        assert active.target.kind == resolve_target().kind == "simulated"  # the library sees through it
        before = proxy.count("sqs", "GetQueueAttributes", queue.name)
        boto3.client("sqs").get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])  # the user's own
        assert proxy.count("sqs", "GetQueueAttributes", queue.name) == before + 1
    assert os.environ["SANDBOXRES_SIMULATE"] == "1" and "AWS_ENDPOINT_URL" not in os.environ


def test_the_sweeper_works_through_the_simulator(simulated: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXRES_RUN_ID", "simulated-sweep")  # this test's resources alone
    proxy = proxy_of(simulated)
    with sandboxres.ephemeral_table("swept", keep=True) as table, sandboxres.ephemeral_queue("swept", keep=True):
        pass
    report = sandboxres.sweep(run_id="simulated-sweep", dry_run=False)
    assert report.ok and report.deleted == 2, report
    assert proxy.seen("dynamodb", "DeleteTable", table.name)
    assert f"table us-east-1/{table.name}" not in Inventory(ensure_embedded()).snapshot()


def test_simulate_puts_a_simulator_in_front_of_an_external_emulator(
    emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    monkeypatch.setenv("SANDBOXRES_SIMULATE", "1")
    target = active_target()
    assert target.kind == "simulated" and target.upstream_kind == "emulator"
    assert set(target.upstream.values()) == {emulator}
    url = target.endpoints["sqs"]
    assert url is not None and url != emulator
    proxy = proxy_of(target, "sqs")
    with sandboxres.ephemeral_queue("external") as queue:
        assert Inventory(emulator).snapshot(("queue",)) == {f"queue us-east-1/{queue.name}"}
    assert proxy.seen("sqs", "CreateQueue", queue.name) and proxy.seen("sqs", "DeleteQueue", queue.name)
    assert not Inventory(emulator).snapshot(("queue",))
    assert describe_target().describe()["upstream"] == {"kind": "emulator", "endpoints": dict(target.upstream)}


# ---------------------------------------------------------------------------------------------------------
# the command line


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXRES_TARGET", "simulated")
    monkeypatch.setenv("SANDBOXRES_SIMULATE_SEED", "2468")


def test_env_prints_the_seed_and_speed(seeded: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert "target:      simulated" in out
    assert "seed:        2468  (from SANDBOXRES_SIMULATE_SEED)" in out
    assert "speed:       20  (from default)" in out
    assert "replay:      SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED=2468" in out
    assert main(["env", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["simulation"]["seed"] == 2468 and data["upstream"]["kind"] == "embedded"


def test_check_and_doctor_print_the_seed(seeded: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "queue"]) == 0
    out = capsys.readouterr().out
    assert "target:   simulated" in out and "seed 2468 (SANDBOXRES_SIMULATE_SEED)" in out, out
    assert main(["doctor", "queue"]) == 0
    out = capsys.readouterr().out
    assert "simulator" in out and "seed 2468" in out, out


def test_check_says_how_to_replay_a_failure(
    seeded: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandboxres._doors.cli import check

    failed = check.KindResult("queue")
    monkeypatch.setattr(check, "check_kind", lambda kind: failed)
    assert main(["check", "queue"]) == 1
    assert "replay:   SANDBOXRES_TARGET=simulated SANDBOXRES_SIMULATE_SEED=2468 sandboxres check" in (
        capsys.readouterr().out
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served() -> Iterator[Callable[..., tuple[subprocess.Popen[str], list[str]]]]:
    processes: list[subprocess.Popen[str]] = []

    def start(*args: str, lines: int = 1, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
        process = subprocess.Popen(
            [*ENTRY, "emulator", "--simulate", *args],
            env=clean_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        out = [process.stdout.readline() for _ in range(lines)]
        assert out[-1], process.stderr.read() if process.stderr else ""
        return process, out

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_emulator_command_serves_the_simulator(served: Callable[..., Any]) -> None:
    _, (line,) = served("--json", SANDBOXRES_SIMULATE_SEED="77")
    data = json.loads(line)
    assert data["simulator"]["seed"] == 77 and data["simulator"]["speed"] == 20
    assert data["url"] == data["env"]["AWS_ENDPOINT_URL"] != data["simulator"]["upstream"]
    client = boto3.client(
        "sqs", endpoint_url=data["url"], region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )  # fmt: skip
    url = client.create_queue(QueueName="through-the-simulator")["QueueUrl"]
    assert url.endswith("through-the-simulator")
    assert Inventory(data["simulator"]["upstream"]).snapshot(("queue",)) == {"queue us-east-1/through-the-simulator"}


def test_the_emulator_command_serves_the_simulator_on_the_port_with_the_seed_printed(
    served: Callable[..., Any],
) -> None:
    port = _free_port()
    _, out = served("--port", str(port), lines=5, SANDBOXRES_SIMULATE_SEED="88", SANDBOXRES_SIMULATE_SPEED="10")
    assert out[0] == f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port}\n"
    assert out[-1] == "# sandboxres simulator: speed 10, seed 88\n"


def test_the_emulator_command_refuses_bad_settings_before_starting() -> None:
    done = subprocess.run(
        [*ENTRY, "emulator", "--simulate"],
        env=clean_env(SANDBOXRES_SIMULATE_SPEED="0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "SANDBOXRES_SIMULATE_SPEED='0'" in done.stderr and not done.stdout
