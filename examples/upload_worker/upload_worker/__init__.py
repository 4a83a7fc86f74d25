"""CSV uploads summarised by a worker: S3 announces each upload to a queue, the worker counts its rows into a
DynamoDB table."""

from upload_worker.worker import Summary, UploadWorker

__all__ = ["Summary", "UploadWorker"]
