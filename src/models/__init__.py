from src.models.api_key import ApiKey
from src.models.base import Base
from src.models.calendar import BusinessHours, DeclaredHoliday
from src.models.municipality import Municipality
from src.models.notification import AccountToken, Notification, NotificationAttempt, NotificationPreference
from src.models.session import UserSession
from src.models.sla_policy import SlaPolicy
from src.models.team import Team, TeamWard
from src.models.ticket import NearbyRadius, Ticket, TicketEvent, TicketFollower, TicketPhoto
from src.models.user import Consent, User, UserRole
from src.models.ward import Ward

__all__ = [
    "AccountToken",
    "ApiKey",
    "Base",
    "BusinessHours",
    "Consent",
    "DeclaredHoliday",
    "Municipality",
    "NearbyRadius",
    "Notification",
    "NotificationAttempt",
    "NotificationPreference",
    "SlaPolicy",
    "Team",
    "TeamWard",
    "Ticket",
    "TicketEvent",
    "TicketFollower",
    "TicketPhoto",
    "User",
    "UserRole",
    "UserSession",
    "Ward",
]
