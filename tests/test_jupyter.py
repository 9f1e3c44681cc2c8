"""A lesson runs through the Jupyter kernel the `notebooks` extra installs, as a learner runs it."""
import json

import nbformat
from nbclient import NotebookClient

from conftest import ROOT


def test_a_lesson_runs_in_the_installed_jupyter_kernel():
    path = ROOT / 'nbs' / '10a_layers_numpy.ipynb'
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == 'code': cell.outputs = []
    NotebookClient(nb, kernel_name='python3', timeout=300, resources={'metadata': {'path': str(path.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == 'code' and c.source.strip()]
    errors = [o for c in code for o in c.outputs if o.output_type == 'error']
    assert not errors, json.dumps(errors[0], indent=1)[:2000]
    assert sum(bool(c.outputs) for c in code) >= 5, "the lesson ran but showed almost nothing"
