"""The audit trail of writes: every service that changes data records who did what."""

import json
from typing import Any

from sqlalchemy.orm import Session

from app.core.auth import Principal
from app.core.context import current_request_id
from app.core.tables import AuditEntry


def record(
    session: Session,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction, so the trail commits with the change.

    Values are stored as JSON; `Decimal`, dates and instants are kept as their exact strings.
    """
    session.add(
        AuditEntry(
            api_key_id=actor.key_id,
            role=actor.role,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            request_id=current_request_id(),
            changes=json.loads(json.dumps(changes or {}, default=str)),
        )
    )
