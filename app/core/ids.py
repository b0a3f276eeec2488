"""Opaque, time-ordered identifiers.

Ids are strings with a type prefix (`ctr_…`) so a misplaced id is obvious in logs, and they sort
by creation time (48-bit millisecond clock, then randomness, Crockford base 32 like ULID) so the
primary key doubles as a stable pagination order.
"""

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A new id such as `ctr_01JD3Q8Z6K9V4W2X1Y0ZABCDEF`."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"
