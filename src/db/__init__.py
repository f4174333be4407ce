"""Database objects declared once: functions, policies and trigger bodies that migrations apply."""
