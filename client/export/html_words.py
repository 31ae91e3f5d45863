"""Small pieces every part of the report uses: escaping, times, short ids, counts
(docs/PROTOCOL.md "Exports", "The HTML report"). Nothing here may depend on the clock,
the locale or the time zone: the report is rendered again, byte for byte, to verify it."""

from __future__ import annotations

import html

from client.export.verified import utc_text


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def utc(ms: int) -> str:
    return utc_text(ms)


def short(data: bytes) -> str:
    return data.hex()[:8]


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
