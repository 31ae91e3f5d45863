"""A private certificate authority made in the test, with the ``openssl`` command.

What a counselling practice does when it runs its relay on its own network: its own
CA, and a server certificate for the relay's name signed by it. Keys are throw-away
and live in the test's temporary folder.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = "2"


@dataclass(frozen=True, slots=True)
class PrivateCA:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_private_ca(folder: Path, names: tuple[str, ...] = ("relay.example.org",)) -> PrivateCA:
    """A CA and a server certificate for ``names`` and 127.0.0.1, signed by it."""
    folder.mkdir(parents=True, exist_ok=True)
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", DAYS,
        "-subj", "/CN=Test Practice CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={names[0]}",
        cwd=folder,
    )  # fmt: skip
    alt = ",".join([*(f"DNS:{n}" for n in names), "IP:127.0.0.1"])
    (folder / "server.ext").write_text(
        f"subjectAltName={alt}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", DAYS, "-extfile", "server.ext",
        cwd=folder,
    )  # fmt: skip
    return PrivateCA(folder / "ca.pem", folder / "server.pem", folder / "server.key")
