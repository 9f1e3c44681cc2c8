#!/usr/bin/env python
"""Execute notebooks top to bottom and save them with their outputs, the way they are committed.

    python tools/run_notebooks.py [NB ...] [--jobs 2]

Each notebook runs in a fresh process from its own folder (as Jupyter runs it). Figures are saved as PNG at
100 dpi, so a figure 8 inches wide is 800 pixels: it fits the docs site's ~850 px column without shrinking its
labels. Outputs no reader can use are dropped before saving: those of cells marked `#| output: false` (an
explorer's widget) and widget views, whose state a saved notebook does not hold. `nbdev_export` runs first (a
notebook imports what others export), `nbdev_clean` on each notebook after it ran, and `nbdev_export` again at the
end, so the library matches the notebooks as saved.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from docsite import WIDGET_VIEW, cell_options, notebooks  # noqa: E402


def saved_outputs(cell) -> list:
    "The outputs of an executed `cell` worth saving: none for `#| output: false`, and no widget views."
    options, _ = cell_options(cell.source)
    if options.get('output') is False: return []
    return [o for o in cell.get('outputs', []) if WIDGET_VIEW not in o.get('data', {})]


def run(path: Path) -> tuple[str, float, str | None]:
    "Execute notebook `path` in this (fresh) process and save it; return its name, seconds and any error."
    for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(var, '1')
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    start = time.perf_counter()
    os.chdir(path.parent)
    sys.path.insert(0, str(ROOT))
    nb = read_nb(path)
    shell = CaptureShell(path, mpl_format='png')
    shell.run_cell("import matplotlib as _mpl; _mpl.rcParams['figure.dpi'] = 100; _mpl.rcParams['savefig.dpi'] = 'figure'")
    for cell in nb.cells:
        if cell.cell_type != 'code': continue
        cell.outputs = []
        shell.cell(cell)
        if shell.exc:
            return path.name, time.perf_counter() - start, f"cell {cell.idx_}: {shell.prettytb(fname=path)}"
        cell.outputs = saved_outputs(cell)
    nb.metadata.pop('widgets', None)
    write_nb(nb, path)
    subprocess.run([str(Path(sys.executable).parent / 'nbdev_clean'), '--fname', str(path)], cwd=ROOT, check=True)
    return path.name, time.perf_counter() - start, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='run_notebooks', description=__doc__.split('\n')[0])
    parser.add_argument('notebooks', nargs='*', help="notebooks to run (default: all)")
    parser.add_argument('--jobs', type=int, default=2, help="notebooks run at once (default: %(default)s)")
    args = parser.parse_args(argv)
    export = [str(Path(sys.executable).parent / 'nbdev_export')]
    subprocess.run(export, cwd=ROOT, check=True)   # notebooks import what other notebooks export
    failed = 0
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1) as pool:
        for name, seconds, error in pool.map(run, notebooks(args.notebooks)):
            print(f"{'ok  ' if error is None else 'FAIL'} {name:<40} {seconds:6.1f} s", flush=True)
            if error: print(error); failed += 1
    subprocess.run(export, cwd=ROOT, check=True)   # cleaning gave new cells ids, which the modules cite
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
