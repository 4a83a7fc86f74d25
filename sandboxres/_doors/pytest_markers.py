"""The pytest plugin's markers: ``sandboxres_aws_only`` (skip unless the target is real AWS) and
``sandboxres_emulator_only`` (skip unless it is an emulator, embedded, external or simulated). ``simulated`` counts
as an emulator: a test that needs a real account is marked ``sandboxres_aws_only`` and is skipped there too. Marked
tests are skipped at collection, so a skipped test never sets up its fixtures. The hooks are registered by
:mod:`sandboxres.pytest_plugin`.
"""

from __future__ import annotations

import pytest

from sandboxres._engine.errors import ConfigurationError
from sandboxres._runtime.target import resolve_target

AWS_ONLY = "sandboxres_aws_only"
EMULATOR_ONLY = "sandboxres_emulator_only"


def register_markers(config: pytest.Config) -> None:
    """Declare the two markers (``pytest --markers`` lists them; ``--strict-markers`` accepts them)."""
    config.addinivalue_line(
        "markers",
        f"{AWS_ONLY}(reason=None): run only when the sandboxres target is real AWS "
        "(behaviour emulators cannot show); skipped on the embedded, external and simulated emulators.",
    )
    config.addinivalue_line(
        "markers",
        f"{EMULATOR_ONLY}(reason=None): run only when the sandboxres target is an emulator (embedded, external or "
        "simulated); "
        "skipped on real AWS.",
    )


def _marker_skip(item: pytest.Item, kind: str) -> str | None:
    """Why ``item`` is skipped on a target of ``kind``, or None when it runs."""
    for name, runs, needs in ((AWS_ONLY, kind == "aws", "real AWS"), (EMULATOR_ONLY, kind != "aws", "an emulator")):
        marker = item.get_closest_marker(name)
        if marker is not None and not runs:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            return f"needs {needs}, the sandboxres target is {kind}" + (f": {reason}" if reason else "")
    return None


def _marker_misuse(item: pytest.Item) -> str | None:
    """What is wrong with the sandboxres markers of ``item`` (a keyword other than ``reason``...), or None."""
    for name in (AWS_ONLY, EMULATOR_ONLY):
        for marker in item.iter_markers(name):
            unknown = sorted(set(marker.kwargs) - {"reason"})
            if unknown:
                return f"{item.nodeid}: @pytest.mark.{name} takes reason= only, not {', '.join(unknown)}"
            if (
                len(marker.args) > 1
                or any(not isinstance(a, str) for a in marker.args)
                or (marker.args and "reason" in marker.kwargs)
            ):
                return f"{item.nodeid}: @pytest.mark.{name} takes one reason (a string), got {marker.args!r}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip marked tests at collection, so a skipped test never sets up its fixtures (and creates nothing)."""
    marked = [item for item in items if item.get_closest_marker(AWS_ONLY) or item.get_closest_marker(EMULATOR_ONLY)]
    if not marked:
        return
    for item in marked:
        problem = _marker_misuse(item)
        if problem is not None:
            raise pytest.UsageError(f"sandboxres: {problem}")
    try:
        kind = resolve_target().kind
    except ConfigurationError as exc:
        raise pytest.UsageError(
            f"sandboxres: cannot tell the target for the {AWS_ONLY} / {EMULATOR_ONLY} markers: {exc}"
        ) from None
    for item in marked:
        if item.get_closest_marker(AWS_ONLY) and item.get_closest_marker(EMULATOR_ONLY):
            item.warn(
                pytest.PytestWarning(
                    f"{item.nodeid} is marked both {AWS_ONLY} and {EMULATOR_ONLY}, so it is skipped on every "
                    "target: keep one of the two markers"
                )
            )
        reason = _marker_skip(item, kind)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
