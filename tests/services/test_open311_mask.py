"""What Open311 masks in a description before it leaves: e-mail addresses and phone numbers only."""

import pytest

from src.services.open311_service import mask


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Call 0821234567 please", "Call [phone removed] please"),
        ("Call 082 123 4567.", "Call [phone removed]."),
        ("Call 082-123-4567", "Call [phone removed]"),
        ("Office (012) 345 6789", "Office [phone removed]"),
        ("Cell +27 82 123 4567", "Cell [phone removed]"),
        ("Cell +27821234567, or mail a.b+c@mail.example.co.za", "Cell [phone removed], or mail [email removed]"),
        ("Since 2026-11-29 10:30 no water", "Since 2026-11-29 10:30 no water"),
        ("Same as TKT-20261129-3FA2C1", "Same as TKT-20261129-3FA2C1"),
        ("Meter 12345678901 at no. 4", "Meter 12345678901 at no. 4"),
        ("Pole 083 is down", "Pole 083 is down"),
    ],
)
def test_mask(text, expected):
    assert mask(text) == expected
