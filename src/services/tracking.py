"""Tracking numbers: TKT-YYYYMMDD-XXXXXX, the date in the municipality's timezone."""

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo


def tracking_number(created_at: datetime, timezone: str) -> str:
    local = created_at.astimezone(ZoneInfo(timezone))
    return f"TKT-{local:%Y%m%d}-{secrets.token_hex(3).upper()}"
