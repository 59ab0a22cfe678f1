"""The shape of the package, checked over its source: no import cycles, no reaching into a concrete backend, no Qt
in the core. Every import counts, also those inside functions and under ``TYPE_CHECKING``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sdgui"
BACKENDS = "sdgui.core.backends"
BOUNDARY = {f"{BACKENDS}.base", f"{BACKENDS}.factory"}
"""What code above the backends may import from them."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """The sdgui modules ``name`` imports (a ``from package import module`` names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            arg = node.args[0]
            targets = [arg.value] if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else []
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "sdgui" and target in MODULES and target != name:
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_the_checker_sees_the_package() -> None:
    assert "sdgui.core.copy.job" in GRAPH
    assert "sdgui.core.copy.action" in GRAPH["sdgui.core.copy.job"]


def test_no_import_cycles() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith(BACKENDS)))
def test_nothing_above_the_backends_imports_a_concrete_backend(name: str) -> None:
    reached = {target for target in GRAPH[name] if target.startswith(BACKENDS + ".")}
    assert reached <= BOUNDARY, f"{name} imports {sorted(reached - BOUNDARY)}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("sdgui.core")))
def test_the_core_never_imports_qt(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] in ("PySide6", "qasync", "superqt")}


def test_the_cli_offers_the_conflict_policies_the_core_knows() -> None:
    """sdgui.cli spells them out so that `sdgui ls` need not import the copy machinery; they must stay the same."""
    from sdgui import cli
    from sdgui.core.copy import conflicts

    assert tuple(cli.CONFLICT_POLICIES) == tuple(conflicts.CONFLICT_POLICIES)


def test_the_cli_offers_the_volume_kinds_the_core_knows() -> None:
    """sdgui.cli spells them out so that `sdgui --version` need not import the volumes; they must stay the same."""
    from sdgui import cli
    from sdgui.core import volumes

    assert tuple(cli.VOLUME_KINDS) == tuple(volumes.VOLUME_KINDS)


def test_listing_starts_without_the_copy_machinery() -> None:
    """`sdgui ls` imports no job, journal or rich: what it does not need, it does not pay for at start."""
    import subprocess
    import sys

    code = (
        "import sys, sdgui.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('sdgui.core.copy.job', 'sdgui.core.journal', 'rich'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]", out
