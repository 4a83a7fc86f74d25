"""The safety layer: what keeps a run from touching what is not its own, or leaving anything behind.

The real-AWS guards, the ownership check (prefix and tags) before deleting what this process did not create,
the IAM policy, the registry of live resources and the signal and exit hooks that delete them. Imports the
engine, the kinds and the runtime, never the front doors.
"""
