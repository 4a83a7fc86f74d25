"""The policy assembled from the kinds' permissions is exactly the one recorded before they moved into the kinds:
every operation with the same permissions, and the same documents for every service choice, prefix and scope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandboxres._kinds import KINDS
from sandboxres._safety.iam_policy import OPERATIONS, POLICY_SERVICES, build_policy, resource_patterns

RECORDED = json.loads((Path(__file__).parent / "recorded" / "iam-policy.json").read_text())


def test_operations_are_the_recorded_ones() -> None:
    current = {f"{s} {o}": [[p.action, p.resource] for p in perms] for (s, o), perms in OPERATIONS.items()}
    assert current == RECORDED["operations"]


@pytest.mark.parametrize("case", RECORDED["policies"], ids=lambda case: json.dumps(case["arguments"]))
def test_policy_is_the_recorded_one(case: dict[str, Any]) -> None:
    arguments = dict(case["arguments"])
    services = arguments.pop("services")
    assert build_policy(services, **arguments) == case["policy"]


def test_each_kind_brings_its_operations_and_statements() -> None:
    assert POLICY_SERVICES == ("dynamodb", "s3", "sqs", "sns")
    for kind in KINDS.values():
        assert kind.operations and all(isinstance(key, tuple) and len(key) == 2 for key in kind.operations)
        sids = {sid for _arn_kind, sid in kind.policy.statements}
        policy = build_policy([kind.service])
        assert sids <= {statement["Sid"] for statement in policy["Statement"]}
    owners = [key for kind in KINDS.values() for key in kind.operations]
    assert len(owners) == len(set(owners)), "an operation belongs to one kind"
    assert set(OPERATIONS) == {*owners, ("sts", "GetCallerIdentity")}


def test_resource_patterns_default_to_each_kinds_prefix() -> None:
    patterns = resource_patterns()
    assert patterns["table"] == "arn:aws:dynamodb:*:*:table/test_*"
    assert patterns["object"] == "arn:aws:s3:::test-*/*"
    assert patterns["queue"] == "arn:aws:sqs:*:*:test_*"
    assert patterns["topic"] == "arn:aws:sns:*:*:test_*"  # type: ignore[index]
    assert patterns["*"] == "*"


def test_unknown_prefix_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="stream_prefix"):
        build_policy(stream_prefix="test_")
