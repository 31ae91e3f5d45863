"""The registry of screens: one line per screen module, in nav order.

To add a screen, write client/app/screens/<name>.py exporting ``SCREEN``
(:class:`client.app.screen.Screen`) with its templates in
client/app/templates/<name>/, then add one line here. Nothing else changes.
"""

from __future__ import annotations

from client.app.screen import Screen
from client.app.screens import (
    access,
    agreements,
    checkins,
    disclosures,
    export,
    gratitude,
    intimacy,
    intimacy_words,
    journal,
    not_safe,
    pairing,
    plan,
    settings,
    signals,
    sobriety,
    timeline,
    today,
    windows,
)

SCREENS: list[Screen] = [
    access.SCREEN,
    today.SCREEN,
    journal.SCREEN,
    signals.SCREEN,
    pairing.SCREEN,
    settings.SCREEN,
    agreements.SCREEN,
    plan.SCREEN,
    windows.SCREEN,
    disclosures.SCREEN,
    checkins.SCREEN,
    sobriety.SCREEN,
    gratitude.SCREEN,
    intimacy.SCREEN,
    intimacy_words.SCREEN,
    timeline.SCREEN,
    export.SCREEN,
    not_safe.SCREEN,
]
