"""The tables. Import models from here; every table module registers on `Base`."""

from nurture.models.accounts import ApiKey, Role, User, UserSession
from nurture.models.audit import AuditEntry
from nurture.models.base import Base, utcnow
from nurture.models.broadcasts import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    CapPolicy,
    RecipientPhase,
    RecipientState,
)
from nurture.models.captured_emails import CapturedEmail
from nurture.models.contacts import Company, Contact, LifecycleStage, SizeBand
from nurture.models.content import Article, CaseStudy, Service, Webinar
from nurture.models.email_messages import FINAL_STATUSES, EmailMessage, MessageStatus
from nurture.models.email_preferences import TopicOptOut
from nurture.models.email_templates import (
    EmailTemplate,
    EmailTemplateVariant,
    EmailTemplateVersion,
    TemplateKind,
)
from nurture.models.events import Event
from nurture.models.experiments import (
    AllocationMode,
    Experiment,
    ExperimentAllocation,
    ExperimentKind,
    ExperimentStatus,
    ExperimentVariant,
    Exposure,
    Metric,
)
from nurture.models.imports import ImportJob, ImportStatus
from nurture.models.predictive import FitStatus, PredictiveModel
from nurture.models.qualification import (
    Handoff,
    HandoffState,
    LifecycleChange,
    QualificationSettings,
    RoutingRule,
    SalesRep,
    SalesTeam,
    SalesTeamMember,
)
from nurture.models.rate_limits import RateCounter
from nurture.models.scoring import (
    BehaviourRule,
    FitRule,
    ScoreAdjustment,
    ScoreHistory,
    ScoringSettings,
)
from nurture.models.segments import Segment, SegmentKind, SegmentMember, SegmentSizeHistory
from nurture.models.sequences import (
    LIVE_ENROLMENT_STATES,
    Enrolment,
    EnrolmentState,
    Sequence,
    SequenceStatus,
    SequenceVersion,
    StepRun,
    Task,
    TaskOutcome,
)
from nurture.models.suppressions import Suppression, SuppressionReason
from nurture.models.webhooks import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionType,
)
from nurture.models.webinar_registrations import Attendance, WebinarRegistration

__all__ = [
    "FINAL_STATUSES",
    "LIVE_ENROLMENT_STATES",
    "AllocationMode",
    "ApiKey",
    "Article",
    "Attendance",
    "AuditEntry",
    "Base",
    "BehaviourRule",
    "Broadcast",
    "BroadcastRecipient",
    "BroadcastStatus",
    "CapPolicy",
    "CapturedEmail",
    "CaseStudy",
    "Company",
    "Contact",
    "DeliveryState",
    "EmailMessage",
    "EmailTemplate",
    "EmailTemplateVariant",
    "EmailTemplateVersion",
    "Enrolment",
    "EnrolmentState",
    "Event",
    "Experiment",
    "ExperimentAllocation",
    "ExperimentKind",
    "ExperimentStatus",
    "ExperimentVariant",
    "Exposure",
    "FitRule",
    "FitStatus",
    "Handoff",
    "HandoffState",
    "ImportJob",
    "ImportStatus",
    "LifecycleChange",
    "LifecycleStage",
    "MessageStatus",
    "Metric",
    "PredictiveModel",
    "QualificationSettings",
    "RateCounter",
    "RecipientPhase",
    "RecipientState",
    "Role",
    "RoutingRule",
    "SalesRep",
    "SalesTeam",
    "SalesTeamMember",
    "ScoreAdjustment",
    "ScoreHistory",
    "ScoringSettings",
    "Segment",
    "SegmentKind",
    "SegmentMember",
    "SegmentSizeHistory",
    "Sequence",
    "SequenceStatus",
    "SequenceVersion",
    "Service",
    "SizeBand",
    "StepRun",
    "Suppression",
    "SuppressionReason",
    "Task",
    "TaskOutcome",
    "TemplateKind",
    "TopicOptOut",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "WebhookSubscriptionType",
    "Webinar",
    "WebinarRegistration",
    "utcnow",
]
