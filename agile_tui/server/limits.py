"""Limits that keep one participant (or one broken script) from hurting the hub: body size, ops per second,
concurrent streams. String lengths and batch sizes are checked by the request models and the domain's rules."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

MAX_BODY = 1 << 20  # bytes, for every request but sharing a room
MAX_ROOM_BODY = 16 << 20  # bytes, for POST /v1/rooms (a whole room)
MAX_BATCH = 100  # ops per POST
MAX_ARGS = 32 << 10  # bytes of one op's args, as JSON
MAX_WAIT = 30.0  # seconds a long-poll may wait


class BodyLimit:
    """ASGI middleware: a body over the limit gets 413, whether it says its length up front (refused before it is
    read) or streams it in chunks (read up to the limit, then refused). A body within the limit is passed on as
    read (these bodies are small, and the app reads them whole anyway)."""

    def __init__(self, app, max_body: int = MAX_BODY, max_room_body: int = MAX_ROOM_BODY) -> None:
        self.app = app
        self.max_body = max_body
        self.max_room_body = max_room_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.max_room_body if scope["path"].rstrip("/") == "/v1/rooms" else self.max_body
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await too_large(send, limit)
                    return
        chunks: list[dict] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            seen += len(message.get("body", b""))
            if seen > limit:
                await too_large(send, limit)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break

        async def replay():
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)


async def too_large(send, limit: int) -> None:
    body = json.dumps({"code": "too_large", "reason": f"The request body is over {limit} bytes."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Bucket:
    """A token bucket: ``rate`` per second, up to ``burst`` at once."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, n: float = 1.0) -> float:
        """Take ``n``; 0.0 when granted, else the seconds until they would be (nothing is taken then)."""
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if n <= self.tokens:
            self.tokens -= n
            return 0.0
        if n > self.burst:
            return math.inf
        return (n - self.tokens) / self.rate


class RateLimits:
    """Ops per second per participant (a batch of n ops counts n; a presence post counts 1)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: dict[str, Bucket] = {}

    def take(self, key: str, n: float = 1.0) -> float:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(self.rate, self.burst)
        return bucket.take(n)


class Streams:
    """Open SSE streams and long-polls per participant."""

    def __init__(self, per_participant: int) -> None:
        self.limit = per_participant
        self.open: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        if self.open.get(key, 0) >= self.limit:
            return False
        self.open[key] = self.open.get(key, 0) + 1
        return True

    def release(self, key: str) -> None:
        left = self.open.get(key, 0) - 1
        if left > 0:
            self.open[key] = left
        else:
            self.open.pop(key, None)

    def count(self, key: str) -> int:
        return self.open.get(key, 0)
