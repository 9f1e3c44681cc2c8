"""Every notebook executes headless, top to bottom, through nbdev's own test runner."""
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook  # aliased: pytest must not collect it as a test

from conftest import ROOT

NOTEBOOKS = sorted(p for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith('_'))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize('path', NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    skip_flags = get_config().tst_flags.split()
    ok, seconds = run_notebook(path, skip_flags=skip_flags, basepath=ROOT)
    assert ok, f"{path.name} failed (see the traceback above)"
