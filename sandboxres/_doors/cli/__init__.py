"""The ``sandboxres`` command line. Each verb lives in a module of its own and registers itself here.

Exit codes: 0 success; 1 the verb ran and found a failure (a check failed, a sweep could not delete);
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

from sandboxres._doors.cli import check, doctor, emulator, env, init, policy, pool, sweep
from sandboxres._engine.errors import SandboxresError
from sandboxres._engine.redaction import install_log_redaction

VERBS = [check, env, doctor, emulator, policy, init, sweep, pool]
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _version() -> str:
    """The installed distribution's version, or the package's own when it runs from a source tree."""
    try:
        return metadata.version("sandboxres")
    except metadata.PackageNotFoundError:
        from sandboxres import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sandboxres",
        description="Throw-away AWS resources for integration tests: check, inspect and clean up.",
        epilog="Exit codes: 0 success, 1 failure found, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True
    for verb in VERBS:
        verb.register(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    install_log_redaction()  # every verb may log SDK records: redacted from the start
    try:
        return int(args.run(args))
    except SandboxresError as exc:
        print(f"sandboxres {args.verb}: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILED
    except KeyboardInterrupt:
        print(f"sandboxres {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
