"""SNS topics and the library's guarantees: bad input refused before any call, an emulator without SNS refused
before anything is registered, ``AWS_ENDPOINT_URL_SNS`` honoured, the ownership check before any deletion, the
sweeper removing a leftover topic (with its subscriptions) and nothing else, ``check`` and ``doctor``.

Everything runs against this module's moto server (reset around each test) over HTTP, most of it through a
fault proxy that records every request."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import sandboxres
import sandboxres.aio
from sandboxres import ConfigurationError, ForeignResourceError, SpecError, sweep
from sandboxres._doors.cli.check import check_kind
from sandboxres._doors.cli.doctor import diagnose
from sandboxres._runtime.clients import active_target, client_pool
from sandboxres._runtime.drivers import SyncDriver
from sandboxres._safety.ownership import delete_owned
from tests.support.inventory import raw_client
from tests.support.moto_server import reset
from tests.support.planted import library_tags

if TYPE_CHECKING:
    from sandboxres._simulator import FaultProxy

from sandboxres._kinds.topic import TOPIC

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def recorded(proxy: FaultProxy, upstream_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The module's moto server, emptied, behind the recording proxy: the target of this process."""
    reset(upstream_url)
    proxy.clear()
    point_at(monkeypatch, "AWS_ENDPOINT_URL", proxy.url)
    yield proxy
    proxy.clear()
    reset(upstream_url)


def point_at(monkeypatch: pytest.MonkeyPatch, variable: str, url: str) -> None:
    monkeypatch.setenv(variable, url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def topics(url: str) -> set[str]:
    pages = raw_client("sns", url).get_paginator("list_topics").paginate()
    return {topic["TopicArn"].rsplit(":", 1)[-1] for page in pages for topic in page.get("Topics", [])}


def plant_topic(url: str, name: str, tags: dict[str, str] | None = None) -> str:
    params: dict[str, Any] = {"Name": name}
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return str(raw_client("sns", url).create_topic(**params)["TopicArn"])


def now_tag() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"label": "!!!"}, "no letters or digits"),
        ({"fifo": "yes"}, "fifo must be True or False"),
        ({"ContentBasedDeduplication": "true"}, "for FIFO topics only"),
        ({"fifo": True, "ContentBasedDeduplication": "maybe"}, "'true' or 'false'"),
        ({"FifoTopic": "true"}, "use fifo=True"),
        ({"DisplayName": "x" * 101}, "at most 100"),
        ({"DeliveryPolicy": "{not json"}, "JSON object"),
        ({"SignatureVersion": "3"}, "one of 1, 2"),
        ({"DisplayNme": "x"}, "did you mean 'DisplayName'"),
        ({"DisplayName": 7}, "topic attributes are strings"),
        ({"SQSSuccessFeedbackSampleRate": "101"}, "0 to 100"),
        ({"HTTPFailureFeedbackRoleArn": "role"}, "IAM role ARN"),
        ({"timeout": -1}, "timeout"),
        ({"keep": "no"}, "keep must be"),
    ],
)
def test_bad_input_is_refused_before_any_call(recorded: FaultProxy, options: dict[str, Any], match: str) -> None:
    label = options.pop("label", "events")
    for api in (sandboxres, sandboxres.aio):
        with pytest.raises(SpecError, match=match):
            api.ephemeral_topic(label, **options)
    assert recorded.seen() == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_emulator_without_sns_is_refused_before_anything_is_sent(
    proxy: FaultProxy, upstream_url: str, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """An external emulator target that sets only other services' endpoints (local SQS, s3rver...) has no SNS."""
    proxy.clear()
    point_at(monkeypatch, "AWS_ENDPOINT_URL_SQS", proxy.url)
    before = sandboxres.STATS
    with pytest.raises(ConfigurationError, match=r"cannot create a topic: .*AWS_ENDPOINT_URL_SNS"):
        if mode == "sync":
            with sandboxres.ephemeral_topic("nosns"):
                pass
        else:

            async def enter() -> None:
                async with sandboxres.aio.ephemeral_topic("nosns"):
                    pass

            asyncio.run(enter())
    assert proxy.seen() == []
    assert sandboxres.STATS == before  # nothing registered, nothing counted as left behind
    with sandboxres.ephemeral_queue("stillserved") as q:  # the services it has still work
        assert q.name in {r.resource for r in proxy.seen("sqs")} or proxy.seen("sqs", "CreateQueue")
    proxy.clear()


def test_aws_endpoint_url_sns_is_honoured(
    proxy: FaultProxy, upstream_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset(upstream_url)
    proxy.clear()
    point_at(monkeypatch, "AWS_ENDPOINT_URL_SNS", proxy.url)
    target = active_target()
    assert target.kind == "emulator" and target.sources["endpoint:sns"] == "AWS_ENDPOINT_URL_SNS"
    with sandboxres.ephemeral_topic("routed") as t:
        assert t.name in topics(upstream_url)
    assert [r.operation for r in proxy.seen("sns", "CreateTopic")] == ["CreateTopic"]
    assert proxy.seen("sns", "DeleteTopic") and t.name not in topics(upstream_url)
    proxy.clear()


def test_delete_owned_refuses_a_topic_without_the_tags_before_any_delete_call(
    recorded: FaultProxy, upstream_url: str
) -> None:
    upstream = upstream_url
    plant_topic(upstream, "test_untagged")
    plant_topic(upstream, "testing_tagged", library_tags("r", now_tag()))
    ours = plant_topic(upstream, "test_ours", library_tags("r", now_tag()))
    raw_client("sns", upstream).subscribe(TopicArn=ours, Protocol="http", Endpoint="http://127.0.0.1:9/hook")
    driver = SyncDriver(client_pool(active_target()))

    with pytest.raises(SpecError, match="lacks the topic prefix"):
        driver.run(delete_owned(TOPIC, TOPIC.named("testing_tagged")))
    assert recorded.seen() == []  # refused by name: not even a read
    with pytest.raises(ForeignResourceError, match="sandboxres:managed=true"):
        driver.run(delete_owned(TOPIC, TOPIC.named("test_untagged")))
    assert [r.operation for r in recorded.seen("sns") if r.operation in ("DeleteTopic", "Unsubscribe")] == []
    assert {"test_untagged", "testing_tagged", "test_ours"} <= topics(upstream)

    # Known by name alone: the ARN is found by listing, the subscription deleted, then the topic.
    assert driver.run(delete_owned(TOPIC, TOPIC.named("test_ours"))) is True
    assert [r.operation for r in recorded.seen("sns") if r.operation in ("Unsubscribe", "DeleteTopic")] == [
        "Unsubscribe",
        "DeleteTopic",
    ]
    assert driver.run(delete_owned(TOPIC, TOPIC.named("test_ours"))) is False  # already gone
    assert "test_ours" not in topics(upstream)


def test_the_sweeper_removes_a_leftover_topic_with_its_subscriptions_and_nothing_else(
    upstream_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset(upstream_url)
    point_at(monkeypatch, "AWS_ENDPOINT_URL", upstream_url)
    lookalikes = {
        "test_untagged": None,
        "testing_tagged": library_tags("leftover", now_tag()),
        "Test_tagged": library_tags("leftover", now_tag()),
    }
    for name, tags in lookalikes.items():
        plant_topic(upstream_url, name, tags)
    monkeypatch.setenv("SANDBOXRES_RUN_ID", "leftover")
    with sandboxres.ephemeral_topic("left", keep=True) as t, sandboxres.ephemeral_topic("left", fifo=True, keep=True):
        raw_client("sns", upstream_url).subscribe(TopicArn=t.arn, Protocol="http", Endpoint="http://127.0.0.1:9/h")
    monkeypatch.delenv("SANDBOXRES_RUN_ID")
    assert len([name for name in topics(upstream_url) if name.startswith("test_left_")]) == 2

    found = sweep(run_id="leftover", dry_run=True, kinds=["topic"])
    assert found.found == 2 and {r.kind for r in found.resources} == {"topic"}, found.as_dict()
    report = sweep(run_id="leftover", dry_run=False)
    assert report.ok and report.deleted == 2, report.as_dict()
    assert topics(upstream_url) == set(lookalikes)
    left = raw_client("sns", upstream_url).list_subscriptions()["Subscriptions"]
    assert [s for s in left if s["TopicArn"] == t.arn] == []
    reset(upstream_url)


def test_check_and_doctor_cover_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    result = check_kind("topic")
    assert result.ok and result.name.startswith("test_check_") and result.delete_s is not None, result.as_dict()
    target, findings = diagnose(["topic"])
    assert target is not None and target.kind == "embedded"
    statuses = {f.check: f.status for f in findings}
    assert statuses["reachability sns"] == statuses["lifecycle topic"] == "ok", findings


def test_check_and_doctor_skip_topics_on_an_emulator_without_sns_unless_named(upstream_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOXRES_"))}
    env.update(
        AWS_ENDPOINT_URL_SQS=upstream_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        PYTHONPATH=str(ROOT),
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "sandboxres", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)

    done = cli("check", "queue", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    unnamed = cli("doctor", "--json", "--no-lifecycle")
    checks = {c["check"]: c for c in json.loads(unnamed.stdout)["checks"]}
    assert checks["reachability sns"]["status"] == "skipped"
    assert "AWS_ENDPOINT_URL_SNS" in checks["reachability sns"]["detail"]
    assert checks["reachability sqs"]["status"] == "ok"
    named = cli("check", "topic", "--json")
    assert named.returncode == 1
    results = json.loads(named.stdout)["results"]
    assert [r["kind"] for r in results] == ["topic"] and "AWS_ENDPOINT_URL_SNS" in results[0]["error"]


def test_fixtures_are_registered(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("sandboxres")
    for name in ("sandboxres_topic", "sandboxres_session_topic", "sandboxres_async_topic"):
        assert hasattr(plugin, name), name
    from sandboxres.pytest_plugin import async_topic_factory, async_topic_fixture, topic_factory, topic_fixture

    assert callable(topic_factory) and callable(topic_fixture)
    assert callable(async_topic_factory) and callable(async_topic_fixture)
    with pytest.raises(SpecError, match="did you mean 'fifo'"):
        topic_fixture("x", fifoo=True)
