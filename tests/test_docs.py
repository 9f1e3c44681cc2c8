"""The docs site: nbdev's doc processing (exactly as `nbdev_docs` runs it before Quarto) fails nowhere and changes
no stored output; each processed page renders to HTML and, in headless Chromium, shows its images, its maths
without MathJax errors, no tracebacks and no raw widget reprs.

The browser half needs Chromium (`apt-get install chromium`), Playwright (`pip install playwright`, no browser
download: it drives the system Chromium) and a local MathJax 3 (`npm install --prefix .cache/npm mathjax@3`), as
`.ci/run` installs them. Without them it is skipped here, unless DLCOURSE_REQUIRE_BROWSER=1 (CI) makes it fail.
Set DLCOURSE_SCREENSHOTS=DIR to keep a full-page screenshot of every page.
"""
import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / 'tools'))
import docsite  # noqa: E402

MATHJAX = Path(os.environ.get('DLCOURSE_MATHJAX', ROOT / '.cache' / 'npm' / 'node_modules' / 'mathjax' / 'es5'))


def browser_missing() -> str | None:
    "Why the browser check cannot run here, or None."
    try: import playwright  # noqa: F401
    except ImportError: return "playwright is not installed"
    if not Path(docsite.CHROMIUM).exists(): return f"no Chromium at {docsite.CHROMIUM}"
    if not (MATHJAX / 'tex-chtml-full.js').exists(): return f"no MathJax 3 at {MATHJAX}"
    return None


@pytest.fixture(scope='session')
def site(tmp_path_factory):
    "A site folder with the stylesheet, images and (when present) MathJax, shared by the pages a worker renders."
    out = tmp_path_factory.mktemp('site')
    if browser_missing() is None: shutil.copytree(MATHJAX, out / 'mathjax')
    return out


@pytest.fixture(scope='session')
def pool():
    "One spawned worker process that processes this test worker's notebooks, as nbdev's own pool does."
    with docsite.processors(jobs=1) as executor: yield executor


@pytest.fixture(scope='session')
def browser(site):
    "One headless Chromium for the pages this test worker checks (None when it cannot run here)."
    if browser_missing(): yield None; return
    shots = os.environ.get('DLCOURSE_SCREENSHOTS')
    with docsite.Browser(site, Path(shots) if shots else None) as b: yield b


@pytest.mark.parametrize('path', docsite.notebooks(), ids=lambda p: p.stem)
def test_page(path, site, pool, browser):
    report, = docsite.process_all([path], site / '_proc', pool=pool)
    assert report.ok, f"nbdev's doc processing of {path.name}:\n" + '\n'.join(report.problems())
    page, = docsite.render_site(site / '_proc', site, 'mathjax/tex-chtml-full.js', names=[path.name]).values()
    if browser is None:
        if os.environ.get('DLCOURSE_REQUIRE_BROWSER') == '1': pytest.fail(f"the browser check must run: {browser_missing()}")
        pytest.skip(f"doc processing and HTML rendering passed; browser check skipped: {browser_missing()}")
    faults = browser.faults(page)
    assert not faults, f"{page} in Chromium:\n" + '\n'.join(faults)
