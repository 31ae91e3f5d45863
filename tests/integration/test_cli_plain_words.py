"""No message a person reads is a crash or a validator's words (issue #13): every
command driven with bad values, and the surroundings that used to crash."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from client.cli.parser import build_parser
from client.cli.parser import main as trellis_main
from tests.integration.cli import FOR_THERAPIST, TRELLIS, pair_homes, run, trellis_env
from tests.integration.relay_process import RelayProcess

TECHNICAL = re.compile(
    r"`\$|\$\.|regex|Expected `|\b[A-Z]\w*(?:Error|Exception)\b|Traceback|went wrong"
)


def leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    seen: set[int] = set()
    for name, child in subs[0].choices.items():
        if id(child) not in seen:  # an alias is the same parser
            seen.add(id(child))
            yield from leaves(child, (*path, name))


def bad_argv(path: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    """Every positional and every option that takes a value, given a value that makes
    no sense ('7pm' for text, -1 for numbers, a listed choice where there are choices)."""
    argv = list(path)
    for action in parser._actions:
        if action.nargs == 0 or isinstance(action, argparse._HelpAction):
            continue
        if action.choices is not None:
            value = str(next(iter(action.choices)))
        elif action.type in (int, float):
            value = "-1"
        else:
            value = "7pm"
        if action.option_strings:
            argv += [action.option_strings[-1], value]
        else:
            argv.append(value)
    return argv


@pytest.fixture
def offline_home(tmp_path: Path, relay: RelayProcess) -> Path:
    alex, _ = pair_homes(tmp_path, relay.url)
    relay.stop()
    return alex


def test_every_command_with_bad_values_answers_in_plain_words(
    offline_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in trellis_env().items():
        monkeypatch.setenv(key, value)
    checked = 0
    for path, parser in leaves(build_parser()):
        argv = ["--home", str(offline_home), *bad_argv(path, parser)]
        # argparse's own refusal exits: a usage line, checked below all the same.
        with contextlib.suppress(SystemExit):
            trellis_main(argv)
        out = capsys.readouterr()
        said = out.out + out.err
        assert not TECHNICAL.search(said), f"{' '.join(argv[2:])}:\n{said}"
        checked += 1
    assert checked > 60


def test_a_window_time_like_7pm_is_refused_in_plain_words(offline_home: Path) -> None:
    refused = run(
        offline_home, "windows", "propose", "--weekday", "sunday", "--time", "7pm", check=False
    )
    assert refused.returncode == 2
    assert "'7pm' is not a time of day; use 24-hour HH:MM, e.g. 19:00" in refused.stderr


def test_values_that_make_no_sense_are_refused(offline_home: Path) -> None:
    cases = {
        ("milestone", "add", "Six months", "--when", "2099-01-01"): "cannot be in the future",
        ("sobriety", "start", "2099-01-01"): "cannot be in the future",
        (
            "disclose",
            "--kind",
            "slip",
            "--summary",
            "a drink",
            "--circle",
            "inner",
            "--when",
            "2099-01-01",
        ): "cannot be in the future",
        (
            "agreement",
            "propose",
            "--title",
            "Phones",
            "--clause",
            "Open",
            "--review-on",
            "2001-01-01",
        ): "already past; a review date is today or later",
        ("signal", "timeout", "--until", "2001-01-01T10:00"): "return time has already passed",
    }
    for argv, words in cases.items():
        refused = run(offline_home, *argv, check=False)
        assert refused.returncode == 2, (argv, refused.stderr)
        assert words in refused.stderr, (argv, refused.stderr)


def test_home_that_is_a_file_is_a_plain_message(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    result = run(a_file, "journal", "list", check=False)
    assert result.returncode == 1
    assert "is a file, not a folder" in result.stderr
    assert not TECHNICAL.search(result.stderr)


def test_export_into_a_missing_folder_is_a_plain_message(
    offline_home: Path, tmp_path: Path
) -> None:
    proposed = run(
        offline_home,
        *("agreement", "propose", "--title", "Phones", "--clause", "Open"),
        *("--review-on", "2030-01-01"),
        check=False,
    )
    assert proposed.returncode == 3  # saved here; the relay is down
    result = run(
        offline_home,
        "export",
        "--agreements",
        *FOR_THERAPIST,
        "--format",
        "html",
        "--out",
        str(tmp_path / "no-such-folder" / "report.html"),
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "does not exist; nothing was written" in result.stderr
    assert not TECHNICAL.search(result.stderr)


def test_a_closed_pipe_is_a_quiet_exit(offline_home: Path) -> None:
    # Far more than a pipe holds (64 KiB), so the command is still writing when the reader
    # goes away (40 short entries fitted in the pipe: the command finished first, exit 0).
    long_thanks = "Thank you for listening today. " * 120
    for i in range(40):
        run(offline_home, "gratitude", "add", f"{i}: {long_thanks}", check=False)
    timeline = subprocess.Popen(
        [TRELLIS, "--home", str(offline_home), "timeline", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=trellis_env(),
    )
    assert timeline.stdout is not None
    timeline.stdout.read(10)
    timeline.stdout.close()  # what `| head -c 10` does
    _, err = timeline.communicate(timeout=60)
    assert err == b"", err
    assert timeline.returncode == 141


def test_a_date_without_a_time_is_the_same_date_in_every_zone(
    offline_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    run(offline_home, "milestone", "add", "New year", "--when", "2026-01-01", check=False)
    shown_in_berlin = run(offline_home, "milestone", "list").stdout
    monkeypatch.setenv("TZ", "America/New_York")
    shown_in_new_york = run(offline_home, "milestone", "list").stdout
    for shown in (shown_in_berlin, shown_in_new_york):
        assert "2026-01-01  " in shown, shown
        assert "2025-12-31" not in shown
    # Today's date is never "in the future", whatever the hour in UTC.
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: today here is tomorrow in UTC
    there = datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    today = run(offline_home, "milestone", "add", "Today", "--when", there, check=False)
    assert today.returncode == 3, today.stderr


def test_journal_amend_keeps_what_was_not_given(offline_home: Path) -> None:
    run(offline_home, "journal", "add", "First words", "--mood", "4", "--tag", "home", check=False)
    [entry] = json.loads(run(offline_home, "journal", "list", "--json").stdout)
    run(offline_home, "journal", "amend", entry["id"][:8], "Better words", check=False)
    [amended] = json.loads(run(offline_home, "journal", "list", "--json").stdout)
    assert amended["text"] == "Better words"
    assert amended["mood"] == 4
    assert amended["tags"] == ["home"]
