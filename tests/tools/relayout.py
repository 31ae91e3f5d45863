"""Codemod for issue #12: move the flat ``client/`` folder into packages by layer.

Run it from the repository root on a clean tree, then review and commit the result:

    .venv/bin/python -m tests.tools.relayout            # move, rewrite, sort imports
    .venv/bin/python -m tests.tools.relayout --dry-run  # only print the plan

It is the source of truth for the layout: the lead re-runs it on the merged tree rather
than merging a result commit. What it does, in order:

1. Refuses to run on a dirty tree (``git status --porcelain`` not empty), because its
   result must be reviewable as one diff.
2. Plans a move for every top-level ``client/*.py`` module: from :data:`TABLE`, else by
   the prefix rules in :data:`PREFIX_RULES` (``cli_x`` -> ``client.cli.x`` ...). A module
   that neither names is reported with a suggested table line, and nothing is changed.
3. ``git mv`` of each file (a module whose new path is a package, e.g. ``client.views``,
   becomes that package's ``__init__.py``), and an ``__init__.py`` with a docstring for
   each new package that has none.
4. Rewrites every reference in the tracked ``*.py``, ``*.md``, ``*.toml`` files and the
   Makefile: ``from client import a, b`` (split by new package, with ``as`` where the
   name changes so the code using it is untouched), relative imports inside ``client/``,
   and every dotted name ``client.old...`` (imports, ``import client.old``, strings such
   as monkeypatch targets and ``python -m client.old``, docstrings) and path
   ``client/old.py`` in prose.
5. Sorts the changed imports and formats with ruff, then checks that no old name is left.

Idempotent: on an already moved tree there is no top-level module left to move and no
old name left to rewrite, so it reports "nothing to do" and changes nothing. Old and new
names never overlap, except the four modules that become their package's
``__init__.py`` (``client.views``, ``client.export``, ``client.space``, ``client.cli``),
whose dotted name does not change at all; so a second pass can never rewrite a name
twice.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Old dotted module -> new dotted module. A new path that is a package listed in
#: :data:`PACKAGES` means "this module becomes the package's __init__.py".
TABLE: dict[str, str] = {
    # modules the round of issues #10, #11, #16 and #17 added
    "client.admission_checks": "client.core.admission_checks",
    "client.msgpack_scan": "client.core.msgpack_scan",
    "client.causality": "client.views.causality",
    "client.journal_rules": "client.views.journal_rules",
    "client.write_rules": "client.views.write_rules",
    "client.intimacy": "client.views.intimacy",
    "client.intimacy_pacing": "client.views.intimacy.pacing",
    "client.intimacy_timeline": "client.views.intimacy.timeline",
    "client.present_intimacy": "client.views.present_intimacy",
    "client.home_files": "client.store.home_files",
    "client.integrity_names": "client.store.integrity_names",
    "client.private_notes": "client.space.private_notes",
    # keys/: all key material
    "client.crypto": "client.keys.crypto",
    "client.vault": "client.keys.vault",
    "client.signatures": "client.keys.signatures",
    # core/: sans-I/O rules and state
    "client.verify": "client.core.verify",
    "client.membership_rules": "client.core.membership_rules",
    "client.session": "client.core.session",
    "client.integrity": "client.core.integrity",
    "client.relay_view": "client.core.relay_view",
    # views/: order, folds, presentation
    "client.views": "client.views",
    "client.fold": "client.views.fold",
    "client.agreements": "client.views.agreements",
    "client.recovery": "client.views.recovery",
    "client.recovery_records": "client.views.recovery.records",
    "client.recovery_sobriety": "client.views.recovery.sobriety",
    "client.recovery_windows": "client.views.recovery.windows",
    "client.present": "client.views.present",
    "client.audit": "client.views.audit",
    # export/: build, format, verify, HTML
    "client.export": "client.export",
    "client.export_format": "client.export.format",
    "client.export_html": "client.export.html",
    "client.export_verify": "client.export.verify",
    # store/: the local database and the relay transports
    "client.localstore": "client.store.localstore",
    "client.integrity_store": "client.store.integrity_store",
    "client.relay_http": "client.store.relay_http",
    "client.transport": "client.store.transport",
    # space/: the Space facade and its flows
    "client.space": "client.space",
    "client.devices": "client.space.devices",
    "client.relocation": "client.space.relocation",
    # cli/: argument parsing and printing. The light entry point becomes the package
    # (so importing any client.cli.x stays cheap) and the commands move to app.py.
    "client.cli_launch": "client.cli",
    "client.cli": "client.cli.app",
    "client.cli_common": "client.cli.common",
    "client.cli_agreements": "client.cli.agreements",
    "client.cli_audit": "client.cli.audit",
    "client.cli_devices": "client.cli.devices",
    "client.cli_recovery": "client.cli.recovery",
    "client.cli_relay": "client.cli.relay",
}

#: Top-level modules that stay where they are.
KEEP = {"client.errors"}

#: Modules no table line names (new files from other branches) are placed by prefix.
PREFIX_RULES: tuple[tuple[str, str], ...] = (
    ("cli_", "client.cli."),
    ("export_", "client.export."),
    ("recovery_", "client.views.recovery_"),
)

#: New packages and the docstring of the ``__init__.py`` made for those that get none.
PACKAGES: dict[str, str] = {
    "client.keys": (
        "All key material: primitives, sub-keys, the passphrase vault and the batched\n"
        "signature checks. Every key and id is generated here; nothing here imports the\n"
        "rest of the client (only ``client.errors`` and ``schemas``)."
    ),
    "client.core": (
        "Sans-I/O rules and state: admission and verification, the lifecycle rules\n"
        "(revocation, leaving, rotation), the sync-session state machine and the integrity\n"
        "findings. No asyncio, sqlite, sockets, clock or randomness: time comes in as a\n"
        "value. Imports only ``client.keys``, ``client.errors`` and ``schemas``."
    ),
    "client.views": "",
    "client.export": "",
    "client.store": (
        "I/O the client owns: the device's SQLite file (and the relay record kept in it)\n"
        "and the two relay transports (websocket sync, HTTP). Imports ``client.core``\n"
        "and below, never the views, exports or the Space."
    ),
    "client.space": "",
    "client.cli": "",
}

#: Contracts for the new layout, added to pyproject.toml's [tool.importlinter] once.
LAYER_CONTRACTS = """\
[[tool.importlinter.contracts]]
id = "client-layers"
name = "client packages depend one way: cli > space > export > views | store > core > keys"
type = "layers"
layers = [
    "client.cli",
    "client.space",
    "client.export",
    "client.views | client.store",
    "client.core",
    "client.keys",
]

[[tool.importlinter.contracts]]
id = "client-core-sans-io"
name = "client.core does no I/O: no event loop, database, socket, clock or randomness"
type = "forbidden"
source_modules = ["client.core"]
forbidden_modules = [
    "asyncio", "aiosqlite", "sqlite3", "websockets", "socket", "urllib", "time", "random",
    "secrets",
]

"""

TEXT_SUFFIXES = {".py", ".md", ".toml"}
TEXT_NAMES = {"Makefile"}
#: The codemod and its tests spell the old names on purpose.
SELF = {"tests/tools/relayout.py", "tests/tools/test_relayout.py"}


class RelayoutError(Exception):
    """Why the codemod stopped without changing anything."""


@dataclass(frozen=True)
class Move:
    old: str  # dotted
    new: str  # dotted

    @property
    def old_path(self) -> str:
        return self.old.replace(".", "/") + ".py"

    @property
    def new_path(self) -> str:
        if self.new in PACKAGES:
            return self.new.replace(".", "/") + "/__init__.py"
        return self.new.replace(".", "/") + ".py"


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def require_clean_tree() -> None:
    status = git("status", "--porcelain")
    if status.strip():
        raise RelayoutError(
            "The tree has uncommitted changes; commit or stash them first, so the "
            "codemod's result is one reviewable diff:\n" + status
        )


def place(dotted: str) -> str | None:
    """Where a top-level client module goes: the table first, then the prefix rules."""
    if dotted in TABLE:
        return TABLE[dotted]
    leaf = dotted.removeprefix("client.")
    for prefix, target in PREFIX_RULES:
        if leaf.startswith(prefix) and len(leaf) > len(prefix):
            return target + leaf.removeprefix(prefix)
    return None


def plan_moves() -> list[Move]:
    """Every top-level client module to move; raises listing those nothing places."""
    moves: list[Move] = []
    unknown: list[str] = []
    for path in sorted((ROOT / "client").glob("*.py")):
        if path.name == "__init__.py":
            continue
        dotted = "client." + path.stem
        if dotted in KEEP:
            continue
        new = place(dotted)
        if new is None:
            unknown.append(dotted)
        else:
            moves.append(Move(dotted, new))
    if unknown:
        lines = "\n".join(f'    "{m}": "client.<package>.{m.split(".")[1]}",' for m in unknown)
        raise RelayoutError(
            "These modules are in no table line and match no prefix rule; add them to "
            f"TABLE in {Path(__file__).relative_to(ROOT)} (or to KEEP) and run again. "
            "Nothing was changed.\n" + lines
        )
    targets: dict[str, str] = {}
    for move in moves:
        if move.new_path in targets:
            raise RelayoutError(
                f"{move.old} and {targets[move.new_path]} would both become {move.new_path}."
            )
        targets[move.new_path] = move.old
        if (ROOT / move.new_path).exists():
            raise RelayoutError(f"{move.new_path} already exists; {move.old} cannot move there.")
    return moves


def colliding(old: str) -> bool:
    """An old module whose dotted name is also a new package (client.cli -> client.cli.app).

    Its name means the old module only while that module is still a file at the top;
    afterwards it is the package. So it is rewritten only in the run that moves it, and
    only where it is not followed by ``.x`` (a new submodule) or part of a longer name."""
    return old in PACKAGES and TABLE.get(old, old) != old


def other_files() -> list[str]:
    """Files and folders at the top of client/ that the codemod does not move: a new
    folder or data file from another branch may need a table line or package-data."""
    known = {"__init__.py", "py.typed", "migrations", "__pycache__", "errors.py"}
    known |= {p.removeprefix("client.") for p in PACKAGES}
    return sorted(
        p.name
        for p in (ROOT / "client").iterdir()
        if p.name not in known and not p.name.endswith(".py")
    )


def mapping_for(moves: list[Move]) -> dict[str, str]:
    """Old dotted name -> new, for every known module (so a half-done tree still maps);
    a colliding name only when this run moves it."""
    moving = {m.old for m in moves}
    mapping = {
        old: new
        for old, new in TABLE.items()
        if old != new and (not colliding(old) or old in moving)
    }
    mapping.update({m.old: m.new for m in moves if m.old != m.new})
    return mapping


def _plain(mapping: dict[str, str]) -> dict[str, str]:
    return {old: new for old, new in mapping.items() if not colliding(old)}


# -- rewriting ---------------------------------------------------------------------


def _offsets(source: str) -> list[int]:
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def _span(node: ast.stmt, offsets: list[int]) -> tuple[int, int]:
    assert node.end_lineno is not None
    assert node.end_col_offset is not None
    return (
        offsets[node.lineno - 1] + node.col_offset,
        offsets[node.end_lineno - 1] + node.end_col_offset,
    )


def _absolute(name: str) -> str:
    return "from client" + ("." + name if name else "")


def _absolute_relative_imports(source: str, module: str) -> str:
    """``from .x import y`` inside a top-level client module -> ``from client.x import y``.

    ast offsets count UTF-8 bytes, so the edits work on bytes."""
    if not module.startswith("client.") or module.count(".") != 1:
        return source
    data = source.encode("utf-8")
    offsets = _offsets(data.decode("latin-1"))
    edits: list[tuple[int, int, bytes]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            start, end = _span(node, offsets)
            seg = data[start:end].decode("utf-8")
            absolute = re.sub(r"^from\s+\.(\w*)", lambda m: _absolute(m[1]), seg)
            edits.append((start, end, absolute.encode("utf-8")))
    for start, end, replacement in sorted(edits, reverse=True):
        data = data[:start] + replacement + data[end:]
    return data.decode("utf-8")


def _split_from_client(source: str, mapping: dict[str, str]) -> str:
    """``from client import a, b`` -> one ``from client.pkg import leaf as a`` per package."""
    data = source.encode("utf-8")
    offsets = _offsets(data.decode("latin-1"))
    edits: list[tuple[int, int, bytes]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "client"):
            continue
        if not any(f"client.{a.name}" in mapping for a in node.names):
            continue
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            old = f"client.{alias.name}"
            new = mapping.get(old, old)
            package, _, leaf = new.rpartition(".")
            local = alias.asname or alias.name
            groups.setdefault(package, []).append(leaf if leaf == local else f"{leaf} as {local}")
        indent = " " * node.col_offset
        text = f"\n{indent}".join(
            f"from {package} import {', '.join(names)}" for package, names in groups.items()
        )
        start, end = _span(node, offsets)
        edits.append((start, end, text.encode("utf-8")))
    for start, end, replacement in sorted(edits, reverse=True):
        data = data[:start] + replacement + data[end:]
    return data.decode("utf-8")


def _dotted_pattern(mapping: dict[str, str]) -> re.Pattern[str]:
    names = "|".join(sorted((re.escape(o.removeprefix("client.")) for o in mapping), key=len)[::-1])
    # Not part of a longer name (x.client.old, myclient.old) and not a prefix of one.
    return re.compile(rf"(?<![\w.])client\.({names})(?!\w)")


def _path_pattern(mapping: dict[str, str]) -> re.Pattern[str]:
    names = "|".join(sorted((re.escape(o.removeprefix("client.")) for o in mapping), key=len)[::-1])
    return re.compile(rf"(?<![\w./])client/({names})\.py(?!\w)")


def _new_path(new: str) -> str:
    if new in PACKAGES:
        return new.replace(".", "/") + "/"
    return new.replace(".", "/") + ".py"


def rewrite_text(text: str, path: str, mapping: dict[str, str]) -> str:
    """Every reference to an old module in one file's text, rewritten.

    A module that became its package's ``__init__.py`` keeps its dotted name; in prose
    its path ``client/space.py`` becomes the package's folder ``client/space/``."""
    if path.endswith(".py"):
        module = path.removesuffix(".py").replace("/", ".")
        text = _absolute_relative_imports(text, module)
    # Colliding names first, so the imports the split writes (from client.cli import x)
    # are not taken for the old module.
    for old in (o for o in mapping if colliding(o)):
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w.])", mapping[old], text)
    if path.endswith(".py"):
        text = _split_from_client(text, mapping)
    plain = _plain(mapping)
    if plain:
        text = _dotted_pattern(plain).sub(lambda m: plain["client." + m[1]], text)
    paths = {o: n for o, n in TABLE.items() if o not in KEEP and not colliding(o)} | mapping
    return _path_pattern(paths).sub(lambda m: _new_path(paths["client." + m[1]]), text)


def text_files() -> list[str]:
    files = git("ls-files", "-z").split("\0")
    return [
        f
        for f in files
        if f
        and f not in SELF
        and (Path(f).suffix in TEXT_SUFFIXES or Path(f).name in TEXT_NAMES)
        and (ROOT / f).is_file()
    ]


# -- running -----------------------------------------------------------------------


def apply_moves(moves: list[Move]) -> list[str]:
    """git mv each module; make the packages' __init__.py files. Returns the new files."""
    created: list[str] = []
    for move in moves:
        (ROOT / move.new_path).parent.mkdir(parents=True, exist_ok=True)
        git("mv", move.old_path, move.new_path)
    for package, doc in PACKAGES.items():
        init = ROOT / package.replace(".", "/") / "__init__.py"
        if init.parent.is_dir() and not init.exists():
            init.write_text(f'"""{doc}\n"""\n' if doc else '"""Package."""\n')
            git("add", str(init.relative_to(ROOT)))
            created.append(str(init.relative_to(ROOT)))
    return created


def add_layer_contracts() -> bool:
    """Put :data:`LAYER_CONTRACTS` before the pytest section of pyproject.toml, once."""
    pyproject = ROOT / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    if 'id = "client-layers"' in text:
        return False
    anchor = "[tool.pytest.ini_options]"
    if anchor not in text:
        raise RelayoutError(f"pyproject.toml has no {anchor} section to put the contracts before.")
    if "include_external_packages" not in text:
        text = text.replace(
            'root_packages = ["schemas", "server", "client"]',
            'root_packages = ["schemas", "server", "client"]\ninclude_external_packages = true',
        )
    pyproject.write_text(text.replace(anchor, LAYER_CONTRACTS + anchor, 1), encoding="utf-8")
    return True


def ruff(files: list[str]) -> None:
    exe = ROOT / ".venv" / "bin" / "ruff"
    ruff_bin = str(exe) if exe.exists() else shutil.which("ruff")
    if not files:
        return
    if ruff_bin is None:
        print("ruff not found: imports left unsorted (run `make lint` after).")
        return
    subprocess.run([ruff_bin, "check", "--quiet", "--fix", "--select", "I", *files], cwd=ROOT)
    subprocess.run([ruff_bin, "format", "--quiet", *files], cwd=ROOT, check=True)
    # Longer paths can push prose past the line limit; ruff cannot rewrap prose.
    long = subprocess.run(
        [ruff_bin, "check", "--select", "E501", "--output-format", "concise", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in long.splitlines() if "E501" in line]
    if lines:
        print("relayout: rewrap these lines by hand (make lint shows them too):")
        print(*lines, sep="\n")


def leftovers(mapping: dict[str, str]) -> list[str]:
    dotted = _dotted_pattern(_plain(mapping))
    paths = _path_pattern(
        {o: n for o, n in TABLE.items() if o not in KEEP and not colliding(o)} | _plain(mapping)
    )
    found = []
    for f in text_files():
        for n, line in enumerate((ROOT / f).read_text(encoding="utf-8").splitlines(), 1):
            if dotted.search(line) or paths.search(line):
                found.append(f"{f}:{n}: {line.strip()}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    args = parser.parse_args(argv)
    try:
        if not args.dry_run:
            require_clean_tree()
        moves = plan_moves()
    except RelayoutError as exc:
        print(f"relayout: {exc}", file=sys.stderr)
        return 1
    mapping = mapping_for(moves)
    for move in moves:
        rule = "table" if move.old in TABLE else "prefix rule"
        print(f"move  {move.old_path:32} -> {move.new_path}  ({rule})")
    for name in other_files():
        print(f"left  client/{name}  (not a module: check it needs no move or package-data)")
    if args.dry_run:
        return 0
    created = apply_moves(moves)
    for made in created:
        print(f"new   {made}")
    changed: list[str] = []
    for f in text_files():
        file = ROOT / f
        before = file.read_text(encoding="utf-8")
        after = rewrite_text(before, f, mapping)
        if after != before:
            file.write_text(after, encoding="utf-8")
            changed.append(f)
    if add_layer_contracts() and "pyproject.toml" not in changed:
        changed.append("pyproject.toml")
    ruff([f for f in changed if f.endswith(".py")])
    for f in changed:
        print(f"edit  {f}")
    left = leftovers(mapping)
    if left:
        print("relayout: old names still present (fix by hand):", *left, sep="\n  ")
        return 1
    if not moves and not changed and not created:
        print("relayout: nothing to do (the tree already has the package layout).")
    else:
        print(
            f"relayout: {len(moves)} modules moved, {len(created)} packages made, "
            f"{len(changed)} files rewritten. Next: make test, then commit."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
