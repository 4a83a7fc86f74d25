"""The policy of ``eventually``: retry an assertion while it fails with AssertionError, until it passes or the
deadline passes; then the last AssertionError, with a note saying how long and how many attempts.

Written once as tenacity arguments; the sync and async drivers (``sandboxres._doors.eventually``) hand them to
``tenacity.Retrying`` / ``tenacity.AsyncRetrying`` unchanged. The wait between attempts is a poll's (70 ms growing
by 10 %, capped at 2 s): an assertion that holds after T seconds is seen at most 10 % of T + 70 ms later. Any other
exception ends the retries at once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sandboxres._engine.steps import poll_wait

if TYPE_CHECKING:
    import tenacity


def note(exc: BaseException, waited: float, attempts: int) -> None:
    """Say on ``exc`` (the last failure) that ``eventually`` gave up, after how long and how many attempts."""
    text = (
        f"eventually: still failing after {waited:.1f} s and {attempts} attempt{'s' if attempts != 1 else ''}"
        " (raise timeout= or SANDBOXRES_HELPER_TIMEOUT if it needs longer)"
    )
    add_note = getattr(exc, "add_note", None)
    if add_note is not None:
        add_note(text)
    else:  # Python 3.10: no notes; the text goes with the message
        exc.args = (f"{exc.args[0] if exc.args else ''}\n{text}".lstrip("\n"), *exc.args[1:])


def retrying(deadline: float) -> dict[str, Any]:
    """tenacity arguments: retry AssertionError until ``deadline`` seconds passed, then re-raise the last one."""
    import tenacity

    started = time.monotonic()

    def give_up(state: tenacity.RetryCallState) -> Any:
        assert state.outcome is not None
        exc = state.outcome.exception()
        assert exc is not None
        note(exc, time.monotonic() - started, state.attempt_number)
        raise exc

    return {
        "retry": tenacity.retry_if_exception_type(AssertionError),
        "wait": poll_wait(),
        "stop": tenacity.stop_after_delay(deadline),
        "retry_error_callback": give_up,
    }
