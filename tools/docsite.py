#!/usr/bin/env python
"""The docs site without Quarto: nbdev's own processing of every notebook, checked, then one HTML page each.

    python tools/docsite.py check [NB ...]         process as nbdev_docs does; report errors and changed outputs
    python tools/docsite.py build [--out _site] [--mathjax URL|DIR] [NB ...]
    python tools/docsite.py serve [--out _site] [--port 8000]

`check` is the step `nbdev_docs` and `nbdev_preview` run before they hand the notebooks to Quarto: every cell
that holds an import, an export or a `show_doc` is executed again, outside the notebook. It fails when that step
raises, when it changes an output the notebook was committed with, when it leaves widget state in a page, or when
nbdev warns that a cell mixes imports with other code. `build` renders the processed notebooks to plain HTML pages
with the sidebar of `nbs/sidebar.yml` and MathJax 3, close enough to the Quarto site to read and to test in a
browser; `serve` serves them on localhost.
"""
from __future__ import annotations

import argparse
import base64
import copy
import html
import http.server
import json
import multiprocessing
import os
import re
import shutil
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
MATHJAX_CDN = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml-full.js'
WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'
WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'


def notebooks(names: list[str] | None = None) -> list[Path]:
    "The site's notebooks (every `nbs/*.ipynb` not starting with `_`), or those named (by path or stem)."
    every = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith('_'))
    if not names: return every
    by_stem = {p.stem: p for p in every}
    chosen = []
    for name in names:
        stem = Path(name).stem
        if stem not in by_stem: raise SystemExit(f"docsite: no notebook {name!r} in {NBS}")
        chosen.append(by_stem[stem])
    return chosen


# ---------------------------------------------------------------- processing, exactly as nbdev_docs does it

@dataclass
class Report:
    "What nbdev's processing of one notebook did that a reader would see as a fault."
    notebook: str
    seconds: float = 0.0
    error: str | None = None
    changed: list = field(default_factory=list)        # (cell index, first line) of re-executed cells whose outputs changed
    mixed_imports: list = field(default_factory=list)  # first lines of cells nbdev warned mix imports with code
    widget_models: int = 0                             # widget models the processing left in the page's metadata

    @property
    def ok(self) -> bool: return not (self.error or self.changed or self.mixed_imports or self.widget_models)

    def problems(self) -> list[str]:
        "One line per fault."
        out = [f"processing failed: {self.error}"] if self.error else []
        out += [f"cell {i} changed its stored output when nbdev re-ran it: {line}" for i, line in self.changed]
        out += [f"cell mixes imports with other code (nbdev re-runs it alone): {line}" for line in self.mixed_imports]
        if self.widget_models: out.append(f"{self.widget_models} widget models left in the page's metadata")
        return out


def _outputs_key(outputs) -> list:
    "Outputs without execution counts, to compare before and after a cell is run again."
    return [{k: v for k, v in o.items() if k != 'execution_count'} for o in (outputs or [])]


def process(src: Path, dest: Path | None = None) -> Report:
    "Run nbdev's doc processors on notebook `src` (as `nbdev_docs` does before Quarto), write it to `dest`, report faults."
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults, exec_show_docs

    report = Report(Path(src).name)

    class checked_exec_show_docs(exec_show_docs):
        "nbdev's `exec_show_docs`, noting every cell of the notebook whose stored outputs the re-execution changes."
        def __call__(self, cell):
            before = copy.deepcopy(cell.get('outputs'))
            super().__call__(cell)
            if cell.cell_type == 'code' and not getattr(cell, 'has_sd', False) and _outputs_key(before) != _outputs_key(cell.get('outputs')):
                report.changed.append((cell.idx_, cell.source.strip().splitlines()[0][:100]))

    class CheckedFilters(FilterDefaults):
        "nbdev's processors for the docs, unchanged but for the check above."
        def base_procs(self):
            return [checked_exec_show_docs if p is exec_show_docs else p for p in super().base_procs()]

    start = time.perf_counter()
    os.environ['IN_TEST'] = '1'  # as nbdev's serve_drv does
    nb = read_nb(src)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try: CheckedFilters()(nb)
        except Exception as e:
            cause = f" ({type(e.__cause__).__name__}: {e.__cause__})" if e.__cause__ else ''
            report.error = f"{str(e).splitlines()[0]}{cause}"
    for w in caught:
        text = str(w.message)
        if 'containing imports and other code' in text:
            report.mixed_imports.append(text.split('---')[1].strip().splitlines()[0][:100])
    report.widget_models = len(nb.metadata.get('widgets', {}).get(WIDGET_STATE, {}).get('state', {}))
    report.seconds = round(time.perf_counter() - start, 2)
    if dest is not None and report.error is None: write_nb(nb, dest)
    return report


def _process_in_root(src: Path, dest: Path | None) -> Report:
    "`process` run from the project root, as `nbdev_docs` is (for a worker process that may have processed others)."
    os.chdir(ROOT)
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    if 'ipywidgets' in sys.modules: sys.modules['ipywidgets'].Widget.close_all()  # a page reports only its own widgets
    return process(src, dest)


def processors(jobs: int = 2) -> ProcessPoolExecutor:
    "Worker processes for `process_all`, spawned as nbdev spawns its own (each notebook gets a fresh shell in them)."
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context('spawn'))


def process_all(paths: list[Path], dest_dir: Path | None = None, jobs: int = 2,
                pool: ProcessPoolExecutor | None = None) -> list[Report]:
    "Process `paths` in worker processes (`pool`, or `jobs` new ones), writing to `dest_dir` when given."
    if dest_dir is not None: dest_dir.mkdir(parents=True, exist_ok=True)
    dests = [dest_dir / p.name if dest_dir is not None else None for p in paths]
    if pool is not None: return list(pool.map(_process_in_root, paths, dests))
    with processors(jobs) as own: return list(own.map(_process_in_root, paths, dests))


# ---------------------------------------------------------------- rendering

def _markdown():
    "A CommonMark renderer with tables, raw HTML, Pandoc's `{key=value}` link attributes, and `$`/`$$` maths left for MathJax."
    from markdown_it import MarkdownIt
    from mdit_py_plugins.attrs import attrs_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    md = MarkdownIt('commonmark', {'html': True}).enable(['table', 'strikethrough'])
    md.use(dollarmath_plugin, allow_labels=False, double_inline=True).use(attrs_plugin)
    md.add_render_rule('math_inline', lambda self, tokens, idx, options, env:
                       f'<span class="math inline">\\({html.escape(tokens[idx].content)}\\)</span>')
    md.add_render_rule('math_inline_double', lambda self, tokens, idx, options, env:
                       f'<span class="math display">\\[{html.escape(tokens[idx].content)}\\]</span>')
    md.add_render_rule('math_block', lambda self, tokens, idx, options, env:
                       f'<div class="math display">\\[{html.escape(tokens[idx].content)}\\]</div>\n')
    return md


_OPTION = re.compile(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')


def cell_options(source: str) -> tuple[dict, str]:
    "Quarto's `#| key: value` cell options at the top of `source`, and the source without them."
    import yaml
    options, lines = {}, source.splitlines()
    while lines and _OPTION.match(lines[0]):
        key, value = _OPTION.match(lines.pop(0)).groups()
        options[key] = yaml.safe_load(value) if value else None
    return options, '\n'.join(lines)


_ANSI = re.compile(r'\x1b\[[0-?]*[ -/]*[@-~]')


def _text(value) -> str:
    return ''.join(value) if isinstance(value, list) else str(value)


def _pre(text: str, cls: str) -> str:
    return f'<div class="{cls}"><pre>{html.escape(_ANSI.sub("", text))}</pre></div>'


def render_output(output: dict, options: dict, md, widget_models: set) -> str:
    "One cell output as HTML, choosing the richest representation as Quarto does."
    kind = output.get('output_type')
    if kind == 'stream':
        return _pre(_text(output.get('text', '')), f"cell-output cell-output-{output.get('name', 'stdout')}")
    if kind == 'error':
        return _pre('\n'.join(output.get('traceback', [])), 'cell-output cell-output-error')
    data = output.get('data', {})
    view = data.get(WIDGET_VIEW)
    if view and view.get('model_id') in widget_models:
        return f'<div class="cell-output widget" data-model-id="{view["model_id"]}"></div>'
    if 'text/html' in data: return f'<div class="cell-output cell-output-display">{_text(data["text/html"])}</div>'
    for mime in ('image/png', 'image/jpeg', 'image/svg+xml'):
        if mime in data:
            payload = _text(data[mime])
            if mime == 'image/svg+xml': payload = base64.b64encode(payload.encode()).decode()
            alt = html.escape(str(options.get('fig-alt') or ''))
            img = f'<img src="data:{mime};base64,{payload.strip()}" alt="{alt}">'
            cap = options.get('fig-cap')
            body = f'<figure>{img}<figcaption>{md.render(str(cap))}</figcaption></figure>' if cap else img
            return f'<div class="cell-output cell-output-display">{body}</div>'
    if 'text/markdown' in data:
        return f'<div class="cell-output cell-output-markdown">{md.render(_text(data["text/markdown"]))}</div>'
    if 'text/latex' in data:
        return f'<div class="cell-output cell-output-display">{html.escape(_text(data["text/latex"]))}</div>'
    if 'text/plain' in data: return _pre(_text(data['text/plain']), 'cell-output cell-output-display')
    return ''


def render_cell(cell: dict, md, widget_models: set) -> str:
    "A processed notebook cell as HTML, honouring the Quarto options nbdev's pages use."
    source = _text(cell.get('source', ''))
    if cell['cell_type'] == 'markdown': return md.render(source)
    if cell['cell_type'] != 'code': return ''
    options, code = cell_options(source)
    if options.get('include') is False: return ''
    parts = []
    if options.get('echo') is not False and code.strip():
        block = f'<pre class="sourceCode"><code class="language-python">{html.escape(code)}</code></pre>'
        if 'code-fold' in options:
            summary = html.escape(str(options.get('code-summary') or 'Code'))
            block = f'<details{" open" if options["code-fold"] == "show" else ""}><summary>{summary}</summary>{block}</details>'
        parts.append(block)
    if options.get('output') is not False:
        for output in cell.get('outputs', []):
            if options.get('output') == 'asis' and 'text/markdown' in output.get('data', {}):
                parts.append(md.render(_text(output['data']['text/markdown'])))
            else: parts.append(render_output(output, options, md, widget_models))
    return f'<div class="cell">{"".join(parts)}</div>' if parts else ''


def frontmatter(nb: dict) -> dict:
    "The YAML front matter nbdev put in the processed notebook's first raw cell."
    import yaml
    for cell in nb['cells']:
        if cell['cell_type'] == 'raw':
            text = _text(cell['source']).strip()
            if text.startswith('---'): return yaml.safe_load(text.strip('-\n')) or {}
    return {}


def page_names() -> dict[str, str]:
    "Each notebook's page, as nbdev names it (`20c_activations_explore.ipynb` -> `activations_explore.html`)."
    from nbdev.doclinks import _nbpath2html
    return {p.name: _nbpath2html(p).name for p in notebooks()}


def page_titles() -> dict[str, str]:
    "Each notebook's title: the `# heading` of its first markdown cell, as nbdev's front matter takes it."
    from nbdev.frontmatter import _md2dict
    titles = {}
    for p in notebooks():
        first = next(c for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'markdown')
        titles[p.name] = _md2dict(_text(first['source'])).get('title', p.stem)
    return titles


def sidebar(path: Path = NBS / 'sidebar.yml') -> list:
    "The sidebar's entries: notebook names, and (section title, [entries]) pairs."
    import yaml
    def entries(items):
        return [(item['section'], entries(item['contents'])) if isinstance(item, dict) else item for item in items]
    return entries(yaml.safe_load(path.read_text())['website']['sidebar']['contents'])


def lesson_pages() -> dict[str, str]:
    "Each lesson page's label, from the sidebar: section 'N. ...' holds lesson N, its pages are Na, Nb, ... in order."
    labels = {}
    for item in sidebar():
        if not isinstance(item, tuple): continue
        number = re.match(r'(\d+)\.\s', item[0])
        if number is None: continue
        pages = [p for p in item[1] if not isinstance(p, tuple)]
        labels.update({page: f"{number[1]}{chr(ord('a') + i)}" for i, page in enumerate(pages)})
    return labels


def _nav_html(items, pages: dict, titles: dict, current: str) -> str:
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append(f'<li class="section"><span>{html.escape(item[0])}</span><ul>{_nav_html(item[1], pages, titles, current)}</ul></li>')
        else:
            page = pages.get(item, item.replace('.ipynb', '.html'))
            cls = ' class="current"' if item == current else ''
            out.append(f'<li{cls}><a href="{page}">{html.escape(titles.get(item, item))}</a></li>')
    return ''.join(out)


_LINK = re.compile(r'(href|src)="(?![a-z]+:|#|/)([^"#]+?\.ipynb)(#[^"]*)?"')

PAGE_CSS = """
body { margin: 0; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; line-height: 1.5; color: #212529; }
.layout { display: flex; }
nav.sidebar { width: 260px; flex: none; padding: 1rem; font-size: 0.85rem; border-right: 1px solid #dee2e6; min-height: 100vh; }
nav.sidebar ul { list-style: none; padding-left: 0.6rem; margin: 0.2rem 0; }
nav.sidebar li.current > a { font-weight: bold; }
nav.sidebar .section > span { font-weight: 600; display: block; margin-top: 0.6rem; }
main { max-width: 850px; padding: 1rem 2rem 4rem; flex: 1; min-width: 0; }
main img { max-width: 100%; }
pre { background: #f7f7f9; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
figure { margin: 0.5rem 0; } figcaption { font-size: 0.9rem; color: #555; }
table { border-collapse: collapse; } td, th { border: 1px solid #dee2e6; padding: 0.2rem 0.5rem; }
"""


def render_page(nb: dict, name: str, pages: dict, titles: dict, mathjax: str) -> str:
    "A whole HTML page for processed notebook `nb`: the sidebar, the title and description, every cell."
    md = _markdown()
    meta = frontmatter(nb)
    models = set(nb.get('metadata', {}).get('widgets', {}).get(WIDGET_STATE, {}).get('state', {}))
    body = ''.join(render_cell(c, md, models) for c in nb['cells'])
    body = _LINK.sub(lambda m: f'{m[1]}="{pages.get(Path(m[2]).name, Path(m[2]).stem + ".html")}{m[3] or ""}"', body)
    title = html.escape(str(meta.get('title', Path(name).stem)))
    description = f'<p class="description">{html.escape(str(meta["description"]))}</p>' if meta.get('description') else ''
    nav = _nav_html(sidebar(), pages, titles, name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – dlcourse</title><link rel="icon" href="data:,">
<style>{PAGE_CSS}</style><link rel="stylesheet" href="styles.css">
<script>window.MathJax = {{tex: {{inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']]}}}};</script>
<script id="MathJax-script" async src="{mathjax}"></script>
</head><body><div class="layout"><nav class="sidebar"><a href="index.html"><b>dlcourse</b></a><ul>{nav}</ul></nav>
<main><header><h1 class="title">{title}</h1>{description}</header>
{body}
</main></div></body></html>
"""


def render_site(proc_dir: Path, out: Path, mathjax: str = MATHJAX_CDN, names: list[str] | None = None) -> dict:
    "Render the processed notebooks in `proc_dir` (or those of them in `names`) to pages in `out`; return {notebook: page}."
    out.mkdir(parents=True, exist_ok=True)
    nbs = {p.name: json.loads(p.read_text()) for p in sorted(proc_dir.glob('*.ipynb'))}
    pages, titles = page_names(), page_titles()
    if Path(mathjax).is_dir():
        shutil.copytree(mathjax, out / 'mathjax', dirs_exist_ok=True)
        mathjax = 'mathjax/tex-chtml-full.js'
    for asset in ('styles.css', 'images'):
        src = NBS / asset
        if src.is_dir(): shutil.copytree(src, out / asset, dirs_exist_ok=True)
        elif src.exists(): shutil.copy(src, out / asset)
    for name in (names or nbs):
        (out / pages[name]).write_text(render_page(nbs[name], name, pages, titles, mathjax))
    return {name: pages[name] for name in (names or nbs)}


# ---------------------------------------------------------------- the reader's check, in a real browser

CHROMIUM = os.environ.get('DLCOURSE_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run', '--disable-quic']
WIDGET_REPR = re.compile(r'\b(?:HBox|VBox|Box|Output|IntSlider|FloatSlider|FloatLogSlider|IntRangeSlider|Dropdown|Checkbox|'
                         r'ToggleButtons|RadioButtons|SelectionSlider|Button|Tab|interactive)\((?:children|value|options|description)=|'
                         r'Loading widget|model_id')

PAGE_PROBE = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const images = [...document.images].map(i => ({src: i.getAttribute('src').slice(0, 60), loaded: i.complete && i.naturalWidth > 0,
                                                  alt: i.alt, width: i.naturalWidth}));
  return {images, mathjax: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
          formulas: document.querySelectorAll('mjx-container').length,
          mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
          errorOutputs: document.querySelectorAll('.cell-output-error').length,
          hasMath: document.querySelectorAll('.math').length,
          text: document.body.innerText};
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    "A static file handler that does not log every request."
    def log_message(self, *args) -> None: pass


class Browser:
    "Headless Chromium reading a built site from a local web server; `faults(page)` lists what a reader would see wrong."
    def __init__(self, site: Path, screenshots: Path | None = None):
        self.site, self.screenshots, self.console = Path(site), screenshots, []

    def __enter__(self) -> Browser:
        import threading
        from playwright.sync_api import sync_playwright
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(_QuietHandler, directory=str(self.site)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport={'width': 1200, 'height': 900})
        self.page.on('pageerror', lambda e: self.console.append(f"script error: {e}"))
        self.page.on('console', lambda m: self.console.append(f"console {m.type}: {m.text} ({m.location.get('url', '')})")
                     if m.type == 'error' else None)
        return self

    def __exit__(self, *exc_info) -> None:
        self.browser.close()
        self.playwright.stop()
        self.server.shutdown()
        self.server.server_close()

    def faults(self, name: str) -> list[str]:
        "Open page `name`, wait for MathJax, and return the faults a reader would see (screenshot it when asked)."
        self.console.clear()
        self.page.goto(self.base + name, wait_until='load')
        probe = self.page.evaluate(PAGE_PROBE)
        problems = list(self.console)
        problems += [f"image did not load: {i['src']}" for i in probe['images'] if not i['loaded']]
        problems += [f"image without alt text: {i['src']}" for i in probe['images'] if not i['alt'].strip()]
        problems += [f"MathJax error: {e}" for e in probe['mathErrors']]
        if probe['hasMath'] and not probe['formulas']: problems.append("maths on the page but MathJax rendered none")
        if probe['errorOutputs']: problems.append(f"{probe['errorOutputs']} error outputs (tracebacks) shown")
        if 'Traceback (most recent call last)' in probe['text']: problems.append("a traceback is shown")
        problems += [f"raw widget repr shown: {m.group(0)}" for m in WIDGET_REPR.finditer(probe['text'])]
        if self.screenshots is not None:
            self.screenshots.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.screenshots / f"{Path(name).stem}.png"), full_page=True)
        return problems


def browse(site: Path, pages: list[str], screenshots: Path | None = None) -> dict[str, list[str]]:
    "Open each page of the built `site` in headless Chromium; return {page: the faults a reader would see}."
    with Browser(site, screenshots) as browser: return {name: browser.faults(name) for name in pages}


# ---------------------------------------------------------------- command line

def _check(args) -> int:
    reports = process_all(notebooks(args.notebooks), jobs=args.jobs)
    for r in reports:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.notebook:<40} {r.seconds:6.1f} s")
        for line in r.problems(): print(f"       {line}")
    bad = sum(not r.ok for r in reports)
    print(f"\n{len(reports) - bad} notebooks processed cleanly, {bad} with faults")
    return 1 if bad else 0


def _build(args) -> int:
    out = Path(args.out)
    proc = out / '_proc'
    reports = process_all(notebooks(args.notebooks), proc, jobs=args.jobs)
    for r in reports:
        if not r.ok: print(f"FAIL {r.notebook}: " + '; '.join(r.problems()))
    pages = render_site(proc, out, args.mathjax)
    print(f"{len(pages)} pages in {out}/ (open {out / 'index.html'}, or: python tools/docsite.py serve)")
    return 0 if all(r.ok for r in reports) else 1


def _serve(args) -> int:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=args.out)
    with http.server.ThreadingHTTPServer(('127.0.0.1', args.port), handler) as server:
        print(f"serving {args.out}/ at http://127.0.0.1:{args.port}/ (Ctrl-C to stop)")
        try: server.serve_forever()
        except KeyboardInterrupt: pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='docsite', description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    check = sub.add_parser('check', help="process every notebook as nbdev_docs does, and report faults")
    build = sub.add_parser('build', help="process, then render HTML pages with the sidebar and MathJax")
    for p in (check, build):
        p.add_argument('notebooks', nargs='*', help="notebooks to process (default: all)")
        p.add_argument('--jobs', type=int, default=2, help="worker processes (default: %(default)s)")
    build.add_argument('--out', default='_site', help="output folder (default: %(default)s)")
    build.add_argument('--mathjax', default=MATHJAX_CDN,
                       help="MathJax 3 script URL, or a local copy of MathJax's es5/ folder (default: the jsDelivr CDN)")
    serve = sub.add_parser('serve', help="serve a built site on localhost")
    serve.add_argument('--out', default='_site', help="the built site (default: %(default)s)")
    serve.add_argument('--port', type=int, default=8000, help="port (default: %(default)s)")
    args = parser.parse_args(argv)
    return {'check': _check, 'build': _build, 'serve': _serve}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
