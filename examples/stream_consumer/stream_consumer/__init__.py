"""A DynamoDB stream consumer: order records in, per-customer totals out."""

from stream_consumer.consumer import TotalsConsumer

__all__ = ["TotalsConsumer"]
