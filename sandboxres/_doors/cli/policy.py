"""``sandboxres policy``: print the least-privilege IAM policy for a sandbox account (JSON).

Exit codes: 0 the policy was printed; 2 bad option (unknown service, prefix without the library's prefix,
malformed region or account).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sandboxres._kinds import KINDS, AnyKind
from sandboxres._safety.iam_policy import PARTITIONS, POLICY_SERVICES, build_policy

_PREFIX = {name: kind.names.prefix for name, kind in KINDS.items()}


def prefix_for(kind: AnyKind, prefix: str) -> str:
    """``--prefix`` in the name format of ``kind``: lower case where its names are (S3), ``_`` replaced by its
    separator (``-`` for buckets; tables and queues take it as given)."""
    prefix = prefix.lower() if kind.names.lower_case else prefix
    return prefix.replace("_", kind.names.separator)


def run(args: argparse.Namespace) -> int:
    prefixes = {
        f"{name}_prefix": getattr(args, f"{name}_prefix") or (prefix_for(kind, args.prefix) if args.prefix else None)
        for name, kind in KINDS.items()
    }
    policy = build_policy(
        args.services or POLICY_SERVICES,
        **{key: value for key, value in prefixes.items() if value},
        partition=args.partition,
        region=args.region,
        account=args.account,
    )
    print(json.dumps(policy, indent=None if args.compact else 2))
    return 0


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "policy",
        help="print the least-privilege IAM policy for a sandbox account",
        description="Print an IAM policy (JSON) that allows exactly the actions this library performs, and the "
        "item, object and message operations tests perform, on resources named with the library's prefixes: "
        f"tables {_PREFIX['table']}* (with their indexes and streams), buckets {_PREFIX['bucket']}* and their "
        f"objects, queues {_PREFIX['queue']}*. Listing actions, which AWS cannot scope to a resource, get a "
        "statement of their own. Exit codes: 0 printed, 2 bad option.",
    )
    parser.add_argument(
        "--service",
        dest="services",
        action="append",
        choices=POLICY_SERVICES,
        help="include this service (repeatable; default: all of dynamodb, s3, sqs)",
    )
    parser.add_argument(
        "--prefix",
        help=f"narrower name prefix for tables and queues, e.g. {_PREFIX['table']}billing_ (must start with "
        f"{_PREFIX['table']}); buckets get the same with '-' for '_' unless --bucket-prefix is given",
    )
    for name, prefix in _PREFIX.items():
        parser.add_argument(f"--{name}-prefix", help=f"{name} name prefix (default {prefix})")
    parser.add_argument("--region", default="*", help="scope ARNs to one region (default *)")
    parser.add_argument("--account", default="*", help="scope ARNs to one 12-digit account id (default *)")
    parser.add_argument("--partition", default="aws", choices=PARTITIONS, help="ARN partition (default aws)")
    parser.add_argument("--compact", action="store_true", help="print the JSON on one line")
    parser.add_argument("--json", action="store_true", help="accepted for symmetry: the output is always JSON")
    parser.set_defaults(run=run)
