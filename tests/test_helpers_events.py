"""The decoding of ``queue.events`` on the payload shapes AWS documents: the SNS notification envelope (Amazon SNS
Developer Guide, "Amazon SNS message and JSON formats"), the S3 event message and the ``s3:TestEvent`` message
(Amazon S3 User Guide, "Event message structure"). Pure: no server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandboxres._kinds.queue.events import decode_body, is_test_event

S3_EVENT: dict[str, Any] = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcI"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {
                    "name": "amzn-s3-demo-bucket",
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": "arn:aws:s3:::amzn-s3-demo-bucket",
                },
                "object": {
                    "key": "HappyFace.jpg",
                    "size": 1024,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                    "sequencer": "0055AED6DCD90281E5",
                },
            },
        }
    ]
}
TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2014-10-13T15:57:02.089Z",
    "Bucket": "amzn-s3-demo-bucket",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}


def envelope(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
            "Subject": "My First Message",
            "Message": message,
            "Timestamp": "2012-05-02T00:54:06.655Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLEw6JRN...",
            "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb.pem",
            "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn",
        }
    )


@pytest.mark.parametrize(
    ("body", "payloads"),
    [
        (envelope("Hello world!"), ["Hello world!"]),
        (envelope(json.dumps({"order": 7})), [{"order": 7}]),
        (json.dumps(S3_EVENT), S3_EVENT["Records"]),
        (json.dumps({"Records": S3_EVENT["Records"] * 2}), S3_EVENT["Records"] * 2),
        (envelope(json.dumps(S3_EVENT)), S3_EVENT["Records"]),  # S3 -> SNS -> SQS: unwrapped twice
        (json.dumps(TEST_EVENT), []),
        (envelope(json.dumps(TEST_EVENT)), []),
        (json.dumps({"Records": [{"eventSource": "aws:dynamodb"}]}), [{"Records": [{"eventSource": "aws:dynamodb"}]}]),
        (json.dumps({"Type": "Notification"}), [{"Type": "Notification"}]),  # not an envelope: no TopicArn
        (json.dumps([1, 2]), [[1, 2]]),
        ("plain text, not JSON", ["plain text, not JSON"]),
        ("42", [42]),
    ],
)
def test_bodies_decode_to_their_payloads(body: str, payloads: list[Any]) -> None:
    assert decode_body(body) == payloads


def test_the_test_event_is_recognised_by_service_and_event() -> None:
    assert is_test_event(TEST_EVENT)
    assert not is_test_event({**TEST_EVENT, "Service": "Someone else"})
    assert not is_test_event("s3:TestEvent")
