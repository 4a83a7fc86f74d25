"""Store uploads in S3 and announce each one on an SQS queue."""

from .notifier import Upload, UploadNotifier

__all__ = ["Upload", "UploadNotifier"]
