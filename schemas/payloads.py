"""What partners write: the plaintext inside an envelope's ciphertext (docs/PROTOCOL.md §5).

The relay never imports this module: it cannot read payloads and must not try.

A decrypted plaintext is an :class:`EventBody` (padding removed). Its ``payload`` stays
raw msgpack until :func:`decode_payload` reads it, so an event written by a newer app
with a payload type this version does not know is still verified, stored and shown as
"written by a newer version" instead of being lost (schema evolution, msgspec rules:
new fields get defaults, a field's type never changes).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.ids import (
    DEVICE_ID_BYTES,
    EVENT_ID_BYTES,
    INVITE_ID_BYTES,
    MEMBER_ID_BYTES,
)
from schemas.intimacy import (
    INTIMACY_TYPES,
    BoundaryAcknowledged,
    BoundarySet,
    BoundaryWithdrawn,
    DisclosurePrepared,
    DisclosureQuestionsMarked,
    IntimacyCheckIn,
    PacingForwardAccepted,
    PacingForwardDeclined,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingSteppedBack,
    PrivateNote,
    PrivateNoteDeleted,
    PrivateNoteShared,
    TermAccepted,
    TermProposed,
    TermWithdrawn,
)
from schemas.practices import (
    PRACTICE_TYPES,
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    CheckIn,
    DisclosureAcknowledged,
    DisclosureMade,
    ExportConsented,
    GratitudeNoted,
    MilestoneMarked,
    ProfileUpdated,
    SignalCleared,
    SignalSent,
    SobrietyStarted,
    WindowPostponed,
)
from schemas.strict import StrictFormatError, check_strict

MAX_TEXT_CHARS = 20_000
MAX_NAME_CHARS = 80
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_DEPS = 64

_EventIdBytes = Annotated[bytes, msgspec.Meta(min_length=EVENT_ID_BYTES, max_length=EVENT_ID_BYTES)]
_MemberIdBytes = Annotated[
    bytes, msgspec.Meta(min_length=MEMBER_ID_BYTES, max_length=MEMBER_ID_BYTES)
]
_InviteIdBytes = Annotated[
    bytes, msgspec.Meta(min_length=INVITE_ID_BYTES, max_length=INVITE_ID_BYTES)
]
_Key32 = Annotated[bytes, msgspec.Meta(min_length=DEVICE_ID_BYTES, max_length=DEVICE_ID_BYTES)]
_Sig = Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]
_Millis = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_CHARS)]
_Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]
_Mood = Annotated[int, msgspec.Meta(ge=1, le=5)]
_Tags = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TAG_CHARS)]],
    msgspec.Meta(max_length=MAX_TAGS),
]


# gc=False here and on JournalEntry: a device keeps one per event of its space and they
# never form reference cycles, so Python's cycle collector need not walk them (it took
# ~16% of a 100,000-event catch-up, bench/catchup.py). Not part of the wire format.
# omit_defaults: a body without ``tz`` encodes exactly as before the field existed, so
# the bytes older clients wrote (and the test vectors) stay what they were.
class EventBody(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """The decrypted content of every event (docs/PROTOCOL.md §5.1)."""

    deps: Annotated[list[_EventIdBytes], msgspec.Meta(max_length=MAX_DEPS)]
    """The author's frontier: the newest event id it held of every *other* device."""
    lamport: Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
    """One more than the largest Lamport clock among ``prev`` and ``deps``."""
    recorded_at: _Millis
    """When the author's device wrote the event (ms since the Unix epoch, UTC)."""
    occurred_at: _Millis
    """When what it describes happened, as the author stated it."""
    payload: msgspec.Raw
    tz: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    """The author's IANA time-zone name when writing (``Europe/Berlin``), if known: a
    reader shows a moment the author chose in its own zone and adds the author's clock
    when that shows another time (docs/PROTOCOL.md §10.9). No pattern: a name the
    reader's time-zone database does not know is ignored, never an error."""


# --- membership ------------------------------------------------------------------


class SpaceCreated(msgspec.Struct, tag="space_created", tag_field="type", frozen=True):
    """The genesis: first event of the creating device, seq 1."""

    member_id: _MemberIdBytes
    name: _Name
    """The creator's display name, as they want their partner to see it."""
    box_key: _Key32
    """The creating device's X25519 public key, for key delivery."""
    in_recovery: bool = False
    """Whether the creator is the partner in recovery (changeable: ``profile_updated``)."""


class InviteIssued(msgspec.Struct, tag="invite_issued", tag_field="type", frozen=True):
    """Commits to the invite key, so only its holder can join (docs/PROTOCOL.md §5.3)."""

    invite_id: _InviteIdBytes
    verify_key: _Key32
    kind: Literal["member", "device", "rejoin"]
    expires_at: _Millis
    for_member: _MemberIdBytes | None = None
    """For ``kind == "rejoin"`` only: the partner who lost every device and rejoins as
    themselves through this invite, issued by the *other* partner (docs/PROTOCOL.md §5.9)."""


class MemberJoined(msgspec.Struct, tag="member_joined", tag_field="type", frozen=True):
    """First event of a joining device; carries the invite proof."""

    member_id: _MemberIdBytes
    name: _Name
    box_key: _Key32
    invite_id: _InviteIdBytes
    proof: _Sig
    """Invite key's signature over schemas.http.invite_proof_transcript(...)."""
    in_recovery: bool = False


class DeviceRevoked(msgspec.Struct, tag="device_revoked", tag_field="type", frozen=True):
    """Removes one device of the author's own member (docs/PROTOCOL.md §5.5).

    ``last_seq`` is the revoked device's last event the revoker accepts: its chain ends
    there, and any later event of that device is refused by every client."""

    device_id: _Key32
    last_seq: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
    reason: Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)] | None = None


class SealedKey(msgspec.Struct, frozen=True):
    """A new epoch's space key sealed to one device's X25519 key (crypto_box_seal)."""

    device_id: _Key32
    sealed: Annotated[bytes, msgspec.Meta(min_length=48 + 32, max_length=48 + 32)]


MAX_SEALED_KEYS = 64


class KeyRotated(msgspec.Struct, tag="key_rotated", tag_field="type", frozen=True):
    """Starts epoch ``epoch``: its key, sealed to exactly the remaining devices (§5.6).

    Written under the previous epoch, so every remaining device can read it."""

    epoch: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    sealed_keys: Annotated[list[SealedKey], msgspec.Meta(max_length=MAX_SEALED_KEYS)]


class MemberLeft(msgspec.Struct, tag="member_left", tag_field="type", frozen=True):
    """The author's member leaves: all of its devices stop at their current events (§5.7)."""

    member_id: _MemberIdBytes


# --- journal ---------------------------------------------------------------------


class JournalEntry(msgspec.Struct, tag="journal_entry", tag_field="type", frozen=True, gc=False):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_CHARS)]
    mood: _Mood | None = None
    tags: _Tags = msgspec.field(default_factory=list)


class JournalAmended(msgspec.Struct, tag="journal_amended", tag_field="type", frozen=True):
    """A new text for an entry; the earlier text stays in the history."""

    entry: _EventIdBytes
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_CHARS)]
    mood: _Mood | None = None
    tags: _Tags = msgspec.field(default_factory=list)


class JournalRetracted(msgspec.Struct, tag="journal_retracted", tag_field="type", frozen=True):
    """Hides an entry from views; the history still records that it happened."""

    entry: _EventIdBytes
    reason: _Text | None = None


Payload = (
    SpaceCreated
    | InviteIssued
    | MemberJoined
    | DeviceRevoked
    | KeyRotated
    | MemberLeft
    | JournalEntry
    | JournalAmended
    | JournalRetracted
    | ProfileUpdated
    | AgreementProposed
    | AgreementAccepted
    | AgreementDeclined
    | AgreementWithdrawn
    | AgreementReviewed
    | DisclosureMade
    | DisclosureAcknowledged
    | CheckIn
    | SobrietyStarted
    | MilestoneMarked
    | GratitudeNoted
    | SignalSent
    | SignalCleared
    | WindowPostponed
    | ExportConsented
    # the intimacy practices (schemas/intimacy.py)
    | PacingPlanProposed
    | PacingPlanAccepted
    | PacingForwardProposed
    | PacingForwardAccepted
    | PacingForwardDeclined
    | PacingSteppedBack
    | IntimacyCheckIn
    | TermProposed
    | TermAccepted
    | TermWithdrawn
    | BoundarySet
    | BoundaryWithdrawn
    | BoundaryAcknowledged
    | DisclosurePrepared
    | DisclosureQuestionsMarked
    | PrivateNote
    | PrivateNoteShared
    | PrivateNoteDeleted
)

PAYLOAD_TYPES: tuple[type[msgspec.Struct], ...] = (
    SpaceCreated,
    InviteIssued,
    MemberJoined,
    DeviceRevoked,
    KeyRotated,
    MemberLeft,
    JournalEntry,
    JournalAmended,
    JournalRetracted,
    *PRACTICE_TYPES,
    *INTIMACY_TYPES,
)


class UnknownPayload(msgspec.Struct, frozen=True):
    """A payload type this version does not know: kept, shown, never folded."""

    type: str


class _TagOnly(msgspec.Struct):
    type: str


_encoder = msgspec.msgpack.Encoder()
_body_decoder = msgspec.msgpack.Decoder(EventBody)
_payload_decoder: msgspec.msgpack.Decoder[Payload] = msgspec.msgpack.Decoder(Payload)
_tag_decoder = msgspec.msgpack.Decoder(_TagOnly)
_KNOWN_TAGS = frozenset(t.__struct_config__.tag for t in PAYLOAD_TYPES)


class PayloadFormatError(ValueError):
    """A plaintext that decrypted but does not follow the schema (never echoes content)."""


def payload_kind(payload: Payload | UnknownPayload) -> str:
    if isinstance(payload, UnknownPayload):
        return payload.type
    tag = payload.__struct_config__.tag
    return str(tag)


def encode_payload(payload: Payload) -> bytes:
    return _encoder.encode(payload)


def encode_body(body: EventBody) -> bytes:
    return _encoder.encode(body)


def decode_event(plaintext: bytes) -> tuple[EventBody, Payload | UnknownPayload]:
    """The one strict reading of an event's plaintext (padding removed), docs/PROTOCOL.md
    §5.10: every reader (admission, exports, verify-export) comes through here.

    Raises :class:`PayloadFormatError` for anything that is not exactly one canonical
    msgpack value (duplicate keys, trailing bytes, non-string keys, bad UTF-8, long
    forms) or does not follow the schema; never anything else.
    """
    body = _decode_body(plaintext)
    payload = _decode_payload(body.payload)
    raw = bytes(body.payload)
    # Fast path: bytes equal to msgspec's own encoding of what was read are canonical
    # (shortest forms, string keys, each once, valid UTF-8), so the walk is not needed.
    # Anything else (a newer app's extra fields, keys in another order, or an attempt at
    # a second reading) is walked byte by byte.
    canonical = _encoder.encode(body) == plaintext and (
        not isinstance(payload, UnknownPayload) and _encoder.encode(payload) == raw
    )
    if not canonical:
        _check_strict(plaintext, "event")
    return body, payload


def read_canonical(plaintext: bytes) -> tuple[EventBody, Payload] | None:
    """The body and payload of a plaintext that is msgspec's own encoding of a known
    kind of event, each decoded once; None for anything else, which the caller reads
    the long way (:func:`decode_body`, :func:`decode_payload`).

    Why: a client admitting a long history decoded every payload twice (once to check
    the body's payload is canonical, once to read it). For these bytes the answer is
    exactly what ``decode_body`` then ``decode_payload`` give: both re-encodings match,
    so neither runs the strict walk, and both decode the same bytes the same way."""
    try:
        body = _decode_body(plaintext)
        payload = _decode_payload(body.payload)
    except (PayloadFormatError, RecursionError):
        return None
    if isinstance(payload, UnknownPayload):
        return None
    if _encoder.encode(body) != plaintext or _encoder.encode(payload) != bytes(body.payload):
        return None
    return body, payload


def decode_body(data: bytes) -> EventBody:
    """The event body alone, read strictly (§5.10); its payload stays raw."""
    body = _decode_body(data)
    if _encoder.encode(body) != data or not _payload_is_canonical(body.payload):
        _check_strict(data, "event")
    return body


def decode_payload(raw: msgspec.Raw | bytes) -> Payload | UnknownPayload:
    """Decode a payload strictly (§5.10); a well-formed payload of an unknown type is
    not an error."""
    payload = _decode_payload(raw)
    if isinstance(payload, UnknownPayload) or _encoder.encode(payload) != bytes(raw):
        _check_strict(bytes(raw), "payload")
    return payload


def _payload_is_canonical(raw: msgspec.Raw) -> bool:
    try:
        payload = _decode_payload(raw)
    except PayloadFormatError:
        return False
    return not isinstance(payload, UnknownPayload) and _encoder.encode(payload) == bytes(raw)


def _check_strict(data: bytes, what: str) -> None:
    try:
        check_strict(data)
    except StrictFormatError as exc:
        raise PayloadFormatError(f"{what} is not in its one encoding: {exc}") from None


def _decode_body(data: bytes) -> EventBody:
    try:
        return _body_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise PayloadFormatError(f"event body invalid: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise PayloadFormatError("event body is not valid msgpack") from None


def _decode_payload(raw: msgspec.Raw | bytes) -> Payload | UnknownPayload:
    try:
        tag = _tag_decoder.decode(raw).type
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        raise PayloadFormatError("payload has no type") from None
    if tag not in _KNOWN_TAGS:
        return UnknownPayload(type=tag)
    try:
        return _payload_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise PayloadFormatError(f"payload invalid: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise PayloadFormatError("payload is not valid msgpack") from None
