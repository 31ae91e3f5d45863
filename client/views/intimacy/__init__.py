"""The intimacy practices as views, sans-I/O (docs/PROTOCOL.md §5.11-§5.15).

Theory of operation: as :mod:`client.views.recovery`. Each fold reads accepted events in
causal order with the membership admission established, attributes each event to the
member (not the device), and reports an event that breaks its practice's rule as a
:class:`~client.views.recovery.PracticeViolation` for ``trellis verify``, keeping it in the
log. The moment is never read here.

The folds, and where they live (import them from this package):

* :func:`fold_pacing` (client/views/intimacy/pacing.py): the plan, its stage, every move.
* :func:`fold_intimacy_checkins` (client/views/intimacy/checkins.py): shared intimacy
  check-ins.
* :func:`fold_language` (client/views/intimacy/language.py): the shared language,
  versioned like agreements.
* :func:`fold_boundaries` (client/views/intimacy/boundaries.py): personal boundaries with
  their acknowledgements.
* :func:`fold_preparations` (client/views/intimacy/preparations.py): formal-disclosure
  preparation and answered questions.
* :func:`build_intimacy_views` (client/views/intimacy/combined.py): all of them at once.

Their timeline sentences are in client/views/intimacy/timeline.py; how they look on a
screen, in client/views/present_intimacy.py.
"""

from client.views.intimacy.boundaries import (
    BoundaryVersion,
    BoundaryView,
    fold_boundaries,
    looks_like_request,
)
from client.views.intimacy.checkins import IntimacyCheckInView, checkin_view, fold_intimacy_checkins
from client.views.intimacy.combined import IntimacyViews, build_intimacy_views
from client.views.intimacy.language import (
    ALWAYS_STOP,
    SIGNAL_TERM_KINDS,
    TermVersion,
    TermView,
    fold_language,
    terms_for_signal,
)
from client.views.intimacy.pacing import PacingMove, PacingView, fold_pacing
from client.views.intimacy.preparations import Mark, PreparationView, fold_preparations

__all__ = [
    "ALWAYS_STOP",
    "SIGNAL_TERM_KINDS",
    "BoundaryVersion",
    "BoundaryView",
    "IntimacyCheckInView",
    "IntimacyViews",
    "Mark",
    "PacingMove",
    "PacingView",
    "PreparationView",
    "TermVersion",
    "TermView",
    "build_intimacy_views",
    "checkin_view",
    "fold_boundaries",
    "fold_intimacy_checkins",
    "fold_language",
    "fold_pacing",
    "fold_preparations",
    "looks_like_request",
    "terms_for_signal",
]
