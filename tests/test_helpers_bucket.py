"""``bucket.upload`` through both front doors, on a moto server behind a fault proxy: a directory tree, a mapping,
bad input refused before any call, and NoSuchBucket right after creation (AWS's eventual consistency) retried."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandboxres import SpecError
from sandboxres._simulator import FaultProxy, aws_error
from tests.support.runner import Runner


@pytest.fixture
def proxied(proxy: FaultProxy, emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    proxy.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    yield proxy
    proxy.clear()


def test_a_directory_is_uploaded_with_relative_keys(proxied: FaultProxy, run: Runner, tmp_path: Path) -> None:
    (tmp_path / "in" / "deep").mkdir(parents=True)
    (tmp_path / "in" / "deep" / "a.json").write_text('{"a": 1}')
    (tmp_path / "in" / "b.txt").write_bytes(b"b")
    (tmp_path / "top.csv").write_text("x,y")
    with run.lifecycle("bucket", f"upload-{run.mode}") as bucket:
        assert run.call(bucket.upload(tmp_path)) == ["in/b.txt", "in/deep/a.json", "top.csv"]
        assert run.call(bucket.upload(str(tmp_path / "in" / "deep"))) == ["a.json"]
        body = run.call(bucket.client.get_object(Bucket=bucket.name, Key="in/deep/a.json"))["Body"]
        assert run.call(body.read()) == b'{"a": 1}'
        listed = run.call(bucket.client.list_objects_v2(Bucket=bucket.name))["Contents"]
        assert sorted(o["Key"] for o in listed) == ["a.json", "in/b.txt", "in/deep/a.json", "top.csv"]


def test_a_mapping_is_uploaded_and_a_missing_bucket_retried(proxied: FaultProxy, run: Runner) -> None:
    with run.lifecycle("bucket", f"mapping-{run.mode}") as bucket:
        proxied.add(aws_error("s3", "PutObject", "NoSuchBucket", "The specified bucket does not exist", 404, times=2))
        assert run.call(bucket.upload({"k/1": b"\x00\x01", "k/0": "text"})) == ["k/0", "k/1"]
        assert proxied.count("s3", "PutObject") == 4
        body = run.call(bucket.client.get_object(Bucket=bucket.name, Key="k/0"))["Body"]
        assert run.call(body.read()) == b"text"


def test_bad_input_is_refused_before_any_call(proxied: FaultProxy, run: Runner, tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    with run.lifecycle("bucket", f"bad-{run.mode}") as bucket:
        proxied.clear_records()
        for bad, message in [
            (tmp_path / "missing", "does not exist"),
            (tmp_path / "file.txt", "not a directory"),
            ({"k": 1}, "bytes or str"),
            ({"": b"x"}, "non-empty str"),
            ({"k" * 1025: b"x"}, "1024 bytes"),
            (["k"], "a directory"),
        ]:
            with pytest.raises(SpecError, match=message):
                run.call(bucket.upload(bad))
        assert proxied.requests == []
        assert run.call(bucket.upload({})) == []
        assert proxied.requests == []


# ---------------------------------------------------------------------------------------------------------
# on the simulated target (every behaviour on: a new bucket invisible for a moment, throttling...)


def test_on_simulated_an_upload_right_after_the_bucket_is_handed_out_lands_whole(
    tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOXRES_TARGET", "simulated")
    monkeypatch.setenv("SANDBOXRES_SIMULATE_SEED", "11")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("x")
    with run.lifecycle("bucket", f"simulated-{run.mode}") as bucket:
        assert run.call(bucket.upload({f"m/{n}": str(n) for n in range(12)})) == sorted(f"m/{n}" for n in range(12))
        assert run.call(bucket.upload(tmp_path)) == ["d/x.txt"]
        listed = run.call(bucket.client.list_objects_v2(Bucket=bucket.name))["Contents"]
        assert len(listed) == 13
