"""An in-process moto server on a free 127.0.0.1 port, for tests that need a real HTTP endpoint."""

from __future__ import annotations

import urllib.request
from types import TracebackType

from moto.server import ThreadedMotoServer

__all__ = ["MotoServer", "start_moto_server"]


class MotoServer:
    """A started :class:`moto.server.ThreadedMotoServer`; ``url`` is its endpoint."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self._stopped = False

    def reset(self) -> None:
        """Forget every resource (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._server.stop()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_moto_server() -> MotoServer:
    """Start moto in this process (``ThreadedMotoServer(ip_address="127.0.0.1", port=0)``)."""
    return MotoServer()
