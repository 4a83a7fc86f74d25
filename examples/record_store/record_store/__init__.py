"""A small record store on DynamoDB: records addressed by a composite key (partition, sort)."""

from .store import RecordExists, RecordNotFound, RecordStore

__all__ = ["RecordExists", "RecordNotFound", "RecordStore"]
