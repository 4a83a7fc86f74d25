"""The consumer's test as first written: the stream read once, right after the writes, from its first shard. It
passes on the emulators, whose streams hold the records at once in one shard. On AWS (and on
``SANDBOXRES_TARGET=simulated``) records appear after a short delay, and a stream's shards close and split, so the
read finds fewer records than were written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stream_consumer import TotalsConsumer

import sandboxres


def test_naive_orders_add_up_per_customer(orders: Any, consumer: TotalsConsumer) -> None:
    for order, customer, amount in (("o1", "ada", "10.50"), ("o2", "ada", "4.50"), ("o3", "bob", "7")):
        orders.table.put_item(Item={"order": order, "customer": customer, "amount": Decimal(amount)})

    streams = sandboxres.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=orders.stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=orders.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]

    assert consumer.apply(records) == 3
    assert consumer.total("ada") == (2, Decimal("15.00"))
