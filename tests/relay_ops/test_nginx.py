"""The nginx configuration of docs/OPERATIONS.md §5, run for real in front of a relay.

The test takes the ```nginx block from the document itself (so the two cannot drift),
changes only what a test machine must (ports, certificate paths, the relay's port), and
runs Debian's nginx (tests/tools/ensure_system_packages.sh installs it) in front of a
real relay on loopback, with a certificate from a CA made in the test. Then:

* every spelling of every operator-only path is answered by nginx itself (404, no
  ``X-Request-Id`` from the relay), never passed on;
* the relay's own paths pass, and two partners pair and sync through it over https
  and wss, with the real client;
* nginx keeps no access log of any of it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.keys.vault import CHEAP_COST
from client.space import Space
from client.store.relay_http import CA_FILE_ENV
from schemas.payloads import JournalEntry
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import REPO_ROOT, RelayProcess, free_port
from tests.tools.certs import PrivateCA, make_private_ca

OPERATIONS = REPO_ROOT / "docs" / "OPERATIONS.md"
NAME = "relay.example.org"
OPERATOR_PATHS = ["/metrics", "/admin/spaces", "/admin/spaces/00/delete"]
SPELLINGS = [
    "{p}", "{p}/", "{p}%2F", "{p}%2f", "{p}/.", "/.{p}", "//{p}", "{p}?x", "{p}/?x",
    "{p}%3F", "{p};x", "/./{p}", "/v1/..{p}", "{p}#x",
]  # fmt: skip
START_TIMEOUT_S = 10.0


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    assert found, "nginx is missing: run tests/tools/ensure_system_packages.sh (make test does)"
    return found


def documented_config() -> str:
    """The ```nginx block under "### nginx" in docs/OPERATIONS.md."""
    text = OPERATIONS.read_text()
    section = text[text.index("### nginx") :]
    match = re.search(r"```nginx\n(.*?)```", section, re.S)
    assert match, "docs/OPERATIONS.md §5 has no nginx block"
    return match.group(1)


def for_this_machine(doc: str, relay: RelayProcess, ca: PrivateCA, https: int, http: int) -> str:
    """Only ports, certificate paths and the relay's port change."""
    config = doc.replace(f"/etc/letsencrypt/live/{NAME}/fullchain.pem", str(ca.server_cert))
    config = config.replace(f"/etc/letsencrypt/live/{NAME}/privkey.pem", str(ca.server_key))
    config = config.replace("127.0.0.1:8765", f"127.0.0.1:{relay.port}")
    config = re.sub(
        r"listen (\[::\]:)?443\b", lambda m: f"listen {m.group(1) or ''}{https}", config
    )
    config = re.sub(r"listen (\[::\]:)?80\b", lambda m: f"listen {m.group(1) or ''}{http}", config)
    assert "8765" not in config.replace(str(relay.port), ""), "every relay port was replaced"
    return config


@contextlib.contextmanager
def running_nginx(folder: Path, server_blocks: str) -> Iterator[Path]:
    """nginx with the documented server blocks inside a minimal http {} of our own."""
    for sub in ("logs", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/logs/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  client_body_temp_path {folder}/tmp/body;\n  proxy_temp_path {folder}/tmp/proxy;\n"
        f"  fastcgi_temp_path {folder}/tmp/f;\n  uwsgi_temp_path {folder}/tmp/u;\n"
        f"  scgi_temp_path {folder}/tmp/s;\n"
        # The default access log, which the documented blocks must turn off themselves.
        f"  access_log {folder}/logs/access.log;\n"
        f"{server_blocks}\n}}\n"
    )
    binary = nginx_binary()
    check = subprocess.run(
        [binary, "-t", "-p", str(folder), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield folder
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def raw_https(port: int, ca: PrivateCA, path: str, host: str = NAME) -> tuple[int, str]:
    """One GET with the path sent exactly as given; (status, whole response, lowercase)."""
    context = ssl.create_default_context(cafile=str(ca.ca_cert))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname=host) as tls,
    ):
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    text = data.decode("latin-1")
    return int(text.split()[1]), text.lower()


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}")


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    return make_private_ca(tmp_path_factory.mktemp("ca"), (NAME,))


async def test_the_documented_nginx_config_passes_the_relay_and_blocks_operator_paths(
    tmp_path: Path, ca: PrivateCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = RelayProcess(tmp_path / "relay.db").start()
    https, http = free_port(), free_port()
    try:
        config = for_this_machine(documented_config(), relay, ca, https, http)
        with running_nginx(tmp_path / "nginx", config) as folder:
            wait_for_port(https)
            for path in OPERATOR_PATHS:
                for spelling in SPELLINGS:
                    url = spelling.format(p=path)
                    status, answer = raw_https(https, ca, url)
                    assert status in (400, 404), (url, answer)
                    # nginx's own page, not the relay's JSON refusal or its metrics.
                    assert "<center>nginx" in answer, f"{url} reached the relay: {answer}"
                    assert "application/json" not in answer, url
                    assert "trellis_relay" not in answer, url
            status, answer = raw_https(https, ca, "/healthz")
            assert status == 200
            assert "x-request-id" in answer, "the relay's own paths pass"
            status, answer = raw_https(https, ca, "/no-such-route")
            assert (status, "application/json" in answer) == (404, True), "the relay answered"
            status, _ = raw_https(https, ca, "/schema/openapi.json")
            assert status == 200
            # Any other name is refused at the TLS handshake (the default server).
            with pytest.raises(ssl.SSLError):
                raw_https(https, ca, "/healthz", host="other.example.org")

            # Two partners pair and sync through nginx, over https and wss, with the CA.
            monkeypatch.setenv(CA_FILE_ENV, str(ca.ca_cert))
            url = f"https://{NAME}:{https}"
            monkeypatch.setattr(socket, "getaddrinfo", _resolve_name_to_loopback())
            alex = await Space.create(
                tmp_path / "alex",
                relay_url=url,
                name="A",
                passphrase=PASSPHRASE,
                kdf_cost=CHEAP_COST,
            )
            code = await alex.invite()
            blake = await Space.join(
                tmp_path / "blake", code=code, name="B", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
            )
            async with alex, blake:
                await alex.sync()
                await alex.append(JournalEntry(text="through the proxy"))
                await alex.sync()
                await blake.sync()
                assert [e.text for e in blake.journal()] == ["through the proxy"]
                space_id = alex.space_id.hex()
            logs = folder / "logs"
            assert not (logs / "access.log").exists() or (logs / "access.log").stat().st_size == 0
            for log in logs.iterdir():
                assert space_id not in log.read_text(errors="replace"), log.name
    finally:
        relay.stop()


def _resolve_name_to_loopback():  # type: ignore[no-untyped-def]
    """relay.example.org is 127.0.0.1 for this test (as /etc/hosts would say)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real("127.0.0.1" if host == NAME else host, *args, **kwargs)

    return getaddrinfo
