"""JSON Schema of the contract, for clients written in other languages (docs/PROTOCOL.md).

Pure: :func:`generate` returns file contents and never writes them;
``python -m tests.tools.regenerate`` (``make schemas``) writes them to ``schemas/json/``
and a test fails when the committed files are stale.

The schemas are what ``msgspec.json.schema_components`` says about our msgspec types,
plus a title, a description and the few facts msgspec cannot know (noted where they
are added). JSON Schema describes JSON, while envelopes, relay frames and event bodies
travel as msgpack; every such file says so in its description.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from schemas import envelope, errors, http, payloads, protocol

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_REF_TEMPLATE = "#/$defs/{name}"

_MSGPACK_NOTE = (
    "On the wire this is msgpack, not JSON: this schema shows the same types as they "
    "would look in JSON. Fields shown as base64 strings (contentEncoding: base64) are "
    "msgpack bin on the wire, and their minLength/maxLength count base64 characters, "
    "not bytes. Integers are encoded in their shortest msgpack form."
)
_STRUCT_NOTE = (
    "Structs are msgpack maps keyed by field name, except those whose schema is an "
    "array (prefixItems): those are msgpack arrays with the fields in the order shown."
)

HTTP_BODY_TYPES: tuple[type[msgspec.Struct], ...] = (
    http.CreateSpaceRequest,
    http.CreateSpaceResponse,
    http.CreateInviteRequest,
    http.CreateInviteResponse,
    http.InviteInfo,
    http.RedeemInviteRequest,
    http.RedeemInviteResponse,
    http.RevokeDeviceRequest,
    http.RevokeDeviceResponse,
    http.LeaveRequest,
    http.LeaveResponse,
    http.HealthResponse,
    http.ErrorBody,
)

JsonObject = dict[str, Any]


def _contract_structs() -> dict[str, type[msgspec.Struct]]:
    structs: dict[str, type[msgspec.Struct]] = {}
    for module in (envelope, protocol, http, payloads):
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, msgspec.Struct):
                structs[name] = value
    return structs


def _title_array_fields(components: JsonObject) -> JsonObject:
    """Name the positions of array-like structs (Envelope, Ack, Stored).

    msgspec renders them as bare ``prefixItems``; a reader needs to know which position
    is which field, so each item gets the field name as its title.
    """
    structs = _contract_structs()
    for name, component in components.items():
        if "prefixItems" in component:
            fields = structs[name].__struct_fields__
            for item, field in zip(component["prefixItems"], fields, strict=True):
                item["title"] = field
    return components


def _document(title: str, description: str, root: object) -> JsonObject:
    """A standalone schema for ``root``, with every struct it uses under ``$defs``."""
    (schema,), components = msgspec.json.schema_components([root], ref_template=_REF_TEMPLATE)
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": title,
        "description": description,
        **schema,
        "$defs": _title_array_fields(components),
    }


def _envelope() -> JsonObject:
    doc = _document(
        "Envelope",
        "What the relay stores and forwards: one signed, encrypted event, a msgpack array "
        "of eleven fields (docs/PROTOCOL.md §4). Only the canonical encoding is valid: "
        "exactly these eleven fields, shortest integer forms, byte strings as bin, absent "
        "prev as nil. prev is nil exactly when seq is 1; version is 2 (version 1, without "
        "key_commitment, is refused). key_commitment is BLAKE2b-256 keyed with the "
        "content key, personal 'trellis-kcommit', over the empty message (§4.7). " + _MSGPACK_NOTE,
        envelope.Envelope,
    )
    # msgspec ignores trailing array items when decoding, so it cannot express this;
    # decode_envelope rejects them through its canonical-form check.
    doc["$defs"]["Envelope"]["maxItems"] = 11
    return doc


def _event_body() -> JsonObject:
    doc = _document(
        "EventBody",
        "The plaintext inside an envelope's ciphertext, after the Padmé padding is "
        "removed (docs/PROTOCOL.md §5.1). " + _MSGPACK_NOTE,
        payloads.EventBody,
    )
    doc["$defs"]["EventBody"]["properties"]["payload"]["description"] = (
        "A Payload (payload.json) as a msgpack map with a 'type' tag. Readers keep "
        "payloads of types they do not know instead of rejecting the event."
    )
    return doc


def _http() -> JsonObject:
    components = msgspec.json.schema_components(HTTP_BODY_TYPES, ref_template=_REF_TEMPLATE)[1]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "HTTP bodies",
        "description": (
            "JSON request and response bodies of the relay's HTTP endpoints "
            "(docs/PROTOCOL.md §7); each body is one entry of $defs. Unlike the other "
            "schemas these really are JSON: ids are lowercase hex strings and opaque "
            "blobs (envelopes, keys, signatures) are standard base64 strings. The "
            "relay's OpenAPI document says which endpoint takes which body."
        ),
        "$defs": _title_array_fields(components),
    }


def _error_codes() -> JsonObject:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "ErrorCode",
        "description": (
            "The stable error codes of this version (docs/PROTOCOL.md §8), sent as "
            "Error.code in relay frames and ErrorBody.code in HTTP responses. A code never "
            "changes meaning; later versions may add codes, so readers must accept codes "
            "they do not know. Each "
            "entry gives the default sentence for people (description), the websocket "
            "close code that follows the error (x-close-code; null: the connection stays "
            "open) and the HTTP status used when it answers a request (x-http-status)."
        ),
        "type": "string",
        "oneOf": [
            {
                "const": code.value,
                "description": info.message,
                "x-close-code": info.close_code,
                "x-http-status": info.http_status,
            }
            for code, info in errors.ERRORS.items()
        ],
    }


def _documents() -> dict[str, JsonObject]:
    return {
        "envelope.json": _envelope(),
        "client_message.json": _document(
            "ClientMessage",
            "A frame a client sends to the relay over the websocket, one binary frame "
            "each, tagged by 'type' (docs/PROTOCOL.md §6). Readers ignore fields they do "
            "not know. " + _MSGPACK_NOTE + " " + _STRUCT_NOTE,
            protocol.ClientMessage,
        ),
        "relay_message.json": _document(
            "RelayMessage",
            "A frame the relay sends to a client over the websocket, one binary frame "
            "each, tagged by 'type' (docs/PROTOCOL.md §6). Readers ignore fields they do "
            "not know. " + _MSGPACK_NOTE + " " + _STRUCT_NOTE,
            protocol.RelayMessage,
        ),
        "event_body.json": _event_body(),
        "payload.json": _document(
            "Payload",
            "What partners write: the payload of an EventBody, tagged by 'type' "
            "(docs/PROTOCOL.md §5). A payload whose type a reader does not know is kept "
            "and shown as written by a newer version, never rejected. " + _MSGPACK_NOTE,
            payloads.Payload,
        ),
        "http.json": _http(),
        "error_codes.json": _error_codes(),
    }


def render(document: JsonObject) -> bytes:
    """Pretty, deterministic JSON: sorted keys, two-space indent, trailing newline."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def generate() -> dict[str, bytes]:
    """File name -> contents of every JSON Schema file in ``schemas/json/``."""
    return {name: render(document) for name, document in _documents().items()}
