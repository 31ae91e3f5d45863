"""The layout codemod's rewriting rules (tests/tools/relayout.py), on small samples.

The codemod is re-run on the merged tree, so its rules must hold for code it has not
seen: new modules placed by prefix, every import form, strings and prose paths.
"""

from __future__ import annotations

from tests.tools import relayout

MAPPING = relayout.mapping_for([relayout.Move("client.cli_intimacy", "client.cli.intimacy")])


def test_every_import_form_is_rewritten() -> None:
    source = (
        "from client import crypto, devices, errors, relocation, cli_common as cc\n"
        "from client.verify import LogVerifier\n"
        "import client.session\n"
        "import client.fold as fold\n"
        "if True:\n"
        "    from client import cli_intimacy, views\n"
        "x = client.session.SyncSession\n"
    )
    assert relayout.rewrite_text(source, "client/whatever.py", MAPPING) == (
        "from client.keys import crypto\n"
        "from client.space import devices, relocation\n"
        "from client import errors\n"
        "from client.cli import common as cc\n"
        "from client.core.verify import LogVerifier\n"
        "import client.core.session\n"
        "import client.views.fold as fold\n"
        "if True:\n"
        "    from client.cli import intimacy as cli_intimacy\n"
        "    from client import views\n"
        "x = client.core.session.SyncSession\n"
    )


def test_strings_commands_and_prose_paths_are_rewritten() -> None:
    source = (
        'monkeypatch.setattr("client.crypto.VAULT_OPSLIMIT", 1)\n'
        'importlib.import_module("client.cli_relay")\n'
        "# python -m client.export_verify; see client/membership_rules.py and client/space.py\n"
    )
    assert relayout.rewrite_text(source, "tests/x.py", MAPPING) == (
        'monkeypatch.setattr("client.keys.crypto.VAULT_OPSLIMIT", 1)\n'
        'importlib.import_module("client.cli.relay")\n'
        "# python -m client.export.verify; see client/core/membership_rules.py and "
        "client/space/\n"
    )


def test_relative_imports_in_a_top_level_module_become_absolute() -> None:
    source = "from . import crypto\nfrom .verify import LogVerifier\n"
    assert relayout.rewrite_text(source, "client/private_notes.py", MAPPING) == (
        "from client.keys import crypto\nfrom client.core.verify import LogVerifier\n"
    )


def test_names_that_only_look_alike_are_left_alone() -> None:
    source = (
        "self.client.session = 1\nmyclient.crypto = 2\nclient.cryptography = 3\n"
        'trellis = "client.cli:main"\nfrom client.views import Moment\n'
    )
    assert relayout.rewrite_text(source, "tests/x.py", MAPPING) == source


def test_a_second_pass_changes_nothing() -> None:
    source = "from client import crypto, cli_common\nimport client.verify\n"
    once = relayout.rewrite_text(source, "client/a.py", MAPPING)
    assert relayout.rewrite_text(once, "client/a.py", MAPPING) == once


def test_new_modules_are_placed_by_prefix_or_not_at_all() -> None:
    assert relayout.place("client.cli_intimacy") == "client.cli.intimacy"
    assert relayout.place("client.export_therapist") == "client.export.therapist"
    assert relayout.place("client.recovery_plan") == "client.views.recovery_plan"
    assert relayout.place("client.some_new_thing") is None
    assert relayout.place("client.cli_") is None


def test_the_old_cli_module_is_renamed_only_in_the_run_that_moves_it() -> None:
    moving = relayout.mapping_for(
        [
            relayout.Move("client.cli", "client.cli.app"),
            relayout.Move("client.cli_launch", "client.cli"),
        ]
    )
    source = (
        'trellis = "client.cli_launch:main"\n'
        "from client.cli import build_parser\n"
        "from client.cli_launch import help_parser\n"
        "from client import cli_relay\n"
        "# client/cli.py\n"
    )
    once = relayout.rewrite_text(source, "tests/x.py", moving)
    assert once == (
        'trellis = "client.cli:main"\n'
        "from client.cli.app import build_parser\n"
        "from client.cli import help_parser\n"
        "from client.cli import relay as cli_relay\n"
        "# client/cli/app.py\n"
    )
    # Afterwards client.cli is the package: a second pass leaves it alone.
    assert relayout.rewrite_text(once, "tests/x.py", relayout.mapping_for([])) == once
