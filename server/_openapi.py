"""The OpenAPI document (``/schema/openapi.json``), corrected where Litestar guesses.

Litestar describes a msgspec ``bytes`` field as a UTF-8 string whose length limits are
the byte limits. On the wire (docs/PROTOCOL.md §2.3) such a field is standard base64
with padding, so a 64-byte signature is 88 characters. ``correct_bytes_fields``
rewrites each of them after the document is built: contentEncoding base64, a pattern
that only padded base64 matches, and lengths in characters. A client generated from
the document then sends what the relay accepts, and schemathesis can hold the relay
to it (tests/relay_ops/test_openapi_contract.py).
"""

from __future__ import annotations

import html
import math
from typing import Any

import msgspec
import msgspec.inspect as mi
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Schema

from schemas import http

_B64 = "[A-Za-z0-9+/]"
_ANY_LENGTH = f"^(?:{_B64}{{4}})*(?:{_B64}{{2}}==|{_B64}{{3}}=)?$"
_TAIL = {0: "", 1: f"{_B64}{{2}}==", 2: f"{_B64}{{3}}="}

HTTP_BODIES = [
    obj
    for obj in vars(http).values()
    if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj.__module__ == http.__name__
]


def base64_bounds(min_bytes: int, max_bytes: int | None) -> tuple[str, int, int | None]:
    """(pattern, minLength, maxLength) of padded base64 for that many bytes.

    Exact sizes are exact. For a range, the lengths are conservative: every string that
    fits decodes to an allowed number of bytes."""
    if max_bytes is not None and min_bytes == max_bytes:
        full, rest = divmod(min_bytes, 3)
        pattern = f"^{_B64}{{{4 * full}}}{_TAIL[rest]}$"
        length = 4 * math.ceil(min_bytes / 3)
        return pattern, length, length
    min_chars = 4 * math.ceil((min_bytes + 2) / 3) if min_bytes else 0
    max_chars = None if max_bytes is None else 4 * (max_bytes // 3)
    return _ANY_LENGTH, min_chars, max_chars


def _bytes_type(info: Any) -> mi.BytesType | None:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info if isinstance(info, mi.BytesType) else None


def correct_bytes_fields(app: Litestar) -> None:
    """Rewrite every bytes field of the HTTP bodies in the app's OpenAPI components."""
    components = app.openapi_schema.components.schemas or {}
    for body in HTTP_BODIES:
        component = components.get(body.__name__)
        info = mi.type_info(body)
        if not isinstance(component, Schema) or not isinstance(info, mi.StructType):
            continue
        for field in info.fields:
            kind = _bytes_type(field.type)
            prop = (component.properties or {}).get(field.encode_name)
            if kind is None or not isinstance(prop, Schema):
                continue
            pattern, min_chars, max_chars = base64_bounds(kind.min_length or 0, kind.max_length)
            prop.content_encoding = "base64"
            prop.pattern = pattern
            prop.min_length = min_chars or None
            prop.max_length = max_chars


class SelfContainedPage(OpenAPIRenderPlugin):
    """``GET /schema``: a plain page listing the operations, with links to the document.

    Litestar's default pages (Scalar, Swagger UI, ReDoc...) load scripts, styles and a
    favicon from a CDN, so every visit would tell a third party who looked at the relay
    and run code the operator never chose. This page loads nothing from anywhere: no
    script, no style sheet, no image; only links to ``openapi.json`` and
    ``openapi.yaml`` on the relay itself."""

    def __init__(self) -> None:
        super().__init__(path="/", favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        rows = []
        for path, item in sorted(openapi_schema.get("paths", {}).items()):
            for method, operation in item.items():
                summary = operation.get("summary") or operation.get("description") or ""
                rows.append(
                    f"<tr><td>{html.escape(method.upper())}</td><td><code>"
                    f"{html.escape(path)}</code></td><td>{html.escape(summary)}</td></tr>"
                )
        title = html.escape(f"{info.get('title', '')} {info.get('version', '')}")
        page = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{title}</title></head><body><h1>{title}</h1>"
            "<p>The relay's HTTP API: <a href='/schema/openapi.json'>openapi.json</a> · "
            "<a href='/schema/openapi.yaml'>openapi.yaml</a>. The websocket protocol is "
            "docs/PROTOCOL.md.</p><table><tr><th>Method</th><th>Path</th><th>What it does"
            f"</th></tr>{''.join(rows)}</table></body></html>"
        )
        return page.encode()


def openapi_render_plugins() -> list[OpenAPIRenderPlugin]:
    """The page, the JSON and the YAML document; nothing that loads from elsewhere."""
    return [
        SelfContainedPage(),
        JsonRenderPlugin(path="/openapi.json"),
        YamlRenderPlugin(path="/openapi.yaml"),
    ]
