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
    final: bool = False
    """No retry will deliver it (the relay refused this device for good)."""


REFUSAL_WHY = {
    "quota_exceeded": (
        "this space has reached the storage limit of its relay; the relay's operator can raise it"
    ),
    "relay_full": "the relay has no room for more right now; its operator can make room",
    "chain_gap": "the relay is missing earlier events of this device (it may have lost data)",
    "chain_bad_prev": ("the relay holds this device's history differently (it may have lost data)"),
    "chain_conflict": (
        "the relay holds a different event at the same place in this device's history; "
        "'trellis status' and Check the whole history show what it holds"
    ),
    "device_revoked": "this device was removed from the space and can no longer send",
    "unknown_device": "the relay does not know this device yet",
    "unknown_space": "the relay does not know this space",
    "partner_active": "your partner still uses a device in this space",
    "rate_limited": "the relay asked this device to slow down",
    "not_ready": "the relay cannot store anything right now",
    "shutting_down": "the relay is restarting",
    "internal_error": "the relay hit a problem of its own",
    "envelope_too_large": "it is larger than this relay accepts",
    "batch_too_large": "the relay takes fewer events at a time",
    "bad_signature": "the relay could not check this device's signature",
    "bad_envelope": "the relay could not read what this device sent",
    "unknown_author": "the relay does not count this device as one of the space's",
    "wrong_host": "the relay does not answer to the address this app uses",
    "auth_failed": "the relay could not confirm this device",
    "unsupported_version": "this app and the relay speak different versions",
}
"""Why the relay did not take what this device sent, as a clause, for the refusal codes
of docs/PROTOCOL.md §8: the one table the CLI (``trellis sync``, a write's delivery line)
and the local app (a form's delivery line, the live session's problem) both read."""

REFUSAL_UNKNOWN = "the relay refused it for a reason this app does not know"
"""Said for a code the table does not hold (a newer relay's, or a hostile one's): the
code itself is not shown, as the relay chose its text."""


def refusal_why(code: str) -> str:
    """The clause for a relay's refusal ``code`` (:data:`REFUSAL_WHY`)."""
    return REFUSAL_WHY.get(code, REFUSAL_UNKNOWN)


def refusal_sentence(code: str) -> str:
    """The sentence for a push the relay refused: what is kept, and why it was refused."""
    return (
        f"The relay did not take this device's latest events: {refusal_why(code)}. They "
        "are kept on this device, marked not delivered."
    )


_NOT_DELIVERED_WHY = {
    **REFUSAL_WHY,
    "timeout": "the relay did not answer in time",
    "relay_unreachable": "the relay cannot be reached right now",
    "relay_certificate": "the relay's certificate could not be checked",
    "push_refused": "the relay did not take it",
    "relay_refused": "the relay did not take it",
    "not_member": "joining is not finished on this device",
}

SENT_NEVER = "It stays on this device."
"""Said instead of when it is sent, for a refusal no retry undoes (a removed device)."""


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
    if outcome.final:
        later = SENT_NEVER
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
