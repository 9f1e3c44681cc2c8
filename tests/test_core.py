"""Argument checks, dtypes, seeds, devices and conversion."""
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from dlcourse import core


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: core.check_array([1.0], 'input'), TypeError, 'input: expected a NumPy array or torch tensor, got list'),
    (lambda: core.check_array(torch.ones(2), 'x', allow_tensor=False), TypeError, 'x: expected a NumPy array'),
    (lambda: core.check_array(np.ones((2, 2)), 'x', ndim=1), ValueError, 'x: expected a 1-D array, got shape (2, 2)'),
    (lambda: core.check_array(np.ones(2), 'x', ndim=(2, 3)), ValueError, 'expected a 2-D or 3-D array'),
    (lambda: core.check_array(np.arange(3), 'x'), TypeError, 'x: expected a floating-point dtype'),
    (lambda: core.check_array(np.ones(3), 'y', kind='int'), TypeError, 'y: expected an integer dtype'),
    (lambda: core.check_array(np.array([np.inf]), 'x'), ValueError, 'x: contains NaN or inf'),
    (lambda: core.check_array(torch.tensor([float('nan')]), 'x'), ValueError, 'x: contains NaN or inf'),
    (lambda: core.check_array(torch.ones(2, dtype=torch.float32), 'x', dtype=torch.float64), TypeError, 'expected dtype float64'),
    (lambda: core.check_number('0.1', 'lr'), TypeError, "lr: expected a real number, got str '0.1'"),
    (lambda: core.check_number(True, 'lr'), TypeError, 'lr: expected a real number, got bool'),
    (lambda: core.check_number(-1, 'lr', low=0), ValueError, 'lr: expected a value >= 0, got -1'),
    (lambda: core.check_number(1, 'p', low=0, high=1, high_inclusive=False), ValueError, 'p: expected a value in [0, 1), got 1'),
    (lambda: core.check_number(5, 'x', high=3), ValueError, 'x: expected a value <= 3'),
    (lambda: core.check_number(1.5, 'n', integer=True), TypeError, 'n: expected an integer'),
    (lambda: core.check_choice('x', 'mode', ['a', 'b']), ValueError, "mode: expected one of 'a', 'b', got 'x'"),
    (lambda: core.resolve_dtype('float16'), ValueError, 'dtype: expected one of float32, float64'),
    (lambda: core.resolve_device('tpu'), ValueError, 'device:'),
    (lambda: core.manual_seed(-3), ValueError, 'seed'),
])
def test_bad_arguments_are_named(call, error, fragment):
    with pytest.raises(error) as info: call()
    assert fragment in str(info.value)


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: core.check_array(np.ones(3), None), TypeError, "name: expected the argument's name as a str"),
    (lambda: core.check_number(1, ['lr']), TypeError, 'name: expected'),
    (lambda: core.check_bool(True, 3), TypeError, 'name: expected'),
    (lambda: core.check_choice('a', 3, ['a']), TypeError, 'name: expected'),
    (lambda: core.check_array(np.ones(3), 'x', kind='complex'), ValueError, "kind: expected 'float', 'int', 'number' or None"),
    (lambda: core.check_array(np.ones(3), 'x', kind=['float']), ValueError, 'kind: expected'),
    (lambda: core.check_array(np.ones(3), 'x', finite='no'), TypeError, 'finite: expected True or False'),
    (lambda: core.check_array(np.ones(3), 'x', finite=None), TypeError, 'finite: expected True or False'),
    (lambda: core.check_array(np.ones(3), 'x', allow_tensor=1), TypeError, 'allow_tensor: expected True or False'),
    (lambda: core.check_array(np.ones(3), 'x', ndim=-1), ValueError, 'ndim: expected dimension counts >= 0'),
    (lambda: core.check_array(np.ones(3), 'x', ndim='1'), TypeError, 'ndim: expected an int or a collection of ints'),
    (lambda: core.check_array(np.ones(3), 'x', ndim=(1, 2.0)), TypeError, 'ndim: expected an int'),
    (lambda: core.check_array(np.ones(3), 'x', ndim=True), TypeError, 'ndim: expected an int'),
    (lambda: core.check_array(np.ones(3), 'x', ndim=()), ValueError, 'ndim: expected at least one'),
    (lambda: core.check_array(np.ones(3), 'x', ndim=range(-1, 3)), ValueError, 'ndim: expected dimension counts >= 0'),
    (lambda: core.check_array(np.ones(3), 'x', shape=3), TypeError, 'shape: expected a tuple of sizes'),
    (lambda: core.check_array(np.ones(3), 'x', shape=('3',)), TypeError, 'shape: expected sizes'),
    (lambda: core.check_array(np.ones(3), 'x', dtype='nonsense'), TypeError, 'dtype: expected a NumPy dtype'),
    (lambda: core.check_array(torch.ones(3), 'x', dtype='float32'), TypeError, 'dtype: expected a torch dtype for a tensor'),
    (lambda: core.check_number(1, 'x', low=float('nan')), ValueError, 'low: expected a real number, got NaN'),
    (lambda: core.check_number(1, 'x', high='2'), TypeError, 'high: expected a real number'),
    (lambda: core.check_number(1, 'x', integer=None), TypeError, 'integer: expected True or False'),
    (lambda: core.check_number(1, 'x', low_inclusive='no'), TypeError, 'low_inclusive: expected True or False'),
    (lambda: core.check_number(1, 'x', allow_inf=2), TypeError, 'allow_inf: expected True or False'),
    (lambda: core.check_choice('a', 'mode', 'abc'), TypeError, 'choices: expected a collection'),
    (lambda: core.check_choice('a', 'mode', 3), TypeError, 'choices: expected a collection'),
    (lambda: core.check_choice('a', 'mode', []), ValueError, 'choices: expected at least one'),
    (lambda: core.check_choice(np.ones(2), 'mode', ['a']), ValueError, 'mode: expected one of'),
    (lambda: core.resolve_dtype(None, default='float16'), ValueError, 'default: expected one of float32, float64'),
    (lambda: core.torch_dtype('float32', default=None), ValueError, 'default: expected'),
    (lambda: core.as_generator(None, name=3), TypeError, 'name: expected'),
    (lambda: core.to_tensor('abc'), TypeError, 'x: expected numbers'),
    (lambda: core.to_tensor(object()), TypeError, 'x: expected numbers'),
    (lambda: core.to_tensor([[1.0], [2.0, 3.0]]), ValueError, 'x: expected an array, a tensor or nested lists of numbers'),
    (lambda: core.to_tensor(np.arange(3), dtype='int8'), ValueError, 'dtype: expected one of float32, float64'),
])
def test_the_checks_check_their_own_arguments(call, error, fragment):
    "A mistake in how a check is called is an error naming the argument, never a check that silently passes."
    with pytest.raises(error) as info: call()
    assert fragment in str(info.value)


def test_checks_accept_numpy_flags_ranges_and_torch_sizes():
    x = np.ones((2, 3))
    assert core.check_array(x, 'x', finite=np.bool_(False), ndim=range(1, 33)) is x
    assert core.check_array(x, 'x', ndim={1, 2}, shape=[2, None]) is x
    assert core.check_array(torch.ones(2, 3), 'x', shape=torch.Size([2, 3]), dtype=torch.float32).shape == (2, 3)
    assert core.check_number(2, 'n', low=1, high=float('inf'), integer=np.bool_(True)) == 2
    assert core.check_choice('train', 'split', {'train': 1, 'test': 2}) == 'train'


def test_explorer_checks_its_controls_and_rows():
    widgets = pytest.importorskip('ipywidgets')
    sliders = dict(a=widgets.IntSlider(1), b=widgets.IntSlider(2))
    with pytest.raises(TypeError, match='controls: expected a dict'): core.explorer(print, [sliders['a']])
    with pytest.raises(TypeError, match="controls: expected ipywidgets controls, got int 3 for 'c'"): core.explorer(print, {'c': 3})
    with pytest.raises(TypeError, match='rows: expected rows of control names'): core.explorer(print, sliders, rows='ab')
    with pytest.raises(ValueError, match='rows: expected every control exactly once'): core.explorer(print, sliders, rows=[['a', 'a']])
    calls = []
    box = core.explorer(lambda a, b: calls.append((a, b)), sliders, rows=(r for r in (['a'], ['b'])))
    assert calls == [(1, 2)] and len(box.children) == 3


def test_checks_pass_good_values_through():
    x = np.ones((2, 3))
    assert core.check_array(x, 'x', ndim=2, shape=(2, None)) is x
    assert core.check_array(torch.arange(3), 'y', kind='int').shape == (3,)
    assert core.check_number(0.5, 'p', low=0, high=1) == 0.5
    assert core.check_array(np.array([np.nan]), 'x', finite=False).shape == (1,)


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: core.check_str(3, 'title'), TypeError, 'title: expected a string, got int 3'),
    (lambda: core.check_str('', 'concept', empty=False), ValueError, "concept: expected a non-empty string, got ''"),
    (lambda: core.check_str('a', 'label', empty=None), TypeError, 'empty: expected True or False'),
    (lambda: core.check_str('a', 3), TypeError, 'name: expected'),
    (lambda: core.check_callable(3, 'fn'), TypeError, 'fn: expected a function, got int 3'),
    (lambda: core.check_callable('x', 'color', optional=True), TypeError, 'color: expected a function or None'),
    (lambda: core.check_callable(None, 'fn', optional='yes'), TypeError, 'optional: expected True or False'),
    (lambda: core.check_numbers('ab', 'lrs'), TypeError, 'lrs: expected a list, tuple or 1-D array of numbers, got str'),
    (lambda: core.check_numbers({1, 2}, 'lrs'), TypeError, 'lrs: expected a list, tuple or 1-D array of numbers, got set'),
    (lambda: core.check_numbers(torch.ones(2), 'lrs'), TypeError, 'lrs: expected a list, tuple or 1-D array of numbers, got Tensor'),
    (lambda: core.check_numbers([], 'lrs'), ValueError, 'lrs: expected at least one value, got none'),
    (lambda: core.check_numbers(np.ones((2, 1)), 'lrs'), ValueError, 'lrs: expected a 1-D array'),
    (lambda: core.check_numbers([0.1, True], 'lrs'), TypeError, 'lrs[1]: expected a real number, got bool'),
    (lambda: core.check_numbers([1, 0], 'widths', low=1, integer=True), ValueError, 'widths[1]: expected a value >= 1, got 0'),
    (lambda: core.check_numbers((1.0, 2.0, 3.0), 'start', length=2), ValueError, 'start: expected 2 numbers, got 3'),
    (lambda: core.check_numbers((1.0,), 'start', length=2.0), TypeError, 'length: expected an integer'),
    (lambda: core.check_sequence('he', 'inits', core.check_str), TypeError, 'inits: expected a list or tuple, got str'),
    (lambda: core.check_sequence([], 'inits', core.check_str), ValueError, 'inits: expected at least one value, got an empty list'),
    (lambda: core.check_sequence(['he', 3], 'inits', core.check_str), TypeError, 'inits: expected a string, got int 3'),
    (lambda: core.check_sequence(['he'], 'inits', None), TypeError, 'check: expected a function'),
    (lambda: core.check_range((1.0, 0.0), 'value_range'), ValueError, 'value_range: expected low < high'),
    (lambda: core.check_range((0.0, 1.0, 2.0), 'value_range'), ValueError, 'value_range: expected a pair (low, high)'),
    (lambda: core.check_range('ab', 'value_range'), TypeError, 'value_range: expected a pair (low, high), got str'),
    (lambda: core.check_range((0.0, float('nan')), 'value_range'), ValueError, 'value_range: expected a real number, got NaN'),
    (lambda: core.check_axes('left'), TypeError, 'ax: expected a matplotlib Axes or None, got str'),
    (lambda: core.check_axes(3, 'loss_ax'), TypeError, 'loss_ax: expected a matplotlib Axes or None'),
    (lambda: core.check_axes(None, 'axes', count=2), TypeError, 'axes: expected 2 matplotlib Axes, got NoneType'),
    (lambda: core.check_axes([1, 2], 'axes', count=2), TypeError, 'axes: expected 2 matplotlib Axes, got list'),
    (lambda: core.check_axes(None, 'axes', count=0), ValueError, 'count: expected a value >= 1'),
    (lambda: core.check_axes(None, 'axes', count=True), TypeError, 'count: expected an integer'),
])
def test_shared_checks_name_the_argument(call, error, fragment):
    with pytest.raises(error) as info: call()
    assert fragment in str(info.value)


def test_shared_checks_pass_good_values_through():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    assert core.check_str('', 'title') == '' and core.check_str('x', 'name', empty=False) == 'x'
    assert core.check_callable(len, 'fn') is len and core.check_callable(None, 'fn', optional=True) is None
    assert core.check_numbers((1, 2.5), 'lrs') == [1, 2.5]
    assert core.check_numbers(range(3), 'seeds', low=0, integer=True) == [0, 1, 2]
    values = core.check_numbers(np.array([1, 2]), 'widths', low=1, integer=True)
    assert values == [1, 2] and all(type(v) is int for v in values)
    assert core.check_numbers([0.5, 1.5], 'start', length=2) == [0.5, 1.5]
    assert core.check_sequence(['a'], 'inits', core.check_str) == ('a',)
    assert core.check_range([0, 1], 'value_range') == (0.0, 1.0)
    fig, axs = plt.subplots(2, 2)
    try:
        assert core.check_axes(None) is None and core.check_axes(axs[0, 0]) is axs[0, 0]
        assert core.check_axes(axs, 'axes', count=4) == list(axs.ravel())
        assert core.check_axes(axs[1, 1], 'ax', count=1) == [axs[1, 1]]
        assert core.check_axes((axs[0, 0], axs[1, 0]), 'axes', count=2) == [axs[0, 0], axs[1, 0]]
        with pytest.raises(TypeError, match='axes: expected 3 matplotlib Axes'): core.check_axes(axs, 'axes', count=3)
    finally: plt.close(fig)

def test_dtypes_name_both_libraries():
    assert core.resolve_dtype(torch.float64) == np.float64
    assert core.resolve_dtype('double') == np.float64
    assert core.resolve_dtype(np.float32) == np.float32
    assert core.torch_dtype('float64') is torch.float64


def test_seed_everything_repeats_every_generator():
    def draw():
        return core.default_generator().random(), np.random.rand(), torch.rand(1).item(), random.random()
    core.seed_everything(7); a = draw()
    core.seed_everything(7); b = draw()
    assert a == b


def test_devices_and_conversion():
    assert core.default_device().type in ('cuda', 'mps', 'cpu')
    assert core.resolve_device(None) == core.default_device()
    t = core.to_tensor(np.ones((2, 2)), dtype='float32')
    assert t.dtype == torch.float32 and t.device.type == 'cpu'
    x = torch.ones(2, requires_grad=True) * 2
    assert core.to_numpy(x).tolist() == [2.0, 2.0]
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='no CUDA GPU'): core.resolve_device('cuda')


def test_numpy_backend_never_imports_torch():
    code = ("import sys, dlcourse.numpy, dlcourse.core, dlcourse.data\n"
            "import dlcourse.numpy.nn\n"
            "import pkgutil, importlib\n"
            "for m in pkgutil.iter_modules(dlcourse.numpy.__path__, 'dlcourse.numpy.'): importlib.import_module(m.name)\n"
            "assert 'torch' not in sys.modules, sorted(k for k in sys.modules if k.startswith('torch'))\n")
    subprocess.run([sys.executable, '-c', code], check=True)
