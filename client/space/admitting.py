"""Admitting what the relay serves (split from syncing.py; docs/PROTOCOL.md §9.1, §9.11):
a page checked and admitted, in parts when it is large, then stored in one transaction,
written behind while a catch-up goes on."""

from __future__ import annotations

import asyncio

from client.core import decisions
from client.core.verify import VerifiedEvent
from client.keys import signatures
from client.keys.signature_worker import ANSWER_TIMEOUT_S, SignatureWorker, WorkerGone
from client.space.reports import SyncReport
from client.space.signature_checks import check_part, check_signatures, drop_checks
from client.space.state import SpaceState
from client.space.write_failures import store_page
from client.space.writing import new_event
from client.store.localstore import Admission, HeldRow, RejectedRow


async def receive(
    state: SpaceState,
    items: list[tuple[bytes, int | None]],
    report: SyncReport,
    *,
    behind: bool = False,
    worker: SignatureWorker | None = None,
) -> list[VerifiedEvent]:
    """Admit envelopes from the relay; store what passes, hold or record the rest.

    Signatures are checked on worker threads (client/keys/signatures.py) ahead of
    admission. A large page goes in parts of ``PIPELINE_PART`` envelopes, and the
    signatures of the next part are checked while this thread admits the current one
    (decrypting, checking the rules): the two used to take turns, leaving a core idle
    through every admission. Admitting a page part by part is admitting smaller pages,
    which the rules already allow for (what waits is retried). What the parts change
    on disk is written in one transaction at the end of the page
    (``LocalStore.record_admissions``): one commit, one wait for the disk, per page.
    With ``behind`` that write runs behind the caller, which goes on with the next page
    while the disk works; whatever is written next waits for it (the cursor that covers
    these events, this device's own events), and ``state.events`` gains them once they
    are on disk.

    With a ``worker`` (a child process, client/keys/signature_worker.py) every part of
    the page goes to it at once and is admitted as its answer comes; a part it cannot
    answer is checked on threads."""
    generation = state.disk_generation
    admissions: list[Admission] = []
    accepted: list[VerifiedEvent] = []
    fresh: list[VerifiedEvent] = []
    try:
        if len(items) <= PIPELINE_PART:
            verified = await check_signatures([data for data, _ in items])
            fresh = _admit(state, items, verified, report, admissions, accepted)
        else:
            fresh = await _admit_in_parts(state, items, report, admissions, accepted, worker)
        await store_page(state, admissions, accepted, behind=behind, generation=generation)
    except BaseException as exc:
        # Stopped half-way (the sync cancelled: the app locking, a pairing screen taking
        # over the connection; or a failure): the verifier admitted parts the disk does
        # not hold. Noted like a failed write, so memory goes back to the disk before
        # the next session or own write (§9.13); else the next session would take
        # those events for duplicates and never store them.
        if admissions and state.store.failed_admission is None:
            state.store.failed_admission = exc
        raise
    return fresh


PIPELINE_PART = 100
"""Envelopes admitted while the next as many have their signatures checked."""


async def _admit_in_parts(
    state: SpaceState,
    items: list[tuple[bytes, int | None]],
    report: SyncReport,
    admissions: list[Admission],
    accepted: list[VerifiedEvent],
    worker: SignatureWorker | None,
) -> list[VerifiedEvent]:
    """A large page, part by part, each once its signatures are checked: by the
    ``worker`` (all parts sent at once), else on threads (the next part while this one
    is admitted); a part the worker cannot answer is checked on threads."""
    parts = [items[i : i + PIPELINE_PART] for i in range(0, len(items), PIPELINE_PART)]
    if worker is not None:
        checks = [worker.check([data for data, _ in part]) for part in parts]
    else:
        checks = [check_part(parts[0])]
    timeout = None if worker is None else ANSWER_TIMEOUT_S
    fresh: list[VerifiedEvent] = []
    try:
        # The checking threads (and the write behind) get the GIL back quickly while
        # this thread admits: see signatures.quick_gil_handoff.
        with signatures.quick_gil_handoff():
            for n, part in enumerate(parts):
                try:
                    verified = await asyncio.wait_for(checks[n], timeout)
                except (WorkerGone, TimeoutError):
                    if worker is not None:
                        worker.abandon()  # stuck or gone: the rest goes to threads too
                    verified = await check_part(part)
                if worker is None and n + 1 < len(parts):
                    checks.append(check_part(parts[n + 1]))
                fresh += _admit(state, part, verified, report, admissions, accepted)
                # A part admitted: an app's other tasks get a turn (storing used to
                # give them one; it now waits for the end of the page).
                await asyncio.sleep(0)
    finally:
        drop_checks(checks)
    return fresh


def _admit(
    state: SpaceState,
    items: list[tuple[bytes, int | None]],
    verified: set[bytes],
    report: SyncReport,
    admissions: list[Admission],
    accepted: list[VerifiedEvent],
) -> list[VerifiedEvent]:
    """Admit one part in memory; what it changes on disk is added to ``admissions``,
    and its accepted events to ``accepted``, for the caller to store and then keep."""
    # What passes, waits or fails, held events retried: client/core/decisions.py.
    page = decisions.admit_page(state.verifier, items, state.pending, state.rejected, verified)
    tracker = state.tracker
    for served in page.served:
        tracker.served(served.relay_seq, served.data, served.event_id, valid=served.valid)
    for h in page.held:
        state.pending[h.event_id] = (h.data, h.relay_seq)
    for event_id in page.released:
        state.pending.pop(event_id, None)
    for r in page.rejected:
        state.rejected.add(r.event_id or b"")
    report.rejected += len(page.rejected)
    admissions.append(
        Admission(
            held=[HeldRow(h.event_id, h.data, h.relay_seq, h.waiting_for) for h in page.held],
            rejected=[
                RejectedRow(r.event_id, r.data, r.code, r.reason, r.relay_seq)
                for r in page.rejected
            ],
            events=[new_event(e, s) for e, s in page.accepted],
        )
    )
    accepted.extend(e for e, _ in page.accepted)
    report.received += len(page.accepted)
    return [e for e, _ in page.accepted if e.author != state.device.device_id]
