"""Logging helpers that keep secrets and payload out of the relay's logs.

Only shortened ids are ever logged: enough to correlate lines, too little to be an
identifier someone could use (docs/THREAT_MODEL.md). Envelope bytes, signatures, invite
wrapped keys and invite ids are never logged at all.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("trellis.relay")

SHORT_ID_HEX = 8


def short(identifier: bytes) -> str:
    """The first 8 hex digits of an id, for log lines."""
    return identifier[: SHORT_ID_HEX // 2].hex()
