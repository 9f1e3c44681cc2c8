#!/usr/bin/env python
"""Execute notebooks top to bottom and save them with their outputs, the way they are committed.

    python tools/run_notebooks.py [NB ...] [--jobs 2]
    python tools/run_notebooks.py --images-only [NB ...]    # only re-store the saved figures compactly

Each notebook runs in a fresh process from its own folder (as Jupyter runs it). Figures are saved as PNG at
100 dpi, so a figure 8 inches wide is 800 pixels: it fits the docs site's ~850 px column without shrinking its
labels; each is then stored with a 256-colour palette (plots look the same, at about a third of the bytes). Outputs no reader can use are dropped before saving: those of cells marked `#| output: false` (an
explorer's widget) and widget views, whose state a saved notebook does not hold. `nbdev_export` runs first (a
notebook imports what others export), `nbdev_clean` on each notebook after it ran, and `nbdev_export` again at the
end, so the library matches the notebooks as saved.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
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


def compact_png(b64: str) -> str:
    "A figure's base64 PNG on white with a 256-colour palette, when that is smaller (for plots it looks the same)."
    from PIL import Image
    image = Image.open(io.BytesIO(base64.b64decode(b64))).convert('RGBA')
    flat = Image.alpha_composite(Image.new('RGBA', image.size, 'white'), image).convert('RGB')
    buffer = io.BytesIO()
    flat.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buffer, 'PNG', optimize=True)
    smaller = base64.b64encode(buffer.getvalue()).decode()
    return smaller if len(smaller) < len(b64.strip()) else b64

def compact_images(outputs: list) -> list:
    "`outputs` with every PNG figure stored compactly."
    for out in outputs:
        data = out.get('data', {})
        if 'image/png' in data:
            png = data['image/png']
            data['image/png'] = compact_png(''.join(png) if isinstance(png, list) else png)
    return outputs

def saved_outputs(cell) -> list:
    "The outputs of an executed `cell` worth saving: none for `#| output: false`, no widget views, figures compact."
    options, _ = cell_options(cell.source)
    if options.get('output') is False: return []
    return compact_images([o for o in cell.get('outputs', []) if WIDGET_VIEW not in o.get('data', {})])


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
    parser.add_argument('--images-only', action='store_true', help="only re-store the saved figures compactly, running nothing")
    args = parser.parse_args(argv)
    if args.images_only:
        for path in notebooks(args.notebooks):
            nb = json.loads(path.read_text())
            for cell in nb['cells']: compact_images(cell.get('outputs', []))
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
            subprocess.run([str(Path(sys.executable).parent / 'nbdev_clean'), '--fname', str(path)], cwd=ROOT, check=True)
        return 0
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
