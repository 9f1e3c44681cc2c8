"""The README's Python examples run as written, in order, and its two set-up commands are the ones CI runs."""
import re

from conftest import ROOT

README = (ROOT / 'README.md').read_text()


def test_python_examples_run():
    blocks = re.findall(r'```python\n(.*?)```', README, re.S)
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks: exec(compile(block, 'README.md', 'exec'), namespace)


def test_two_setup_commands_and_ci_runs_the_test_one():
    commands = re.findall(r'```sh\n(.*?)\n```', README, re.S)
    assert commands == ['pip install -e ".[notebooks]" && dlcourse train', 'pip install -e ".[dev]" && python -m pytest -n auto']
    assert commands[1] in (ROOT / '.ci' / 'run').read_text()
    assert README.index('choose your PyTorch build') < README.index(commands[0])
