"""Notifications: the outbox, its attempts, residents' channel choices, account e-mail links.

Revision ID: 0013
Revises: 0010

* `notifications`: one row per message, person and channel, written in the transaction of the
  change it tells about (a ticket event, or an account link). It holds no text: the worker
  renders each message when it sends it. Unique per change, recipient and channel, so a change
  is never announced twice. `locked_until`/`claimed_by` are a worker's lease on the rows it
  claimed; a worker that dies leaves rows whose lease runs out and are claimed again.
* `notification_attempts`: every delivery attempt, its outcome and the class of its error.
* `notification_preferences`: a person's channels per kind of message (no row: e-mail).
* `account_tokens`: the single-use links of verification and password-reset e-mails; only a
  hash of each link's token is kept.
* `users.email_verified_at`: existing accounts (made by staff, the operator or the seed) count
  as verified, and so does any account made without saying otherwise; a resident's own
  registration is not verified until its link is opened.
* Row-level security: the tenant rule on every table; a notification about a ticket is also
  readable and writable only with its ticket (the visibility rule of access_rules.sql).
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"
KINDS = (
    "('report_received','status_changed','resolved','marked_duplicate','reopened',"
    "'verify_email','account_exists','password_reset')"
)
SWITCHABLE = "('report_received','status_changed','resolved','marked_duplicate','reopened')"
NEW_TABLES = ("account_tokens", "notifications", "notification_attempts", "notification_preferences")

UPGRADE = (
    f"""
ALTER TABLE users ADD COLUMN email_verified_at timestamptz DEFAULT now();

CREATE TABLE account_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  user_id uuid NOT NULL,
  purpose varchar(16) NOT NULL CHECK (purpose IN ('verify_email','password_reset')),
  token_hash varchar(64) NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (municipality_id, user_id) REFERENCES users(municipality_id, id)
);
CREATE INDEX ix_account_tokens_user ON account_tokens (user_id, purpose);

CREATE TABLE notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  recipient_id uuid NOT NULL,
  channel varchar(8) NOT NULL CHECK (channel IN ('email','sms')),
  kind varchar(24) NOT NULL CHECK (kind IN {KINDS}),
  ticket_id uuid,
  event_id bigint REFERENCES ticket_events(id),
  account_token_id uuid REFERENCES account_tokens(id),
  language varchar(2) NOT NULL CHECK (language IN ('en','zu','af')),
  status varchar(8) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
  attempts smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  claimed_by uuid,
  last_error varchar(64),
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (municipality_id, recipient_id) REFERENCES users(municipality_id, id),
  FOREIGN KEY (municipality_id, ticket_id) REFERENCES tickets(municipality_id, id),
  CONSTRAINT one_change CHECK ((event_id IS NULL) <> (account_token_id IS NULL)),
  CONSTRAINT ticket_with_event CHECK ((event_id IS NULL) = (ticket_id IS NULL)),
  CONSTRAINT uq_notifications_change UNIQUE NULLS NOT DISTINCT (event_id, account_token_id, recipient_id, channel)
);
-- The worker's queue: pending rows in the order they fall due.
CREATE INDEX ix_notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX ix_notifications_recipient ON notifications (recipient_id);

CREATE TABLE notification_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  notification_id bigint NOT NULL REFERENCES notifications(id),
  attempted_at timestamptz NOT NULL DEFAULT now(),
  outcome varchar(8) NOT NULL CHECK (outcome IN ('sent','retry','failed')),
  error_class varchar(64)
);
CREATE INDEX ix_notification_attempts_notification ON notification_attempts (notification_id);

CREATE TABLE notification_preferences (
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  user_id uuid NOT NULL,
  kind varchar(24) NOT NULL CHECK (kind IN {SWITCHABLE}),
  channels varchar(8)[] NOT NULL CHECK (channels <@ ARRAY['email','sms']::varchar[]),
  PRIMARY KEY (user_id, kind),
  FOREIGN KEY (municipality_id, user_id) REFERENCES users(municipality_id, id)
);

GRANT SELECT, INSERT ON notifications TO {APP_ROLE};
GRANT SELECT ON notification_attempts TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_preferences TO {APP_ROLE};
GRANT SELECT ON account_tokens TO {APP_ROLE};
"""
    + "\n".join(
        f"""ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON {t} USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());"""
        for t in NEW_TABLES
    )
    + """
-- A notification about a ticket is readable (and writable) exactly when its ticket is.
CREATE POLICY visibility ON notifications AS RESTRICTIVE USING (
  ticket_id IS NULL
  OR EXISTS (SELECT 1 FROM tickets t
             WHERE t.municipality_id = notifications.municipality_id AND t.id = notifications.ticket_id
               AND app_ticket_visible(t.municipality_id, t.is_sensitive, t.ward_id, t.reporter_id,
                                      t.assigned_team_id, t.assigned_to,
                                      (SELECT app_user_ward_id()), (SELECT app_user_team_id()))));
"""
)

DOWNGRADE = """
DROP TABLE IF EXISTS notification_attempts, notifications, notification_preferences, account_tokens;
ALTER TABLE users DROP COLUMN IF EXISTS email_verified_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
