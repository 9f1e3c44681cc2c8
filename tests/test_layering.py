"""Imports run one way (DESIGN.md): core -> data, engine, crosscheck, mnist -> numpy/ -> learner, schedules, callbacks
-> torch/ -> recipes -> explore/ -> cli. Nothing imports the CLI, and the NumPy backend never imports torch."""
import ast

import pytest

from conftest import ROOT

PACKAGE = ROOT / 'dlcourse'
MODULES = sorted(p for p in PACKAGE.rglob('*.py') if p.name != '_modidx.py')


def imported(path) -> set[str]:
    "Every dlcourse module (and torch) that `path` imports, anywhere in the file, as dotted names."
    package = '.'.join(path.relative_to(ROOT).with_suffix('').parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import): names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{a.name}" for a in node.names}
    return names


def layer(module: str) -> str:
    "The layer of a dotted dlcourse module name."
    parts = module.split('.')
    if len(parts) > 2 and parts[1] in ('numpy', 'torch', 'explore'): return parts[1]
    return parts[1] if len(parts) > 1 else ''


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_the_cli(path):
    if path.name == 'cli.py': return
    assert not any(n == 'dlcourse.cli' or n.startswith('dlcourse.cli.') for n in imported(path)), f"{path.name} imports the CLI"


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path):
    me = layer('.'.join(path.relative_to(ROOT).with_suffix('').parts))
    above = {'numpy': {'torch', 'recipes', 'explore', 'cli', 'learner', 'schedules', 'callbacks'},
             'torch': {'recipes', 'explore', 'cli'}, 'recipes': {'explore', 'cli'}, 'explore': {'cli'}}.get(me, set())
    bad = sorted(n for n in imported(path) if n.startswith('dlcourse.') and layer(n) in above)
    assert not bad, f"{path.relative_to(PACKAGE)} ({me}) imports from a layer above it: {bad}"
    if me == 'numpy': assert not any(n == 'torch' or n.startswith('torch.') for n in imported(path))
