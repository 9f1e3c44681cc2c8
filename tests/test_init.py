"""Lesson 7: initializers match torch.nn.init, constant init keeps units identical, the classic depth experiment,
bad input and reproducibility."""
import math
import warnings

import matplotlib
import numpy as np
import pytest
import torch

from dlcourse import crosscheck as cc
from dlcourse.core import manual_seed
from dlcourse.explore import init as E
from dlcourse.numpy import init as ni
from dlcourse.numpy.losses import CrossEntropyLoss
from dlcourse.numpy.nn import MLP, Linear, Parameter
from dlcourse.numpy.optim import SGD
from dlcourse.torch import init as ti

SHAPE = (300, 500)                                  # a Linear(500, 300) weight: fan_in 500, fan_out 300
FAN_IN, FAN_OUT = 500, 300
RANDOM = ('uniform_', 'normal_', 'xavier_uniform_', 'xavier_normal_', 'kaiming_uniform_', 'kaiming_normal_')


def _np_draw(name, dtype='float64', shape=SHAPE, seed=0, **kwargs):
    return getattr(ni, name)(np.empty(shape, dtype=dtype), **kwargs, generator=np.random.default_rng(seed))


def _torch_draw(module, name, dtype=torch.float64, shape=SHAPE, seed=0, **kwargs):
    return getattr(module, name)(torch.empty(shape, dtype=dtype), **kwargs, generator=torch.Generator().manual_seed(seed))


# --- calculate_gain and fans: equal to PyTorch's ---

@pytest.mark.parametrize('nonlinearity', ni.NONLINEARITIES)
def test_gain_equals_torch_for_every_nonlinearity(nonlinearity):
    assert ni.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)
    assert ti.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize('slope', [None, 0, 0.01, 0.2, -0.3, 1, math.sqrt(5), 3])
def test_leaky_relu_gain_equals_torch(slope):
    assert ni.calculate_gain('leaky_relu', slope) == torch.nn.init.calculate_gain('leaky_relu', slope)


def test_param_is_ignored_except_for_leaky_relu():
    for name in ('relu', 'tanh', 'selu', 'linear'):
        assert ni.calculate_gain(name, 7.0) == torch.nn.init.calculate_gain(name, 7.0)


def test_gain_values():
    assert ni.calculate_gain('relu') == math.sqrt(2) and ni.calculate_gain('tanh') == 5 / 3
    assert ni.calculate_gain('selu') == 0.75 and ni.calculate_gain('conv2d') == 1
    assert ni.calculate_gain('leaky_relu', math.sqrt(5)) == pytest.approx(1 / math.sqrt(3), rel=1e-15)


@pytest.mark.parametrize('shape', [(10, 64), (1, 1), (0, 3), (3, 0), (32, 16, 3), (32, 16, 3, 3), (8, 4, 3, 5, 2),
                                   (5, 7, 1, 1)])
def test_fans_equal_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert ni.fan_in_and_fan_out(shape) == expected
    assert ni.fan_in_and_fan_out(torch.empty(shape).shape) == expected      # torch.Size is a tuple
    assert ni.fan_in_and_fan_out(list(shape)) == expected


def test_xavier_and_kaiming_std_formulas():
    assert ni.xavier_std((300, 500), gain=2.0) == 2.0 * math.sqrt(2 / 800)
    assert ni.kaiming_std((300, 500), nonlinearity='relu') == math.sqrt(2) / math.sqrt(500)
    assert ni.kaiming_std((300, 500), mode='fan_out', nonlinearity='linear') == 1 / math.sqrt(300)
    assert ni.kaiming_std((8, 4, 3, 3), a=0.2) == math.sqrt(2 / 1.04) / math.sqrt(36)


# --- the draws: exact uniform bounds, std within statistical tolerance ---

UNIFORM = [('xavier_uniform_', {}, math.sqrt(6 / (FAN_IN + FAN_OUT))),
           ('xavier_uniform_', dict(gain=5 / 3), 5 / 3 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
           ('kaiming_uniform_', {}, math.sqrt(2) * math.sqrt(3 / FAN_IN)),
           ('kaiming_uniform_', dict(a=math.sqrt(5)), 1 / math.sqrt(FAN_IN)),
           ('kaiming_uniform_', dict(mode='fan_out', nonlinearity='relu'), math.sqrt(6 / FAN_OUT)),
           ('kaiming_uniform_', dict(nonlinearity='tanh'), 5 / 3 * math.sqrt(3 / FAN_IN)),
           ('uniform_', dict(a=-0.3, b=0.3), 0.3)]


def _draws(name, kwargs, dtype):
    torch_dtype = getattr(torch, dtype)
    return {'numpy': _np_draw(name, dtype, **kwargs),
            'torch': _torch_draw(ti, name, torch_dtype, **kwargs).numpy(),
            'builtin': _torch_draw(torch.nn.init, name, torch_dtype, **kwargs).numpy()}


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name, kwargs, bound', UNIFORM, ids=[f"{n}{k}" for n, k, _ in UNIFORM])
def test_uniform_bounds_are_exact(name, kwargs, bound, dtype):
    rounded = float(np.dtype(dtype).type(bound))           # a draw below the bound rounds to at most this
    for impl, w in _draws(name, kwargs, dtype).items():
        assert w.max() <= rounded and -w.min() <= rounded, impl
        assert np.abs(w).max() >= bound * (1 - 1e-3), impl      # 150,000 draws reach the ends
        assert abs(w.std() - bound / math.sqrt(3)) <= 4 * bound / math.sqrt(3) / math.sqrt(5 * w.size), impl


NORMAL = [('xavier_normal_', {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
          ('xavier_normal_', dict(gain=math.sqrt(2)), math.sqrt(2) * math.sqrt(2 / (FAN_IN + FAN_OUT))),
          ('kaiming_normal_', {}, math.sqrt(2) / math.sqrt(FAN_IN)),
          ('kaiming_normal_', dict(nonlinearity='relu', mode='fan_out'), math.sqrt(2 / FAN_OUT)),
          ('kaiming_normal_', dict(a=0.5, nonlinearity='leaky_relu'), math.sqrt(2 / 1.25) / math.sqrt(FAN_IN)),
          ('normal_', dict(mean=0.0, std=0.02), 0.02)]


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name, kwargs, std', NORMAL, ids=[f"{n}{k}" for n, k, _ in NORMAL])
def test_normal_std_within_tolerance(name, kwargs, std, dtype):
    for impl, w in _draws(name, kwargs, dtype).items():
        n = w.size
        assert abs(w.astype(np.float64).std() - std) <= 4 * std / math.sqrt(2 * n), impl
        assert abs(w.astype(np.float64).mean()) <= 4 * std / math.sqrt(n), impl


def test_normal_mean_is_honoured():
    for w in (_np_draw('normal_', mean=3.0, std=0.5), _torch_draw(ti, 'normal_', mean=3.0, std=0.5).numpy()):
        assert abs(w.mean() - 3.0) <= 4 * 0.5 / math.sqrt(w.size)


@pytest.mark.parametrize('name, kwargs', [(n, k) for n, k, _ in UNIFORM + NORMAL])
def test_torch_equals_builtin_bit_for_bit_with_the_same_generator(name, kwargs):
    assert torch.equal(_torch_draw(ti, name, **kwargs), _torch_draw(torch.nn.init, name, **kwargs))


def test_conv_weight_uses_the_receptive_field():
    w = _np_draw('kaiming_normal_', shape=(64, 32, 5, 5), nonlinearity='relu')
    assert abs(w.std() - math.sqrt(2 / (32 * 25))) <= 4 * w.std() / math.sqrt(2 * w.size)


@pytest.mark.parametrize('name, val', [('constant_', 0.37), ('zeros_', 0.0), ('ones_', 1.0)])
def test_constants(name, val):
    args = (val,) if name == 'constant_' else ()
    for dtype in ('float32', 'float64'):
        w = getattr(ni, name)(np.empty((4, 3), dtype=dtype), *args)
        assert w.dtype == dtype and np.all(w == np.dtype(dtype).type(val))
        t = getattr(ti, name)(torch.empty(4, 3, dtype=getattr(torch, dtype)), *args)
        assert torch.equal(t, getattr(torch.nn.init, name)(torch.empty(4, 3, dtype=getattr(torch, dtype)), *args))


def test_registered_concept():
    concept = {c.name: c for c in cc.concepts()}['init']
    assert (concept.lesson, concept.numpy, concept.builtin) == ('7b', 'dlcourse.numpy.init.kaiming_uniform_', 'torch.nn.init.kaiming_uniform_')
    results = concept.check('float64')
    assert len(results) > 50 and all(r.ok for r in results)
    assert any('torch vs builtin, same generator' in r.comparison for r in results)


# --- in place, Parameters, autograd, PyTorch's default ---

def test_numpy_initializers_work_in_place_and_return_their_argument():
    w = np.zeros((6, 4))
    assert ni.xavier_uniform_(w) is w and w.any()
    p = Parameter(np.zeros((6, 4)))
    assert ni.kaiming_normal_(p) is p and p.data.any() and p.grad is None
    base = np.zeros((4, 6))
    ni.kaiming_uniform_(base.T, generator=np.random.default_rng(0))        # a view: fills the base array
    assert base.any()


def test_float32_and_float64_hold_the_same_draws_up_to_rounding():
    a, b = _np_draw('kaiming_normal_', 'float32'), _np_draw('kaiming_normal_', 'float64')
    assert a.dtype == np.float32 and np.array_equal(a, b.astype(np.float32))


def test_torch_parameters_stay_leaves():
    w = torch.nn.Parameter(torch.empty(5, 3))
    for name in RANDOM + ('zeros_', 'ones_'):
        out = getattr(ti, name)(w)
        assert out is w and w.is_leaf and w.requires_grad and w.grad_fn is None


def test_linear_default_is_kaiming_uniform_with_a_sqrt5():
    layer = Linear(300, 200, dtype='float64', generator=np.random.default_rng(3))
    again = ni.kaiming_uniform_(np.empty((200, 300)), a=math.sqrt(5), generator=np.random.default_rng(3))
    np.testing.assert_allclose(layer.weight.data, again, rtol=0, atol=1e-15)


def test_empty_tensors_are_a_no_op_with_a_warning():
    for module, empty in ((ni, np.empty((0, 5))), (ti, torch.empty(0, 5))):
        for name in ('xavier_uniform_', 'xavier_normal_', 'kaiming_uniform_', 'kaiming_normal_'):
            with pytest.warns(UserWarning, match='zero-element'):
                assert getattr(module, name)(empty) is empty
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert ni.uniform_(np.empty((0, 5))).shape == (0, 5)


# --- reproducibility ---

def test_numpy_generator_reproducibility():
    assert np.array_equal(_np_draw('xavier_normal_', seed=5), _np_draw('xavier_normal_', seed=5))
    assert not np.array_equal(_np_draw('xavier_normal_', seed=5), _np_draw('xavier_normal_', seed=6))
    rng = np.random.default_rng(0)
    first, second = ni.normal_(np.empty(10), generator=rng), ni.normal_(np.empty(10), generator=rng)
    assert not np.array_equal(first, second)                   # the generator advances


def test_default_generator_follows_manual_seed():
    manual_seed(11); a = ni.kaiming_uniform_(np.empty((7, 3)))
    manual_seed(11); b = ni.kaiming_uniform_(np.empty((7, 3)))
    assert np.array_equal(a, b)


def test_torch_global_seed_reproducibility():
    torch.manual_seed(4); a = ti.kaiming_normal_(torch.empty(7, 3))
    torch.manual_seed(4); b = torch.nn.init.kaiming_normal_(torch.empty(7, 3))
    assert torch.equal(a, b)


# --- symmetry: constant init keeps every hidden unit identical through training ---

def _train_numpy(init_weight, steps=15):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 8)), rng.integers(0, 3, 64)
    model = MLP(8, [16, 3], dtype='float64', generator=np.random.default_rng(1))
    for layer in model:
        if isinstance(layer, Linear): init_weight(layer.weight); ni.zeros_(layer.bias)
    before = model[0].weight.data.copy()
    opt, loss_fn = SGD(model.parameters(), lr=0.1, momentum=0.9), CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        opt.step()
    return before, model[0].weight.data, model[2].weight.data


def test_constant_init_leaves_hidden_units_identical_after_training():
    before, W1, W2 = _train_numpy(lambda w: ni.constant_(w, 0.1))
    assert not np.array_equal(W1, before)                      # training did change the weights
    assert np.all(W1 == W1[0]) and np.all(W2 == W2[:, :1])    # every hidden unit is the same unit
    _, W1, W2 = _train_numpy(lambda w: ni.kaiming_normal_(w, nonlinearity='relu', generator=np.random.default_rng(2)))
    assert np.abs(W1 - W1[0]).max() > 0.1                     # random init: the units differ


def test_constant_init_symmetry_in_torch():
    torch.manual_seed(0)
    X, y = torch.randn(64, 8, dtype=torch.float64), torch.randint(0, 3, (64,))
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).double()
    for layer in (model[0], model[2]): ti.constant_(layer.weight, 0.1); ti.zeros_(layer.bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(15):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    W1 = model[0].weight.detach()
    assert not torch.all(W1 == 0.1)
    torch.testing.assert_close(W1, W1[:1].expand_as(W1), rtol=1e-12, atol=0)


# --- the classic depth experiment (50 layers, width 256, 512 standard-normal inputs) ---

def test_xavier_tanh_keeps_the_signal():
    assert 0.5 <= E.depth_experiment('tanh', 'xavier', gain=ni.calculate_gain('tanh')) <= 2


def test_he_relu_keeps_the_signal():
    assert 0.5 <= E.depth_experiment('relu', 'kaiming') <= 2


@pytest.mark.parametrize('activation', ['relu', 'tanh'])
def test_small_init_collapses(activation):
    assert E.depth_experiment(activation, 'small') < 1e-3


def test_large_init_explodes():
    ratio = E.depth_experiment('relu', 'large')
    assert ratio > 1e3 or not np.isfinite(ratio)


def test_large_init_overflows_in_float32():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(512, 256, generator=gen)
    for _ in range(50):
        h = torch.relu(h @ ti.normal_(torch.empty(256, 256), 0, 1, generator=gen).T)
    assert not torch.isfinite(h).all()


def test_xavier_gain_one_decays_slowly_with_tanh():
    assert 0.05 < E.depth_experiment('tanh', 'xavier') < 0.5     # why PyTorch's tanh gain is 5/3


def test_large_init_with_tanh_keeps_activations_but_explodes_gradients():
    stats = E.layer_statistics('tanh', 'large', depth=20, width=128, batch_size=128)
    assert 0.5 <= stats.std_ratio() <= 2
    assert stats.gradient_std[0] / stats.gradient_std[-1] > 1e6


def test_default_init_shrinks_relu_gradients_by_sqrt6_per_layer():
    g = E.layer_statistics('relu', 'default', depth=20, width=256, batch_size=256).gradient_std
    per_layer = (g[0] / g[-1]) ** (1 / 19)
    assert abs(per_layer - 1 / math.sqrt(6)) < 0.05


# --- the exploration's functions ---

def test_layer_statistics_shapes_and_seed():
    stats = E.layer_statistics('leaky_relu', 'xavier', depth=4, width=8, batch_size=5, seed=3)
    assert [a.shape for a in stats.activations] == [(5, 8)] * 4 == [g.shape for g in stats.gradients]
    again = E.layer_statistics('leaky_relu', 'xavier', depth=4, width=8, batch_size=5, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(stats.activations, again.activations))
    assert stats.activation_std.shape == stats.gradient_std.shape == (4,)


def test_gradients_are_the_backward_pass():
    stats = E.layer_statistics('tanh', 'kaiming', depth=3, width=6, batch_size=4, seed=1)
    rng = np.random.default_rng(1)
    layers = [E.init_linear(Linear(6, 6, dtype='float64', generator=rng), 'kaiming', 'tanh', None, rng) for _ in range(3)]
    x = rng.standard_normal((4, 6))
    t1 = torch.tensor(x, requires_grad=True)
    acts = []
    for layer in layers:
        t1 = torch.tanh(t1 @ torch.tensor(layer.weight.data).T + torch.tensor(layer.bias.data))
        t1.retain_grad(); acts.append(t1)
    (acts[-1] * torch.tensor(rng.standard_normal((4, 6)))).sum().backward()
    for ours, ref in zip(stats.gradients, acts):
        np.testing.assert_allclose(ours, ref.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_init_linear_schemes():
    rng = np.random.default_rng(0)
    layer = E.init_linear(Linear(400, 400, dtype='float64', generator=rng), 'large', 'relu', generator=rng)
    assert abs(layer.weight.data.std() - 1) < 0.01 and not layer.bias.data.any()
    default = Linear(400, 400, dtype='float64', generator=rng)
    before = default.weight.data.copy()
    assert np.array_equal(E.init_linear(default, 'default', 'relu').weight.data, before)
    xav = E.init_linear(Linear(400, 400, dtype='float64'), 'xavier', 'tanh', gain=2.0, generator=rng)
    assert abs(xav.weight.data.std() - 2 / 20) < 0.002


def test_layer_histograms_clip_and_drop_nan():
    counts = E.layer_histograms([np.array([-5.0, 0.0, 5.0, np.nan])], (-1.0, 1.0), bins=3)
    assert counts.tolist() == [[1, 1, 1]]


def test_static_figures():
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    stats = E.layer_statistics('relu', 'small', depth=5, width=8, batch_size=4)
    fig = E.plot_layer_statistics(stats, title='small')
    assert len(fig.axes) >= 3
    fig = E.plot_init_grid(activations=('relu',), inits=('small', 'kaiming'), depth=4, width=8, batch_size=4)
    assert len(fig.axes) == 2
    plt.close('all')


def test_init_explorer_redraws():
    import ipywidgets as widgets
    ui = E.init_explorer(width=8, batch_size=4)
    assert isinstance(ui, widgets.Widget)
    controls = {c.description: c for c in ui.children[0].children}
    assert set(controls) == {'depth', 'initialization', 'activation'}
    controls['depth'].value = 3
    controls['initialization'].value = 'large'
    controls['activation'].value = 'tanh'


# --- bad input ---

@pytest.mark.parametrize('module', [ni, ti], ids=['numpy', 'torch'])
def test_wrong_tensor_types(module):
    own = np.empty((3, 4)) if module is ni else torch.empty(3, 4)
    other = torch.empty(3, 4) if module is ni else np.empty((3, 4))
    ints = np.zeros((3, 4), dtype=np.int64) if module is ni else torch.zeros(3, 4, dtype=torch.long)
    for name in RANDOM + ('zeros_', 'ones_'):
        with pytest.raises(TypeError, match='tensor: expected'): getattr(module, name)(other)
        with pytest.raises(TypeError, match='tensor: expected'): getattr(module, name)([[0.0] * 4] * 3)
        with pytest.raises(TypeError, match='floating-point'): getattr(module, name)(ints)
    for name in RANDOM:
        with pytest.raises(TypeError, match='generator: expected'):
            getattr(module, name)(own, generator=torch.Generator() if module is ni else np.random.default_rng(0))
    with pytest.raises(TypeError, match='tensor: expected'): module.constant_(other, 1.0)


@pytest.mark.parametrize('module', [ni, ti], ids=['numpy', 'torch'])
def test_bad_arguments(module):
    w = np.empty((3, 4)) if module is ni else torch.empty(3, 4)
    vec = np.empty(5) if module is ni else torch.empty(5)
    cases = [
        (lambda: module.normal_(w, std=-1.0), ValueError, 'std: expected a value >= 0'),
        (lambda: module.normal_(w, mean=float('nan')), ValueError, 'mean'),
        (lambda: module.uniform_(w, a=1.0, b=0.0), ValueError, 'expected a <= b'),
        (lambda: module.uniform_(w, a=float('-inf')), ValueError, 'a: expected a finite number'),
        (lambda: module.constant_(w, float('inf')), ValueError, 'val'),
        (lambda: module.constant_(w, 'one'), TypeError, 'val'),
        (lambda: module.xavier_uniform_(vec), ValueError, 'fewer than 2 dimensions'),
        (lambda: module.xavier_normal_(vec), ValueError, 'fewer than 2 dimensions'),
        (lambda: module.kaiming_uniform_(vec), ValueError, 'fewer than 2 dimensions'),
        (lambda: module.kaiming_normal_(vec), ValueError, 'fewer than 2 dimensions'),
        (lambda: module.xavier_uniform_(w, gain=-1.0), ValueError, 'gain'),
        (lambda: module.kaiming_uniform_(w, mode='fan_avg'), ValueError, "mode: expected one of 'fan_in', 'fan_out'"),
        (lambda: module.kaiming_normal_(w, mode=None), ValueError, 'mode'),
        (lambda: module.kaiming_normal_(w, nonlinearity='gelu'), ValueError, 'nonlinearity: expected one of'),
        (lambda: module.kaiming_uniform_(w, a='steep'), TypeError, 'a: expected a real number'),
        (lambda: module.kaiming_uniform_(w, a=float('nan')), ValueError, 'a: expected a real number, got NaN'),
    ]
    for call, error, fragment in cases:
        with pytest.raises(error, match=fragment): call()


def test_mode_is_case_insensitive_as_in_torch():
    assert ni.kaiming_std((3, 4), mode='FAN_OUT') == ni.kaiming_std((3, 4), mode='fan_out')


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: ni.calculate_gain('relu6'), ValueError, 'nonlinearity: expected one of'),
    (lambda: ni.calculate_gain('leaky_relu', 'x'), ValueError, 'param'),
    (lambda: ni.calculate_gain('leaky_relu', True), ValueError, 'param'),
    (lambda: ni.calculate_gain('leaky_relu', float('nan')), ValueError, 'param'),
    (lambda: ni.calculate_gain('leaky_relu', float('inf')), ValueError, 'param'),
    (lambda: ni.fan_in_and_fan_out((5,)), ValueError, 'fewer than 2 dimensions'),
    (lambda: ni.fan_in_and_fan_out(()), ValueError, 'fewer than 2 dimensions'),
    (lambda: ni.fan_in_and_fan_out(np.empty((3, 4))), TypeError, 'shape: expected a tuple'),
    (lambda: ni.fan_in_and_fan_out((3, -4)), TypeError, 'shape: expected a tuple'),
    (lambda: ni.fan_in_and_fan_out((3, 4.0)), TypeError, 'shape: expected a tuple'),
    (lambda: ni.fan_in_and_fan_out((3, True)), TypeError, 'shape: expected a tuple'),
    (lambda: ni.xavier_std((0, 0)), ValueError, 'fan_in \\+ fan_out of a weight of shape \\(0, 0\\) is 0'),
    (lambda: ni.kaiming_std((0, 5), mode='fan_out'), ValueError, 'fan_out of a weight of shape'),
    (lambda: ni.check_uniform_range(2, 1), ValueError, 'a <= b'),
    (lambda: E.layer_statistics('gelu'), ValueError, 'activation: expected one of'),
    (lambda: E.layer_statistics('relu', 'orthogonal'), ValueError, 'init: expected one of'),
    (lambda: E.layer_statistics('relu', depth=0), ValueError, 'depth'),
    (lambda: E.layer_statistics('relu', width=2.5), TypeError, 'width'),
    (lambda: E.layer_statistics('relu', batch_size=1), ValueError, 'batch_size'),
    (lambda: E.layer_statistics('relu', seed=-1), ValueError, 'seed'),
    (lambda: E.layer_statistics('relu', 'kaiming', gain=2.0), ValueError, "only the 'xavier' initialization"),
    (lambda: E.layer_statistics('relu', 'xavier', gain=-2.0), ValueError, 'gain'),
    (lambda: E.layer_histograms([np.zeros(2)], (1.0, 0.0)), ValueError, 'value_range'),
    (lambda: E.layer_histograms([np.zeros(2)], (0.0, 1.0), bins=0), ValueError, 'bins'),
    (lambda: E.init_explorer(width=0), ValueError, 'width'),
])
def test_bad_input(call, error, fragment):
    with pytest.raises(error, match=fragment): call()


def test_torch_errors_match_torch_types():
    "Where PyTorch raises a ValueError, so do we."
    for bad in (lambda m: m.calculate_gain('relu6'), lambda m: m.kaiming_uniform_(torch.empty(3, 4), mode='fan_avg'),
                lambda m: m.xavier_uniform_(torch.empty(5))):
        for module in (torch.nn.init, ti):
            with pytest.raises(ValueError): bad(module)


@pytest.mark.parametrize('name', RANDOM)
def test_numpy_generator_takes_an_int_seed_as_numpy_does(name):
    by_seed = getattr(ni, name)(np.empty((6, 4)), generator=3)
    assert np.array_equal(by_seed, _np_draw(name, shape=(6, 4), seed=3))
    for bad in (2.5, 'x', -1, True):
        with pytest.raises((TypeError, ValueError), match='generator'): getattr(ni, name)(np.empty((6, 4)), generator=bad)


def test_check_init_refuses_a_dtype_it_has_no_tolerance_for():
    with pytest.raises(ValueError, match="dtype: expected one of 'float64', 'float32'"): ti.check_init('float16')


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: E.init_linear(torch.nn.Linear(3, 3), 'xavier', 'relu'), TypeError, 'layer: expected a dlcourse.numpy Linear'),
    (lambda: E.LayerStatistics([np.ones(2)], 'x'), TypeError, 'gradients: expected a list or tuple'),
    (lambda: E.LayerStatistics([np.ones(2)], [np.ones(2), np.ones(2)]), ValueError, 'gradients: expected one per layer'),
    (lambda: E.LayerStatistics([[1.0]], [np.ones(2)]), TypeError, 'activations: expected a NumPy array'),
    (lambda: E.layer_histograms('x', (0.0, 1.0)), TypeError, 'arrays: expected a list or tuple'),
    (lambda: E.layer_histograms([np.zeros(2)], (1.0,)), ValueError, 'value_range: expected a pair'),
    (lambda: E.plot_layer_statistics('stats'), TypeError, 'stats: expected a LayerStatistics'),
    (lambda: E.plot_layer_statistics(E.layer_statistics(depth=2, width=4, batch_size=4), title=3), TypeError, 'title'),
    (lambda: E.plot_init_grid(inits=()), ValueError, 'inits: expected at least one value'),
    (lambda: E.plot_init_grid(activations=('gelu',)), ValueError, 'activations: expected one of'),
    (lambda: E.plot_init_grid(depth='3'), TypeError, 'depth'),
])
def test_explorations_check_their_arguments_before_drawing(call, error, fragment):
    import matplotlib.pyplot as plt
    figures = len(plt.get_fignums())
    with pytest.raises(error, match=fragment): call()
    assert len(plt.get_fignums()) == figures, "a figure was opened before the arguments were checked"


def test_defaults_match_torch():
    "uniform_ draws from U(0, 1) and xavier_std uses gain 1 when not told otherwise; gains below 1 (SELU's 3/4) are fine."
    for w in (_np_draw('uniform_'), _torch_draw(torch.nn.init, 'uniform_').numpy()):
        assert 0 <= w.min() < 1e-3 and 1 - 1e-3 < w.max() <= 1       # 150,000 draws reach both ends of [0, 1)
    assert ni.xavier_std((300, 500)) == math.sqrt(2 / 800)
    selu = ni.calculate_gain('selu')
    assert selu == 0.75 and ni.xavier_std((300, 500), gain=selu) == 0.75 * math.sqrt(2 / 800)
    w = _np_draw('xavier_normal_', gain=selu)
    assert abs(w.std() - 0.75 * math.sqrt(2 / 800)) <= 4 * w.std() / math.sqrt(2 * w.size)


def test_kaiming_std_defaults_are_torchs():
    "a=0, mode='fan_in', leaky_relu: gain sqrt(2 / (1 + 0**2)) over sqrt(fan_in), as torch.nn.init.kaiming_normal_ draws."
    assert ni.kaiming_std((300, 500)) == math.sqrt(2) / math.sqrt(500)
    w = _torch_draw(torch.nn.init, 'kaiming_normal_').numpy()
    assert abs(w.std() - ni.kaiming_std(SHAPE)) <= 4 * w.std() / math.sqrt(2 * w.size)
    with pytest.raises(ValueError) as info: ni.kaiming_std((0, 5), mode='fan_out')
    assert str(info.value) == 'shape: fan_out of a weight of shape (0, 5) is 0; nothing to scale'
    with pytest.raises(ValueError) as info: ni.kaiming_std([5, 0])
    assert str(info.value) == 'shape: fan_in of a weight of shape (5, 0) is 0; nothing to scale'


def test_normal_defaults_to_a_standard_normal_like_torch():
    for w in (_np_draw('normal_'), _torch_draw(torch.nn.init, 'normal_').numpy()):
        assert abs(w.mean()) <= 4 / math.sqrt(w.size) and abs(w.std() - 1) <= 4 / math.sqrt(2 * w.size)


def test_initializers_overwrite_nan_and_inf():
    "A weight that training drove to NaN or inf can be re-initialized: the old values are not checked."
    for name in RANDOM + ('zeros_', 'ones_'):
        w = np.full((6, 4), np.nan); w[0, 0] = np.inf
        assert np.isfinite(getattr(ni, name)(w, **({} if name in ('zeros_', 'ones_') else {'generator': 0}))).all()
    assert (ni.constant_(np.full((2, 3), np.nan), 0.5) == 0.5).all()


def test_empty_tensor_warning_is_torchs():
    with pytest.warns(UserWarning) as ours: ni.kaiming_uniform_(np.empty((0, 5)))
    with pytest.warns(UserWarning) as theirs: torch.nn.init.kaiming_uniform_(torch.empty(0, 5))
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs] == ['Initializing zero-element tensors is a no-op']


@pytest.mark.parametrize('shape, got', [((3, -4), '(3, -4)'), ([3, 4.0], '[3, 4.0]'), ((True, 2), '(True, 2)'),
                                        (np.empty((3, 4)), 'ndarray of shape (3, 4) and dtype float64'), ('3x4', "str '3x4'")])
def test_bad_shapes_are_shown_in_the_message(shape, got):
    with pytest.raises(TypeError) as info: ni.fan_in_and_fan_out(shape)
    assert str(info.value) == f"shape: expected a tuple of non-negative integers (such as weight.shape), got {got}"


@pytest.mark.parametrize('call, message', [
    (lambda w: ni.constant_(w, float('inf')), 'val: expected a finite number, got inf'),
    (lambda w: ni.constant_(w, 'one'), "val: expected a real number, got str 'one'"),
    (lambda w: ni.normal_(w, std=-1.0), 'std: expected a value >= 0, got -1.0'),
    (lambda w: ni.normal_(w, mean=float('nan')), 'mean: expected a real number, got NaN'),
    (lambda w: ni.uniform_(w, a=1.0, b=0.0), 'a, b: expected a <= b (the range of U(a, b)), got a=1.0 > b=0.0'),
    (lambda w: ni.xavier_uniform_(w, gain=-1.0), 'gain: expected a value >= 0, got -1.0'),
    (lambda w: ni.kaiming_normal_(w, nonlinearity='relu6'), "nonlinearity: expected one of 'linear', 'conv1d', 'conv2d', "
     "'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu', "
     "got 'relu6'"),
])
def test_bad_argument_messages_name_the_argument(call, message):
    with pytest.raises((ValueError, TypeError)) as info: call(np.zeros((3, 4)))
    assert str(info.value) == message


def test_integer_arrays_are_refused_by_name():
    with pytest.raises(TypeError) as info: ni.zeros_(np.zeros((3, 4), dtype=np.int64))
    assert str(info.value).startswith('tensor: expected a floating-point dtype, got')


def test_empty_tensors_with_a_zero_fan_are_skipped_not_refused():
    "A (5, 0) or (0, 0) weight has fan 0; the initializers warn and return it, as torch's kaiming_uniform_ does."
    torch_empty = torch.empty(5, 0)
    with pytest.warns(UserWarning, match='zero-element'): assert torch.nn.init.kaiming_uniform_(torch_empty) is torch_empty
    for name, shape in (('kaiming_uniform_', (5, 0)), ('kaiming_normal_', (5, 0)), ('xavier_uniform_', (0, 0)),
                        ('xavier_normal_', (0, 0))):
        empty = np.empty(shape)
        with pytest.warns(UserWarning, match='zero-element'): assert getattr(ni, name)(empty) is empty
