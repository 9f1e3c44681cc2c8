"""The library is what the notebooks export, and the notebooks are committed clean."""
import pathlib
import shutil
import subprocess
import sys

from conftest import ROOT


def _copy_project(tmp_path):
    "A copy of the project (settings, notebooks, library) to run nbdev's tools in."
    for name in ('settings.ini', 'setup.py', 'README.md'):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / 'nbs', tmp_path / 'nbs')
    shutil.copytree(ROOT / 'dlcourse', tmp_path / 'dlcourse', ignore=shutil.ignore_patterns('__pycache__'))
    return tmp_path


def _files(root, pattern):
    return {p.relative_to(root): p.read_text() for p in sorted(root.rglob(pattern)) if '__pycache__' not in p.parts}


def _nbdev(tool, cwd):
    bin_dir = pathlib.Path(sys.executable).parent
    subprocess.run([str(bin_dir / tool)], cwd=cwd, check=True, capture_output=True, text=True)


def test_nbdev_export_changes_nothing(tmp_path):
    copy = _copy_project(tmp_path)
    _nbdev('nbdev_export', copy)
    before, after = _files(ROOT / 'dlcourse', '*.py'), _files(copy / 'dlcourse', '*.py')
    changed = sorted(str(k) for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"nbdev_export would change {changed}: run nbdev_export and commit"


def test_nbdev_clean_changes_nothing(tmp_path):
    copy = _copy_project(tmp_path)
    _nbdev('nbdev_clean', copy)
    before, after = _files(ROOT / 'nbs', '*.ipynb'), _files(copy / 'nbs', '*.ipynb')
    changed = sorted(str(k) for k in before if before[k] != after.get(k))
    assert not changed, f"nbdev_clean would change {changed}: run nbdev_clean and commit"


def test_notebooks_are_committed_executed():
    import json
    for path in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb')):
        cells = json.loads(path.read_text())['cells']
        code = [c for c in cells if c['cell_type'] == 'code' and c['source']]
        assert len(code) <= 3 or any(c.get('outputs') for c in code), f"{path.name} has no outputs"
