"""The words a person reads after acting: whether a write reached the relay, what an
acceptance did, and the one gate every error message passes (no validator's words)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivery:
    """Whether a write saved on this device also reached the relay, and if not why
    (an error code from client/errors.py, or ``timeout``)."""

    delivered: bool
    reason: str | None = None


_NOT_DELIVERED_WHY = {
    "timeout": "the relay did not answer in time",
    "relay_unreachable": "the relay cannot be reached right now",
    "relay_certificate": "the relay's certificate could not be checked",
    "push_refused": "the relay did not take it",
    "relay_refused": "the relay did not take it",
    "not_member": "joining is not finished on this device",
}


SENT_LATER_CLI = "It is sent at the next 'trellis sync'."
SENT_LATER_APP = "It is sent as soon as the relay can be reached."
"""The local app keeps a sync session open, so it sends by itself (client/app)."""


def delivery_sentence(
    outcome: Delivery, *, signal: bool = False, later: str = SENT_LATER_CLI
) -> str:
    """The words after a write: "Delivered." only when the relay has it.

    For a safety signal, never imply the partner has it when they do not: say plainly
    that they do not, and that another way of telling them may be needed.
    """
    if outcome.delivered:
        if signal:
            return "Delivered: your partner sees it as soon as their device is online."
        return "Delivered."
    why = _NOT_DELIVERED_WHY.get(outcome.reason or "", "the relay could not take it now")
    text = f"Saved on this device; not delivered yet: {why}. {later}"
    if signal:
        text += " Your partner does not have it yet; if it matters now, tell them another way."
    return text


def accepted_sentence(status: str) -> str:
    """What an acceptance did, from the agreement's status on this device just after."""
    if status == "in_force":
        return "Accepted. The agreement is now in force for both of you."
    if status == "proposed":
        return (
            "Accepted. It is not in force yet: it comes into force once every partner "
            "has accepted it."
        )
    return (
        "Accepted, but it is not in force: your partner withdrew or replaced it meanwhile "
        "('trellis agreement list' shows where it stands)."
    )


# -- errors -------------------------------------------------------------------------

#: Signs of a message written for programmers: a schema path (`$.window.time`), a
#: validator's "Expected `str` matching regex ...", a class name.
_TECHNICAL = re.compile(r"`\$|\$\.|regex|Expected `|\b[A-Z]\w*(?:Error|Exception)\b|Traceback")
_FIELD = re.compile(r"`\$(?:\.\w+|\[\d+\])*\.(\w+)")


def plain_error(message: str) -> str:
    """The one gate every error message passes before a person reads it.

    Messages are written plain where they are raised; this catches the ones that carry a
    validator's words (a schema path, a regex, a class name) and says instead which value
    was not in a usable form, so nobody reads "Expected `str` matching regex".
    """
    if not _TECHNICAL.search(message):
        return message
    field = _FIELD.search(message)
    what = f"the {field.group(1).replace('_', ' ')}" if field else "a value"
    return (
        f"That cannot be saved: {what} given is not in a form Trellis can use. The "
        "command's --help shows the forms it takes; nothing was written."
    )
