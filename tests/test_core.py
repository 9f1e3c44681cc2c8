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


def test_checks_pass_good_values_through():
    x = np.ones((2, 3))
    assert core.check_array(x, 'x', ndim=2, shape=(2, None)) is x
    assert core.check_array(torch.arange(3), 'y', kind='int').shape == (3,)
    assert core.check_number(0.5, 'p', low=0, high=1) == 0.5
    assert core.check_array(np.array([np.nan]), 'x', finite=False).shape == (1,)


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
