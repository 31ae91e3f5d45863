"""What docs/OPERATIONS.md promises, held to the code where it can be (issue #18).

The settings table is checked in test_cli.py; the nginx configuration is run in
tests/relay_ops/test_nginx.py. Here: the systemd unit, the exit statuses, the metrics
scrape target, the changelog, and sentences that are no longer true.
"""

from __future__ import annotations

import re

from server import __version__
from server.settings import Settings
from server.startup import (
    EXIT_OK,
    EXIT_PORT_BUSY,
    EXIT_PROBLEMS,
    EXIT_SETUP,
    EXIT_STARTUP_FAILED,
    FD_RESERVE,
)
from tests.integration.relay_process import REPO_ROOT

OPERATIONS = (REPO_ROOT / "docs" / "OPERATIONS.md").read_text()
CHANGELOG = REPO_ROOT / "CHANGELOG.md"


def fenced(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", OPERATIONS, re.S)
    (block,) = [b for b in blocks if containing in b]
    return block


def unit_settings(unit: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_the_systemd_unit_keeps_the_relay_up_safely_and_stops_on_set_up_errors() -> None:
    unit = unit_settings(fenced("ini", "Description=Trellis relay"))
    assert unit["RestartPreventExitStatus"] == [str(EXIT_SETUP)]
    assert unit["Restart"] == ["on-failure"]
    assert unit["KillSignal"] == ["SIGTERM"]
    limit = int(unit["LimitNOFILE"][0])
    assert limit >= Settings().max_connections + FD_RESERVE
    for hardening in (
        "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
        "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups",
        "RestrictAddressFamilies", "RestrictNamespaces", "CapabilityBoundingSet",
        "SystemCallFilter", "LockPersonality",
    ):  # fmt: skip
        assert hardening in unit, hardening
    assert unit["ExecStart"] == [
        "/opt/trellis/.venv/bin/trellis-relay --config /etc/trellis-relay.toml"
    ]


def test_the_install_steps_name_python3_venv_and_enable_the_backup_timer() -> None:
    assert "apt-get install -y python3 python3-venv" in OPERATIONS
    assert "systemctl enable --now trellis-relay-backup.timer" in OPERATIONS
    timer = fenced("ini", "OnCalendar=hourly")
    assert "WantedBy=timers.target" in timer


def test_the_exit_status_table_is_the_code() -> None:
    table = re.findall(r"^\| (\d) \| ", OPERATIONS.split("## 14. Exit status")[1], re.M)
    assert [int(n) for n in table] == [
        EXIT_OK,
        EXIT_PROBLEMS,
        EXIT_SETUP,
        EXIT_STARTUP_FAILED,
        EXIT_PORT_BUSY,
    ]


def test_prometheus_is_pointed_at_the_operator_listener() -> None:
    scrape = fenced("yaml", "scrape_configs")
    settings = Settings()
    assert f'"{settings.operator_host}:{settings.operator_port}"' in scrape
    assert f":{settings.port}" not in scrape


def test_sentences_that_are_no_longer_true_are_gone() -> None:
    for stale in (
        "is planned for a later release",
        "Nothing is ever deleted",
        "location = /metrics",
    ):
        assert stale not in OPERATIONS, stale


def test_the_changelog_has_upgrade_notes_for_this_version() -> None:
    text = CHANGELOG.read_text()
    assert re.search(rf"^## {re.escape(__version__)}\b", text, re.M), __version__
    assert "Upgrade notes" in text
