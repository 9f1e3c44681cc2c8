"""Every page is made for a reader: titles and links that follow the course's numbering, figures that fit the column
with alt text, no walls of output or bare test cells, explorations with a static twin, and a one-click way to run it."""
import ast
import json
import re
import struct
import sys
import base64

import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / 'tools'))
import docsite  # noqa: E402

NOTEBOOKS = docsite.notebooks()
LESSONS = docsite.lesson_pages()
LESSON_NOTEBOOKS = [p for p in NOTEBOOKS if p.name in LESSONS]
MAX_FIGURE_WIDTH = 880        # pixels: an ~850 px text column
MAX_NOTEBOOK_BYTES = 1_000_000
MAX_NBS_BYTES = 8_000_000
MAX_OUTPUT_LINES = 40
MAX_DOCS_BEFORE_FIGURE = 6    # documented names an exploration page shows before its first figure
COLAB = 'https://colab.research.google.com/github/dlcourse/dlcourse/blob/main/nbs/'
INSTALL = re.compile(r"try: __import__\('dlcourse'\)\nexcept ImportError:\n    %pip install -q .*dlcourse.*")


def cells(path):
    return json.loads(path.read_text())['cells']


def text(cell) -> str:
    return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']


def options(cell) -> dict:
    return docsite.cell_options(text(cell))[0]


def directives(cell) -> set:
    "nbdev's `#| name` directives (export, hide, ...) of a code cell."
    return set(re.findall(r'^#\|\s*([\w-]+)\s*$', text(cell), re.M))


def shown(cell) -> bool:
    "Whether a code cell appears on the site (nbdev drops hidden and exported cells; `include: false` drops it too)."
    return not (directives(cell) & {'hide', 'export', 'exporti', 'default_exp'}) and options(cell).get('include') is not False


def png_width(b64: str) -> int:
    return struct.unpack('>I', base64.b64decode(b64.strip()[:44])[16:20])[0]


def images(cell):
    for out in cell.get('outputs', []):
        if 'image/png' in out.get('data', {}): yield out['data']['image/png']


def markdown_prose(cell) -> str:
    "A markdown cell's text without headings, code spans, maths and links: what should hold no plain lesson references."
    src = re.sub(r'^#+ .*$', '', text(cell), flags=re.M)
    src = re.sub(r'`[^`]*`', '', src)
    src = re.sub(r'\$\$.*?\$\$|\$[^$]*\$', '', src, flags=re.S)
    return re.sub(r'\[[^\]]*\]\([^)]*\)', '', src)


ids = lambda p: p.stem


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_maths_is_mathjax3_syntax(path):
    bad = [m for c in cells(path) if c['cell_type'] == 'markdown' for m in re.findall(r'\\text\{[^}]*\\_[^}]*\}', text(c))]
    assert not bad, f"\\text{{..\\_..}} shows a stray backslash under MathJax 3; use \\mathrm{{..\\_..}}: {bad}"
    controls = [i for i, c in enumerate(cells(path)) if c['cell_type'] == 'markdown' and re.search(r'[\x00-\x08\x0b\x0c\x0e-\x1f]', text(c))]
    assert not controls, f"markdown cells {controls} hold control characters (a '\\b' or '\\v' written without a raw string?)"


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_imports_sit_in_cells_of_their_own(path):
    "nbdev re-runs every cell with an import when it builds the docs, outside the notebook: such cells may hold nothing else."
    mixed = []
    for i, c in enumerate(cells(path)):
        if c['cell_type'] != 'code' or directives(c) & {'export', 'exporti', 'exports'}: continue
        try: tree = ast.parse(docsite.cell_options(text(c))[1])
        except SyntaxError: continue
        kinds = [isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body]
        if any(kinds) and not all(kinds): mixed.append(i)
    assert not mixed, f"cells {mixed} mix imports with other code"


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_notebook_is_small(path):
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} is {path.stat().st_size // 1024} KB"


def test_all_notebooks_together_are_small():
    total = sum(p.stat().st_size for p in (ROOT / 'nbs').glob('*.ipynb'))
    assert total < MAX_NBS_BYTES, f"nbs/ holds {total / 1e6:.1f} MB of notebooks"


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_figures_fit_the_column_and_have_alt_text(path):
    wide, no_alt, no_png_dpi = [], [], []
    for i, c in enumerate(cells(path)):
        pngs = list(images(c))
        if not pngs or not shown(c) or options(c).get('output') is False: continue
        wide += [(i, w) for w in map(png_width, pngs) if w > MAX_FIGURE_WIDTH]
        if not str(options(c).get('fig-alt') or '').strip(): no_alt.append(i)
        no_png_dpi += [i for out in c['outputs'] if 'image/png' in out.get('metadata', {})]
    assert not wide, f"(cell, width in px) of figures wider than {MAX_FIGURE_WIDTH} px: {wide}"
    assert not no_alt, f"cells {no_alt} show figures without `#| fig-alt:`"
    assert not no_png_dpi, f"cells {no_png_dpi} hold retina figures (re-run with tools/run_notebooks.py)"


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_no_widget_state_or_views_are_saved(path):
    nb = json.loads(path.read_text())
    assert 'widgets' not in nb['metadata'], "the notebook's metadata holds widget state"
    views = [i for i, c in enumerate(nb['cells']) for o in c.get('outputs', []) if docsite.WIDGET_VIEW in o.get('data', {})]
    assert not views, f"cells {views} saved widget views that no page can show"
    reprs = [i for i, c in enumerate(nb['cells']) for o in c.get('outputs', []) if shown(c)
             and docsite.WIDGET_REPR.search(docsite._text(o.get('data', {}).get('text/plain', o.get('text', ''))))]
    assert not reprs, f"cells {reprs} show a raw widget repr"


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_no_walls_of_output(path):
    long = []
    for i, c in enumerate(cells(path)):
        if c['cell_type'] != 'code' or not shown(c) or options(c).get('output') is False: continue
        for out in c.get('outputs', []):
            body = out.get('text') or out.get('data', {}).get('text/plain', '') if 'text/html' not in out.get('data', {}) else ''
            lines = docsite._text(body).count('\n')
            if lines > MAX_OUTPUT_LINES: long.append((i, lines))
    assert not long, f"(cell, lines) of outputs longer than {MAX_OUTPUT_LINES} lines: summarize them, the full table a flag away"


TEST_CALL = re.compile(r'^(test_\w*|assert\w*)$')


def only_tests(tree: ast.Module) -> bool:
    "Whether every statement is an `assert` or a call of a `test_*` function (fastcore's test_eq, test_close, test_fail...)."
    def is_test(node):
        if isinstance(node, ast.Assert): return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            f = node.value.func
            return bool(TEST_CALL.match(f.id if isinstance(f, ast.Name) else getattr(f, 'attr', '')))
        if isinstance(node, (ast.For, ast.With)): return all(map(is_test, node.body))
        return False
    return bool(tree.body) and all(map(is_test, tree.body))


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_cells_that_only_test_are_hidden(path):
    bare = []
    for i, c in enumerate(cells(path)):
        if c['cell_type'] != 'code' or not shown(c) or c.get('outputs'): continue
        try: tree = ast.parse(docsite.cell_options(text(c))[1])
        except SyntaxError: continue
        if only_tests(tree): bare.append(i)
    assert not bare, f"cells {bare} only test: mark them `#| hide` (the story does not need them; pytest still runs them)"


def test_sidebar_lists_every_notebook_once():
    listed = []
    def walk(items):
        for item in items:
            if isinstance(item, tuple): walk(item[1])
            else: listed.append(item)
    walk(docsite.sidebar())
    assert sorted(listed) == sorted(p.name for p in NOTEBOOKS), "sidebar.yml and nbs/*.ipynb differ"
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_title_follows_the_course_numbering(path):
    title = docsite.page_titles()[path.name]
    label = LESSONS.get(path.name)
    if label is None: assert not re.match(r'Lesson', title), f"{path.name} is not a lesson page but is titled {title!r}"
    else: assert re.match(rf'Lesson {label}: \S', title), f"{path.name} is lesson {label}; its title is {title!r}"


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_lesson_references_are_links(path):
    plain = [m.group(0) for c in cells(path) if c['cell_type'] == 'markdown'
             for m in re.finditer(r'\b[Ll]essons? \d+[a-z]?\b', markdown_prose(c))]
    assert not plain, f"plain-text lesson references (link them to the page): {plain}"
    targets = [m for c in cells(path) if c['cell_type'] == 'markdown'
               for m in re.findall(r'\]\((?![a-z]+://)([^)#]+\.ipynb)', text(c))]
    missing = [t for t in targets if not (ROOT / 'nbs' / t).exists()]
    assert not missing, f"links to notebooks that do not exist: {missing}"


@pytest.mark.parametrize('path', LESSON_NOTEBOOKS, ids=ids)
def test_lesson_page_ends_in_a_summary(path):
    heads = [h for c in cells(path) if c['cell_type'] == 'markdown' for h in re.findall(r'^##\s+(.*)$', text(c), re.M)]
    assert any(h.lower().startswith('summary') for h in heads), f"{path.name} has no '## Summary' section"


@pytest.mark.parametrize('path', LESSON_NOTEBOOKS, ids=ids)
def test_lesson_page_runs_in_one_click(path):
    nb = cells(path)
    badges = [i for i, c in enumerate(nb[:3]) if c['cell_type'] == 'markdown' and f"]({COLAB}{path.name})" in text(c)
              and '![Open in Colab](images/colab.svg)' in text(c)]
    assert badges, f"no 'Open in Colab' badge linking to {path.name} near the top"
    first_code = [c for c in nb if c['cell_type'] == 'code'][:2]
    installs = [c for c in first_code if 'hide' in directives(c) and INSTALL.search(text(c))]
    assert installs, "no hidden first cell that installs dlcourse when it is missing"


EXPLORER_CALL = re.compile(r'^\s*\w+_explorer\(', re.M)


@pytest.mark.parametrize('path', NOTEBOOKS, ids=ids)
def test_explorations_have_a_static_twin(path):
    nb = cells(path)
    calls = [i for i, c in enumerate(nb) if c['cell_type'] == 'code' and shown(c) and EXPLORER_CALL.search(text(c))]
    if not calls: return
    assert all(options(nb[i]).get('output') is False for i in calls), "explorer cells must be `#| output: false` (inert off a kernel)"
    captioned = [i for i, c in enumerate(nb) if c['cell_type'] == 'code' and shown(c) and list(images(c)) and options(c).get('fig-cap')]
    assert captioned, "an exploration needs a static figure with `#| fig-cap:` naming the settings it shows"
    for i in calls:
        before = ' '.join(text(c) for c in nb[max(0, i - 2):i] if c['cell_type'] == 'markdown')
        assert re.search(r'Colab|Jupyter', before), f"say how to run the explorer (cell {i}) live, in the prose just before it"


@pytest.mark.parametrize('path', [p for p in NOTEBOOKS if 'explore' in p.stem], ids=ids)
def test_exploration_page_shows_before_it_documents(path):
    "Small helpers' API docs stay out of the way of the story: few documented names come before the first figure."
    documented = 0
    for c in cells(path):
        if c['cell_type'] != 'code': continue
        if list(images(c)) and shown(c): break
        if directives(c) & {'export', 'exports'}:
            try: tree = ast.parse(text(c))
            except SyntaxError: continue
            documented += sum(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith('_') for n in tree.body)
    assert documented <= MAX_DOCS_BEFORE_FIGURE, \
        f"{documented} documented names before the first figure: make helpers private or `#| exporti`, or move them below"


def test_quarto_config_is_consistent():
    quarto = yaml.safe_load((ROOT / 'nbs' / '_quarto.yml').read_text())
    assert 'sidebar.yml' in quarto['metadata-files'] and 'nbdev.yml' in quarto['metadata-files']
    assert (ROOT / 'nbs' / 'images' / 'colab.svg').exists()
