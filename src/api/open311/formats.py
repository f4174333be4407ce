"""Open311 answers in JSON or XML, errors included (`[{"code", "description"}]` or
`<errors><error>...`), with the specification's element names.

XML is only ever written here, with ElementTree; Open311 input is form data, and no XML from
outside is parsed anywhere.
"""

import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The element name of each item of a list, by the list's own element name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "errors": "error",
}


def format_of(path: str) -> str:
    """The format a path asks for by its suffix; JSON unless it ends in `.xml`."""
    return "xml" if path.lower().rstrip("/").endswith(".xml") else "json"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item = ITEM_NAMES[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def to_json(data: Any) -> bytes:
    return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":")).encode()


def render(fmt: str, root: str, data: Any, status: int = 200) -> Response:
    body = to_xml(root, data) if fmt == "xml" else to_json(data)
    return Response(body, status_code=status, media_type=FORMATS[fmt])


def error(fmt: str, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    response = render(fmt, "errors", [{"code": status, "description": description}], status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
