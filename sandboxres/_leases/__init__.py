"""Warm-pool leases: one DynamoDB table that records every resource a warm pool keeps between runs, and the plans
that lease, renew, release and forget them with conditional writes (no I/O here: the doors drive the plans)."""
