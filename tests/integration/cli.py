"""Run the installed ``trellis`` console script as a person would."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

TRELLIS = str(Path(sys.executable).with_name("trellis"))
PASSPHRASE = "a long and private passphrase"
FOR_THERAPIST = (
    "--for",
    "Dr. Rivera",
    "--purpose",
    "our next session",
    "--until",
    (date.today() + timedelta(days=30)).isoformat(),
)
"""Whom an export is for, why and until when (docs/PROTOCOL.md "Exports", "Consent")."""


def run(
    home: Path,
    *args: str,
    passphrase: str = PASSPHRASE,
    stdin: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [TRELLIS, "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=trellis_env(passphrase),
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"{args} failed: {result.stderr}"
    return result


def trellis_env(passphrase: str = PASSPHRASE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env["TRELLIS_PASSPHRASE"] = passphrase
    return env


def pair_homes(tmp_path: Path, relay_url: str) -> tuple[Path, Path]:
    """Alex starts a space and invites Blake, through the CLI."""
    alex, blake = tmp_path / "alex", tmp_path / "blake"
    run(alex, "init", "--relay", relay_url, "--name", "Alex")
    code = run(alex, "invite").stdout.strip().splitlines()[-1]
    run(blake, "join", code, "--name", "Blake")
    run(alex, "sync")
    return alex, blake
