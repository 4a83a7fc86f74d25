"""MkDocs hook: show the Sphinx roles of docstrings (``:func:`x```, ``:class:`~a.B```) as plain code spans."""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj|const):<code>~?(?P<target>[^<]*)</code>")


def _code(match: re.Match[str]) -> str:
    target = match.group("target")
    # ``~a.b.C`` shows ``C`` (Sphinx's rule); a plain target is shown whole.
    shown = target.rsplit(".", 1)[-1] if match.group(0).find("<code>~") != -1 else target
    return f"<code>{shown}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_code, html)
