"""Write a benchmark's results into its section of ``docs/performance.md``.

A section runs from its ``## <heading>`` line to the next ``## `` line; only its body is replaced, so the other
sections (and the heading itself) stay as they are. A missing page or section is created at the end.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def paragraph(text: str) -> str:
    """``text`` wrapped like the rest of the page (lines of at most 118 characters)."""
    return textwrap.fill(text, width=118, break_long_words=False, break_on_hyphens=False)


def write_section(heading: str, body: str, page: Path = PAGE) -> None:
    """Replace the body of the first section whose heading starts with ``heading`` (e.g. ``"Readiness"``)."""
    text = page.read_text() if page.exists() else "# Performance\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"## {heading}")), None)
    if start is None:
        lines += ["", f"## {heading}"]
        start = len(lines) - 1
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    new = [*lines[: start + 1], "", *body.strip("\n").splitlines(), *([""] if end < len(lines) else []), *lines[end:]]
    page.write_text("\n".join(new) + "\n")
