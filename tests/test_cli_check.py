"""``sandboxres check`` and ``python -m sandboxres check``, run as real subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.inventory import InventoryAt

# Seconds long and not Python-version specific: the tests session runs it, the fast-3.X sessions do not.
pytestmark = pytest.mark.slow

SCRIPT = str(Path(sys.executable).with_name("sandboxres"))
SECRET = "cli/Secret+Access/Key/0123456789abcdef"
HANG_GUARD = 180  # seconds: only so that a hang fails the test instead of the whole run


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_on_embedded_with_the_script() -> None:
    result = _run(SCRIPT, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "target:   embedded" in out
    for kind, prefix in (("table", "test_check_"), ("bucket", "test-check-"), ("queue", "test_check_")):
        (line,) = [line for line in out.splitlines() if line.startswith(kind + " ")]
        assert prefix in line and line.rstrip().endswith("ok"), line
    assert "verdict:  OK" in out


def test_check_as_a_module_with_json() -> None:
    result = _run(sys.executable, "-m", "sandboxres", "check", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "ok"
    assert report["target"]["target"] == "embedded"
    assert [r["kind"] for r in report["results"]] == ["table", "bucket", "queue", "topic"]
    for r in report["results"]:
        assert r["ok"] is True and r["error"] == ""
        assert r["ready_s"] is not None and r["verify_s"] is not None and r["delete_s"] is not None


def test_check_on_a_separate_emulator_leaves_nothing(moto_server: str, inventory: InventoryAt) -> None:
    before = inventory(moto_server).snapshot()
    result = _run(
        sys.executable,
        "-m",
        "sandboxres",
        "check",
        "--json",
        AWS_ENDPOINT_URL=moto_server,
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY=SECRET,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["target"]["target"] == "emulator"
    assert report["target"]["endpoints"]["dynamodb"] == moto_server
    assert SECRET not in result.stdout + result.stderr
    assert "AKIAIOSFODNN7EXAMPLE" not in result.stdout + result.stderr
    assert inventory(moto_server).snapshot() == before


def test_check_fails_with_exit_1_when_the_target_is_unreachable() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = _run(
        SCRIPT,
        "check",
        AWS_ENDPOINT_URL=url,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        SANDBOXRES_TABLE_TIMEOUT="1",
        SANDBOXRES_BUCKET_TIMEOUT="1",
        SANDBOXRES_QUEUE_TIMEOUT="1",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "target:   emulator" in out and url in out
    for kind in ("table", "bucket", "queue"):
        (line,) = [line for line in out.splitlines() if line.startswith(kind + " ")]
        assert "FAILED" in line, line
    assert "verdict:  FAILED" in out
    assert SECRET not in out + result.stderr and "AKIAIOSFODNN7EXAMPLE" not in out + result.stderr
