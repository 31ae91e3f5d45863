"""What ``trellis`` prints shows only what a terminal may show (THREAT_MODEL.md §21.1).

The command line prints what partners wrote (names, titles, notes, entries) and what an
export's author chose (its title, recipient and purpose). On a terminal, an ESC in that
text starts a control sequence: it can move the cursor up, erase lines, rewrite the
window title; a carriage return goes back to the start of the line. A partner's name
could then erase ``The two exports do NOT agree`` and print ``The two exports agree``
in its place, and a bidirectional override could turn the words around. So every
command writes through :func:`shown_only`, which removes those characters from all it
prints, on stdout and stderr alike (client/views/shown.py). ``--json`` output keeps
every character, written as a JSON ``\\uXXXX`` escape (:func:`json_text`), so nothing
is lost and nothing reaches the terminal raw.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO, cast

from client.views.shown import UNSHOWN, shown

_AS_ESCAPES = {code: f"\\u{code:04x}" for code in UNSHOWN}
"""Inside JSON text these characters can only stand in strings, where ``\\uXXXX`` is
the same character: the JSON is unchanged in meaning and holds none of them raw."""


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """``value`` as JSON that keeps every character written and holds no character a
    terminal acts on (control, bidirectional override)."""
    return json.dumps(value, ensure_ascii=False, indent=indent).translate(_AS_ESCAPES)


class _Shown:
    """A text stream that passes on what a terminal may show, and nothing else."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(shown(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def shown_only() -> Iterator[None]:
    """While a command runs, stdout and stderr show only what a terminal may show."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = cast(TextIO, _Shown(out)), cast(TextIO, _Shown(err))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
