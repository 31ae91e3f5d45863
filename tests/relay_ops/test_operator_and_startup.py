"""The operator listener, the OpenAPI page, and a start-up that explains itself (issue #18).

Each test runs the real relay process on loopback (tests/integration/relay_process.py)
or its command line, and checks what an operator sees: exit status and one plain line.
"""

from __future__ import annotations

import re
import resource
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server import __version__
from server._migrations import migrations
from server.operator import token_path
from server.startup import EXIT_PORT_BUSY, EXIT_SETUP, EXIT_STARTUP_FAILED
from tests.integration.relay_process import REPO_ROOT, RelayProcess, free_port
from tests.relay_ops.conftest import RelayFactory

OPERATOR_ONLY = ["/metrics", "/admin/spaces"]
SPELLINGS = ["{p}", "{p}/", "{p}%2F", "{p}%2f", "{p}/.", "/.{p}", "//{p}", "{p}?x=1", "{p};x"]


def relay_command(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``python -m server ARGS`` to completion, without any TRELLIS_ variable."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )


def operator_token(relay: RelayProcess) -> str:
    return token_path(str(relay.db)).read_text().strip()


def token_mode(relay: RelayProcess) -> int:
    return token_path(str(relay.db)).stat().st_mode


# --- the operator listener ----------------------------------------------------------


async def test_metrics_and_admin_are_served_only_on_the_operator_listener(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    async with httpx.AsyncClient(base_url=relay.http_url) as public:
        for path in OPERATOR_ONLY:
            for spelling in SPELLINGS:
                url = spelling.format(p=path)
                response = await public.get(url)
                assert response.status_code == 404, url
                assert "trellis_relay" not in response.text, url
    async with httpx.AsyncClient(base_url=relay.operator_url) as operator:
        response = await operator.get("/metrics")
        assert response.status_code == 200
        assert "trellis_relay_info" in response.text
        # The operator listener is no second door to the public API either.
        assert (await operator.get("/healthz")).status_code != 200
        # The admin endpoints want the token the relay wrote beside its database.
        assert (await operator.get("/admin/spaces")).status_code == 401
        token = operator_token(relay)
        wrong = await operator.get("/admin/spaces", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await operator.get("/admin/spaces", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert right.json() == []
    assert token_mode(relay) & 0o077 == 0


def test_the_operator_listener_is_loopback_by_default_and_can_be_turned_off(
    tmp_path: Path,
) -> None:
    shown = relay_command("--db", str(tmp_path / "r.db"), "settings")
    assert "operator_host = 127.0.0.1" in shown.stdout
    assert "operator_port = 8766" in shown.stdout
    relay = RelayProcess(tmp_path / "off.db", ["--operator-port", "0"]).start()
    try:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{relay.operator_url}/metrics")
        assert httpx.get(f"{relay.http_url}/metrics").status_code == 404
    finally:
        relay.stop()


async def test_the_openapi_page_loads_nothing_from_another_origin(
    start_relay: RelayFactory,
) -> None:
    relay = start_relay()
    async with httpx.AsyncClient(base_url=relay.http_url) as public:
        page = await public.get("/schema")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        # Nothing that makes a browser fetch or run anything: no scripts, styles,
        # images, frames, or links to anywhere but the relay's own documents.
        for tag in ("<script", "<link", "<img", "<iframe", "<style", "@import", "url("):
            assert tag not in html.lower(), tag
        assert re.findall(r"href='([^']*)'", html) == [
            "/schema/openapi.json",
            "/schema/openapi.yaml",
        ]
        assert "://" not in html
        assert (await public.get("/schema/openapi.json")).status_code == 200
        assert (await public.get("/schema/openapi.yaml")).status_code == 200
        for cdn_page in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
            assert (await public.get(cdn_page)).status_code == 404, cdn_page


# --- start-up that explains itself --------------------------------------------------------


def test_version_and_the_settings_in_effect_with_secrets_masked(tmp_path: Path) -> None:
    version = relay_command("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"trellis-relay {__version__}"
    config = tmp_path / "relay.toml"
    secret = "s3cret-creation-token-0123456789"
    config.write_text(f'space_creation_token = "{secret}"\nmax_spaces = 40\n')
    shown = relay_command("--config", str(config), "--port", "9100", "settings")
    assert shown.returncode == 0, shown.stderr
    assert secret not in shown.stdout + shown.stderr
    assert "space_creation_token = (set, hidden)" in shown.stdout
    assert "max_spaces = 40" in shown.stdout
    assert "port = 9100" in shown.stdout


def test_a_missing_database_folder_is_one_plain_line_and_exit_2(tmp_path: Path) -> None:
    result = relay_command("--db", str(tmp_path / "nowhere" / "relay.db"), "--port", "0")
    assert result.returncode == EXIT_SETUP
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f"trellis-relay: the folder {tmp_path / 'nowhere'} for the database does not exist; "
        "create it (owned by the relay's user), or point db at another place"
    )
    assert "listening on" not in result.stdout


def test_a_database_from_a_newer_relay_is_one_plain_line_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    newer = len(migrations()) + 1
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (?)", (newer,))
    result = relay_command("--db", str(db), "--port", str(free_port()))
    assert result.returncode == EXIT_SETUP
    (line,) = result.stderr.strip().splitlines()
    assert f"is at schema version {newer} but this relay only knows {newer - 1}" in line
    assert "restore the backup taken before the upgrade" in line
    assert "Traceback" not in result.stderr


def test_a_busy_port_is_one_plain_line_and_exit_4(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = relay_command("--db", str(tmp_path / "relay.db"), "--port", str(port))
        assert result.returncode == EXIT_PORT_BUSY
        (line,) = result.stderr.strip().splitlines()
        assert f"port {port} on 127.0.0.1 is in use by another program" in line
        # The operator port too, named as such.
        result = relay_command(
            "--db", str(tmp_path / "relay.db"), "--port", str(free_port()),
            "--operator-port", str(port),
        )  # fmt: skip
        assert result.returncode == EXIT_PORT_BUSY
        assert "choose another operator_port" in result.stderr


def test_listening_is_printed_only_once_the_relay_really_listens(tmp_path: Path) -> None:
    # A database whose schema is broken half-way: the migrations fail inside the
    # lifespan, after the sockets were bound but before they listen.
    db = tmp_path / "relay.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
    port = free_port()
    result = relay_command("--db", str(db), "--port", str(port), "--operator-port", "0")
    assert result.returncode == EXIT_STARTUP_FAILED
    assert "listening on" not in result.stdout + result.stderr


def test_the_open_file_limit_is_raised_for_max_connections(tmp_path: Path) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    relay = RelayProcess(tmp_path / "relay.db", ["--max-connections", "1000"])
    relay.start(preexec_fn=low_soft_limit)
    try:
        assert relay.proc is not None
        limits = Path(f"/proc/{relay.proc.pid}/limits").read_text()
        (row,) = [line for line in limits.splitlines() if line.startswith("Max open files")]
        assert int(row.split()[3]) >= 1000 + 64, row
    finally:
        relay.stop()


def test_an_open_file_limit_too_low_for_max_connections_refuses_to_start(
    tmp_path: Path,
) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    too_many = (hard if hard != resource.RLIM_INFINITY else 2**20) + 1
    result = relay_command(
        "--db", str(tmp_path / "relay.db"), "--port", str(free_port()),
        "--max-connections", str(too_many),
    )  # fmt: skip
    assert result.returncode == EXIT_SETUP
    (line,) = result.stderr.strip().splitlines()
    assert f"max_connections = {too_many} needs at least {too_many + 64}" in line
    assert "LimitNOFILE=" in line
