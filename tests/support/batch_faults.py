"""Faults for the batch helpers: a batch call answered with some entries left over, as AWS does when it throttles
part of a batch (BatchWriteItem's ``UnprocessedItems``, SendMessageBatch / DeleteMessageBatch ``Failed`` entries).

:class:`HoldBack` takes the last ``entries`` entries (all but one at most) out of the request before forwarding
it (so the emulator never sees them) and adds them to the answer as not processed: DynamoDB's
``UnprocessedItems``, or SQS ``Failed`` entries with ``SenderFault`` false (``code``, e.g. InternalError) or
true (a permanent failure). ``every=True``: every entry fails, answered without forwarding.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sandboxres._simulator import Fault, ProxyRequest, Reply, Trigger
from sandboxres._simulator.messages import AMZ_JSON, Action, ResetType, new_request_id


class HoldBack(Fault):
    def __init__(
        self, entries: int = 1, *, code: str = "InternalError", sender_fault: bool = False, every: bool = False
    ) -> None:
        self.entries, self.code, self.sender_fault, self.every = entries, code, sender_fault, every
        self._held: dict[int, list[Any]] = {}
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        return f"{self.entries} entries held back"

    def before(self, request: ProxyRequest, trigger: Trigger) -> Action:
        document = json.loads(request.body or b"{}")
        if self.every:  # every entry fails: answered here, nothing forwarded
            if request.service == "dynamodb":
                answer: dict[str, Any] = {"UnprocessedItems": document["RequestItems"]}
            else:
                answer = {"Successful": [], "Failed": [self._failure(entry) for entry in document["Entries"]]}
            body = json.dumps(answer).encode()
            headers = [("Content-Type", AMZ_JSON), ("x-amzn-RequestId", new_request_id())]
            return Reply(200, headers, body, "OK")
        if request.service == "dynamodb":
            (table, writes), *_ = document["RequestItems"].items()
            n = min(self.entries, len(writes) - 1)  # a batch keeps one entry: an empty one is refused
            held, document["RequestItems"][table] = (
                [(table, w) for w in writes[len(writes) - n :]],
                writes[: len(writes) - n],
            )
        else:
            entries = document["Entries"]
            n = min(self.entries, len(entries) - 1)
            held, document["Entries"] = entries[len(entries) - n :], entries[: len(entries) - n]
        request.body = json.dumps(document).encode()
        request.params = document
        with self._lock:
            self._held[id(request)] = held
        return None

    def after(self, request: ProxyRequest, reply: Reply, trigger: Trigger) -> Reply | ResetType:
        with self._lock:
            held = self._held.pop(id(request), [])
        document = reply.json()
        if document is None or not 200 <= reply.status < 300:
            return reply
        if request.service == "dynamodb":
            unprocessed: dict[str, list[Any]] = {}
            for table, write in held:
                unprocessed.setdefault(table, []).append(write)
            document["UnprocessedItems"] = unprocessed
        else:
            ids = {entry["Id"] for entry in held}
            document["Successful"] = [e for e in document.get("Successful", []) if e["Id"] not in ids]
            document["Failed"] = [self._failure(entry) for entry in held]
        return reply.with_json(document)

    def _failure(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {"Id": entry["Id"], "SenderFault": self.sender_fault, "Code": self.code, "Message": "held back"}
