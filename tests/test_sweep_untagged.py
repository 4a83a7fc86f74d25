"""Untagged buckets of this library: a process killed between CreateBucket and its tagging, on an endpoint that
ignores tags in CreateBucket (moto; real S3 takes them in the create call), leaves a bucket without tags. The
sweeper finds those only on an explicit opt-in (``include_untagged=True`` / ``--include-untagged``), by the
library's exact name format and S3's creation date, lists them apart, and never touches look-alikes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sandboxres import SpecError, sweep
from sandboxres._kinds.bucket import BUCKET
from sandboxres._simulator import FaultProxy, HeldRequest, Rule
from tests.support.child_processes import child, child_env, script
from tests.support.inventory import Inventory
from tests.support.planted import make_bucket

ROOT = Path(__file__).resolve().parents[1]
AGE = 3.0  # S3 creation dates have whole seconds: ours are made older than this, the young one younger


@pytest.fixture
def emulator(emulator_target: str) -> str:
    """The module's moto server as the target (emptied around the test)."""
    return emulator_target


def test_exact_name_format() -> None:
    assert BUCKET.names.generated(BUCKET.new_name("uploads"))
    assert BUCKET.names.generated(BUCKET.new_name("x" * 80, scope="gw3"))
    for foreign in ("test-foo", "test-foo-0123456789abcde", "test-foo-0123456789ABCDEF", "testx-0123456789abcdef"):
        assert not BUCKET.names.generated(foreign), foreign


def test_untagged_buckets_only_on_opt_in_only_ours_only_old(emulator: str) -> None:
    ours = BUCKET.new_name("killed")
    make_bucket(emulator, ours)
    ours_made = time.time()  # ours was created before this (its creation date, in whole seconds, may be earlier)

    def limit() -> float:
        """An age limit that ``ours`` passes by half a second and ``young`` (made AGE + 2.1 s after ``ours``) does
        not, unless a sweep took over 3.5 s to read the dates (creation dates are truncated to whole seconds: a
        second off). Measured from when ``ours`` was made, not from before, so a slow first create cannot make it
        young."""
        return time.time() - ours_made - 0.5

    make_bucket(emulator, "test-foo")  # a foreign look-alike: prefix, no tags, not our format
    tagged_foreign = "test-other-0123456789abcdef"  # our format, but someone's tags
    make_bucket(emulator, tagged_foreign, {"owner": "someone"})
    time.sleep(max(0.0, ours_made + AGE + 2.1 - time.time()))
    young = BUCKET.new_name("young")  # ours by format, but could be a create in progress
    make_bucket(emulator, young)

    plain = sweep(older_than=limit(), kinds="bucket")
    assert plain.untagged == [] and plain.found == 0

    listed = sweep(older_than=limit(), kinds="bucket", include_untagged=True)
    assert [(r.name, r.status) for r in listed.untagged] == [(ours, "would delete")]
    assert listed.found == 0, "untagged buckets are listed apart"
    reasons = {i.name: i.reason for i in listed.ignored}
    assert "exact name format" in reasons["test-foo"] and "old" in reasons[young]
    assert ours in Inventory(emulator).buckets(), "a dry run deletes nothing"

    done = sweep(older_than=limit(), kinds="bucket", include_untagged=True, dry_run=False)
    assert [(r.name, r.status) for r in done.untagged] == [(ours, "deleted")] and done.ok
    assert Inventory(emulator).buckets() == {"test-foo", tagged_foreign, young}

    with pytest.raises(SpecError, match="older_than"):
        sweep(kinds="bucket", include_untagged=True)


def test_cli_lists_untagged_apart(emulator: str) -> None:
    ours = BUCKET.new_name("killed")
    make_bucket(emulator, ours)
    time.sleep(AGE + 1.1)
    args = [sys.executable, "-m", "sandboxres", "sweep", "--kind", "bucket", "--older-than", f"{AGE:g}s"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    without = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert ours not in without.stdout
    listed = subprocess.run([*args, "--include-untagged"], capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "untagged buckets" in listed.stdout and ours in listed.stdout
    assert ours in Inventory(emulator).buckets()


def test_bucket_killed_before_tagging_is_found_by_the_opt_in_sweep(
    emulator: str, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    """SIGKILL while the tagging (the readiness probe) is held: moto ignored the create-time tags, so the
    bucket is left untagged; the opt-in sweep finds and deletes it."""
    proxy = fault_proxy(emulator)
    hold = HeldRequest(30.0)
    proxy.add(Rule(hold, service="s3", operations="PutBucketTagging", times=1))
    with child([script("hold.py"), "--kinds", "bucket"], child_env(proxy.url)) as program:
        assert hold.started.wait(60), program.stderr
        program.send(signal.SIGKILL)
        program.finish()
    left = Inventory(emulator).buckets()
    assert len(left) == 1
    time.sleep(AGE + 1.1)
    report = sweep(older_than=f"{AGE:g}s", kinds="bucket", include_untagged=True, dry_run=False)
    assert [r.name for r in report.untagged] == sorted(left)
    assert not Inventory(emulator).buckets()
