"""Small pieces every part of the report uses: escaping, times, short ids, counts
(docs/PROTOCOL.md "Exports", "The HTML report"). Nothing here may depend on the clock,
the locale or the time zone: the report is rendered again, byte for byte, to verify it."""

from __future__ import annotations

import html

from client.export.verified import utc_text
from client.views.shown import shown


def esc(text: str) -> str:
    """Text for the page: without the control and bidirectional override characters no
    report shows (client/views/shown.py; a partner's name holding a RIGHT-TO-LEFT
    OVERRIDE would turn the report's own words after it around), then escaped. The
    embedded JSON keeps what was written; verification renders again with this same
    rule, so the page still matches the signed data byte for byte."""
    return html.escape(shown(text), quote=True)


def utc(ms: int) -> str:
    return utc_text(ms)


def short(data: bytes) -> str:
    return data.hex()[:8]


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
