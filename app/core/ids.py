"""Opaque, time-ordered identifiers.

Ids are strings with a type prefix (`ctr_…`) so a misplaced id is obvious in logs, and they sort
by creation time (48-bit millisecond clock, then randomness, Crockford base 32 like ULID) so the
primary key doubles as a stable pagination order.
"""

import base64
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FROM_RFC_4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())
_DIGITS = 26
"""10 characters of clock (50 bits) and 16 of randomness (80 bits)."""


def _base32(value: int) -> str:
    """`value` (below 2**130) in `_DIGITS` Crockford digits, most significant first.

    The standard library's base 32 encodes 20 bytes (160 bits, 32 digits: the first six
    are the zero bits above 130) in C, and its digits map one to one onto Crockford's: an
    invoice run names thousands of invoices, and a digit at a time in Python cost a
    tenth of their insert."""
    encoded = base64.b32encode(value.to_bytes(20, "big"))[-_DIGITS:]
    return encoded.translate(_FROM_RFC_4648).decode()


def new_id(prefix: str) -> str:
    """A new id such as `ctr_01JD3Q8Z6K9V4W2X1Y0ZABCDEF`."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_base32(millis << 80 | secrets.randbits(80))}"
