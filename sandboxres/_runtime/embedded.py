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

            _warm_moto_session()
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            _server, _url = server, f"http://{host}:{port}"
            atexit.register(stop_embedded)
            log.debug("embedded emulator listening on %s", _url)
    return _url


_PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_MOTO_PACKAGES = ("dynamodb", "dynamodbstreams", "s3", "sqs", "sts", "iam", "sns")


def _warm_moto_session() -> None:
    """Build moto's cached boto3 sessions (regions, service names) without the profile variables: an emulator needs no
    profile, and a profile the machine lacks would otherwise make every request of the emulator fail."""
    import os

    from moto.core.base_backend import AccountSpecificBackend
    from moto.core.utils import service_name_from_moto_package_name

    saved = {name: os.environ.pop(name) for name in _PROFILE_VARIABLES if name in os.environ}
    try:
        AccountSpecificBackend.get_session()
        for package in _MOTO_PACKAGES:  # cached per package; used when moto serialises an error
            service_name_from_moto_package_name(package)
    finally:
        os.environ.update(saved)


def stop_embedded() -> None:
    """Stop the embedded emulator if this process started it."""
    global _server, _url
    with _lock:
        server, _server, _url = _server, None, None
    if server is not None:
        server.stop()
