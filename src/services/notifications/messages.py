"""Every text a notification or a notification page shows, as gettext message ids, rendered in
the recipient's language (src/core/i18n.py). Nothing here reads the database: the worker hands
in the values, and a sensitive (GBV) ticket's message never receives any of its words."""

from dataclasses import dataclass

from src.core.i18n import N_, translations
from src.models.enums import TicketStatus
from src.models.notification import SWITCHABLE_KINDS, NotificationKind

STATUS_LABELS: dict[TicketStatus, str] = {
    TicketStatus.OPEN: N_("Open"),
    TicketStatus.IN_PROGRESS: N_("In progress"),
    TicketStatus.ESCALATED: N_("Escalated"),
    TicketStatus.RESOLVED: N_("Resolved"),
    TicketStatus.CLOSED: N_("Closed"),
}

TEXTS: dict[NotificationKind, tuple[str, str]] = {
    NotificationKind.REPORT_RECEIVED: (
        N_("We have your report %(tracking_number)s"),
        N_(
            "Thank you for your report. Its number is %(tracking_number)s. We will tell you when its status "
            "changes.\n\nFollow it here: %(link)s"
        ),
    ),
    NotificationKind.STATUS_CHANGED: (
        N_("Report %(tracking_number)s: %(status)s"),
        N_("Report %(tracking_number)s is now: %(status)s.\n\nSee the details: %(link)s"),
    ),
    NotificationKind.RESOLVED: (
        N_("Report %(tracking_number)s has been resolved"),
        N_(
            "Report %(tracking_number)s has been resolved.\n\n%(public_note)s\n\nIf the problem is not fixed, "
            "you can reopen the report within 14 days: %(link)s"
        ),
    ),
    NotificationKind.MARKED_DUPLICATE: (
        N_("Report %(tracking_number)s joined an earlier report"),
        N_(
            "Report %(tracking_number)s is about the same problem as report %(original_tracking_number)s, so we "
            "will handle them together. From now on you will hear about %(original_tracking_number)s.\n\n"
            "See it here: %(link)s"
        ),
    ),
    NotificationKind.REOPENED: (
        N_("Report %(tracking_number)s has been reopened"),
        N_("Report %(tracking_number)s has been reopened and will be looked at again.\n\nSee the details: %(link)s"),
    ),
    NotificationKind.VERIFY_EMAIL: (
        N_("Confirm your e-mail address"),
        N_(
            "Welcome to Khanyisa. Please confirm your e-mail address by opening this link within 24 hours:\n\n"
            "%(link)s\n\nIf you did not create an account, you can ignore this message."
        ),
    ),
    NotificationKind.ACCOUNT_EXISTS: (
        N_("Someone tried to register with your e-mail address"),
        N_(
            "Someone tried to create a Khanyisa account with this e-mail address, which already has an account. "
            "If it was you, you can sign in, or choose a new password here:\n\n%(link)s\n\n"
            "If it was not you, you can ignore this message."
        ),
    ),
    NotificationKind.PASSWORD_RESET: (
        N_("Choose a new Khanyisa password"),
        N_(
            "To choose a new password, open this link within 30 minutes:\n\n%(link)s\n\n"
            "If you did not ask for this, you can ignore this message; your password stays the same."
        ),
    ),
}

# Any kind about a sensitive (GBV) ticket, on every channel: the tracking number and a link, nothing else.
SENSITIVE_TEXT = (
    N_("Update on report %(tracking_number)s"),
    N_("There is an update on report %(tracking_number)s. Please sign in to read it: %(link)s"),
)
FOOTER = N_("To stop e-mails like this one, open: %(unsubscribe_link)s")

# The pages of unsubscribing, confirming an address and choosing a new password.
UNSUBSCRIBED = N_("You will no longer receive these e-mails.")
LINK_INVALID = N_("This link is not valid or has expired.")
EMAIL_CONFIRMED = N_("Your e-mail address is confirmed.")
CHOOSE_PASSWORD = N_("Choose a new password")
NEW_PASSWORD = N_("New password")
SAVE_PASSWORD = N_("Save password")
PASSWORD_CHANGED = N_("Your password has been changed. Please sign in.")


@dataclass(frozen=True)
class Rendered:
    subject: str
    email_body: str
    sms_text: str


def gettext(language: str | None, msgid: str) -> str:
    return translations(language).gettext(msgid)


def status_label(language: str | None, status: str) -> str:
    return gettext(language, STATUS_LABELS[TicketStatus(status)])


def render(
    kind: NotificationKind,
    language: str | None,
    params: dict[str, str],
    *,
    sensitive: bool = False,
    unsubscribe_link: str | None = None,
) -> Rendered:
    """The subject, e-mail body (with the unsubscribe footer for a switchable kind) and SMS text.

    For a sensitive ticket only the tracking number and the link are used, whatever else is given.
    """
    t = translations(language)
    if sensitive:
        subject_id, body_id = SENSITIVE_TEXT
        params = {"tracking_number": params["tracking_number"], "link": params["link"]}
    else:
        subject_id, body_id = TEXTS[kind]
    subject = t.gettext(subject_id) % params
    body = t.gettext(body_id) % params
    if kind in SWITCHABLE_KINDS and unsubscribe_link:
        body += "\n\n" + t.gettext(FOOTER) % {"unsubscribe_link": unsubscribe_link}
    return Rendered(subject=subject, email_body=body, sms_text=f"{subject} {params['link']}")
