"""``sandboxres policy``: print the least-privilege IAM policy for a sandbox account (JSON).

Exit codes: 0 the policy was printed; 2 bad option (unknown service, prefix without the library's prefix,
malformed region or account).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sandboxres._kinds.bucket import BUCKET_PREFIX
from sandboxres._kinds.queue import QUEUE_PREFIX
from sandboxres._kinds.table import TABLE_PREFIX
from sandboxres._safety.iam_policy import PARTITIONS, POLICY_SERVICES, build_policy


def bucket_prefix_for(prefix: str) -> str:
    """The bucket prefix matching a table/queue prefix: lower case, ``_`` becomes ``-`` (S3 forbids ``_``)."""
    return prefix.lower().replace("_", "-")


def run(args: argparse.Namespace) -> int:
    table_prefix = args.table_prefix or args.prefix or TABLE_PREFIX
    queue_prefix = args.queue_prefix or args.prefix or QUEUE_PREFIX
    bucket_prefix = args.bucket_prefix or (bucket_prefix_for(args.prefix) if args.prefix else BUCKET_PREFIX)
    policy = build_policy(
        args.services or POLICY_SERVICES,
        table_prefix=table_prefix,
        bucket_prefix=bucket_prefix,
        queue_prefix=queue_prefix,
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
        f"tables {TABLE_PREFIX}* (with their indexes and streams), buckets {BUCKET_PREFIX}* and their objects, "
        f"queues {QUEUE_PREFIX}*. Listing actions, which AWS cannot scope to a resource, get a statement of "
        "their own. Exit codes: 0 printed, 2 bad option.",
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
        help=f"narrower name prefix for tables and queues, e.g. {TABLE_PREFIX}billing_ (must start with "
        f"{TABLE_PREFIX}); buckets get the same with '-' for '_' unless --bucket-prefix is given",
    )
    parser.add_argument("--table-prefix", help=f"table name prefix (default {TABLE_PREFIX})")
    parser.add_argument("--bucket-prefix", help=f"bucket name prefix (default {BUCKET_PREFIX})")
    parser.add_argument("--queue-prefix", help=f"queue name prefix (default {QUEUE_PREFIX})")
    parser.add_argument("--region", default="*", help="scope ARNs to one region (default *)")
    parser.add_argument("--account", default="*", help="scope ARNs to one 12-digit account id (default *)")
    parser.add_argument("--partition", default="aws", choices=PARTITIONS, help="ARN partition (default aws)")
    parser.add_argument("--compact", action="store_true", help="print the JSON on one line")
    parser.add_argument("--json", action="store_true", help="accepted for symmetry: the output is always JSON")
    parser.set_defaults(run=run)
