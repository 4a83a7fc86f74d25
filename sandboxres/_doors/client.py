"""``sandboxres.client``: a boto3 client of one's own on the target in force, once the guards let it."""

from __future__ import annotations

from typing import Any

from sandboxres._runtime.clients import active_target, client_pool


def client(service: str, **overrides: Any) -> Any:
    """A boto3 client of ``service`` on the target in force, for code that wants one of its own.

    Same endpoint, region and credentials as the throw-away resources; the embedded emulator is started if it is
    the target, and on real AWS the safety guards run first. ``overrides`` go to ``session.client`` (a ``config``
    is merged into the library's: path-style S3 on emulators, explicit retries). The client is the caller's.
    """
    from sandboxres._safety.guards import check_target  # imported when first used: boto3 is not needed before

    target = active_target()
    check_target(target)
    return client_pool(target).new_client(service, **overrides)
