"""Characters that no screen, page or printed report shows (docs/THREAT_MODEL.md
§17.1, §21.1, §29).

Anything a partner wrote (a name, a title, a note, an entry) is hostile input to every
place that shows it. Escaping stops markup, not these characters:

- control characters (all but tab and line feed): on a terminal, ESC starts a
  sequence that moves the cursor, erases lines or rewrites the window title, and a
  carriage return goes back to the start of the line, so a partner's name could erase
  "The two exports do NOT agree" and print "The two exports agree" in its place;
- the bidirectional embedding, override and isolate controls (U+202A-U+202E,
  U+2066-U+2069): a RIGHT-TO-LEFT OVERRIDE turns the words after it around on the line,
  the app's and the report's own words included.

Right-to-left scripts need none of them: browsers and terminals order Hebrew or Arabic
by themselves. What was written is kept unchanged in the space and in exports; only
what is shown loses them. This is the one table: the terminal (client/cli/terminal.py),
the export's report (client/export/html_words.py) and the local app's pages
(client/app/screen.py, with ``page=True``) all read it.
"""

from __future__ import annotations

UNSHOWN: dict[int, None] = dict.fromkeys(
    [
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)
"""Code points removed before showing: the C0 controls but tab and line feed, DEL, the
C1 controls, and the bidirectional embedding, override and isolate controls. A carriage
return goes too: on a terminal it moves back to the start of the line, so what follows
overwrites what was printed before; in a page it is blank space at best (a CR LF line
end, as a browser's text box sends, still ends the line with its LF)."""


UNSHOWN_ON_PAGE: dict[int, None] = {c: None for c in UNSHOWN if c != 0x0D}
""":data:`UNSHOWN` but the carriage return, for the local app's pages: a page's HTML
parser reads a carriage return as a line break (a lone CR from an old text is still a
new line there) and it moves no cursor back over the app's own words; on a terminal and
in a printed report it would, so they drop it. Everything else is the same table."""


def shown(text: str, *, page: bool = False) -> str:
    """``text`` as a terminal, a page or a printed report may show it: nothing in it
    can move the cursor, erase, change the window title or turn the line around.
    ``page``: for the local app's pages, which keep line breaks as they were written
    (:data:`UNSHOWN_ON_PAGE`)."""
    return text.translate(UNSHOWN_ON_PAGE if page else UNSHOWN)
