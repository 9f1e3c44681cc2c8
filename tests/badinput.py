"""The bad-input suite's harness: every public callable of dlcourse, called with valid arguments of which one at a
time is replaced by a bad value, and each outcome classified.

Outcomes:

* ``clear``     a ValueError or TypeError raised by dlcourse's own code, whose message names the argument;
* ``unnamed``   a ValueError or TypeError raised by dlcourse whose message does not name the argument;
* ``raw``       any other exception, or one raised inside NumPy, PyTorch or Python rather than by dlcourse;
* ``accepted``  no exception.

A bad value is either *wrong* (no reading of the signature allows it: a string for a number, NaN for a learning rate,
an object where a generator goes): then only ``clear`` passes, and ``accepted`` is a harmful silent acceptance. Or it
is *doubtful* (a list where an array goes, a tensor in the NumPy API, integers where floats go, an empty batch):
accepting it is fine and so is a clear error, but never a raw exception.

Values are derived from the type of each argument's valid value (given in the example, or its default), so every
argument of every callable is tried; an example adds the values only its meaning rules out (a negative rate, a shape
that does not fit) in ``bad`` and ``doubtful``, and lists in ``free`` the arguments that take any value of any type.

    python tests/badinput.py [PREFIX ...]   # counts by outcome (over targets starting with a PREFIX), every failure
    python tests/badinput.py --missing [PREFIX ...]   # public callables that have no example yet
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import numbers
import pkgutil
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGE_DIR = str(ROOT / 'dlcourse')
WRONG, DOUBTFUL = 'wrong', 'doubtful'


@dataclass
class Call:
    "A valid call of a public callable, from which bad calls are made one argument at a time."
    target: str                                    # dotted name: 'dlcourse.numpy.nn.Linear' or 'dlcourse.numpy.nn.Linear.forward'
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    make: Callable[[], Any] | None = None          # builds the instance a method is called on (a fresh one for each call)
    bad: dict = field(default_factory=dict)        # argument -> more wrong values (those only its meaning rules out)
    doubtful: dict = field(default_factory=dict)   # argument -> more doubtful values
    free: tuple = ()                               # arguments that accept values of any type: no generic mutations

    def __repr__(self) -> str: return f"Call({self.target})"


@dataclass
class Outcome:
    "What one bad call did."
    target: str
    argument: str
    value: str
    kind: str        # WRONG or DOUBTFUL
    result: str      # clear, unnamed, raw or accepted
    detail: str = ''

    @property
    def failed(self) -> bool:
        if self.result in ('raw', 'unnamed'): return True
        return self.kind == WRONG and self.result == 'accepted'

    def __str__(self) -> str:
        return f"{self.target}({self.argument}={self.value}) [{self.kind}] -> {self.result}{': ' + self.detail if self.detail else ''}"


def resolve(dotted: str) -> Any:
    "The object a dotted name refers to (a module attribute, a class, or a function or method of a class)."
    parts = dotted.split('.')
    for i in range(len(parts), 0, -1):
        try: obj = importlib.import_module('.'.join(parts[:i]))
        except ImportError: continue
        for name in parts[i:]: obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def _is_tensor(x) -> bool:
    "Whether `x` is a torch.Tensor (not a dtype or device, which share some of its attributes)."
    return type(x).__module__.startswith('torch') and hasattr(x, 'is_floating_point') and hasattr(x, 'shape')


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray) or _is_tensor(value):
        return f"{type(value).__name__}{tuple(value.shape)}:{str(value.dtype).replace('torch.', '')}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


def _nan_like(x):
    y = x.copy() if isinstance(x, np.ndarray) else x.clone()
    y.reshape(-1)[0] = float('nan')
    return y


def mutations(value: Any, none_ok: bool) -> list[tuple[str, Any]]:
    "(kind, bad value) pairs for an argument whose valid value is `value` (None is not among them when `none_ok`)."
    wrong, doubtful = [], []
    if isinstance(value, (bool, np.bool_)): wrong = ['yes', 2, None]
    elif isinstance(value, numbers.Integral): wrong = ['3', None, 2.5, True]
    elif isinstance(value, numbers.Real): wrong = ['x', None, math.nan, True]
    elif isinstance(value, str): wrong = [3, None, ['x']]
    elif isinstance(value, np.ndarray):
        wrong = ['x', None, object()]
        doubtful = [value.tolist(), value[None]]
        if value.ndim >= 1: doubtful.append(value[:0])
        if np.issubdtype(value.dtype, np.floating):
            with np.errstate(invalid='ignore'): as_int = value.astype(np.int64)
            doubtful += [as_int, value.astype(np.float32 if value.dtype == np.float64 else np.float64)]
            if value.size: doubtful.append(_nan_like(value))
        if np.issubdtype(value.dtype, np.number) or value.dtype == bool:
            import torch
            doubtful.append(torch.as_tensor(value))
    elif _is_tensor(value):
        import torch
        wrong = ['x', None, object()]
        doubtful = [value.detach().cpu().numpy(), value[None]]
        if value.ndim >= 1: doubtful.append(value[:0])
        if value.is_floating_point():
            doubtful += [value.long(), value.double() if value.dtype == torch.float32 else value.float()]
            if value.numel(): doubtful.append(_nan_like(value.detach()))
    elif isinstance(value, np.random.Generator) or type(value).__name__ == 'Generator': wrong, doubtful = ['x', 2.5, object()], [0]
    elif isinstance(value, (list, tuple)):
        wrong = ['x', object()]
        if value and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
            wrong.append(type(value)([*value[:-1], 'x']))
        doubtful = [type(value)()]
    elif isinstance(value, dict): wrong = ['x', 3]
    elif value is None: wrong = [object()]
    elif callable(value) or inspect.isclass(value): wrong = [3, 'x']
    else: wrong = [3, 'x']
    out = [(WRONG, v) for v in wrong if not (v is None and none_ok)]
    return out + [(DOUBTFUL, v) for v in doubtful]


def _names_argument(message: str, name: str) -> bool:
    "Whether an error message names argument `name` (or its singular, for `*modules` and the like)."
    names = {name, name.lstrip('*'), name.rstrip('s')} - {''}
    return any(re.search(rf'(?<![\w]){re.escape(n)}(?![\w])', message) for n in names)


def classify(exc: BaseException | None, name: str) -> tuple[str, str]:
    "The outcome of a call that raised `exc` (None: it returned) for a bad value of argument `name`, and a detail."
    if exc is None: return 'accepted', ''
    frames = traceback.extract_tb(exc.__traceback__)
    inner = frames[-1].filename if frames else ''
    detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
    if not isinstance(exc, (ValueError, TypeError)) or not inner.startswith(PACKAGE_DIR):
        where = '' if inner.startswith(PACKAGE_DIR) else f" (raised in {Path(inner).name})"
        return 'raw', detail + where
    return ('clear' if _names_argument(str(exc), name) else 'unnamed'), detail


def _close_figures() -> None:
    if 'matplotlib.pyplot' in sys.modules: sys.modules['matplotlib.pyplot'].close('all')


def run_call(call: Call) -> list[Outcome]:
    "Every bad call made from `call`, with its outcome."
    import warnings
    outcomes = []
    func = resolve(call.target)
    owner = call.make
    probe = getattr(owner(), call.target.rsplit('.', 1)[1]) if owner else func
    sig = inspect.signature(probe)
    bound = sig.bind(*call.args, **call.kwargs)
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD: continue
        given = p.name in bound.arguments
        value = bound.arguments[p.name] if given else p.default
        if value is inspect.Parameter.empty: continue
        if p.name in call.free: trials = []
        elif p.kind is p.VAR_POSITIONAL: trials = mutations(value[0], False) if value else []
        else: trials = mutations(value, p.default is None or 'None' in str(p.annotation) or str(p.annotation) in ('Any', 'typing.Any'))
        trials += [(WRONG, v) for v in call.bad.get(p.name, [])] + [(DOUBTFUL, v) for v in call.doubtful.get(p.name, [])]
        for kind, bad in trials:
            attempt = sig.bind(*call.args, **call.kwargs)
            attempt.arguments[p.name] = (bad, *value[1:]) if p.kind is p.VAR_POSITIONAL else bad
            target = getattr(owner(), call.target.rsplit('.', 1)[1]) if owner else func
            exc = None
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    target(*attempt.args, **attempt.kwargs)
            except Exception as e: exc = e
            finally: _close_figures()
            result, detail = classify(exc, p.name)
            outcomes.append(Outcome(call.target, p.name, _short(bad), kind, result, detail))
    return outcomes


def public_callables() -> list[str]:
    "Every public callable of dlcourse that takes arguments: functions and classes in a module's `__all__`, and the methods classes define."
    import dlcourse
    names = []
    for info in pkgutil.walk_packages(dlcourse.__path__, 'dlcourse.'):
        if info.name.endswith('_modidx'): continue
        module = importlib.import_module(info.name)
        for name in getattr(module, '__all__', []):
            obj = getattr(module, name)
            if getattr(obj, '__module__', None) != info.name: continue
            if inspect.isclass(obj):
                if issubclass(obj, BaseException): continue
                try: takes = len(inspect.signature(obj).parameters) > 0
                except (TypeError, ValueError): takes = False
                if takes: names.append(f"{info.name}.{name}")
                for attr, member in vars(obj).items():
                    if attr.startswith('_') and attr != '__call__': continue
                    func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                    if not inspect.isfunction(func) or not func.__module__.startswith('dlcourse'): continue  # torch patches some in
                    if [q for q in inspect.signature(func).parameters if q not in ('self', 'cls')]:
                        names.append(f"{info.name}.{name}.{attr}")
            elif inspect.isfunction(obj) and inspect.signature(obj).parameters:
                names.append(f"{info.name}.{name}")
    return names


def _example_modules() -> list:
    "The modules of tests/bad_input/: each defines CALLS (a list of `Call`) and may define EXEMPT ({name: reason})."
    modules = []
    for path in sorted((HERE / 'bad_input').glob('*.py')):
        spec = importlib.util.spec_from_file_location(f"bad_input_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


def all_calls() -> list[Call]:
    "Every example of tests/bad_input/."
    return [call for module in _example_modules() for call in module.CALLS]


def exempt() -> dict[str, str]:
    "Public callables with no example, each with the reason it needs none."
    return {name: reason for module in _example_modules() for name, reason in getattr(module, 'EXEMPT', {}).items()}


def report(prefixes: list[str]) -> int:
    "Print counts by outcome over every example (or those whose target starts with one of `prefixes`), then every failure."
    from collections import Counter
    calls = [c for c in all_calls() if not prefixes or c.target.startswith(tuple(prefixes))]
    outcomes = [o for call in calls for o in run_call(call)]
    counts = Counter((o.kind, o.result) for o in outcomes)
    print(f"{len(outcomes)} bad calls of {len({o.target for o in outcomes})} callables")
    for (kind, result), n in sorted(counts.items()): print(f"  {kind:<9} {result:<9} {n}")
    failed = [o for o in outcomes if o.failed]
    print(f"{len(failed)} failures: {sum(o.result == 'raw' for o in failed)} raw, "
          f"{sum(o.result == 'accepted' for o in failed)} wrong values accepted, {sum(o.result == 'unnamed' for o in failed)} unnamed")
    for o in failed: print('  ' + str(o))
    return 1 if failed else 0


if __name__ == '__main__':
    import os
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    argv = sys.argv[1:]
    if argv[:1] == ['--missing']:
        covered = {c.target for c in all_calls()} | exempt().keys()
        for name in public_callables():
            if name not in covered and (not argv[1:] or name.startswith(tuple(argv[1:]))): print(name)
        sys.exit(0)
    sys.exit(report(argv))
