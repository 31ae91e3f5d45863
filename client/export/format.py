"""The export document: its JSON shape, its one valid encoding, and what the exporter
signs (docs/PROTOCOL.md "Exports").

An export is one JSON object. Only one byte sequence encodes a given document (the
canonical form below), and the exporter's signature covers every field but itself, so
any edited byte either stops the document from parsing, makes it non-canonical, or
changes a value that a check or the signature covers.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Final, Literal

import msgspec

from client.export.first_page_doc import FirstPage

FORMAT_NAME: Final = "trellis-export"
FORMAT_VERSION: Final = 2
"""What this app writes: version 2 adds the first page's ``summary``."""
READ_VERSIONS: Final = (1, 2)
"""What it reads: a version-1 export still verifies and renders as it always did."""
EXPORT_CONTEXT = "trellis-export-v1"
"""Domain string of the exporter's signature, so it can never be mistaken for a
signature over anything else a device signs."""

MAX_EXPORT_TITLE_CHARS = 300
"""Room for an agreement's title (up to 200 characters) with a few words around it."""

HTML_SCRIPT_OPEN = b'<script type="application/json" id="trellis-export">'
HTML_SCRIPT_CLOSE = b"</script>"

_Hex16 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32}$")]
_Hex32 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
_Hex64 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{128}$")]
_Count = Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
_Millis = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
_Title = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EXPORT_TITLE_CHARS)]


class ExportHead(msgspec.Struct):
    """Read first, leniently, so a newer format is reported as such and not as damage."""

    format: str
    version: int


class ChainDoc(msgspec.Struct, forbid_unknown_fields=True):
    """One author device's envelopes from seq 1 to ``head_seq``, in order."""

    device: _Hex32
    head_seq: _Count
    head_id: _Hex32
    envelopes: Annotated[list[str], msgspec.Meta(min_length=1)]
    """Canonical envelope bytes (docs/PROTOCOL.md §4.1), standard padded base64."""


class RevealedDoc(msgspec.Struct, forbid_unknown_fields=True):
    event_id: _Hex32
    content_key: _Hex32


class ExportDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Field order is the order of the encoding: never reorder.

    Unknown fields are refused (unlike the wire messages, which may grow): a field the
    signature does not cover would be a place where an edit goes unnoticed. A new
    field means a new ``version``: ``summary`` is version 2's, required there and
    refused in version 1 (:func:`parse_document`), so a version-1 document encodes
    exactly as it always did.
    """

    format: Literal["trellis-export"]
    version: Literal[1, 2]
    space_id: _Hex16
    title: _Title
    created_at: _Millis
    exporter: _Hex32
    summary: FirstPage | None = None
    """The first page (client/export/first_page.py), from the revealed events: the
    verifier computes it again and requires it equal (``summary_mismatch``)."""
    chains: Annotated[list[ChainDoc], msgspec.Meta(min_length=1)]
    revealed: Annotated[list[RevealedDoc], msgspec.Meta(min_length=1)]
    """Event ids and content keys of the events the holder may read, in causal order."""
    signature: _Hex64


class FindingCode(StrEnum):
    """Stable codes of export findings (docs/PROTOCOL.md "Exports"); never renamed."""

    NOT_JSON = "not_json"
    NOT_AN_EXPORT = "not_an_export"
    UNSUPPORTED_VERSION = "unsupported_version"
    BAD_DOCUMENT = "bad_document"
    NOT_CANONICAL = "not_canonical"
    BAD_ENVELOPE = "bad_envelope"
    WRONG_SPACE = "wrong_space"
    WRONG_AUTHOR = "wrong_author"
    BAD_SIGNATURE = "bad_signature"
    CHAIN_GAP = "chain_gap"
    CHAIN_BAD_PREV = "chain_bad_prev"
    HEAD_MISMATCH = "head_mismatch"
    DUPLICATE_CHAIN = "duplicate_chain"
    BAD_EXPORT_SIGNATURE = "bad_export_signature"
    REVEALED_MISSING = "revealed_missing"
    DUPLICATE_REVEALED = "duplicate_revealed"
    BAD_CONTENT_KEY = "bad_content_key"
    BAD_KEY_COMMITMENT = "bad_key_commitment"
    BAD_PAYLOAD = "bad_payload"
    REVEALED_OUT_OF_ORDER = "revealed_out_of_order"
    EXPORTER_UNKNOWN = "exporter_unknown"
    AUTHOR_UNKNOWN = "author_unknown"
    HTML_ALTERED = "html_altered"
    WORDS_WITHOUT_CONSENT = "words_without_consent"
    NO_DECLARATION = "no_declaration"
    SUMMARY_MISMATCH = "summary_mismatch"
    BAD_LEFT_OUT = "bad_left_out"
    BAD_SUMMARY_DATES = "bad_summary_dates"
    CREATED_BEFORE_EVENTS = "created_before_events"


CLOCK_MARGIN_MS: Final = 10 * 60 * 1000
"""How far another device's clock may run ahead of the exporter's before an export
that shows one of its events is dated too early (``created_before_events``): two
devices' clocks differ, and an event the partner's phone recorded at 12:05 may reach an
exporter whose clock says 12:01. Ten minutes is far beyond what networked clocks drift,
and far below the days a consent lasts, so the bound it leaves is still worth having."""


@dataclass(frozen=True, slots=True)
class ExportFinding:
    """One problem with an export file: a stable snake_case ``code`` (docs/PROTOCOL.md
    "Exports"), a sentence for people, and ``where`` in the file it is."""

    code: str
    message: str
    where: str


_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()


def encode_document(doc: ExportDocument) -> bytes:
    """The canonical JSON: msgspec's compact encoding, fields in declaration order,
    UTF-8, with ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026``.

    Those three only occur inside strings in JSON, so the replacement is safe, and it
    lets the same bytes sit inside an HTML ``<script>`` element unchanged.
    """
    return (
        _json_encoder.encode(doc)
        .replace(b"<", b"\\u003c")
        .replace(b">", b"\\u003e")
        .replace(b"&", b"\\u0026")
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def from_b64(text: str) -> bytes | None:
    """Standard padded base64 in its one canonical spelling, or None.

    The round trip refuses what lenient decoders accept: unused bits set in the last
    character, missing padding, other alphabets.
    """
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if b64(data) == text else None


def signed_bytes(doc: ExportDocument, envelopes: list[list[bytes]]) -> bytes:
    """What the exporter signs: every field except ``signature``, as canonical msgpack
    (docs/PROTOCOL.md §2.1) with ids, keys and envelopes as raw bytes.

    ``envelopes`` are the decoded ``doc.chains[i].envelopes``; hex fields are already
    known to be hex by the schema.
    """
    chains = [
        (bytes.fromhex(c.device), c.head_seq, bytes.fromhex(c.head_id), envs)
        for c, envs in zip(doc.chains, envelopes, strict=True)
    ]
    revealed = [(bytes.fromhex(r.event_id), bytes.fromhex(r.content_key)) for r in doc.revealed]
    head = (
        EXPORT_CONTEXT,
        doc.version,
        bytes.fromhex(doc.space_id),
        doc.title,
        doc.created_at,
        bytes.fromhex(doc.exporter),
        chains,
        revealed,
    )
    if doc.version == 1:
        return _msgpack_encoder.encode(head)
    return _msgpack_encoder.encode((*head, doc.summary))


def _finding(code: FindingCode, message: str, where: str) -> ExportFinding:
    return ExportFinding(code, message, where)


def first_difference(expected: bytes, data: bytes) -> int:
    """Index of the first byte where ``data`` departs from ``expected``."""
    return next(
        (i for i, (a, b) in enumerate(zip(expected, data, strict=False)) if a != b),
        min(len(expected), len(data)),
    )


class _Unreadable(Exception):
    """One step of :func:`parse_document` found the file is not an export it reads."""

    def __init__(self, finding: ExportFinding) -> None:
        super().__init__(finding.code)
        self.finding = finding


def parse_document(data: bytes) -> tuple[ExportDocument | None, list[ExportFinding]]:
    """The document, if ``data`` is exactly the canonical JSON of a version-1 export."""
    try:
        _check_text(data)
        _check_head(data)
        doc = _read_document(data)
        _check_summary(doc)
        _check_canonical(doc, data)
    except _Unreadable as unreadable:
        return None, [unreadable.finding]
    return doc, []


def _check_text(data: bytes) -> None:
    """UTF-8 throughout: msgspec raises UnicodeDecodeError, not DecodeError, for invalid
    UTF-8 in a string it reads, and skips unread ones unchecked."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable(
            _finding(FindingCode.NOT_JSON, "The file is not UTF-8 text.", f"byte {exc.start}")
        ) from None


def _check_head(data: bytes) -> None:
    """JSON naming this format, in a version this app reads."""
    try:
        head = msgspec.json.decode(data, type=ExportHead)
    except msgspec.ValidationError:
        raise _Unreadable(
            _finding(FindingCode.NOT_AN_EXPORT, "This JSON is not a Trellis export.", "document")
        ) from None
    except msgspec.DecodeError as exc:
        raise _Unreadable(
            _finding(FindingCode.NOT_JSON, f"The file is not valid JSON ({exc}).", "document")
        ) from None
    if head.format != FORMAT_NAME:
        raise _Unreadable(
            _finding(FindingCode.NOT_AN_EXPORT, "This JSON is not a Trellis export.", "format")
        )
    if head.version not in READ_VERSIONS:
        raise _Unreadable(
            _finding(
                FindingCode.UNSUPPORTED_VERSION,
                f"This export is format version {head.version}; this app reads versions "
                f"{READ_VERSIONS[0]} to {READ_VERSIONS[-1]}. A newer Trellis may read it.",
                "version",
            )
        )


def _read_document(data: bytes) -> ExportDocument:
    """Every field as exported, named by its path when one is not."""
    try:
        return msgspec.json.decode(data, type=ExportDocument)
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition(" - at ")[2].strip("`") if " - at " in str(exc) else "document"
        raise _Unreadable(
            _finding(FindingCode.BAD_DOCUMENT, f"A field is not as exported: {exc}.", where)
        ) from None
    except msgspec.DecodeError as exc:  # not expected: the first read parsed the same text
        raise _Unreadable(
            _finding(FindingCode.NOT_JSON, f"The file is not valid JSON ({exc}).", "document")
        ) from None


def _check_summary(doc: ExportDocument) -> None:
    """A version-1 export has no first page; later versions need theirs."""
    if (doc.summary is None) != (doc.version == 1):
        field = "summary"
        raise _Unreadable(
            _finding(
                FindingCode.BAD_DOCUMENT,
                f"A field is not as exported: a version-{doc.version} export "
                + ("has no summary." if doc.version == 1 else "needs its summary."),
                f"$.{field}",
            )
        )


def _check_canonical(doc: ExportDocument, data: bytes) -> None:
    """Byte for byte as the exporter wrote it: any other form was edited."""
    canonical = encode_document(doc)
    if canonical != data:
        index = first_difference(canonical, data)
        raise _Unreadable(
            _finding(
                FindingCode.NOT_CANONICAL,
                "The file is not written exactly as an export is: it was edited.",
                f"byte {index}",
            )
        )
