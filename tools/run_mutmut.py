"""Run `mutmut run` with the heavy third-party imports done once in the parent, so every forked test run inherits
them. With --skip-clean, skip mutmut's clean run of all covering tests (only after running the suite yourself)."""
import os, sys
os.environ.setdefault('MPLBACKEND', 'Agg')
import numpy, scipy, torch, sklearn.metrics, matplotlib.pyplot  # noqa: F401,E401
from mutmut.__main__ import cli
if '--skip-clean' in sys.argv:
    sys.argv.remove('--skip-clean')
    from mutmut.workers.isolation import ForkServerRunner
    ForkServerRunner.run_clean_tests = lambda self, tests: 0
sys.argv = ['mutmut', 'run', *sys.argv[1:]]
sys.exit(cli())
