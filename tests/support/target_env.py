"""The target a test run was started with, for the tests that must hold on every target (the lifecycle tiers, the
pool isolation and pool shape tests): the embedded or a module's own moto server, third-party emulators
(dynalite, local-aws-sqs, s3rver) or a sandbox AWS account.

The suite's ``clean_env`` fixture clears ``AWS_*`` / ``SANDBOXRES_*`` for every test, so this module captures them
when it is first imported (at collection) in :data:`TARGET_ENV`; a test puts them back with :func:`restore`.
:data:`EXTERNAL` says whether the run was started with a target at all (an endpoint variable or
``SANDBOXRES_TARGET``); without one, the pool tests keep their own moto server.

A target that lacks a feature is declared by ``SANDBOXRES_EMULATOR_LACKS``, a comma-separated list of the names in
:data:`FEATURES` (the ``emulators`` session of ``noxfile.py`` sets it for each emulator): the tests needing that
feature are skipped with the reason (:func:`needs`, :func:`skip_reason`), and the pool observers leave out the reads
the target cannot answer (:func:`lacks`).
"""

from __future__ import annotations

import os

import pytest

from sandboxres._runtime.settings import ENDPOINT_VARIABLES

__all__ = ["EXTERNAL", "FEATURES", "LACKS", "TARGET_ENV", "lacks", "needs", "restore", "skip_reason"]

FEATURES = {
    "streams": "the target ignores StreamSpecification (no DynamoDB stream)",
    "ttl": "the target has no UpdateTimeToLive",
    "table_tags": "the target ignores Tags in CreateTable",
    "index_updates": "the target adds no global index through UpdateTable (GlobalSecondaryIndexUpdates)",
    "deletion_protection": "the target ignores DeletionProtectionEnabled (UpdateTable, DescribeTable)",
    "versioning": "the target has no bucket versioning",
    "bucket_tags": "the target has no bucket tagging",
    "bucket_policy": "the target has no bucket policy (PutBucketPolicy, GetBucketPolicy)",
    "bucket_lifecycle": "the target has no bucket lifecycle configuration",
    "multipart_listing": "the target cannot list multipart uploads",
}
LACKS = frozenset(part.strip() for part in os.environ.get("SANDBOXRES_EMULATOR_LACKS", "").split(",") if part.strip())
_unknown = LACKS - set(FEATURES)
if _unknown:
    raise ValueError(
        f"SANDBOXRES_EMULATOR_LACKS names unknown features {sorted(_unknown)}; known: {', '.join(FEATURES)}"
    )

TARGET_ENV = {
    name: value
    for name, value in os.environ.items()
    if name.startswith(("AWS_", "SANDBOXRES_")) or name in ENDPOINT_VARIABLES
}
EXTERNAL = "SANDBOXRES_TARGET" in TARGET_ENV or any(name in TARGET_ENV for name in ENDPOINT_VARIABLES)


def lacks(feature: str) -> bool:
    """Whether the target was declared to lack ``feature`` (one of :data:`FEATURES`)."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; known: {', '.join(FEATURES)}")
    return feature in LACKS


def skip_reason(feature: str) -> str:
    return f"SANDBOXRES_EMULATOR_LACKS={feature}: {FEATURES[feature]}"


def needs(feature: str) -> pytest.MarkDecorator:
    """Skip the test (with the reason) when the target lacks ``feature``."""
    return pytest.mark.skipif(lacks(feature), reason=skip_reason(feature))


def restore(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the target variables the run was started with back into the environment, for one test."""
    for name, value in TARGET_ENV.items():
        monkeypatch.setenv(name, value)
