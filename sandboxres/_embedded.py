"""The embedded emulator: one moto server per process, on 127.0.0.1 and a free port, stopped at exit."""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

log = logging.getLogger("sandboxres")

_lock = threading.Lock()
_server: Any = None
_url: str | None = None


def embedded_url() -> str | None:
    """The URL of the embedded emulator if it runs in this process, else None."""
    return _url


def ensure_embedded() -> str:
    """Start the embedded emulator if needed and return its URL. Safe from any thread."""
    global _server, _url
    if _url is not None:
        return _url
    with _lock:
        if _url is None:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            from moto.server import ThreadedMotoServer

            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            _server, _url = server, f"http://{host}:{port}"
            atexit.register(stop_embedded)
            log.debug("embedded emulator listening on %s", _url)
    return _url


def stop_embedded() -> None:
    """Stop the embedded emulator if this process started it."""
    global _server, _url
    with _lock:
        server, _server, _url = _server, None, None
    if server is not None:
        server.stop()
