"""The audit log: who did what, when, to which entity-year (every upload and status change)."""

from __future__ import annotations

from pipeline.portal.models import AuditEvent


def audit(user: str, action: str, entity: str = "", year: int | None = None, upload=None, detail: str = "") -> None:
    AuditEvent.objects.create(
        username=user, action=action, entity=entity, year=year, upload=upload, detail=detail[:4000]
    )
