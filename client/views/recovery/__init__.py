"""The recovery practices as views, sans-I/O (docs/PROTOCOL.md §10).

Theory of operation. Every fold here is a pure function over accepted events that are
already in the causal order of :func:`client.views.fold.causal_order`, with the membership
that admission established. Nothing here reads the clock, a file or a socket: the
moment ("now", "today", the person's time zone) is a parameter, so two partners who
hold the same events and ask about the same moment see the same views, whatever order
the events arrived in.

Each fold keeps only events written by a member device (admission accepts nothing
else; the folds do not rely on that) and attributes them to the *member*, so a person's
phone and laptop speak with one voice. An event that refers to another one in a way the
practice does not allow (acknowledging one's own disclosure, clearing the partner's
signal, pointing at an event that is not there) is kept in the log but not applied, and
the fold reports it as a :class:`PracticeViolation` with a stable snake_case code for
``trellis verify`` (client/views/recovery/violations.py). What someone chose to share is
always shown.

The folds, and where they live (import them from this package):

* :func:`fold_profiles` (client/views/recovery/profiles.py): names and who is in recovery.
* :func:`fold_disclosures` (client/views/recovery/disclosures.py): disclosures with their
  acknowledgements.
* :func:`fold_checkins`, :func:`fold_milestones`, :func:`fold_gratitude`
  (client/views/recovery/records.py).
* :func:`fold_signals` and :func:`active_signals` (client/views/recovery/signals.py):
  safety signals.
* :func:`fold_sobriety` (client/views/recovery/sobriety.py): current run and total sober
  days.
* :func:`next_window`, :func:`next_occurrence`, :func:`fold_postponements`,
  :func:`describe_window` (client/views/recovery/windows.py).
"""

from client.views.recovery.disclosures import (
    REPORT_KINDS,
    Acknowledgement,
    DisclosureView,
    fold_disclosures,
)
from client.views.recovery.profiles import Profile, fold_profiles
from client.views.recovery.records import (
    CheckInView,
    GratitudeView,
    MilestoneView,
    fold_checkins,
    fold_gratitude,
    fold_milestones,
)
from client.views.recovery.signals import SignalView, active_signals, fold_signals
from client.views.recovery.sobriety import (
    SLIP_KINDS,
    SobrietyView,
    breaks_sobriety,
    fold_sobriety,
    is_risk_report,
    local_date,
)
from client.views.recovery.violations import PracticeViolation, ViolationCode
from client.views.recovery.windows import (
    Occurrence,
    Postponement,
    PostponeProblem,
    describe_window,
    fold_postponements,
    known_zone,
    next_occurrence,
    next_window,
    window_start,
    window_zone,
)

__all__ = [
    "REPORT_KINDS",
    "SLIP_KINDS",
    "Acknowledgement",
    "CheckInView",
    "DisclosureView",
    "GratitudeView",
    "MilestoneView",
    "Occurrence",
    "PostponeProblem",
    "Postponement",
    "PracticeViolation",
    "Profile",
    "SignalView",
    "SobrietyView",
    "ViolationCode",
    "active_signals",
    "breaks_sobriety",
    "describe_window",
    "fold_checkins",
    "fold_disclosures",
    "fold_gratitude",
    "fold_milestones",
    "fold_postponements",
    "fold_profiles",
    "fold_signals",
    "fold_sobriety",
    "is_risk_report",
    "known_zone",
    "local_date",
    "next_occurrence",
    "next_window",
    "window_start",
    "window_zone",
]
