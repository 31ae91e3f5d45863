"""The in-process runner (tests/integration/cli.py) answers exactly as a ``trellis``
process does, for a sample of every command group.

Most CLI tests run their commands in the test's own process, to skip ~0.5-1 s of
interpreter start-up per command. That is only sound if nothing a command prints or
returns depends on running in a process of its own. So here each command of the sample
runs both ways on the same homes, and stdout, stderr and the exit code must be equal
byte for byte: a read of every group, usage errors, ``--help``, a wrong passphrase, the
command that needs no passphrase, and the device's zone; and entries written each way
(one from stdin) are read back alike.
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

# One command of every group in client/cli/parser.py GROUPS, reading the state the
# writes below make (a process costs ~0.5-1 s: one each is the sample).
READS: tuple[tuple[str, ...], ...] = (
    ("safety-number",),  # pairing
    ("journal", "list", "--json"),  # journal
    ("status", "--json"),  # sync
    ("agreement", "list"),  # agreements
    ("plan", "list"),  # plan
    ("windows", "list"),  # windows
    ("disclosures",),  # disclosures
    ("checkins",),  # checkins
    ("gratitude", "list"),  # sobriety
    ("signals",),  # signals
    ("verify",),  # audit
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
    ("app", "--help"),  # local_app: exit 0
    ("export-consent",),  # consent: a required option missing, exit 2
    ("relay", "sett"),  # relay: a mistyped action, exit 2
    ("agreement", "show", "zz"),  # no such id, exit 1
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
        *("agreement", "propose", "--title", "Evenings", "--clause", "we talk each evening"),
        *("--review-on", REVIEW_ON),
    )
    run(blake, "gratitude", "add", "thanks for the walk")
    run(alex, "boundary", "set", "--area", AREA, "--when", "shouting", "--i-will", "leave")
    run(blake, "private", "add", "only mine")
    for home in (alex, blake, alex):
        run(home, "sync")

    differences: list[str] = []
    for args in READS:
        differences += both_ways(blake, *args)
    for args in ANSWERS:
        differences += both_ways(alex, *args)
    differences += both_ways(alex, "journal", "list", passphrase="not the passphrase")
    differences += both_ways(alex, "not-safe", passphrase="")
    # The device's zone (TZ) is read as a new process reads it, not once for all runs.
    shown = set()
    for zone in ("Pacific/Kiritimati", "America/New_York"):  # UTC+14, UTC-5 or -4
        monkeypatch.setenv("TZ", zone)
        differences += both_ways(blake, "timeline")  # audit
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
    # --ca-file sets TRELLIS_CA_FILE in the command's environment (client/cli/parser.py;
    # read when an https relay is dialled, so this http one syncs without it).
    run(alex, "--ca-file", str(tmp_path / "none.pem"), "sync")
    assert CA_FILE_ENV not in os.environ
    assert dict(os.environ) == env
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
    assert sys.argv == argv
    # ... so the next command dials without it.
    assert run(alex, "sync").returncode == 0
