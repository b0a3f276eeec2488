"""Dashboard sign-in: a signed, HttpOnly, SameSite=Strict cookie bound to an API key.

The cookie holds the key's id, the sign-in time and an HMAC over both and the key's hash, so
it proves the holder pasted that very key; the key's secret never leaves the sign-in form.
Every page loads the key again: once it is revoked, the cookie no longer opens anything.
"""

import base64
import hashlib
import hmac
import time

from sqlalchemy.orm import Session

from app.core.auth import (
    PERSON_ROLES,
    Principal,
    active_key_by_id,
    find_active_key,
    principal_of,
)
from app.core.settings import Settings

COOKIE_NAME = "plancher_session"


def _mac(settings: Settings, key_id: str, issued: int, key_hash: str) -> str:
    message = f"{key_id}|{issued}|{key_hash}".encode()
    digest = hmac.new(settings.dashboard_secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_in(session: Session, settings: Settings, secret: str) -> str | None:
    """The cookie value for a pasted API key, or None if the key is unknown, revoked, or a
    machine's (`feed`)."""
    key = find_active_key(session, secret.strip())
    if key is None or key.role not in PERSON_ROLES:
        return None
    issued = int(time.time())
    return f"{key.id}.{issued}.{_mac(settings, key.id, issued, key.key_hash)}"


def principal_from_cookie(
    session: Session, settings: Settings, cookie: str | None
) -> Principal | None:
    """Who holds this cookie: None when it is missing, forged, expired or its key revoked."""
    key_id, _, rest = (cookie or "").partition(".")
    issued_text, _, mac = rest.partition(".")
    if not (key_id and issued_text.isdigit() and mac):
        return None
    issued = int(issued_text)
    if time.time() - issued > settings.dashboard_session_hours * 3600:
        return None
    key = active_key_by_id(session, key_id)
    if key is None or not hmac.compare_digest(mac, _mac(settings, key.id, issued, key.key_hash)):
        return None
    return principal_of(key)
