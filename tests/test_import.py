"""``import sandboxres`` is light and has no side effects: no asyncio, aioboto3, aiobotocore or moto until used,
no process-wide log record factory replaced, no exit hook registered. Checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sandboxres
import sandboxres.aio

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import atexit, json, logging, sys
import boto3  # what boto3 registers itself is not ours
registered = []
original = atexit.register
atexit.register = lambda f, *a, **k: (registered.append(getattr(f, "__qualname__", repr(f))), original(f, *a, **k))[1]
factory = logging.getLogRecordFactory()
import sandboxres
print(json.dumps({
    "modules": sorted(m for m in ("asyncio", "aioboto3", "aiobotocore", "moto") if m in sys.modules),
    "factory_replaced": logging.getLogRecordFactory() is not factory,
    "atexit": registered,
}))
"""


def test_import_is_light_and_has_no_side_effects() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=True, timeout=60
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["modules"] == [], f"imported before use: {seen['modules']}"
    assert not seen["factory_replaced"], "import replaced the process-wide LogRecordFactory"
    assert seen["atexit"] == [], f"import registered exit hooks: {seen['atexit']}"


def test_public_names_report_their_public_module() -> None:
    for name in ("ephemeral_table", "ephemeral_bucket", "ephemeral_queue"):
        assert getattr(sandboxres, name).__module__ == "sandboxres"
        assert getattr(sandboxres.aio, name).__module__ == "sandboxres.aio"
