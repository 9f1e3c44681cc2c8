"""Lesson 2 (activations): bad input, extreme values, kinks, PyTorch parity of the functional forms, and the exploration.

The three-way cross-checks of the registered concepts (Sigmoid, Tanh, LeakyReLU, Softmax, GELU) run in
tests/test_crosscheck.py; this file covers what the registry does not."""
import math
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import dlcourse.numpy.activations as na
import dlcourse.torch.activations as ta
from dlcourse.crosscheck import compare, concepts, relative_error
from dlcourse.explore import activations as ea
from dlcourse.numpy.nn import ReLU as NumpyReLU
from dlcourse.torch.nn import ReLU as TorchReLU

EXTREME = np.array([[-1e4, -710.0, -100.0, -30.0, -1.0, 0.0], [1.0, 30.0, 100.0, 710.0, 1e4, 3.0]])

# name: (numpy function, our torch function, torch built-in), each taking only the input
FUNCTIONS = {
    'sigmoid': (na.sigmoid, ta.sigmoid, torch.sigmoid),
    'tanh': (na.tanh, ta.tanh, torch.tanh),
    'relu': (na.relu, ta.relu, F.relu),
    'leaky_relu': (na.leaky_relu, ta.leaky_relu, F.leaky_relu),
    'leaky_relu(0.3)': (lambda x: na.leaky_relu(x, 0.3), lambda x: ta.leaky_relu(x, 0.3), lambda x: F.leaky_relu(x, 0.3)),
    'gelu': (na.gelu, ta.gelu, F.gelu),
    'gelu(tanh)': (lambda x: na.gelu(x, 'tanh'), lambda x: ta.gelu(x, 'tanh'), lambda x: F.gelu(x, approximate='tanh')),
    'softmax(dim=1)': (lambda x: na.softmax(x, 1), lambda x: ta.softmax(x, 1), lambda x: F.softmax(x, 1)),
    'softmax(dim=0)': (lambda x: na.softmax(x, 0), lambda x: ta.softmax(x, 0), lambda x: F.softmax(x, 0)),
}

# name: (numpy module factory, torch module factory, built-in module factory)
MODULES = {
    'sigmoid': (na.Sigmoid, ta.Sigmoid, torch.nn.Sigmoid),
    'tanh': (na.Tanh, ta.Tanh, torch.nn.Tanh),
    'leaky_relu(0.3)': (lambda: na.LeakyReLU(0.3), lambda: ta.LeakyReLU(0.3), lambda: torch.nn.LeakyReLU(0.3)),
    'gelu': (na.GELU, ta.GELU, torch.nn.GELU),
    'gelu(tanh)': (lambda: na.GELU('tanh'), lambda: ta.GELU('tanh'), lambda: torch.nn.GELU('tanh')),
    'softmax(dim=-1)': (lambda: na.Softmax(-1), lambda: ta.Softmax(-1), lambda: torch.nn.Softmax(-1)),
}

NUMPY_MODULES = [na.Sigmoid, na.Tanh, na.LeakyReLU, na.GELU, lambda: na.Softmax(1)]
TORCH_MODULES = [ta.Sigmoid, ta.Tanh, ta.LeakyReLU, ta.GELU, lambda: ta.Softmax(1)]
NUMPY_FUNCTIONS = [na.sigmoid, na.tanh, na.relu, na.leaky_relu, na.gelu, lambda x: na.softmax(x, -1)]
TORCH_FUNCTIONS = [ta.sigmoid, ta.tanh, ta.relu, ta.leaky_relu, ta.gelu, lambda x: ta.softmax(x, -1)]


def torch_value_and_grad(f, x: np.ndarray, grad: np.ndarray):
    "f(x) and the gradient of sum(f(x) * grad) with respect to x, as NumPy arrays."
    t = torch.tensor(x, requires_grad=True)
    y = f(t)
    y.backward(torch.tensor(grad))
    return y.detach().numpy(), t.grad.numpy()


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize('f', NUMPY_FUNCTIONS + [lambda x, m=m: m()(x) for m in NUMPY_MODULES])
@pytest.mark.parametrize('bad, error, message', [
    (np.array([1, 2, 3]), TypeError, 'floating-point'),
    (np.array([True, False]), TypeError, 'floating-point'),
    (np.ones(3, dtype=np.float16), TypeError, 'expected dtype float32 or float64'),
    (np.ones(3, dtype=np.complex128), TypeError, 'floating-point'),
    ([1.0, 2.0], TypeError, 'expected a NumPy array'),
    (torch.ones(3), TypeError, 'expected a NumPy array'),
    (2.0, TypeError, 'expected a NumPy array'),
])
def test_numpy_bad_input(f, bad, error, message):
    with pytest.raises(error, match='input: .*' + re.escape(message)):
        f(bad)


@pytest.mark.parametrize('f', TORCH_FUNCTIONS + [lambda x, m=m: m()(x) for m in TORCH_MODULES])
@pytest.mark.parametrize('bad, error, message', [
    (torch.arange(3), TypeError, 'floating-point'),
    (torch.tensor([True, False]), TypeError, 'floating-point'),
    (np.ones(3), TypeError, 'expected a torch tensor'),
    ([1.0, 2.0], TypeError, 'expected a torch tensor'),
])
def test_torch_bad_input(f, bad, error, message):
    with pytest.raises(error, match='input: .*' + re.escape(message)):
        f(bad)


@pytest.mark.parametrize('slope, error', [('0.1', TypeError), (None, TypeError), (True, TypeError),
                                          (float('nan'), ValueError), ([0.1], TypeError)])
@pytest.mark.parametrize('make', [na.LeakyReLU, ta.LeakyReLU,
                                  lambda s: na.leaky_relu(np.ones(2), s), lambda s: ta.leaky_relu(torch.ones(2), s)])
def test_negative_slope_must_be_a_number(make, slope, error):
    with pytest.raises(error, match='negative_slope'):
        make(slope)


@pytest.mark.parametrize('approximate', ['exact', 'TANH', None, 1, ''])
@pytest.mark.parametrize('make', [na.GELU, ta.GELU,
                                  lambda a: na.gelu(np.ones(2), a), lambda a: ta.gelu(torch.ones(2), a)])
def test_gelu_approximate_must_be_none_or_tanh(make, approximate):
    with pytest.raises(ValueError, match="approximate: expected one of 'none', 'tanh'"):
        make(approximate)


@pytest.mark.parametrize('softmax, array', [(na.softmax, np.ones), (ta.softmax, torch.ones)])
def test_softmax_dim(softmax, array):
    x = array((2, 3, 4))
    for dim in (3, -4, 10):
        with pytest.raises(ValueError, match=r'dim: expected a value in \[-3, 2\] for a 3-D input'):
            softmax(x, dim)
    for dim, error in [(None, TypeError), (1.0, TypeError), (True, TypeError), ('1', TypeError)]:
        with pytest.raises(error, match='dim'):
            softmax(x, dim)
    with pytest.raises(ValueError, match='at least 1 dimension'):
        softmax(array(()), 0)


@pytest.mark.parametrize('Softmax', [na.Softmax, ta.Softmax])
def test_softmax_module_dim(Softmax):
    with pytest.raises(TypeError, match='dim: expected an integer axis, got None'):
        Softmax()
    with pytest.raises(TypeError, match='dim'):
        Softmax(0.5)
    with pytest.raises(ValueError, match=r'dim: expected a value in \[-2, 1\]'):
        Softmax(2)(np.ones((2, 3)) if Softmax is na.Softmax else torch.ones(2, 3))


@pytest.mark.parametrize('make', NUMPY_MODULES + [NumpyReLU])
def test_backward_before_forward(make):
    with pytest.raises(RuntimeError, match='backward called before forward'):
        make().backward(np.ones((2, 3)))


@pytest.mark.parametrize('make', NUMPY_MODULES)
def test_wrong_grad_output(make):
    module = make()
    module(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r'grad_output: expected shape \(2, 3\), got \(3, 2\)'):
        module.backward(np.ones((3, 2)))
    with pytest.raises(ValueError, match='grad_output: expected shape'):
        module.backward(np.ones(3))
    with pytest.raises(TypeError, match='grad_output: expected dtype float64'):
        module.backward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match='grad_output: expected a NumPy array'):
        module.backward(torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match='grad_output'):
        module.backward(np.ones((2, 3), dtype=np.int64))


def test_activation_base_class_needs_function():
    with pytest.raises(NotImplementedError, match='Activation must implement function'):
        na.Activation()(np.ones(2))


# ---------------------------------------------------------------- extreme inputs

@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', FUNCTIONS)
def test_extreme_inputs_finite_silent_and_equal_to_torch(name, dtype):
    f_np, f_ours, f_builtin = FUNCTIONS[name]
    x = EXTREME.astype(dtype)
    g = np.random.default_rng(0).normal(size=x.shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        y_np = f_np(x)
        y_ours, g_ours = torch_value_and_grad(f_ours, x, g)
        y_ref, g_ref = torch_value_and_grad(f_builtin, x, g)
    for a in (y_np, y_ours, g_ours):
        assert np.isfinite(a).all()
        assert a.dtype == np.dtype(dtype)
    tol = 1e-10 if dtype == 'float64' else 1e-5
    assert relative_error(y_np, y_ref) <= tol
    assert relative_error(y_ours, y_ref) <= tol
    assert relative_error(g_ours, g_ref) <= tol


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', MODULES)
def test_extreme_inputs_numpy_backward_equals_autograd(name, dtype):
    make_np, make_ours, make_builtin = MODULES[name]
    x = EXTREME.astype(dtype)
    g = np.random.default_rng(1).normal(size=x.shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        module = make_np()
        y = module(x)
        grad = module.backward(g)
        y_ref, g_ref = torch_value_and_grad(make_builtin(), x, g)
        y_ours, g_ours = torch_value_and_grad(make_ours(), x, g)
    tol = 1e-10 if dtype == 'float64' else 1e-5
    assert np.isfinite(grad).all() and grad.dtype == np.dtype(dtype)
    assert relative_error(y, y_ref) <= tol and relative_error(grad, g_ref) <= tol
    assert relative_error(y_ours, y_ref) <= tol and relative_error(g_ours, g_ref) <= tol


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_sigmoid_at_plus_minus_1e4_exact(dtype):
    x = np.array([-1e4, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        y_np = na.sigmoid(x)
        y_t = ta.sigmoid(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(y_np, [0.0, 1.0])
    np.testing.assert_array_equal(y_t, [0.0, 1.0])
    np.testing.assert_array_equal(y_np, torch.sigmoid(torch.from_numpy(x)).numpy())


def test_naive_sigmoid_would_warn():
    "The stable form is needed: the textbook formula overflows (and the test suite turns that warning into an error)."
    with pytest.warns(RuntimeWarning, match='overflow'):
        1 / (1 + np.exp(-np.array([-1e4])))


def test_softmax_large_logits():
    x = np.array([[1e4, 1e4, -1e4], [-1e4, -1e4 + 1, -1e4]])
    s = na.softmax(x, dim=1)
    np.testing.assert_allclose(s, [[0.5, 0.5, 0.0], [1 / (2 + math.e), math.e / (2 + math.e), 1 / (2 + math.e)]], rtol=1e-12)
    np.testing.assert_allclose(ta.softmax(torch.from_numpy(x), 1).numpy(), s, rtol=1e-12)


# ---------------------------------------------------------------- kinks, precision, dtypes

def test_derivatives_at_zero_follow_pytorch():
    x = np.zeros(3)
    leaky = na.LeakyReLU(0.2); leaky(x)
    np.testing.assert_array_equal(leaky.backward(np.ones(3)), [0.2] * 3)
    relu = NumpyReLU(); relu(x)
    np.testing.assert_array_equal(relu.backward(np.ones(3)), [0.0] * 3)
    for ours, builtin in [(lambda t: ta.leaky_relu(t, 0.2), lambda t: F.leaky_relu(t, 0.2)), (ta.relu, F.relu),
                          (ta.sigmoid, torch.sigmoid), (ta.tanh, torch.tanh), (ta.gelu, F.gelu)]:
        _, g_ours = torch_value_and_grad(ours, x, np.ones(3))
        _, g_ref = torch_value_and_grad(builtin, x, np.ones(3))
        np.testing.assert_array_equal(g_ours, g_ref)


def test_tanh_small_inputs_keep_relative_precision():
    x = np.array([1e-300, 1e-12, -1e-8, 1e-5])
    np.testing.assert_allclose(na.tanh(x), np.tanh(x), rtol=1e-15)
    np.testing.assert_allclose(ta.tanh(torch.from_numpy(x)).numpy(), np.tanh(x), rtol=1e-15)


def test_erf_and_exact_gelu_match_torch_to_1e_10():
    x = np.linspace(-8, 8, 4001)
    assert np.max(np.abs(na.erf(x) - torch.erf(torch.from_numpy(x)).numpy()) / np.maximum(np.abs(na.erf(x)), 1e-300)) < 1e-10
    ref = F.gelu(torch.from_numpy(x)).numpy()
    nonzero = ref != 0
    assert np.max(np.abs(na.gelu(x)[nonzero] - ref[nonzero]) / np.abs(ref[nonzero])) < 1e-10
    assert na.erf(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert na.erf(np.array(0.5)).shape == ()


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('f', NUMPY_FUNCTIONS)
def test_numpy_functions_keep_dtype_and_shape(f, dtype):
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(dtype)
    y = f(x)
    assert y.dtype == dtype and y.shape == x.shape


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_leaky_relu_numpy_scalar_slope_keeps_dtype(dtype):
    x = np.array([-1.0, 2.0], dtype=dtype)
    assert na.leaky_relu(x, np.float64(0.1)).dtype == dtype
    module = na.LeakyReLU(np.float64(0.1))
    assert module(x).dtype == dtype and module.backward(np.ones_like(x)).dtype == dtype


def test_functions_equal_modules():
    x = np.random.default_rng(0).normal(size=(3, 4))
    pairs = [(na.sigmoid, na.Sigmoid()), (na.tanh, na.Tanh()), (lambda t: na.leaky_relu(t, 0.3), na.LeakyReLU(0.3)),
             (lambda t: na.gelu(t, 'tanh'), na.GELU('tanh')), (lambda t: na.softmax(t, 0), na.Softmax(0))]
    for f, m in pairs:
        np.testing.assert_array_equal(f(x), m(x))


def test_softmax_backward_is_jacobian_vector_product():
    rng = np.random.default_rng(0)
    x, g = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    m = na.Softmax(dim=1)
    s = m(x)
    grad = m.backward(g)
    for i in range(3):
        jacobian = np.diag(s[i]) - np.outer(s[i], s[i])
        np.testing.assert_allclose(grad[i], jacobian.T @ g[i], rtol=1e-12, atol=1e-15)


def test_sigmoid_derivative_bounded_by_a_quarter():
    x = np.linspace(-20, 20, 4001)
    m = na.Sigmoid(); m(x)
    slope = m.backward(np.ones_like(x))
    assert slope.max() == pytest.approx(0.25, abs=1e-15) and (slope <= 0.25).all()


def test_reprs_mirror_torch():
    assert repr(na.LeakyReLU(0.2)) == repr(ta.LeakyReLU(0.2)) == repr(torch.nn.LeakyReLU(0.2))
    assert repr(na.GELU('tanh')) == repr(ta.GELU('tanh')) == repr(torch.nn.GELU('tanh'))
    assert repr(na.Softmax(1)) == repr(ta.Softmax(1)) == repr(torch.nn.Softmax(1))


# ---------------------------------------------------------------- registry and ACTIVATIONS

def test_activations_dicts_agree():
    assert list(na.ACTIVATIONS) == list(ta.ACTIVATIONS) == ['relu', 'sigmoid', 'tanh', 'leaky_relu', 'gelu']
    assert na.ACTIVATIONS['relu'] is NumpyReLU and ta.ACTIVATIONS['relu'] is TorchReLU
    assert na.ReLU is NumpyReLU and 'ReLU' in na.__all__
    x = np.random.default_rng(0).normal(size=(4, 5))
    for name in na.ACTIVATIONS:
        y_np = na.ACTIVATIONS[name]()(x)
        with torch.no_grad(): y_t = ta.ACTIVATIONS[name]()(torch.from_numpy(x)).numpy()
        assert relative_error(y_np, y_t) <= 1e-12, name


def test_activations_are_registered_on_page_2b_with_their_implementations():
    registered = {c.name: c for c in concepts()}
    for name in ('Sigmoid', 'Tanh', 'LeakyReLU', 'Softmax', 'GELU'):
        c = registered[name]
        assert (c.lesson, c.numpy, c.torch, c.builtin) == ('2b', f"dlcourse.numpy.{name}", f"dlcourse.torch.{name}", f"torch.nn.{name}")


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_torch_activations_on_gpu():
    x = torch.from_numpy(EXTREME)
    for name, (_, f_ours, f_builtin) in FUNCTIONS.items():
        y_gpu = f_ours(x.cuda()).cpu().numpy()
        assert relative_error(y_gpu, f_builtin(x).numpy()) <= 1e-10, name


# ---------------------------------------------------------------- exploration

def test_activation_curves():
    x = np.linspace(-3, 3, 61)
    y, dy = ea.activation_curves('tanh', x)
    np.testing.assert_allclose(y, np.tanh(x), rtol=1e-15)
    np.testing.assert_allclose(dy, 1 - np.tanh(x) ** 2, rtol=1e-12, atol=1e-16)
    y, dy = ea.activation_curves('relu')
    assert y.shape == dy.shape == (401,)
    with pytest.raises(ValueError, match='name'):
        ea.activation_curves('softmax')
    with pytest.raises(TypeError, match='x'):
        ea.activation_curves('relu', [0.0, 1.0])


def test_gradient_norms_through_depth_shape_and_determinism():
    n = ea.gradient_norms_through_depth('gelu', depth=4, width=8, batch_size=32)
    assert n.shape == (5,) and np.isfinite(n).all() and (n > 0).all()
    np.testing.assert_array_equal(n, ea.gradient_norms_through_depth('gelu', depth=4, width=8, batch_size=32))
    assert not np.array_equal(n, ea.gradient_norms_through_depth('gelu', depth=4, width=8, batch_size=32, seed=1))


def test_sigmoid_gradient_vanishes_and_relu_holds_at_depth_10():
    relu = ea.gradient_norms_through_depth('relu', depth=10)
    sigmoid = ea.gradient_norms_through_depth('sigmoid', depth=10)
    assert sigmoid[0] / sigmoid[-1] < 1e-4            # about 1.6e-5: a factor of ~3 per layer
    assert 0.1 < relu[0] / relu[-1] < 10               # about 0.5
    assert sigmoid[0] < 1e-4 * relu[0]                 # about 1e-5 times smaller at the first layer
    deeper = ea.gradient_norms_through_depth('sigmoid', depth=20)
    assert deeper[0] / deeper[-1] < 1e-3 * sigmoid[0] / sigmoid[-1]


def test_gradient_norms_match_autograd():
    from dlcourse.torch.nn import Linear, MLP
    model = ea.deep_mlp('sigmoid', depth=5, width=16, gain=1.0, seed=3)
    twin = MLP(64, [16] * 5 + [10], activation_layer=ta.Sigmoid, dtype=torch.float64)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    x, y = ea.digits_batch(64, 3)
    F.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    expected = [m.weight.grad.norm().item() for m in twin if isinstance(m, Linear)]
    got = ea.gradient_norms_through_depth('sigmoid', depth=5, width=16, gain=1.0, batch_size=64, seed=3)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(name='swish', depth=3), ValueError, 'name'),
    (dict(name='relu', depth=0), ValueError, 'depth'),
    (dict(name='relu', depth=2.5), TypeError, 'depth'),
    (dict(name='relu', depth=3, width=0), ValueError, 'width'),
    (dict(name='relu', depth=3, gain=0.0), ValueError, 'gain'),
    (dict(name='relu', depth=3, gain='1'), TypeError, 'gain'),
    (dict(name='relu', depth=3, batch_size=0), ValueError, 'batch_size'),
    (dict(name='relu', depth=3, batch_size=2000), ValueError, 'batch_size'),
    (dict(name='relu', depth=3, seed=-1), ValueError, 'seed'),
])
def test_gradient_norms_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        ea.gradient_norms_through_depth(**kwargs)


def test_plots_and_widget():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig = ea.plot_activation_explorer('tanh', depth=3)
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 2
    plt.close(fig)
    fig = ea.plot_depth_sweep(depths=(2, 3), gains=(1.0,))
    assert len(fig.axes) == 2 * len(na.ACTIVATIONS)
    plt.close(fig)
    ui = ea.activation_explorer()
    controls = {w.description: w for row in ui.children[:-1] for w in row.children}
    assert list(controls['activation'].options) == list(na.ACTIVATIONS)
    controls['activation'].value = 'relu'
    controls['depth'].value = 2
    plt.close('all')


# ---------------------------------------------------------------- NaN propagates as in PyTorch, forward and backward

NAN_INPUT = np.array([[np.nan, -1.0, 0.0, 2.0], [1.0, np.nan, -3.0, 0.5]])


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', FUNCTIONS)
def test_nan_propagates_through_every_activation_like_pytorch(name, dtype):
    "Values and gradients agree with PyTorch's built-in: NaN in the same places, the rest within the cross-check tolerance."
    f_np, f_ours, f_builtin = FUNCTIONS[name]
    x = NAN_INPUT.astype(dtype)
    g = np.random.default_rng(0).normal(size=x.shape).astype(dtype)
    y_ref, g_ref = torch_value_and_grad(f_builtin, x, g)
    y_ours, g_ours = torch_value_and_grad(f_ours, x, g)
    assert np.isnan(y_ref).any()          # (ReLU and leaky ReLU pass a finite gradient through a NaN, as PyTorch does)
    checks = [compare(name, 'numpy', f_np(x), y_ref, dtype), compare(name, 'ours', y_ours, y_ref, dtype),
              compare(name, 'ours: grad', g_ours, g_ref, dtype)]
    assert all(c.ok for c in checks), checks


@pytest.mark.parametrize('name', [*MODULES, 'relu'])
def test_nan_propagates_through_the_numpy_backward_like_autograd(name):
    make_np, _, make_builtin = MODULES[name] if name != 'relu' else (NumpyReLU, None, torch.nn.ReLU)
    g = np.random.default_rng(0).normal(size=NAN_INPUT.shape)
    module = make_np()
    y, grad = module(NAN_INPUT), module.backward(g)
    y_ref, g_ref = torch_value_and_grad(make_builtin(), NAN_INPUT, g)
    checks = [compare(name, 'numpy', y, y_ref, 'float64'), compare(name, 'numpy: grad', grad, g_ref, 'float64')]
    assert all(c.ok for c in checks), checks


# ---------------------------------------------------------------- derivative() checks its arrays; erf its input

@pytest.mark.parametrize('make', [na.Sigmoid, na.Tanh, na.LeakyReLU, na.GELU])
def test_derivative_checks_input_and_output(make):
    act, x = make(), np.ones((2, 3))
    y = act(x)
    np.testing.assert_array_equal(act.derivative(x, y), act.backward(np.ones_like(x)))
    with pytest.raises(TypeError, match='input: expected a NumPy array'): act.derivative([1.0], act.function(x))
    with pytest.raises(TypeError, match='output: expected a NumPy array'): act.derivative(x, 'y')
    with pytest.raises(ValueError, match=r"output: expected f\(input\), with the input's shape \(2, 3\)"):
        act.derivative(x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="dtype float64"): act.derivative(x, np.ones((2, 3), np.float32))


def test_erf_checks_its_input():
    with pytest.raises(TypeError, match='input: expected a NumPy array'): na.erf([0.5])
    with pytest.raises(TypeError, match='input: expected a floating-point'): na.erf(np.arange(3))


@pytest.mark.parametrize('ndim, error', [(-1, ValueError), (0, ValueError), (2.0, TypeError), ('2', TypeError), (True, TypeError)])
def test_check_dim_checks_ndim(ndim, error):
    with pytest.raises(error, match='ndim'): na.check_dim(0, ndim)


# ---------------------------------------------------------------- signatures: PyTorch's defaults and order

GELU_SIGNATURE = {'approximate': 'none'}   # F.gelu is a builtin without an inspectable signature: its documented default


@pytest.mark.parametrize('ours, theirs', [
    (na.LeakyReLU, torch.nn.LeakyReLU), (ta.LeakyReLU, torch.nn.LeakyReLU), (na.GELU, torch.nn.GELU), (ta.GELU, torch.nn.GELU),
    (na.Softmax, torch.nn.Softmax), (ta.Softmax, torch.nn.Softmax), (na.Sigmoid, torch.nn.Sigmoid), (ta.Tanh, torch.nn.Tanh),
    (na.leaky_relu, F.leaky_relu), (ta.leaky_relu, F.leaky_relu), (na.softmax, F.softmax), (ta.softmax, F.softmax),
], ids=lambda f: f"{f.__module__}.{f.__qualname__}")
def test_signature_defaults_are_pytorchs(ours, theirs):
    from test_nn import signature_mismatches
    assert not signature_mismatches(ours, theirs)


@pytest.mark.parametrize('gelu', [na.gelu, ta.gelu])
def test_gelu_default_is_pytorchs(gelu):
    import inspect
    params = inspect.signature(gelu).parameters
    assert list(params) == ['input', 'approximate'] and params['approximate'].default == GELU_SIGNATURE['approximate']


@pytest.mark.parametrize('name', [n for n in MODULES if not n.startswith('softmax')])
def test_numpy_backward_passes_inf_and_nan_gradients_like_autograd(name):
    "An exploding gradient (inf or NaN) flowing back is multiplied through, not refused, as autograd does."
    make_np, _, make_builtin = MODULES[name]
    x = np.array([[-2.0, -0.5, 0.5, 2.0]])
    g = np.array([[np.inf, -np.inf, np.nan, 1.0]])
    module = make_np()
    module(x)
    grad = module.backward(g)
    _, g_ref = torch_value_and_grad(make_builtin(), x, g)
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(g_ref))
    np.testing.assert_allclose(grad[~np.isnan(grad)], g_ref[~np.isnan(g_ref)], rtol=1e-12)


def test_check_dim_accepts_every_axis_pytorch_does():
    assert [na.check_dim(d, 3) for d in range(-3, 3)] == [-3, -2, -1, 0, 1, 2]
    assert na.check_dim(-1, np.int64(1)) == -1 and na.check_dim(5) == 5
    np.testing.assert_allclose(na.softmax(np.array([[0.0, 1.0], [2.0, 2.0]]), -2), [[1 / (1 + math.e ** 2), 1 / (1 + math.e)],
                                                                              [1 / (1 + math.e ** -2), 1 / (1 + math.e ** -1)]])
    for dim in (-3, 2):
        with pytest.raises(ValueError) as info: na.check_dim(dim, 2)
        assert str(info.value) == f"dim: expected a value in [-2, 1] for a 2-D input, got {dim}"


@pytest.mark.parametrize('make', [na.Sigmoid, na.Tanh, na.LeakyReLU, na.GELU])
def test_derivative_refuses_a_tensor_output_as_not_numpy(make):
    act, x = make(), np.ones((2, 3))
    with pytest.raises(TypeError) as info: act.derivative(x, torch.from_numpy(act.function(x)))
    assert str(info.value).startswith('output: expected a NumPy array, got')


@pytest.mark.parametrize('make', NUMPY_MODULES)
def test_wrong_grad_output_message_starts_with_its_name(make):
    module = make()
    module(np.ones((2, 3)))
    with pytest.raises(ValueError) as info: module.backward(np.ones((3, 2)))
    assert str(info.value) == 'grad_output: expected shape (2, 3), got (3, 2)'


@pytest.mark.parametrize('call, message', [(lambda: na.check_dim(1.0), 'dim: expected an integer, got float 1.0'),
                                           (lambda: na.check_dim(0, 2.0), 'ndim: expected an integer, got float 2.0'),
                                           (lambda: na.check_dim(0, 0), 'ndim: expected a value >= 1, got 0')])
def test_check_dim_messages(call, message):
    with pytest.raises((TypeError, ValueError)) as info: call()
    assert str(info.value) == message
