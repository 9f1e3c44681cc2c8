#!/usr/bin/env python
"""Read and edit notebook cells from the command line, without touching their outputs.

    python tools/nbedit.py show NB [FIRST[-LAST]]          cells with their index, type, directives and source
    python tools/nbedit.py find NB REGEX                   indices of cells whose source matches
    python tools/nbedit.py set NB INDEX FILE               replace cell INDEX's source with FILE's text ('-': stdin)
    python tools/nbedit.py replace NB INDEX OLD NEW        replace the text in file OLD by that in file NEW, in cell INDEX
    python tools/nbedit.py insert NB INDEX TYPE FILE       insert a code or markdown cell before INDEX
    python tools/nbedit.py delete NB INDEX                 delete cell INDEX

NB is a path or a notebook's stem (`20c_activations_explore`). Edits keep every other cell (and its outputs)
byte for byte; an edited code cell keeps its outputs until the notebook is run again (tools/run_notebooks.py).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def path_of(name: str) -> Path:
    p = Path(name)
    if p.suffix == '.ipynb' and p.exists(): return p
    p = ROOT / 'nbs' / f"{Path(name).stem}.ipynb"
    if not p.exists(): raise SystemExit(f"nbedit: no notebook {name!r}")
    return p


def load(path: Path) -> dict: return json.loads(path.read_text())


def save(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')


def source(cell: dict) -> str:
    return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']


def as_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def read(file: str) -> str:
    return sys.stdin.read() if file == '-' else Path(file).read_text()


def new_cell(kind: str, text: str) -> dict:
    "A new cell with a fresh id (nbdev_export names cells by id in the modules it writes)."
    cell_id = uuid.uuid4().hex[:8]
    if kind == 'markdown': return {'cell_type': 'markdown', 'id': cell_id, 'metadata': {}, 'source': as_lines(text)}
    if kind == 'code':
        return {'cell_type': 'code', 'execution_count': None, 'id': cell_id, 'metadata': {}, 'outputs': [], 'source': as_lines(text)}
    raise SystemExit(f"nbedit: TYPE must be code or markdown, got {kind!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='nbedit', description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('show'); p.add_argument('nb'); p.add_argument('range', nargs='?')
    p = sub.add_parser('find'); p.add_argument('nb'); p.add_argument('regex')
    p = sub.add_parser('set'); p.add_argument('nb'); p.add_argument('index', type=int); p.add_argument('file')
    p = sub.add_parser('replace'); p.add_argument('nb'); p.add_argument('index', type=int); p.add_argument('old'); p.add_argument('new')
    p = sub.add_parser('insert'); p.add_argument('nb'); p.add_argument('index', type=int); p.add_argument('type'); p.add_argument('file')
    p = sub.add_parser('delete'); p.add_argument('nb'); p.add_argument('index', type=int)
    args = parser.parse_args(argv)
    path = path_of(args.nb)
    nb = load(path)
    cells = nb['cells']
    if args.command == 'show':
        first, last = 0, len(cells) - 1
        if args.range:
            bounds = args.range.split('-')
            first, last = int(bounds[0]), int(bounds[-1]) if bounds[-1] else len(cells) - 1
        for i in range(first, min(last, len(cells) - 1) + 1):
            c = cells[i]
            outs = [o.get('output_type') for o in c.get('outputs', [])]
            print(f"--- [{i}] {c['cell_type']}{' outputs: ' + ','.join(outs) if outs else ''}")
            print(source(c))
        return 0
    if args.command == 'find':
        for i, c in enumerate(cells):
            if re.search(args.regex, source(c)): print(i, c['cell_type'], source(c).splitlines()[0][:100] if source(c) else '')
        return 0
    if args.command != 'insert' and not 0 <= args.index < len(cells):
        raise SystemExit(f"nbedit: {path.name} has cells 0-{len(cells) - 1}, not {args.index}")
    if args.command == 'set': cells[args.index]['source'] = as_lines(read(args.file))
    elif args.command == 'replace':
        old, new, text = read(args.old), read(args.new), source(cells[args.index])
        if text.count(old) != 1: raise SystemExit(f"nbedit: the old text occurs {text.count(old)} times in cell {args.index}, not once")
        cells[args.index]['source'] = as_lines(text.replace(old, new))
    elif args.command == 'insert': cells.insert(args.index, new_cell(args.type, read(args.file)))
    elif args.command == 'delete': del cells[args.index]
    save(path, nb)
    return 0


if __name__ == '__main__':
    sys.exit(main())
