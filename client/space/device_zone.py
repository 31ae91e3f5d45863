"""This device's IANA time-zone name, which every event it writes carries (``tz`` in the
event body, docs/PROTOCOL.md §5.1, §10.9) so a partner in another zone can be shown
the writer's clock next to theirs. A name is read, never guessed: from ``TZ``, else
from where ``/etc/localtime`` points; a device with neither writes none."""

from __future__ import annotations

import os

from client.views.moments import known_zone_info

_ZONEINFO = "zoneinfo/"


def device_zone_name() -> str | None:
    """The IANA name of this device's zone (``Europe/Berlin``), or None if unknown."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        # A TZ that names no zone (a POSIX rule like "CET-1CEST") says nothing we can
        # put a name to: better none than the one /etc/localtime names for another zone.
        return name if known_zone_info(name) is not None else None
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return None
    _, found, tail = target.partition(_ZONEINFO)
    return tail if found and known_zone_info(tail) is not None else None
