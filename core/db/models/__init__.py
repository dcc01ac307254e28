"""Typed SQLAlchemy models for every table; Alembic migrations are generated from these."""

from core.db.models.base import Base
from core.db.models.capture import (
    CaptureCheckpoint,
    DiscordChannel,
    DiscordMessage,
    DiscordReaction,
)
from core.db.models.capture_live import CapturePendingChange, DiscordMemberEvent
from core.db.models.capture_unmapped import UnmappedChannelSeen
from core.db.models.governance import AuditLog, Consent, ExportJob, PanelUser
from core.db.models.interfaces import DiscordInterface, ManualInterface, PMInterface
from core.db.models.ml import Embedding, MLExperiment, MLModel, MLPrediction
from core.db.models.nda import (
    ActivityMetric,
    AssessmentCategory,
    AssessmentLayer,
    EnergyLossModel,
    EngagementScore,
    InterfaceAssessment,
    NDAReport,
    Outcome,
)
from core.db.models.nda_runs import NDARun, NDAWeekState
from core.db.models.organisation import (
    AcademicTerm,
    ChannelMapping,
    Identity,
    Person,
    Program,
    Project,
    Team,
    TeamMembership,
    University,
)
from core.db.models.pm import PMConnection, PMTask, PMTaskDependency, PMTaskEvent
from core.db.models.pm_identity import IdentitySuggestion, PMWebhookDelivery, PMWebhookSecret

__all__ = [
    "AcademicTerm",
    "ActivityMetric",
    "AssessmentCategory",
    "AssessmentLayer",
    "AuditLog",
    "Base",
    "CaptureCheckpoint",
    "CapturePendingChange",
    "ChannelMapping",
    "Consent",
    "DiscordChannel",
    "DiscordInterface",
    "DiscordMemberEvent",
    "DiscordMessage",
    "DiscordReaction",
    "Embedding",
    "EnergyLossModel",
    "EngagementScore",
    "ExportJob",
    "Identity",
    "IdentitySuggestion",
    "InterfaceAssessment",
    "MLExperiment",
    "MLModel",
    "MLPrediction",
    "ManualInterface",
    "NDAReport",
    "NDARun",
    "NDAWeekState",
    "Outcome",
    "PMConnection",
    "PMInterface",
    "PMTask",
    "PMTaskDependency",
    "PMTaskEvent",
    "PMWebhookDelivery",
    "PMWebhookSecret",
    "PanelUser",
    "Person",
    "Program",
    "Project",
    "Team",
    "TeamMembership",
    "University",
    "UnmappedChannelSeen",
]
