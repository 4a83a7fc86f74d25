"""What the real-AWS guards read from the environment, and the checks of those values that need no AWS call.

:class:`GuardSettings` holds the guard variables alone (which CI markers are set, whether CI is allowed, the
sandbox account ids, the endpoint variables set, the profile name), never a credential.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sandboxres._engine.errors import GuardError
from sandboxres._runtime.settings import ENDPOINT_VARIABLES

ACCOUNTS_VARIABLE = "SANDBOXRES_AWS_ACCOUNTS"
ALLOW_CI_VARIABLE = "SANDBOXRES_ALLOW_CI"
# Set (to a true value) by the common CI services; ``CI`` alone covers most of them.
CI_VARIABLES = (
    "CI",
    "CONTINUOUS_INTEGRATION",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CIRCLECI",
    "TRAVIS",
    "JENKINS_URL",
    "BUILDKITE",
    "TEAMCITY_VERSION",
    "TF_BUILD",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "DRONE",
    "APPVEYOR",
    "SEMAPHORE",
    "CIRRUS_CI",
    "HEROKU_TEST_RUN_ID",
)
_FALSE = {"", "0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on"}
_ACCOUNT_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class GuardSettings:
    """What the guards read from the environment: the guard variables only, never a credential."""

    ci_markers: tuple[str, ...]
    allow_ci: bool
    accounts: str
    endpoint_variables: tuple[str, ...]
    profile: str | None

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> GuardSettings:
        """The settings in ``environ`` (default: ``os.environ``)."""
        source = os.environ if environ is None else environ
        return cls(
            ci_markers=tuple(ci_markers(source)),
            allow_ci=(source.get(ALLOW_CI_VARIABLE) or "").strip().lower() in _TRUE,
            accounts=source.get(ACCOUNTS_VARIABLE, ""),
            endpoint_variables=tuple(name for name in ENDPOINT_VARIABLES if source.get(name)),
            profile=source.get("AWS_PROFILE"),
        )


def ci_markers(environ: Mapping[str, str]) -> list[str]:
    """The CI variables set to a true value in ``environ`` (``NAME=value``)."""
    return [
        f"{name}={environ[name]}" for name in CI_VARIABLES if (environ.get(name) or "").strip().lower() not in _FALSE
    ]


def allowed_accounts(raw: str) -> list[str]:
    """The account ids of ``SANDBOXRES_AWS_ACCOUNTS`` (its value ``raw``); GuardError when missing or malformed."""
    accounts = [part.strip() for part in raw.split(",") if part.strip()]
    if not accounts:
        raise GuardError(
            f"SANDBOXRES_TARGET=aws needs {ACCOUNTS_VARIABLE}: set it to the comma-separated 12-digit ids of the "
            "sandbox accounts these tests may create resources in (e.g. SANDBOXRES_AWS_ACCOUNTS=123456789012)"
        )
    bad = [account for account in accounts if not _ACCOUNT_RE.match(account)]
    if bad:
        raise GuardError(
            f"{ACCOUNTS_VARIABLE} contains {', '.join(repr(b) for b in bad)}, which is not a 12-digit account id: "
            "set it to a comma-separated list such as 123456789012,210987654321"
        )
    return accounts


def is_account_id(account: str) -> bool:
    """Whether ``account`` is an AWS account id (12 digits)."""
    return bool(_ACCOUNT_RE.match(account))
