"""The tables. Import models from here; every table module registers on `Base`."""

from nurture.models.accounts import ApiKey, Role, User
from nurture.models.audit import AuditEntry
from nurture.models.base import Base, utcnow
from nurture.models.contacts import Company, Contact, LifecycleStage, SizeBand
from nurture.models.events import Event
from nurture.models.imports import ImportJob, ImportStatus
from nurture.models.segments import Segment, SegmentKind, SegmentMember, SegmentSizeHistory
from nurture.models.suppressions import Suppression, SuppressionReason

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Company",
    "Contact",
    "Event",
    "ImportJob",
    "ImportStatus",
    "LifecycleStage",
    "Role",
    "Segment",
    "SegmentKind",
    "SegmentMember",
    "SegmentSizeHistory",
    "SizeBand",
    "Suppression",
    "SuppressionReason",
    "User",
    "utcnow",
]
