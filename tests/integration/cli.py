"""Run the installed ``trellis`` console script as a person would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from client.keys.vault import CHEAP_COST
from client.space import Space

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
    """Alex starts a space and invites Blake; both homes then work through the CLI.

    The homes are made by the library (what ``trellis init`` / ``invite`` / ``join`` call)
    with vaults sealed at :data:`~client.keys.vault.CHEAP_COST`: each vault records its
    cost, so every later ``trellis`` command in a test unlocks in milliseconds instead
    of ~1 s of Argon2id. The CLI's own ``init``/``join`` (and the real cost they seal at)
    are tested on their own in test_cli_contract.py."""
    alex, blake = tmp_path / "alex", tmp_path / "blake"
    run_async(_pair_cheaply(alex, blake, relay_url))
    run(alex, "sync")
    return alex, blake


async def _pair_cheaply(alex: Path, blake: Path, relay_url: str) -> None:
    async with await Space.create(
        alex, relay_url=relay_url, name="Alex", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    ) as space:
        code = await space.invite()
    async with await Space.join(
        blake, code=code, name="Blake", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    ) as joined:
        assert joined.joined, "Blake's join should complete in its first sync"


def run_async(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` on a loop of its own, so sync tests and async tests (whose loop is
    already running) can both call the helpers here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work).result()
