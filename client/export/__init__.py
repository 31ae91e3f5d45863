"""Exports: chosen events, provably in place, for someone outside the space
(docs/PROTOCOL.md "Exports").

Theory of operation. Every event has its own content key (§3.4), so a device can hand
out the keys of chosen events, say an agreement's history for a therapist, and nothing
that opens any other event. To show that nothing was cut out, reordered or slipped in
around the chosen events, the export carries the complete chain of every device that
wrote one of them, seq 1 to the head the exporter holds; the events that are not
revealed stay ciphertext the holder cannot open, but their signatures and hash links are
checkable. The exporter's device signs the whole document.

:func:`verify_export` needs no account, no relay and no key: it takes the file's bytes
(the JSON, or the HTML report that embeds it) and returns what it could verify, or a
list of findings, each a stable code, a sentence, and where in the file.
"""

from __future__ import annotations

from client.export import html as export_html
from client.export.build import build_export, choose_with_consent
from client.export.dating import ExportError
from client.export.format import (
    HTML_SCRIPT_CLOSE,
    HTML_SCRIPT_OPEN,
    ExportFinding,
    FindingCode,
    first_difference,
)
from client.export.verify import ChainSummary, RevealedEvent, VerifiedExport, verify_document

__all__ = [
    "ChainSummary",
    "ExportError",
    "ExportFinding",
    "FindingCode",
    "RevealedEvent",
    "VerifiedExport",
    "build_export",
    "choose_with_consent",
    "render_html",
    "verify_export",
]


# --- verifying -----------------------------------------------------------------------


def verify_export(data: bytes) -> tuple[VerifiedExport | None, list[ExportFinding]]:
    """Check an export file offline. Returns the verified content and no findings, or
    None and every finding; never raises on any input."""
    if data.startswith(b"{"):
        return verify_document(data)
    if _resaved_json(data):
        return None, [
            ExportFinding(
                FindingCode.NOT_CANONICAL,
                "The export starts with a byte-order mark or blank space: another program "
                "saved it again. Only the file exactly as Trellis wrote it can be checked.",
                "byte 0",
            )
        ]
    json_bytes = _embedded_json(data)
    if json_bytes is None:
        return None, [
            ExportFinding(
                FindingCode.NOT_AN_EXPORT,
                "This is neither a Trellis export's JSON nor its HTML report.",
                "file",
            )
        ]
    verified, findings = verify_document(json_bytes)
    if verified is None:
        return None, [
            ExportFinding(f.code, f.message, f"the report's embedded export: {f.where}")
            for f in findings
        ]
    expected = export_html.render_report(verified, json_bytes).encode("utf-8")
    if expected != data:
        return None, [
            ExportFinding(
                FindingCode.HTML_ALTERED,
                "The readable part of the report differs from what the signed data says.",
                _html_position(expected, data),
            )
        ]
    return verified, []


def render_html(export_json: bytes) -> str:
    """The printable report for a valid export (the JSON, or an HTML report's)."""
    json_bytes = export_json if export_json.startswith(b"{") else _embedded_json(export_json)
    if json_bytes is None:
        raise ExportError("This is not a Trellis export.")
    verified, findings = verify_document(json_bytes)
    if verified is None:
        first = findings[0]
        raise ExportError(f"The export does not verify: {first.message} ({first.where})")
    return export_html.render_report(verified, json_bytes)


_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = b" \t\r\n"


def _resaved_json(data: bytes) -> bool:
    """A JSON export behind a UTF-8 byte-order mark or JSON whitespace (docs/PROTOCOL.md
    "Exports", "Recognising a file"): the document, but not in its one encoding."""
    rest = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    return rest.lstrip(_JSON_WHITESPACE).startswith(b"{")


def _embedded_json(data: bytes) -> bytes | None:
    start = data.find(HTML_SCRIPT_OPEN)
    if start < 0:
        return None
    start += len(HTML_SCRIPT_OPEN)
    end = data.find(HTML_SCRIPT_CLOSE, start)
    return None if end < 0 else data[start:end]


def _html_position(expected: bytes, data: bytes) -> str:
    index = first_difference(expected, data)
    line = data.count(b"\n", 0, index) + 1
    column = index - (data.rfind(b"\n", 0, index) + 1) + 1
    return f"HTML line {line}, column {column}"
