"""Opening an event's plaintext, and what happens when it is hostile (docs/PROTOCOL.md
§9.8, docs/THREAT_MODEL.md §21).

Theory of operation. An envelope that is genuine (its signature holds, it continues its
author's chain, it opens with the epoch's key) may still carry a plaintext its author's
app should never have written: nesting thousands of levels deep, numbers or strings past
the schema's limits, times far outside any life, a kind of event this app does not know.
Such an event must never stop the receiving client. Two cases:

* The **body** (dependencies, clock, times) does not decode: the event cannot be placed
  in the causal order at all, so admission refuses it (``bad_payload``).
* The body decodes but the **payload** does not, or a time is out of range: the event is
  placed (its chain, clock and dependencies hold, so the author's later events still
  follow on) but its payload is replaced by an :class:`InvalidPayload`. No view, listing
  or fold ever shows it; integrity reports it as an ``invalid_event`` proof with its id.

Decoding happens in exactly one place, :func:`open_plaintext`, so stricter decoding
(duplicate keys, trailing bytes, non-canonical encodings) slots in there and its
failures take the same road.
"""

from __future__ import annotations

import re

import msgspec

from client.core.msgpack_scan import replace_map_value
from schemas.payloads import (
    EventBody,
    Payload,
    PayloadFormatError,
    UnknownPayload,
    decode_body,
    decode_payload,
    payload_kind,
    read_canonical,
)

MAX_TIME_MS = 7_258_118_400_000
"""2200-01-01T00:00:00Z. A time after this (recorded, happened, expires, until) is not
one a person wrote: it is refused as out of range, and every formatter can show any time
up to here (Python's datetime stops at the year 9999)."""

_NIL = b"\xc0"
_TIME_FIELDS = frozenset({"until", "expires_at"})


class InvalidPayload(UnknownPayload, frozen=True):
    """A genuine event whose payload this client will not fold: kept in the log (so its
    author's chain goes on), never shown, reported as ``invalid_event``."""

    reason: str = ""
    """Why, in words for people; never echoes the payload's content."""


def open_plaintext(plaintext: bytes) -> tuple[EventBody, Payload | InvalidPayload]:
    """Decode a decrypted body and its payload: the one decode call site of admission.

    Raises :class:`PayloadFormatError` when the body itself is unreadable; anything
    wrong with the payload comes back as an :class:`InvalidPayload` instead."""
    # Nearly every event is its author's app's own canonical encoding of a known kind:
    # read it in one pass (schemas.payloads.read_canonical); anything else, hostile or
    # from a newer app, takes the long road below with its exact answers.
    canonical = read_canonical(plaintext)
    if canonical is not None:
        body, known = canonical
        problem = out_of_range(body, known)
        if problem is not None:
            return body, InvalidPayload(type=payload_kind(known), reason=problem)
        return body, known
    try:
        body = decode_body(plaintext)
    except RecursionError:
        # Skipping over the payload recursed too deep: place the event by its body
        # alone, with the payload set aside unread.
        return _without_payload(plaintext), InvalidPayload(
            type="invalid", reason="its content is nested too deeply"
        )
    except PayloadFormatError:
        # The strict reading (§5.10) covers the payload too. When the body without its
        # payload is exactly one reading, only the payload is at fault: the event keeps
        # its place (its author's later events still follow) and the payload is set
        # aside, shown by no app, so it never has two readings. Otherwise: refused.
        return _without_payload(plaintext), InvalidPayload(
            type="invalid", reason="its content does not have exactly one reading"
        )
    try:
        payload = decode_payload(body.payload)
    except PayloadFormatError as exc:
        return body, InvalidPayload(type="invalid", reason=_where(str(exc)))
    except (RecursionError, msgspec.MsgspecError, ValueError):
        # Deep nesting or anything else the decoder chokes on: never past this line.
        return body, InvalidPayload(type="invalid", reason="its content does not decode")
    if isinstance(payload, UnknownPayload):
        # The unknown kind's name is the author's text: it stays out of the reason.
        return body, InvalidPayload(type="invalid", reason="a kind of event this app does not know")
    problem = out_of_range(body, payload)
    if problem is not None:
        return body, InvalidPayload(type=payload_kind(payload), reason=problem)
    return body, payload


def _without_payload(plaintext: bytes) -> EventBody:
    stripped = replace_map_value(plaintext, "payload", _NIL)
    if stripped is None:
        raise PayloadFormatError("event body is not valid msgpack")
    try:
        return decode_body(stripped)
    except RecursionError:
        raise PayloadFormatError("event body is nested too deeply") from None


def out_of_range(body: EventBody, payload: Payload) -> str | None:
    """A time no person wrote: after :data:`MAX_TIME_MS`."""
    if body.recorded_at > MAX_TIME_MS or body.occurred_at > MAX_TIME_MS:
        return "its time is far outside any real date"
    for name in payload.__struct_fields__:
        if name in _TIME_FIELDS or name.endswith("_at"):
            value = getattr(payload, name)
            if isinstance(value, int) and value > MAX_TIME_MS:
                return f"its {name} is far outside any real date"
    return None


_PATH = re.compile(r"at `(\$[A-Za-z0-9_.\[\]]{0,80})`")


def _where(error: str) -> str:
    """The decoder's error names the offending value at times ("Invalid enum value
    'x'"): that is the author's text, so only the place in the payload is kept."""
    found = _PATH.search(error)
    if found is None:
        return "its content does not follow the format"
    return f"a value out of range at {found.group(1)}"
