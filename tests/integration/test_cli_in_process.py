"""The in-process runner (tests/integration/cli.py) answers exactly as a ``trellis``
process does, for a sample of every command group.

Most CLI tests run their commands in the test's own process, to skip ~0.5-1 s of
interpreter start-up per command. That is only sound if nothing a command prints or
returns depends on running in a process of its own. So here each command of the sample
runs both ways on the same homes, and stdout, stderr and the exit code must be equal
byte for byte: reads, writes (the same text, written once each way), stdin, usage
errors, ``--help``, a wrong passphrase and the commands that need no passphrase.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from client.store.relay_http import CA_FILE_ENV
from schemas.intimacy import BOUNDARY_AREAS
from tests.integration.cli import (
    PASSPHRASE,
    pair_homes,
    run,
    run_in_process,
    run_process,
    trellis_env,
)
from tests.integration.relay_process import RelayProcess

REVIEW_ON = (date.today() + timedelta(days=90)).isoformat()
AREA = BOUNDARY_AREAS[0]

# One command (or more) of every group in client/cli/parser.py GROUPS, with the state
# they read made by the writes below. Each is run by both partners.
READS: tuple[tuple[str, ...], ...] = (
    ("safety-number",),  # pairing
    ("profile", "--json"),
    ("journal", "list"),  # journal
    ("journal", "list", "--json"),
    ("status", "--json"),  # sync
    ("agreement", "list"),  # agreements
    ("agreement", "list", "--json"),
    ("plan", "list"),  # plan
    ("windows", "list"),  # windows
    ("disclosures",),  # disclosures
    ("checkins",),  # checkins
    ("sobriety", "show"),  # sobriety
    ("gratitude", "list"),
    ("signals",),  # signals
    ("timeline",),  # audit
    ("timeline", "--json"),
    ("verify",),
    ("devices",),  # devices
    ("pacing", "show"),  # pacing
    ("intimacy", "checkins"),  # intimacy
    ("language", "show"),  # language
    ("boundaries",),  # boundaries
    ("disclosure-prep", "show"),  # disclosure_prep
    ("private", "list"),  # private
)

# What argparse answers itself (SystemExit inside the runner), and plain errors.
ANSWERS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("journal", "--help"),
    ("app", "--help"),  # local_app
    ("export-consent", "--help"),  # consent
    ("relay",),  # relay: no action given, exit 2
    ("journal", "lst"),  # a mistyped action, exit 2
    ("nonsense",),  # an unknown command, exit 2
    ("agreement", "show", "zz"),  # no such id, exit 1
    ("windows", "propose", "--weekday", "someday", "--time", "19:00"),
)


@pytest.fixture
def paired(tmp_path: Path, relay: RelayProcess) -> tuple[Path, Path]:
    return pair_homes(tmp_path, relay.url)


def both_ways(home: Path, *args: str, passphrase: str = PASSPHRASE) -> list[str]:
    """Where the process and the in-process run differ (empty when they agree)."""
    argv = ["--home", str(home), *args]
    env = trellis_env(passphrase)
    real = run_process(argv, env=env)
    here = run_in_process(argv, env=env)
    return [
        f"{args} {what}: process {a!r} != in-process {b!r}"
        for what, a, b in (
            ("exit code", real.returncode, here.returncode),
            ("stdout", real.stdout, here.stdout),
            ("stderr", real.stderr, here.stderr),
        )
        if a != b
    ]


def test_every_command_group_answers_the_same_in_a_process_and_in_process(
    paired: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    alex, blake = paired
    # Writes, each way once: what one way writes, the other reads back below.
    for process in (True, False):
        way = "process" if process else "in-process"
        run(alex, "journal", "add", f"written {way}", process=process)
        run(blake, "journal", "add", "-", stdin=f"from stdin,\n{way}\n", process=process)
        run(
            alex,
            *("agreement", "propose", "--title", way, "--clause", "we talk each evening"),
            *("--review-on", REVIEW_ON),
            process=process,
        )
        run(blake, "gratitude", "add", f"thanks, {way}", process=process)
        run(
            alex,
            *("boundary", "set", "--area", AREA, "--when", f"shouting, {way}"),
            *("--i-will", "leave the room"),
            process=process,
        )
        run(blake, "private", "add", f"only mine, {way}", process=process)
    for home in (alex, blake, alex):
        run(home, "sync")

    differences: list[str] = []
    for home in (alex, blake):
        for args in READS + ANSWERS:
            differences += both_ways(home, *args)
    differences += both_ways(alex, "journal", "list", passphrase="not the passphrase")
    differences += both_ways(alex, "not-safe", passphrase="")
    # The device's zone (TZ) is read as a new process reads it, not once for all runs.
    shown = set()
    for zone in ("Pacific/Kiritimati", "America/New_York"):  # UTC+14, UTC-5 or -4
        monkeypatch.setenv("TZ", zone)
        differences += both_ways(blake, "timeline")
        shown.add(run(blake, "timeline").stdout)
    assert differences == []
    assert len(shown) == 2  # each in its own zone's clock

    texts = [e["text"] for e in json.loads(run(blake, "journal", "list", "--json").stdout)]
    assert sorted(texts) == sorted(
        ["written process", "written in-process", "from stdin,\nprocess", "from stdin,\nin-process"]
    )


def test_an_in_process_run_gives_back_the_environment_and_the_streams_it_borrowed(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    alex, _ = paired
    env, streams, argv = dict(os.environ), (sys.stdin, sys.stdout, sys.stderr), list(sys.argv)
    # --ca-file sets TRELLIS_CA_FILE in the environment of the command (client/cli/parser.py).
    missing = tmp_path / "none.pem"
    failed = run(alex, "--ca-file", str(missing), "sync", check=False)
    assert failed.returncode == 1
    assert "cannot be read as a PEM certificate" in failed.stderr
    assert CA_FILE_ENV not in os.environ
    assert dict(os.environ) == env
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
    assert sys.argv == argv
    # ... so the next command dials without it.
    assert run(alex, "sync").returncode == 0
