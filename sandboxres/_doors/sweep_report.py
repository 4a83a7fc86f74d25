"""What a sweep reports (:class:`SweepReport`, public as ``sandboxres.SweepReport``), what it tells its
``progress`` callback, and the checks of its arguments (:func:`parse_age`, :func:`check_kinds`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, Literal

from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import SpecError
from sandboxres._kinds import KIND_NAMES

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGE_RE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")

Kind = str  # a name of sandboxres._kinds.KINDS: "table", "bucket", "queue", "topic"
Status = Literal["would delete", "deleted", "gone", "failed"]


@dataclass
class SweptResource:
    """One resource the sweep found (prefix, tags and filters matched) and what became of it."""

    kind: Kind
    name: str
    run_id: str
    created_at: str
    age_seconds: float
    status: Status = "would delete"
    error: str = ""
    untagged: bool = False  # an untagged bucket of our exact name format (``include_untagged``)


@dataclass
class Ignored:
    """A resource with the prefix that the sweep left alone, and why (no tags, too young, other run...)."""

    kind: Kind
    name: str
    reason: str


@dataclass
class SweepProgress:
    """Reported to the ``progress`` callback: ``phase`` is list, inspect or delete; ``done`` of ``total``."""

    phase: Literal["list", "inspect", "delete"]
    done: int
    total: int
    kind: Kind | None = None
    name: str = ""


@dataclass
class SweepReport:
    """The outcome of a sweep. ``found``: resources that matched; ``deleted`` / ``failed`` among them."""

    target: str
    dry_run: bool
    older_than_seconds: float | None
    run_id: str | None
    kinds: list[Kind]
    resources: list[SweptResource] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # listing or inspection failures (nothing deleted)
    untagged: list[SweptResource] = field(default_factory=list)  # include_untagged: listed apart

    @property
    def found(self) -> int:
        return len(self.resources)

    @property
    def deleted(self) -> int:
        return sum(1 for r in self.resources if r.status in ("deleted", "gone"))

    @property
    def failed(self) -> int:
        failures = sum(1 for r in [*self.resources, *self.untagged] if r.status == "failed")
        return failures + len(self.errors)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "dry_run": self.dry_run,
            "older_than_seconds": self.older_than_seconds,
            "run_id": self.run_id,
            "kinds": list(self.kinds),
            "summary": {
                "found": self.found,
                "deleted": self.deleted,
                "failed": self.failed,
                "ignored": len(self.ignored),
            },
            "resources": [asdict(r) for r in self.resources],
            "ignored": [asdict(i) for i in self.ignored],
            "errors": list(self.errors),
            "untagged": [asdict(r) for r in self.untagged],
        }


def parse_age(value: str | float | timedelta | None) -> float | None:
    """``"2h"``, ``"90m"``, ``"1h30m"``, ``"0s"``, ``"7d"``, ``"2w"``, a number of seconds or a timedelta ->
    seconds; None stays None. SpecError for anything else."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        elif text and _AGE_RE.sub("", text) == "":
            seconds = sum(float(number) * _UNITS[unit] for number, unit in _AGE_RE.findall(text))
        else:
            raise SpecError(
                f"older_than {value!r} is not an age: use a number with a unit s, m, h, d or w "
                "(e.g. 0s, 90m, 2h, 1h30m, 7d)"
            )
    else:
        raise SpecError(f"older_than must be a string such as '2h', seconds or a timedelta, got {value!r}")
    check_duration("older_than", seconds, allow_zero=True)  # NaN would select every resource
    return seconds


def check_kinds(kinds: Iterable[str] | None) -> list[Kind]:
    """The kinds named (every kind for None), each once; SpecError for an unknown one or none at all."""
    if kinds is None:
        return list(KIND_NAMES)
    if isinstance(kinds, str):
        kinds = [kinds]
    chosen = list(dict.fromkeys(kinds))
    unknown = [k for k in chosen if k not in KIND_NAMES]
    if unknown or not chosen:
        raise SpecError(f"kinds must be among {', '.join(KIND_NAMES)}, got {list(kinds)!r}")
    return chosen
