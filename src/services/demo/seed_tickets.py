"""Demo tickets: a year of reports whose every timestamp follows the lifecycle.

Each ticket is drawn once: when it arrived (more recent days, working hours and weekdays are
busier), what and where (skewed categories, dense wards), then how long the first response and
the resolution took, drawn around the SLA so that some breach it. Its status is where that
story stands today, including what the SLA sweep would have done (escalate a ticket still
open past its response deadline or unresolved past its resolution deadline, assigning the
team's manager, and log each breach once). The audit trail is then derived from those
timestamps in SQL (EVENTS_SQL), so the two always agree.
"""

import bisect
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from src.core import sealing
from src.services.business_clock import WorkingIndex
from src.services.demo import seed_data as D

HOUR = 3600.0
DAY = 86400.0
SWEEP_LAG = 60.0  # the sweep runs every minute: a breach is acted on a minute after the deadline
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RESPONSE_REASON = "No response before the response deadline"
RESOLUTION_REASON = "Resolution deadline passed"
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 8, 8, 7, 8, 8, 7, 6, 5, 4, 3, 3, 2, 2, 1]

COLUMNS = (
    "id",
    "municipality_id",
    "tracking_number",
    "category",
    "description",
    "severity",
    "status",
    "is_sensitive",
    "address",
    "latitude",
    "longitude",
    "ward_id",
    "reporter_id",
    "assigned_team_id",
    "assigned_to",
    "language",
    "created_at",
    "updated_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "escalated_at",
    "escalation_reason",
    "sla_response_deadline",
    "sla_resolution_deadline",
    "response_breach_logged_at",
    "resolution_breach_logged_at",
    "sla_clock",
)
TYPES = (
    "uuid",
    "uuid",
    "varchar",
    "varchar",
    "text",
    "varchar",
    "varchar",
    "bool",
    "varchar",
    "float8",
    "float8",
    "uuid",
    "uuid",
    "uuid",
    "uuid",
    "varchar",
    *(["timestamptz"] * 6),
    "text",
    *(["timestamptz"] * 4),
    "varchar",
)


@dataclass
class Place:
    """What the generator needs of a municipality (built by seed_service)."""

    id: uuid.UUID
    utc_offset: float  # seconds; the demo municipalities keep one offset all year
    wards: list[tuple[uuid.UUID, float, float]]  # id, west longitude, south latitude
    ward_weights: list[float]
    team_for: dict[tuple[str, int | None], uuid.UUID | None]  # (category, ward index) -> routed team
    manager_of: dict[uuid.UUID, uuid.UUID | None]  # team -> manager
    worker_of: dict[uuid.UUID, uuid.UUID]  # team -> a field worker
    residents: list[uuid.UUID]
    policy: dict[tuple[str, str], tuple[float, float, str]]  # (category, severity) -> hours and clock
    working: WorkingIndex | None = None  # the municipality's working time, for business-hours deadlines
    streets: list[str] = field(default_factory=list)
    suburbs: list[str] = field(default_factory=list)


class _Picker:
    """Weighted choice by bisection on cumulative weights (much faster than random.choices per draw)."""

    def __init__(self, items: Sequence, weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


CATEGORY = _Picker(list(D.CATEGORY_WEIGHTS), list(D.CATEGORY_WEIGHTS.values()))
SEVERITY = _Picker(list(D.SEVERITY_WEIGHTS), list(D.SEVERITY_WEIGHTS.values()))
LANGUAGE = _Picker(list(D.LANGUAGE_WEIGHTS), list(D.LANGUAGE_WEIGHTS.values()))
HOUR_OF_DAY = _Picker(range(24), HOUR_WEIGHTS)


def time_ordered_uuid(rng: random.Random, ts: float) -> uuid.UUID:
    """UUIDv7 layout (milliseconds first): new rows land at the end of the primary key."""
    value = (int(ts * 1000) & ((1 << 48) - 1)) << 80 | rng.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)


def arrival_times(rng: random.Random, count: int, now: float, utc_offset: float, days: int = 365) -> list[float]:
    """`count` report times over the last `days` days, sorted: growing volume, busy weekdays and hours."""
    today_start = math.floor((now + utc_offset) / DAY) * DAY - utc_offset
    out: list[float] = []
    while len(out) < count:
        back = rng.random() * days
        if rng.random() > 1.2 - 0.4 * back / days:  # about 1.5x more reports now than a year ago
            continue
        day_start = today_start - math.floor(back) * DAY
        weekday = int((day_start + utc_offset) // DAY + 3) % 7  # 1970-01-01 was a Thursday (3)
        if weekday >= 5 and rng.random() > 0.7:
            continue
        ts = day_start + (HOUR_OF_DAY(rng) + rng.random()) * HOUR
        if ts <= now:
            out.append(ts)
    out.sort()
    return out


def _describe(rng: random.Random, place: Place, category: str) -> tuple[str, str]:
    street, street2 = rng.choice(place.streets), rng.choice(place.streets)
    suburb = rng.choice(place.suburbs)
    number = str(rng.randint(1, 480))
    text = rng.choice(D.TEMPLATES[category]).format(
        street=street,
        street2=street2,
        suburb=suburb,
        landmark=rng.choice(D.LANDMARKS),
        when=rng.choice(D.WHEN),
        number=number,
    )
    return text, f"{number} {street}, {suburb}"


def _lognormal_hours(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma)) * HOUR


def tickets(rng: random.Random, place: Place, count: int, now: float, tracking_seen: set[str]) -> Iterator[tuple]:
    """COLUMNS-ordered rows for `count` tickets of `place`, oldest first."""
    ward_pick = _Picker(range(len(place.wards)), place.ward_weights)
    day_labels: dict[int, str] = {}
    at = EPOCH.__add__
    for c in arrival_times(rng, count, now, place.utc_offset):
        category, severity = CATEGORY(rng), SEVERITY(rng)
        gbv = category == "gbv"
        picked: int = ward_pick(rng)
        ward_index: int | None = picked
        lat = lon = None
        roll = rng.random()
        if gbv or roll < 0.04:  # no coordinates: the ward as reported, or none
            ward_index = ward_index if (gbv or roll < 0.02) else None
        else:
            _, west, south = place.wards[picked]
            lon = round(west + rng.random() * D.WARD_SIZE, 6)
            lat = round(south + rng.random() * D.WARD_SIZE, 6)
        ward_id = place.wards[ward_index][0] if ward_index is not None else None
        team = place.team_for.get((category, ward_index))
        text, address = _describe(rng, place, category)
        response_h, resolution_h, clock = place.policy[(category, severity)]
        age = now - c

        # How long things took (or would take), in seconds after the report.
        respond = _lognormal_hours(rng, 0.4 * response_h, 0.8)
        resolve = respond + _lognormal_hours(rng, 0.35 * resolution_h, 0.75)
        if rng.random() < 0.012:  # stuck: never resolved; some never even answered
            resolve = math.inf
            if rng.random() < 0.15:
                respond = math.inf
        duplicate = respond <= response_h * HOUR and rng.random() < 0.03  # closed straight from open
        if duplicate:
            resolve = respond
        close_after = _lognormal_hours(rng, 72, 0.6) if rng.random() < 0.85 else math.inf

        if clock == "business" and place.working is not None:
            response_due = place.working.add(c, response_h * HOUR) - c
            resolution_due = place.working.add(c, resolution_h * HOUR) - c
        else:
            response_due, resolution_due = response_h * HOUR, resolution_h * HOUR
        responded = respond <= age
        resolved = resolve <= age
        assigned_to = None
        events: list[float] = [0.0]
        escalated_at = escalation_reason = response_logged = resolution_logged = None
        # The sweep, a minute after each deadline, on a ticket still in the open set.
        if age >= response_due + SWEEP_LAG and respond > response_due and resolve > response_due + SWEEP_LAG:
            response_logged = response_due + SWEEP_LAG
            if respond > response_logged:  # still `open`: escalated to the team's manager
                escalated_at, escalation_reason = response_logged, RESPONSE_REASON
                assigned_to = place.manager_of.get(team) if team else None
            events.append(response_logged)
        if responded:
            events.append(respond)
            if team and rng.random() < 0.7:
                assigned_to = place.worker_of.get(team, assigned_to)
        if age >= resolution_due + SWEEP_LAG and resolve > resolution_due + SWEEP_LAG:
            resolution_logged = resolution_due + SWEEP_LAG
            if respond < resolution_logged:  # in progress then: escalated again, to the manager
                escalated_at, escalation_reason = resolution_logged, RESOLUTION_REASON
                assigned_to = place.manager_of.get(team, assigned_to) if team else assigned_to
            events.append(resolution_logged)
        closed_at: float | None = None
        if not responded:
            status = "escalated" if escalated_at is not None else "open"
        elif duplicate:
            status, closed_at = "closed", resolve
        elif not resolved:
            status = "escalated" if escalated_at is not None and escalated_at > respond else "in_progress"
        else:
            events.append(resolve)
            status = "resolved"
            if resolve + close_after <= age:
                status, closed_at = "closed", resolve + close_after
                events.append(closed_at)

        day = int((c + place.utc_offset) // DAY)
        label = day_labels.get(day)
        if label is None:
            label = day_labels[day] = (EPOCH + timedelta(days=day)).strftime("%Y%m%d")
        while True:
            tracking = f"TKT-{label}-{rng.getrandbits(24):06X}"
            if tracking not in tracking_seen:
                tracking_seen.add(tracking)
                break

        created = at(timedelta(seconds=c))

        def stamp(offset: float | None, c: float = c) -> datetime | None:
            return None if offset is None or offset == math.inf else at(timedelta(seconds=c + offset))

        yield (
            # GBV text is sealed as the service would seal it (random nonces: the plaintext is what repeats).
            time_ordered_uuid(rng, c),
            place.id,
            tracking,
            category,
            sealing.new_data_key().seal(text) if gbv else text,
            severity,
            status,
            gbv,
            None if gbv or rng.random() < 0.15 else address,
            lat,
            lon,
            ward_id,
            rng.choice(place.residents),
            team,
            assigned_to,
            LANGUAGE(rng),
            created,
            stamp(max(events)),
            stamp(respond) if responded else None,
            stamp(resolve) if resolved else None,
            stamp(closed_at),
            stamp(escalated_at),
            escalation_reason,
            stamp(response_due),
            stamp(resolution_due),
            stamp(response_logged),
            stamp(resolution_logged),
            clock,
        )


# The audit trail of each seeded ticket, from its timestamps (same rules as the generator above).
EVENTS_SQL = """
INSERT INTO ticket_events (municipality_id, ticket_id, actor_id, kind, data, created_at)
SELECT t.municipality_id, t.id, e.actor, e.kind, e.data, e.at
FROM tickets t
JOIN seed_managers sm ON sm.municipality_id = t.municipality_id
LEFT JOIN teams tm ON tm.municipality_id = t.municipality_id AND tm.id = t.assigned_team_id
CROSS JOIN LATERAL (
  SELECT v.* FROM (VALUES
    (t.created_at, 0, t.reporter_id, 'created', jsonb_build_object('category', t.category, 'severity', t.severity,
      'ward_id', t.ward_id, 'assigned_team_id', t.assigned_team_id)),
    (CASE WHEN t.response_breach_logged_at < coalesce(t.first_responded_at, 'infinity') THEN t.response_breach_logged_at END,
      1, NULL::uuid, 'escalated', jsonb_build_object('from', 'open', 'reason', %(response_reason)s::text, 'assigned_to', tm.manager_id)),
    (t.response_breach_logged_at, 2, NULL::uuid, 'sla_breached',
      jsonb_build_object('deadline', 'response', 'due', t.sla_response_deadline)),
    (t.first_responded_at, 3, coalesce(t.assigned_to, tm.manager_id, sm.manager_id), 'status_changed', jsonb_build_object(
      'from', CASE WHEN t.response_breach_logged_at < t.first_responded_at THEN 'escalated' ELSE 'open' END,
      'to', CASE WHEN t.status = 'closed' AND t.closed_at = t.first_responded_at THEN 'closed' ELSE 'in_progress' END,
      'note', NULL)),
    (CASE WHEN t.first_responded_at < t.resolution_breach_logged_at THEN t.resolution_breach_logged_at END,
      4, NULL::uuid, 'escalated', jsonb_build_object('from', 'in_progress', 'reason', %(resolution_reason)s::text,
      'assigned_to', tm.manager_id)),
    (t.resolution_breach_logged_at, 5, NULL::uuid, 'sla_breached',
      jsonb_build_object('deadline', 'resolution', 'due', t.sla_resolution_deadline)),
    (CASE WHEN t.resolved_at > t.first_responded_at THEN t.resolved_at END, 6,
      coalesce(t.assigned_to, tm.manager_id, sm.manager_id), 'status_changed', jsonb_build_object(
      'from', CASE WHEN t.first_responded_at < t.resolution_breach_logged_at THEN 'escalated' ELSE 'in_progress' END,
      'to', 'resolved', 'note', NULL)),
    (CASE WHEN t.closed_at > t.resolved_at THEN t.closed_at END, 7, coalesce(tm.manager_id, sm.manager_id),
      'status_changed', jsonb_build_object('from', 'resolved', 'to', 'closed', 'note', NULL))
  ) AS v(at, seq, actor, kind, data)
  WHERE v.at IS NOT NULL
  ORDER BY v.at, v.seq
) e
WHERE t.municipality_id = ANY(%(municipalities)s::uuid[])
"""
