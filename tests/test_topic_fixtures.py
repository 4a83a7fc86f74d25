"""The topic fixtures of the pytest plugin, in a pytest run of its own (pytester, in a subprocess: its own embedded
emulator): the built-in factories (function, session, async) and the fixture functions of other scopes."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import json
import pytest
from sandboxres.pytest_plugin import topic_factory, topic_fixture, async_topic_fixture

module_topics = topic_factory(scope="module")
alerts = topic_fixture("alerts", scope="module", fifo=True)
async_alerts = async_topic_fixture("aalerts")
SEEN = {}


def names(client):
    pages = client.get_paginator("list_topics").paginate()
    return {t["TopicArn"].rsplit(":", 1)[-1] for page in pages for t in page["Topics"]}


def test_factories(sandboxres_topic, sandboxres_session_topic, module_topics, alerts):
    t = sandboxres_topic("events", DisplayName="Events")
    assert t.client.get_topic_attributes(TopicArn=t.arn)["Attributes"]["DisplayName"] == "Events"
    SEEN.update(short=t.name, session=sandboxres_session_topic("shared").name, module=module_topics("mod").name)
    assert alerts.name.endswith(".fifo")
    SEEN["client"] = t.client
    assert {t.name, SEEN["session"], SEEN["module"], alerts.name} <= names(t.client)


def test_after(sandboxres_session_topic):
    left = names(SEEN["client"])
    assert SEEN["short"] not in left and SEEN["session"] in left


@pytest.mark.asyncio
async def test_async(sandboxres_async_topic, async_alerts):
    t = await sandboxres_async_topic("aevents")
    answer = await t.client.publish(TopicArn=t.arn, Message="hi")
    assert answer["MessageId"] and type(t).__name__ == "AsyncTopicHandle"
    assert type(async_alerts).__name__ == "AsyncTopicHandle"


def test_last():
    with open("made.json", "w") as out:
        json.dump(sorted(names(SEEN["client"])), out)
"""


def test_topic_fixtures_in_a_pytest_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_topics=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    # At the last test only the session topic and the module-scoped ones (factory and single fixture) are left.
    left = json.loads((pytester.path / "made.json").read_text())
    assert len(left) == 3 and sum(name.startswith("test_alerts_") for name in left) == 1, left
    result.stdout.fnmatch_lines(["resources: 6 created, 6 deleted, 0 kept, 0 left behind"])
