"""A short-lived in-process cache of API key hash -> principal.

Every `/v1` request names its key; without a cache each one pays a query on the key table
(and, on the event loop, a thread hop to run it). A principal found active is kept for a few
seconds, so that a busy caller's requests are authenticated from memory.

How a revocation propagates: `auth.revoke_key` forgets the key in its own process at once and
again when its transaction commits. Another process — another server worker, or the server
when `plancher keys revoke` ran in its own process — keeps its cached principal until the entry
expires, so a revoked key may still be accepted there for at most the cache's lifetime
(`PLANCHER_API_KEY_CACHE_SECONDS`, 5 s by default; 0 turns the cache off). Only keys found active
are cached, never refusals: a key just created elsewhere works at once.
"""

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

ValueT = TypeVar("ValueT")


class ExpiringCache(Generic[ValueT]):
    """Entries that expire `seconds` after they were put; thread-safe (the endpoints' threads
    and the event loop share it). Its size is bounded by the keys that exist, since only
    active keys are put."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, ValueT]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> ValueT | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: str, value: ValueT) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.seconds, value)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
