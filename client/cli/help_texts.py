"""Help for the options and actions whose definitions give none, in one table.

``trellis COMMAND --help`` must explain every option (issue #13); a test walks the whole
parser and fails on any without help. Most options carry their help where they are
defined; this table fills the rest by command path and option, and ``--json`` everywhere
says the same thing.
"""

from __future__ import annotations

import argparse

JSON_HELP = "print JSON, for scripts and apps"
NOT_SAFE_POINTER = "Not safe? Run 'trellis not-safe' (no passphrase needed; it sends nothing)."

#: (command path, option or positional dest) -> help.
HELP: dict[tuple[str, str], str] = {
    ("journal add", "text"): "what you want to write ('-' reads it from stdin)",
    ("agreement propose", "--title"): "a short name for the agreement",
    ("agreement accept", "--note"): "an optional note for your partner",
    ("agreement review", "id"): "the agreement's id, or its first characters",
    ("agreement review", "--note"): "what you talked about, in a line (optional)",
    ("agreement review", "--next-review-on"): "when to review it again (YYYY-MM-DD, not past)",
    ("agreement show", "id"): "the agreement's id, or its first characters",
    ("plan write", "--title"): "a name for your plan (optional)",
    ("plan propose", "--title"): "a name for your plan (optional)",
    ("plan show", "id"): "the plan's id, or its first characters",
    ("windows propose", "--revises"): "the id of the window this one replaces",
    ("profile", "--name"): "the name your partner sees",
    ("profile", "--in-recovery"): "say that you are the partner in recovery",
    ("profile", "--not-in-recovery"): "say that you are not the partner in recovery",
    ("disclose", "--kind"): "what kind of disclosure this is",
    ("disclose", "--mood"): "how you felt, 1 (very low) to 5 (very good)",
    ("disclose", "--halt"): "were you hungry, angry, lonely or tired? repeat for more",
    ("disclose", "--trigger"): "what set it off; repeat for more",
    ("disclose", "--warning-sign"): "a warning sign you noticed; repeat for more",
    ("disclose", "--next-step"): "what you will do next; repeat for more",
    ("seen", "id"): "the disclosure's id, or its first characters",
    ("acknowledge", "id"): "the disclosure's id, or its first characters",
    ("checkin", "--mood"): "how you feel, 1 (very low) to 5 (very good)",
    ("sobriety start", "date"): "the first sober day (YYYY-MM-DD, today or earlier)",
    ("milestone add", "title"): "what the milestone is, e.g. 'Six months'",
    ("milestone add", "--note"): "a few words about it (optional; '-' reads stdin)",
    ("milestone add", "--when"): "the date (YYYY-MM-DD, the same date in every time zone)",
    ("signal", "level"): "timeout (or pause): step out and come back; slow: slow down; "
    "stop: stop now, no return owed; clear: end your own signal",
    ("export", "--format"): "html: a readable, verifiable report (default); json: the raw document",
    ("intimacy checkin", "--desire"): "how much desire you feel, for information only",
    ("boundary set", "--area"): "what the boundary is about",
    ("boundary set", "--non-negotiable"): "say that this boundary is not open to discussion",
    ("disclosure-prep set", "--detail"): "how much detail you want to hear",
    ("private add", "text"): "the note ('-' reads it from stdin)",
    ("private export", "--out"): "the file to write",
}

#: Actions (subcommands) with no help of their own.
ACTION_HELP: dict[tuple[str, str], str] = {
    ("plan", "propose"): "the same as 'plan write'",
    ("milestone", "add"): "mark a milestone (or, with --formal-disclosure, that one happened)",
    ("milestone", "list"): "list the milestones",
    ("gratitude", "add"): "write a gratitude note",
    ("gratitude", "list"): "list the gratitude notes",
}


def fill_help(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> None:
    """Give every option, positional and action of ``parser`` its help text."""
    where = " ".join(path)
    for action in parser._actions:  # argparse keeps options and subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            named = {choice.dest for choice in action._choices_actions}
            for name, child in action.choices.items():
                text = ACTION_HELP.get((where, name))
                if text is not None and name not in named:
                    action._choices_actions.append(action._ChoicesPseudoAction(name, (), text))
                fill_help(child, (*path, name))
            continue
        if action.help:
            continue
        key = action.option_strings[-1] if action.option_strings else action.dest
        if key == "--json":
            action.help = JSON_HELP
        elif (where, key) in HELP:
            action.help = HELP[(where, key)]


def point_every_help_to_not_safe(parser: argparse.ArgumentParser) -> None:
    """Every command's ``--help`` ends with the pointer to ``trellis not-safe``."""
    parser.epilog = NOT_SAFE_POINTER
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                point_every_help_to_not_safe(child)
