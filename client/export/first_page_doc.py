"""The first page's data as the export document carries it: the ``summary`` object of a
version-2 export (docs/PROTOCOL.md "Exports", "The first page").

These are the shapes only, so the document (client/export/format.py) can decode and
sign them without the folds; client/export/first_page.py computes them. Every field is
required and unknown fields are refused, for the same reason as the document's: one
encoding, nothing the signature and the recomputation do not cover.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

_Millis = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
_Count = Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
_Hex32 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
_Date = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
_Text = Annotated[str, msgspec.Meta(max_length=5_000)]
_Name = Annotated[str, msgspec.Meta(max_length=200)]

ChangeKind = Literal["proposed", "revised", "accepted", "read", "declined", "withdrawn", "reviewed"]
"""``read``: the partner's ``agreement_accepted`` of a recovery plan, which needs no yes
and is kept as having read it (§10.3)."""


class PageChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One change to an agreement since the chosen date: who did what, when."""

    at: _Millis
    agreement: _Hex32
    """The agreement's id (its first version's event id)."""
    title: _Text
    kind: Literal["agreement", "recovery_plan", "window"]
    what: ChangeKind
    by: _Name


class PageReview(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An agreement in force whose review is due, or due within four weeks."""

    agreement: _Hex32
    title: _Text
    review_on: _Date
    """The date that stands (§10.3); a review asking to revise it without a new date
    makes it due from that review's day."""
    due: bool


class PageSlip(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A slip, relapse or risk report disclosed since the chosen date."""

    event: _Hex32
    by: _Name
    kind: Literal["slip", "relapse", "risk"]
    """As shown (§10.4): a middle-circle slip report is a risk disclosure."""
    circle: Literal["inner", "middle", "outer"] | None
    occurred_at: _Millis
    """The slip's date, as its writer gave it."""
    disclosed_at: _Millis
    """When the disclosure was recorded; the time to disclose is the difference."""
    supports: list[_Text]
    next_steps: list[_Text]


class PageCheckIns(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One partner's check-ins since the chosen date, in this export."""

    by: _Name
    count: _Count
    last_at: _Millis | None


class PageSignal(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A signal sent since the chosen date, and whether its sender cleared it."""

    event: _Hex32
    by: _Name
    level: Literal["pause", "slow", "stop"]
    sent_at: _Millis
    returns_at: _Millis | None
    """A time-out's planned return; None for a stop, which owes none."""
    cleared_at: _Millis | None
    """When its sender cleared it (came back), or None if not in this export."""


class PagePostponed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    occurrence: _Millis
    to: _Millis
    by: _Name


class PageWindow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A transparency window in force during the period: how often it was due, and
    which times were moved."""

    agreement: _Hex32
    title: _Text
    times_due: _Count
    """Scheduled times from the chosen date (or from when it came into force) to the
    export, counted with the window's written UTC offset so every machine agrees."""
    postponed: list[PagePostponed]


class PagePacing(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where the pacing plan stands, and its moves since the chosen date."""

    step: _Count | None
    """The step in use, from 1; None while no plan is in use."""
    steps: _Count
    step_title: _Text | None
    forward: _Count
    step_backs: _Count


class FirstPage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a therapist asks for, since a chosen date (DOMAIN.md §2)."""

    since: _Millis
    as_of: _Millis
    """The export's ``created_at``."""
    changes: list[PageChange]
    reviews: list[PageReview]
    slips: list[PageSlip]
    check_ins: list[PageCheckIns]
    signals: list[PageSignal]
    windows: list[PageWindow]
    pacing: PagePacing | None
    """None when the export holds no pacing plan."""
