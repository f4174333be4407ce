"""Structural rules from CONVENTIONS that a reviewer would otherwise have to re-check by hand."""

import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"

# Modules that may read tickets without a principal: the access policy itself (the one door) and
# the system jobs that work across tenants by design (the SLA sweep, demo seeding).
SYSTEM_MODULES = {"services/access.py", "services/escalation_service.py", "services/demo/seed_service.py"}
VISIBILITY_COLUMNS = {"is_sensitive", "reporter_id"}


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("models/"):
            continue
        yield rel, ast.parse(path.read_text(), filename=str(path))


def _outside_the_door(matches) -> list[str]:
    """Places in tenant-facing modules (not the access policy or the system jobs) where `matches(node)`."""
    return [
        f"{rel}:{node.lineno}"
        for rel, tree in _modules()
        if rel not in SYSTEM_MODULES
        for node in ast.walk(tree)
        if matches(node)
    ]


def test_only_the_access_policy_builds_ticket_visibility_filters():
    """Comparisons on Ticket.is_sensitive / Ticket.reporter_id decide visibility; they live in access.py."""
    offenders = _outside_the_door(
        lambda node: (
            isinstance(node, ast.Attribute)
            and node.attr in VISIBILITY_COLUMNS
            and isinstance(node.value, ast.Name)
            and node.value.id == "Ticket"
        )
    )
    assert offenders == []


def test_ticket_selects_start_from_the_access_policy():
    """`select(Ticket)` outside the access policy and system jobs would bypass the one door."""
    offenders = _outside_the_door(
        lambda node: (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "select"
            and any(isinstance(a, ast.Name) and a.id == "Ticket" for a in node.args)
        )
    )
    assert offenders == []


def test_no_naive_datetimes():
    offenders = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if (
                    node.func.attr in {"utcnow", "today"}
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "datetime"
                ):
                    offenders.append(f"{rel}:{node.lineno} datetime.{node.func.attr}()")
                is_sql = isinstance(node.func.value, ast.Name) and node.func.value.id == "func"
                if node.func.attr == "now" and not node.args and not node.keywords and not is_sql:
                    offenders.append(f"{rel}:{node.lineno} now() without a timezone")
    assert offenders == []


def test_no_xml_is_parsed_anywhere():
    """Open311 writes XML and never reads any: untrusted XML is a door to entity attacks."""
    parsers = {"fromstring", "parse", "iterparse", "XMLParser", "XMLPullParser", "XML", "fromstringlist"}
    offenders = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in parsers
                and isinstance(node.value, ast.Name)
                and node.value.id in {"ET", "ElementTree", "etree", "minidom", "expat"}
            ):
                offenders.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module and "xml" in node.module:
                offenders += [f"{rel}:{node.lineno}" for a in node.names if a.name in parsers]
    assert offenders == []
