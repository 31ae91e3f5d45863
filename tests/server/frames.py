"""Hypothesis strategies for what a client can send the relay: every wire message,
well formed or nearly so, and raw garbage (issue #6, bad input at scale)."""

from __future__ import annotations

import msgspec
from hypothesis import strategies as st

from schemas.envelope import encode_envelope
from schemas.protocol import Authenticate, Hello, Pull, Push, encode_message
from tests.schemas import strategies as strat

CLIENT_TYPES = [Hello, Authenticate, Push, Pull]
TAGS = ["hello", "authenticate", "push", "pull", "Push", "ping", ""]
FIELDS = [
    "type",
    "space_id",
    "device_id",
    "version",
    "signature",
    "req",
    "envelopes",
    "after",
    "limit",
]

Frame = bytes | str
"""A websocket message: binary (the protocol) or text (always refused)."""


def pushes(space_id: bytes | None = None) -> st.SearchStrategy[bytes]:
    """Pushes of structurally valid but unsigned envelopes, or of junk bytes."""
    envelope_bytes = st.one_of(
        strat.envelopes().map(
            lambda e: encode_envelope(
                e if space_id is None else msgspec.structs.replace(e, space_id=space_id)
            )
        ),
        st.binary(max_size=300),
    )
    return st.builds(
        lambda req, envelopes: encode_message(Push(req=req, envelopes=envelopes)),
        st.integers(0, 2**53 - 1),
        st.lists(envelope_bytes, max_size=4),
    )


def client_frames(space_id: bytes | None = None) -> st.SearchStrategy[Frame]:
    """One frame a client (honest, buggy or hostile) might send."""
    messages = st.one_of(*(strat.from_type(t) for t in CLIENT_TYPES)).map(encode_message)
    return st.one_of(
        messages,  # every message type, with any field values its schema allows
        pushes(space_id),
        strat.tagged_maps(TAGS, FIELDS).map(msgspec.msgpack.encode),  # wrong field types
        strat.msgpack_values().map(msgspec.msgpack.encode),  # valid msgpack, wrong shape
        st.binary(max_size=512),  # raw bytes
        st.text(max_size=64),  # text frames
    )
