"""Checking a page's signatures before admission, off the event loop (split from
syncing.py): a page's worth on a worker thread, so an app embedding the library keeps
serving its other tasks while a new device catches up on a long history."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from client.keys import signatures

OFF_LOOP_SIGNATURES = 64
"""Pages of more envelopes than this have their signatures checked off the event loop."""


async def check_signatures(envelopes: list[bytes]) -> set[bytes]:
    """The envelopes whose signature verifies; a large page is checked on a worker
    thread, so an app embedding the library keeps serving its other tasks."""
    if len(envelopes) <= OFF_LOOP_SIGNATURES:
        return signatures.valid_signatures(envelopes)
    return await asyncio.to_thread(signatures.valid_signatures, envelopes)


def check_part(items: list[tuple[bytes, int | None]]) -> asyncio.Future[set[bytes]]:
    """Start checking one part of a page on a worker thread."""
    envelopes = [data for data, _ in items]
    return asyncio.ensure_future(asyncio.to_thread(signatures.valid_signatures, envelopes))


def drop_checks(checks: Sequence[asyncio.Future[set[bytes]]]) -> None:
    """Cancel the checks still running (admission stopped early); retrieve the failure
    of those that failed unawaited, so none is reported as never retrieved."""
    for check in checks:
        if not check.done():
            check.cancel()
        elif not check.cancelled():
            check.exception()
