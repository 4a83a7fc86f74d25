"""``sandboxres init``: scaffold the two environment files of a project and keep secrets out of git.

Writes ``.env.emulated`` (the emulator tier) and ``.env.integration`` (the sandbox AWS account tier) into the
current directory (or ``--dir``), creates a ``.secrets/`` folder for anything that must not be committed, and
adds the three to ``.gitignore`` once. An existing file is never overwritten without ``--force``; running it
again changes nothing.

Exit codes: 0 done (files written or left as they were); 2 the directory does not exist or cannot be written.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from sandboxres._engine.errors import ConfigurationError
from sandboxres._runtime.target import DEFAULT_REGION, EMBEDDED_CREDENTIALS

SECRETS_DIR = ".secrets"
GITIGNORE_HEADER = "# sandboxres: environment files and secrets stay out of git"

ENV_EMULATED = f"""\
# The emulator tier: every test runs against a local emulator, no AWS account involved.
# Use it with:  SANDBOXRES_ENV_FILE=.env.emulated pytest
# Start a shared emulator with `sandboxres emulator --port 4566` (or any emulator: see the documentation), or
# delete the AWS_ENDPOINT_URL line to let each test process start its own embedded emulator.
AWS_ENDPOINT_URL=http://127.0.0.1:4566
# Per-service endpoints override AWS_ENDPOINT_URL, for example one emulator per service:
# AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000
# AWS_ENDPOINT_URL_S3=http://127.0.0.1:4568
# AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324
# Dummy credentials: emulators accept any (s3rver wants S3RVER / S3RVER).
AWS_ACCESS_KEY_ID={EMBEDDED_CREDENTIALS[0]}
AWS_SECRET_ACCESS_KEY={EMBEDDED_CREDENTIALS[1]}
AWS_REGION={DEFAULT_REGION}
"""

ENV_INTEGRATION = f"""\
# The integration tier: a real, isolated sandbox AWS account (never production).
# Use it with:  SANDBOXRES_ENV_FILE=.env.integration pytest   and check it first with `sandboxres doctor`.
SANDBOXRES_TARGET=aws
# Comma-separated account ids that tests may use; anything else is refused before the first create.
SANDBOXRES_AWS_ACCOUNTS=
# Credentials come from a named profile, never from this file. Create the profile with
#   aws configure --profile sandboxres-sandbox
# or keep a credentials file in {SECRETS_DIR}/ (ignored by git) and point at it:
# AWS_SHARED_CREDENTIALS_FILE={SECRETS_DIR}/aws-credentials
AWS_PROFILE=sandboxres-sandbox
AWS_REGION={DEFAULT_REGION}
# Longer readiness deadlines for real AWS (seconds):
# SANDBOXRES_TABLE_TIMEOUT=300
"""

TEMPLATES = {".env.emulated": ENV_EMULATED, ".env.integration": ENV_INTEGRATION}
IGNORED = (*TEMPLATES, f"{SECRETS_DIR}/")


def write_template(path: Path, content: str, force: bool) -> str:
    """Write ``content`` to ``path``; return what happened: written, overwritten, unchanged or kept."""
    if path.exists():
        if path.read_text(encoding="utf-8") == content:
            return "unchanged"
        if not force:
            return "kept"
        path.write_text(content, encoding="utf-8")
        return "overwritten"
    path.write_text(content, encoding="utf-8")
    return "written"


def _ignored_lines(text: str) -> set[str]:
    return {line.strip().rstrip("/") for line in text.splitlines() if line.strip() and not line.startswith("#")}


def update_gitignore(path: Path) -> list[str]:
    """Append the entries of :data:`IGNORED` that ``path`` does not list yet; return the ones added."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    present = _ignored_lines(text)
    missing = [entry for entry in IGNORED if entry.rstrip("/") not in present]
    if not missing:
        return []
    block = "" if not text or text.endswith("\n") else "\n"
    if GITIGNORE_HEADER not in text:
        block += ("\n" if text else "") + GITIGNORE_HEADER + "\n"
    block += "".join(f"{entry}\n" for entry in missing)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(block)
    return missing


def scaffold(directory: Path, *, force: bool = False) -> dict[str, Any]:
    """Create the templates, the secrets folder and the .gitignore entries in ``directory``."""
    if not directory.is_dir():
        raise ConfigurationError(f"--dir {str(directory)!r} is not a directory: create it first")
    if not os.access(directory, os.W_OK):
        raise ConfigurationError(f"--dir {str(directory)!r} is not writable")
    files = {name: write_template(directory / name, content, force) for name, content in TEMPLATES.items()}
    secrets = directory / SECRETS_DIR
    secrets_action = "exists" if secrets.is_dir() else "created"
    secrets.mkdir(mode=0o700, exist_ok=True)
    added = update_gitignore(directory / ".gitignore")
    return {
        "dir": str(directory),
        "files": files,
        "secrets_dir": {SECRETS_DIR: secrets_action},
        "gitignore_added": added,
    }


_WORDS = {
    "written": "written",
    "overwritten": "overwritten (--force)",
    "unchanged": "already up to date",
    "kept": "exists and differs: kept (use --force to overwrite)",
    "created": "created",
    "exists": "exists",
}


def run(args: argparse.Namespace) -> int:
    result = scaffold(Path(args.dir), force=args.force)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, action in [*result["files"].items(), *result["secrets_dir"].items()]:
        print(f"{name:<18} {_WORDS[action]}")
    added = result["gitignore_added"]
    print(f"{'.gitignore':<18} " + (f"added {', '.join(added)}" if added else "already ignores them"))
    print("next: `SANDBOXRES_ENV_FILE=.env.emulated sandboxres doctor`, then fill in .env.integration")
    return 0


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "init",
        help="write .env.emulated and .env.integration templates and git-ignore them with a secrets folder",
        description="Scaffold .env.emulated (emulator tier) and .env.integration (sandbox AWS account tier), "
        f"create {SECRETS_DIR}/ and add all three to .gitignore once. Existing files are kept unless --force. "
        "Exit codes: 0 done, 2 the directory is missing or not writable.",
    )
    parser.add_argument("--dir", default=".", help="project directory (default: the current directory)")
    parser.add_argument("--force", action="store_true", help="overwrite templates that exist and differ")
    parser.add_argument("--json", action="store_true", help="report what was written or kept as JSON")
    parser.set_defaults(run=run)
