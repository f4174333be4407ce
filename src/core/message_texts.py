"""The texts of the messages people receive and of the pages those messages link to.

They are the message ids of the catalogues (src/core/i18n.py): whoever sends a message renders
`translations(language).gettext(TEXT) % params` with these exact English texts, so changing a
word here means updating the translations too (`make messages`). Status names inside messages
(`%(status)s`) are the status labels of the pages (src/web/formatting.py), translated the same way.
"""

from src.core.i18n import N_

# One report's progress: each kind of message has a subject (also the SMS, followed by the link) and a body.
REPORT_RECEIVED_SUBJECT = N_("We have your report %(tracking_number)s")
REPORT_RECEIVED_BODY = N_(
    "Thank you for your report. Its number is %(tracking_number)s. We will tell you when its status changes."
    "\n\nFollow it here: %(link)s"
)
STATUS_CHANGED_SUBJECT = N_("Report %(tracking_number)s: %(status)s")
STATUS_CHANGED_BODY = N_("Report %(tracking_number)s is now: %(status)s.\n\nSee the details: %(link)s")
RESOLVED_SUBJECT = N_("Report %(tracking_number)s has been resolved")
RESOLVED_BODY = N_(
    "Report %(tracking_number)s has been resolved.\n\n%(public_note)s\n\n"
    "If the problem is not fixed, you can reopen the report within 14 days: %(link)s"
)
MARKED_DUPLICATE_SUBJECT = N_("Report %(tracking_number)s joined an earlier report")
MARKED_DUPLICATE_BODY = N_(
    "Report %(tracking_number)s is about the same problem as report %(original_tracking_number)s, so we will handle "
    "them together. From now on you will hear about %(original_tracking_number)s.\n\nSee it here: %(link)s"
)
REOPENED_SUBJECT = N_("Report %(tracking_number)s has been reopened")
REOPENED_BODY = N_(
    "Report %(tracking_number)s has been reopened and will be looked at again.\n\nSee the details: %(link)s"
)

# Any message about a sensitive (GBV) report, whatever its kind: nothing of the report itself.
SENSITIVE_SUBJECT = N_("Update on report %(tracking_number)s")
SENSITIVE_BODY = N_("There is an update on report %(tracking_number)s. Please sign in to read it: %(link)s")

# Account messages (always by e-mail).
VERIFY_EMAIL_SUBJECT = N_("Confirm your e-mail address")
VERIFY_EMAIL_BODY = N_(
    "Welcome to Khanyisa. Please confirm your e-mail address by opening this link within 24 hours:\n\n%(link)s"
    "\n\nIf you did not create an account, you can ignore this message."
)
ACCOUNT_EXISTS_SUBJECT = N_("Someone tried to register with your e-mail address")
ACCOUNT_EXISTS_BODY = N_(
    "Someone tried to create a Khanyisa account with this e-mail address, which already has an account. "
    "If it was you, you can sign in, or choose a new password here:\n\n%(link)s"
    "\n\nIf it was not you, you can ignore this message."
)
PASSWORD_RESET_SUBJECT = N_("Choose a new Khanyisa password")
PASSWORD_RESET_BODY = N_(
    "To choose a new password, open this link within 30 minutes:\n\n%(link)s"
    "\n\nIf you did not ask for this, you can ignore this message; your password stays the same."
)

# The footer of every e-mail of a kind the recipient may switch off.
UNSUBSCRIBE_FOOTER = N_("To stop e-mails like this one, open: %(unsubscribe_link)s")

# The pages those messages lead to.
UNSUBSCRIBED = N_("You will no longer receive these e-mails.")
LINK_NOT_VALID = N_("This link is not valid or has expired.")
EMAIL_CONFIRMED = N_("Your e-mail address is confirmed.")
CHOOSE_NEW_PASSWORD = N_("Choose a new password")
NEW_PASSWORD = N_("New password")
SAVE_PASSWORD = N_("Save password")
PASSWORD_CHANGED = N_("Your password has been changed. Please sign in.")
