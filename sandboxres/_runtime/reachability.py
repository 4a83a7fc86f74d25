"""Whether an emulator still answers: one TCP connection attempt, nothing more (no request is sent)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def connection_error(url: str, *, timeout: float) -> OSError | None:
    """None when the server at ``url`` (``scheme://host:port``) accepts a TCP connection within ``timeout``
    seconds; otherwise the error that connecting raised. Without a port, the scheme's (443 for https, else 80);
    a URL without a host is tried on 127.0.0.1."""
    split = urlsplit(url)
    port = split.port or (443 if split.scheme == "https" else 80)
    try:
        socket.create_connection((split.hostname or "127.0.0.1", port), timeout=timeout).close()
    except OSError as exc:
        return exc
    return None
