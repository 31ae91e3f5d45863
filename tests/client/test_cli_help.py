"""Every command, action and option of ``trellis`` explains itself (issue #13)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from client.cli import main as light_main
from client.cli.parser import build_parser


def undocumented(parser: argparse.ArgumentParser, path: str = "trellis") -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            named = {choice.dest for choice in action._choices_actions}
            for name, child in action.choices.items():
                aliases = {a for c in action._choices_actions for a in c.metavar or ()}
                if name not in named and name not in aliases and name != "acknowledge":
                    yield f"{path} {name}"
                yield from undocumented(child, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction) and not action.help:
            yield f"{path} {action.option_strings or action.dest}"


def test_every_command_action_and_option_has_help() -> None:
    assert list(undocumented(build_parser())) == []


def test_milestone_and_gratitude_help_list_their_actions() -> None:
    parser = build_parser()
    for family in ("milestone", "gratitude"):
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        shown = sub.choices[family].format_help()
        assert "add " in shown, shown
        assert "list " in shown, shown


def test_trellis_alone_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert light_main([]) == 0
    assert "usage: trellis" in capsys.readouterr().out
    assert light_main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("trellis ")


def test_timeline_kind_lists_the_kinds_and_checkin_explains_fanos() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    timeline = " ".join(sub.choices["timeline"].format_help().split())
    assert "signal_sent" in timeline
    assert "journal_entry" in timeline
    checkin = " ".join(sub.choices["checkin"].format_help().split())
    assert "FANOS stands for Feelings, Affirmation" in checkin


def test_the_default_home_folder_is_shown_as_a_path() -> None:
    import platformdirs

    shown = " ".join(build_parser().format_help().split())
    assert platformdirs.user_data_dir("trellis", appauthor=False) in shown
