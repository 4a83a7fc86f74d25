"""Resource names: turning a label into a valid, unique name under a kind's rules.

Each kind (``sandboxres._kinds``) describes its names with :class:`NameRules`: prefix, separator, maximum
length, the characters a label keeps, and the service's own validity check. Names are
``<prefix><label>[<sep><scope>]<sep><unique>[<suffix>]``; the unique part is 16 hex digits (64 random bits) and
is never shortened: a long label is cut instead.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sandboxres._engine.errors import SpecError

UNIQUE_HEX_DIGITS = 16


def fifo_name_problem(what: str, limit: int) -> Callable[[str], str | None]:
    """The name check of SQS queues and SNS topics (``what``): 1 to ``limit`` characters of A-Z a-z 0-9 _ -, and a
    FIFO one ends in ``.fifo``, counted in the limit."""
    allowed = re.compile(rf"^[A-Za-z0-9_-]{{1,{limit}}}$")

    def problem(name: str) -> str | None:
        base = name[: -len(".fifo")] if name.endswith(".fifo") else name
        if len(name) > limit or not allowed.match(base):
            return (
                f"must be 1-{limit} characters of A-Z a-z 0-9 _ - (a FIFO {what} ends in .fifo, counted in the {limit})"
            )
        return None

    return problem


@dataclass(frozen=True)
class NameRules:
    """How the names of one kind are made and checked."""

    kind: str
    prefix: str
    separator: str
    max_length: int
    problem: Callable[[str], str | None]  # why a name is not valid for the service, or None
    lower_case: bool = False  # labels are lower-cased (S3)

    def sanitize(self, label: str) -> str:
        """``label`` made to fit the character rules; SpecError when nothing usable is left."""
        if not isinstance(label, str):
            raise SpecError(f"label must be a string, got {type(label).__name__}")
        if self.lower_case:
            cleaned = re.sub(r"[^a-z0-9]+", self.separator, label.lower())
        else:
            cleaned = re.sub(r"[^A-Za-z0-9]+", self.separator, label)
        cleaned = cleaned.strip(self.separator)
        if not cleaned:
            raise SpecError(f"label {label!r} has no letters or digits; give a label such as 'users' or 'uploads'")
        return cleaned

    def make(self, label: str, *, suffix: str = "", unique: str | None = None, scope: str = "") -> str:
        """A valid, unique name. ``scope`` (a pytest-xdist worker id) goes between the label and the unique part."""
        unique = unique or unique_part()
        sep = self.separator
        cleaned = self.sanitize(label)
        scope_part = sep + self.sanitize(scope) if scope else ""
        room = self.max_length - (len(self.prefix) + len(scope_part) + len(sep) + len(unique) + len(suffix))
        middle = cleaned[:room].rstrip(sep + ".")  # a long label is cut; the scope and the unique part never are
        if not middle:
            raise SpecError(f"label {label!r} leaves no room for a {self.kind} name")
        name = f"{self.prefix}{middle}{scope_part}{sep}{unique}{suffix}"
        problem = self.problem(name)
        if problem:  # pragma: no cover - sanitising above guarantees validity; this guards future edits
            raise SpecError(f"{self.kind} name {name!r} {problem}")
        return name

    def owns(self, name: str) -> bool:
        """True when ``name`` carries this library's prefix for the kind (case-sensitive)."""
        return name.startswith(self.prefix)

    def generated(self, name: str) -> bool:
        """True when ``name`` has exactly the shape :meth:`make` gives (prefix, label and scope, the 16 hex
        digits), within the maximum length. Used to recognise our resources that lack tags."""
        sep = re.escape(self.separator)
        body = "[a-z0-9]" if self.lower_case else "[A-Za-z0-9]"
        shape = rf"{re.escape(self.prefix)}{body}(?:[{body[1:-1]}{sep}]*{body})?{sep}[0-9a-f]{{{UNIQUE_HEX_DIGITS}}}"
        return len(name) <= self.max_length and re.fullmatch(shape, name) is not None

    def check_own(self, name: str) -> None:
        """The deletion layer's first rule: never touch a name without this library's prefix."""
        if not self.owns(name):
            raise SpecError(f"refusing to delete {self.kind} {name!r}: it lacks the {self.kind} prefix of this library")


def unique_part() -> str:
    """64 random bits as 16 lowercase hex digits."""
    return secrets.token_hex(UNIQUE_HEX_DIGITS // 2)
