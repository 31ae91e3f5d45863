"""Settings and the command, over HTTP with a real relay: the idle-lock time is kept
per device, a passphrase change needs the current one, ``trellis app`` refuses a
taken port in plain words."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx

from client.app.state import AppState
from client.cli.local_app import launch_file
from client.keys.unlock import FREE_PASSPHRASE_ATTEMPTS
from client.space import Space
from tests.app.inprocess import app_client, post, sign_in, unlock
from tests.app.test_lock import PASSPHRASE, make_home
from tests.integration.cli import TRELLIS, trellis_env
from tests.integration.relay_process import RelayProcess


async def _unlocked(state: AppState, client: httpx.AsyncClient) -> str:
    await sign_in(state, client)
    csrf = await unlock(client, PASSPHRASE)
    assert state.space is not None
    return csrf


async def test_the_idle_lock_time_is_kept_on_this_device(
    tmp_path: Path, relay: RelayProcess
) -> None:
    home = await make_home(tmp_path, relay)
    async with app_client(home) as (state, client):
        csrf = await _unlocked(state, client)
        assert state.idle_lock_s == 300
        refused = await post(client, "/settings/idle-lock", {"csrf": csrf, "seconds": "5"})
        assert refused.status_code == 303
        assert state.idle_lock_s == 300
        await post(client, "/settings/idle-lock", {"csrf": csrf, "seconds": "900"})
        assert state.idle_lock_s == 900
        assert "15 minutes" in (await client.get("/settings")).text
    async with app_client(home) as (state, client):
        await _unlocked(state, client)
        assert state.idle_lock_s == 900


async def test_a_new_passphrase_needs_the_current_one(tmp_path: Path, relay: RelayProcess) -> None:
    home = await make_home(tmp_path, relay)
    new = "an even longer private passphrase"
    async with app_client(home) as (state, client):
        csrf = await _unlocked(state, client)
        form = {"csrf": csrf, "current": "not the passphrase", "new": new, "new2": new}
        await post(client, "/settings/passphrase", form)
        page = (await client.get("/settings")).text
        assert "passphrase" in page.lower()
        assert new not in page
        await post(client, "/settings/passphrase", {**form, "current": PASSPHRASE, "new2": "typo"})
        assert "did not match" in (await client.get("/settings")).text
        await post(client, "/settings/passphrase", {**form, "current": PASSPHRASE})
        assert "Passphrase changed." in (await client.get("/settings")).text
    opened = await Space.open(home, passphrase=new)
    await opened.close()


def test_a_taken_port_is_refused_in_plain_words(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [TRELLIS, "--home", str(tmp_path / "h"), "app", "--no-browser", "--port", str(port)],
            capture_output=True,
            text=True,
            env=trellis_env(),
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"Port {port} on 127.0.0.1 is taken" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_browser_is_given_a_private_file_not_the_address(tmp_path: Path) -> None:
    """Program arguments are visible to every local user (ps); the address holds the
    one-time token, so the browser is started with a file only this user can read."""
    url = "http://127.0.0.1:1234/?token=secret-token"
    path = launch_file(tmp_path, url)
    assert "token" not in path.as_uri()
    assert path.stat().st_mode & 0o777 == 0o600
    assert f'content="0;url={url}"' in path.read_text()


async def test_the_current_passphrase_in_settings_is_rate_limited_like_unlock(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """Someone at an unlocked, unattended app must not get unlimited guesses at the
    passphrase through Settings: wrong current passphrases count in the vault's own
    back-off (client/keys/unlock.py), so after FREE_PASSPHRASE_ATTEMPTS even the right
    one waits, and nothing is changed."""
    home = await make_home(tmp_path, relay)
    new = "an even longer private passphrase"
    async with app_client(home) as (state, client):
        csrf = await _unlocked(state, client)
        wrong = {"csrf": csrf, "current": "a guess", "new": new, "new2": new}
        for _ in range(FREE_PASSPHRASE_ATTEMPTS):
            await post(client, "/settings/passphrase", wrong)
        await post(client, "/settings/passphrase", {**wrong, "current": PASSPHRASE})
        page = (await client.get("/settings")).text
        assert "Too many wrong passphrases" in page
        assert "Passphrase changed." not in page
