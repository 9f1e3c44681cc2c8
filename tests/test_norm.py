"""Normalization (lesson 8): batch norm and layer norm in NumPy and PyTorch, running statistics, bad input, the digits experiment."""
import numpy as np
import pytest
import torch
from torch import nn

from dlcourse.crosscheck import Case, check_case, format_table
from dlcourse.data import ArrayDataset, DataLoader, digits_splits
from dlcourse.learner import Learner, TrainingDiverged
from dlcourse.numpy import norm as dnp_norm
from dlcourse.numpy.losses import CrossEntropyLoss
from dlcourse.numpy.nn import Linear as NumpyLinear
from dlcourse.numpy.optim import SGD
from dlcourse.torch import norm as tnorm
from dlcourse.torch.losses import CrossEntropyLoss as TorchCrossEntropyLoss
from dlcourse.torch.nn import Linear as TorchLinear, ReLU as TorchReLU, Sequential as TorchSequential
from dlcourse.torch.optim import SGD as TorchSGD
from dlcourse.explore import norm as enorm

BN_CLASSES = [(dnp_norm.BatchNorm1d, tnorm.BatchNorm1d, nn.BatchNorm1d), (dnp_norm.BatchNorm2d, tnorm.BatchNorm2d, nn.BatchNorm2d)]
BUILTIN_BN_HAS_BIAS = tnorm._builtin_batch_norm_has_bias()


# ---------------------------------------------------------------- 20 training steps, three ways

@pytest.mark.parametrize('label', list(tnorm.NORM_TRAINING_CHECKS))
def test_twenty_training_steps_agree_three_ways(label):
    name, shape, options = tnorm.NORM_TRAINING_CHECKS[label]
    run = tnorm.norm_training_run(name, shape, options, steps=20, dtype='float64')
    results = tnorm._compare_norm_runs(label, run, 'float64')
    failed = [r for r in results if not r.ok]
    assert not failed, format_table(failed, full=True)
    quantities = {r.comparison.split(': ')[1] for r in results}
    assert {'output', 'grad input', 'grad weight', 'grad bias', 'eval output'} <= quantities
    if name.startswith('BatchNorm'):
        assert {'running_mean (buffer)', 'running_var (buffer)', 'num_batches_tracked (buffer)'} <= quantities
        assert run['builtin']['output'].shape[0] == 20
        np.testing.assert_array_equal(run['numpy']['num_batches_tracked (buffer)'], 3 + np.arange(1, 21))


@pytest.mark.parametrize('cls', ['BatchNorm1d', 'BatchNorm2d'])
@pytest.mark.parametrize('momentum', [0.1, None, 0.5])
def test_running_statistics_after_twenty_steps(cls, momentum):
    shape = (8, 3, 5) if cls == 'BatchNorm1d' else (4, 3, 4, 4)
    run = tnorm.norm_training_run(cls, shape, {'momentum': momentum}, steps=20)
    for key in ('numpy', 'torch'):
        for buf in ('running_mean (buffer)', 'running_var (buffer)'):
            np.testing.assert_allclose(run[key][buf][-1], run['builtin'][buf][-1], rtol=1e-12, atol=0)


def test_running_variance_is_unbiased_and_normalization_biased():
    rng = np.random.default_rng(3)
    layer = dnp_norm.BatchNorm1d(2, momentum=1.0, dtype='float64')
    x = rng.normal(size=(5, 2)) * 3 + 1
    out = layer(x)
    np.testing.assert_allclose(layer.running_var, x.var(0, ddof=1), rtol=1e-13)
    np.testing.assert_allclose(layer.running_mean, x.mean(0), rtol=1e-13)
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-12)


def test_momentum_zero_keeps_running_statistics_and_none_averages():
    rng = np.random.default_rng(4)
    frozen = dnp_norm.BatchNorm1d(3, momentum=0.0, dtype='float64')
    average = dnp_norm.BatchNorm1d(3, momentum=None, dtype='float64')
    batches = [rng.normal(size=(6, 3)) + 2 for _ in range(7)]
    for b in batches: frozen(b); average(b)
    np.testing.assert_array_equal(frozen.running_mean, np.zeros(3))
    np.testing.assert_array_equal(frozen.running_var, np.ones(3))
    np.testing.assert_allclose(average.running_mean, np.mean([b.mean(0) for b in batches], 0), rtol=1e-12)
    np.testing.assert_allclose(average.running_var, np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12)


# ---------------------------------------------------------------- evaluation mode

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_eval_uses_running_statistics(backend):
    rng = np.random.default_rng(5)
    np_layer, torch_layer, _ = tnorm.norm_layers('BatchNorm1d', 4, rng)
    layer = np_layer if backend == 'numpy' else torch_layer
    for _ in range(5):
        x = tnorm.channel_data(rng, (8, 4))
        layer(x if backend == 'numpy' else torch.from_numpy(x))
    layer.eval()
    fresh = tnorm.channel_data(rng, (8, 4))
    state = {k: np.asarray(v) if backend == 'numpy' else v.detach().numpy() for k, v in layer.state_dict().items()}
    expected = (fresh - state['running_mean']) / np.sqrt(state['running_var'] + 1e-5) * state['weight'] + state['bias']
    with torch.no_grad():
        out = layer(fresh) if backend == 'numpy' else layer(torch.from_numpy(fresh)).numpy()
        alone = layer(fresh[:1]) if backend == 'numpy' else layer(torch.from_numpy(fresh[:1])).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(alone, out[:1], rtol=1e-12, atol=1e-12)        # independent of the rest of the batch
    assert int(state['num_batches_tracked']) == 3 + 5


def test_eval_without_running_statistics_uses_the_batch():
    x = np.random.default_rng(6).normal(size=(6, 3)) * 4 + 2
    out = dnp_norm.BatchNorm1d(3, track_running_stats=False, dtype='float64').eval()(x)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    ours = tnorm.BatchNorm1d(3, track_running_stats=False, dtype=torch.float64).eval()
    np.testing.assert_allclose(ours(torch.from_numpy(x)).detach().numpy(), out, rtol=1e-12)
    with pytest.raises(ValueError, match='Expected more than 1 value per channel when training'):
        dnp_norm.BatchNorm1d(3, track_running_stats=False).eval()(np.zeros((1, 3), np.float32))


@pytest.mark.parametrize('np_cls, torch_cls, builtin_cls', BN_CLASSES)
def test_num_batches_tracked_increments_in_training_only(np_cls, torch_cls, builtin_cls):
    shape = (4, 3) if np_cls is dnp_norm.BatchNorm1d else (4, 3, 2, 2)
    x = np.random.default_rng(7).normal(size=shape).astype(np.float32)
    for layer, wrap in ((np_cls(3), lambda a: a), (torch_cls(3), torch.from_numpy), (builtin_cls(3), torch.from_numpy)):
        for _ in range(3): layer(wrap(x))
        assert int(layer.num_batches_tracked) == 3
        layer.eval(); layer(wrap(x))
        assert int(layer.num_batches_tracked) == 3
        assert layer.state_dict()['num_batches_tracked'].dtype in (np.int64, torch.int64)
    assert np_cls(3, track_running_stats=False).num_batches_tracked is None


# ---------------------------------------------------------------- state dicts

BN_OPTIONS = [{}, {'affine': False}, {'track_running_stats': False}, {'affine': False, 'track_running_stats': False},
              {'momentum': None}] + ([{'bias': False}] if BUILTIN_BN_HAS_BIAS else [])


@pytest.mark.parametrize('options', BN_OPTIONS, ids=str)
@pytest.mark.parametrize('np_cls, torch_cls, builtin_cls', BN_CLASSES)
def test_batch_norm_state_dict_matches_torch(np_cls, torch_cls, builtin_cls, options):
    ref = builtin_cls(5, **options).state_dict()
    for layer in (np_cls(5, **options), torch_cls(5, **options)):
        sd = layer.state_dict()
        assert list(sd) == list(ref)
        for k in ref:
            assert str(sd[k].dtype).replace('torch.', '') == str(ref[k].dtype).replace('torch.', '')
            np.testing.assert_array_equal(np.asarray(sd[k]) if isinstance(sd[k], np.ndarray) else sd[k].numpy(), ref[k].numpy())
    torch_cls(5, **options).load_state_dict(ref)
    np_cls(5, **options).load_state_dict(ref)


LN_OPTIONS = [(4, {}), ((3, 4), {}), (4, {'elementwise_affine': False}), ((3, 4), {'bias': False})]


@pytest.mark.parametrize('shape, options', LN_OPTIONS, ids=str)
def test_layer_norm_state_dict_matches_torch(shape, options):
    ref = nn.LayerNorm(shape, **options).state_dict()
    for layer in (dnp_norm.LayerNorm(shape, **options), tnorm.LayerNorm(shape, **options)):
        sd = layer.state_dict()
        assert list(sd) == list(ref)
        for k in ref: assert tuple(sd[k].shape) == tuple(ref[k].shape)


def test_dtype_casting_keeps_the_batch_count_an_integer():
    layer = dnp_norm.BatchNorm2d(2).to('float64')
    assert layer.running_mean.dtype == np.float64 and layer.weight.dtype == np.float64
    assert layer.num_batches_tracked.dtype == np.int64
    ours = tnorm.BatchNorm2d(2).double()
    assert ours.running_var.dtype == torch.float64 and ours.num_batches_tracked.dtype == torch.int64


# ---------------------------------------------------------------- layer norm

@pytest.mark.parametrize('shape, input_shape, options', [
    (5, (4, 5), {}), (5, (2, 3, 5), {}), (5, (4, 5), {'elementwise_affine': False}), (5, (4, 5), {'bias': False}),
    ((3, 4), (2, 3, 4), {}), ((3, 4), (2, 3, 4), {'elementwise_affine': False}), ((3, 4), (5, 3, 4), {'bias': False}),
], ids=str)
def test_layer_norm_agrees_with_torch(shape, input_shape, options):
    rng = np.random.default_rng(8)
    case = Case(*tnorm.norm_layers('LayerNorm', shape, rng, **options), inputs=(tnorm.channel_data(rng, input_shape, 0),))
    for dtype in ('float64', 'float32'):
        failed = [r for r in check_case('LayerNorm', case, dtype) if not r.ok]
        assert not failed, format_table(failed, full=True)


def test_layer_norm_is_the_same_in_training_and_evaluation():
    x = np.random.default_rng(9).normal(size=(3, 4, 6)) * 5 - 2
    layer = dnp_norm.LayerNorm(6, dtype='float64')
    out = layer(x)
    np.testing.assert_allclose(layer.eval()(x), out)
    np.testing.assert_allclose(layer(x[:1]), out[:1], rtol=1e-12)
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, atol=1e-5)


# ---------------------------------------------------------------- the compact backward

def test_standardize_backward_projects_out_shift_and_scale():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(7, 3, 4)) * 3 + 1
    axes = dnp_norm.batch_norm_axes(x.ndim)
    x_hat, mean, var, inv_std = dnp_norm.standardize(x, axes, 0.0)
    grad = dnp_norm.standardize_backward(rng.normal(size=x.shape), x_hat, inv_std, axes)
    np.testing.assert_allclose(grad.sum(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose((grad * x_hat).sum(axis=axes), 0, atol=1e-12)
    assert mean.shape == var.shape == inv_std.shape == (1, 3, 1)


def test_bias_before_batch_norm_gets_zero_gradient():
    rng = np.random.default_rng(11)
    from dlcourse.numpy.nn import Linear, Sequential
    model = Sequential(Linear(4, 3, dtype='float64', generator=rng), dnp_norm.BatchNorm1d(3, dtype='float64'))
    out = model(rng.normal(size=(8, 4)))
    model.backward(rng.normal(size=out.shape))
    np.testing.assert_allclose(model[0].bias.grad, 0, atol=1e-12)
    assert np.abs(model[0].weight.grad).max() > 1e-3


def test_constant_channel_and_extreme_values():
    layer = dnp_norm.BatchNorm1d(2, dtype='float64')
    x = np.column_stack([np.full(6, 7.0), np.linspace(1e8, 1e8 + 5, 6)])
    out = layer(x)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 0], 0)                     # eps keeps the constant channel at 0, not NaN
    np.testing.assert_allclose(out[:, 1].std(), 1, rtol=1e-5)
    grad = layer.backward(np.ones_like(out))
    assert np.isfinite(grad).all()
    with np.errstate(invalid="ignore"):                               # non-finite inputs pass through for the divergence guard
        inf_in = layer(np.array([[np.inf, 1.0], [0.0, 2.0]]))
    assert not np.isfinite(inf_in[:, 0]).all()


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_bad_batch_norm_input(backend):
    mod = dnp_norm if backend == 'numpy' else tnorm
    arr = (lambda *s: np.zeros(s, np.float32)) if backend == 'numpy' else (lambda *s: torch.zeros(*s))
    with pytest.raises(ValueError, match=r'input: expected 2D or 3D input \(got 4D input\)'): mod.BatchNorm1d(3)(arr(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r'input: expected 2D or 3D input \(got 1D input\)'): mod.BatchNorm1d(3)(arr(3))
    with pytest.raises(ValueError, match=r'input: expected 4D input \(got 3D input\)'): mod.BatchNorm2d(3)(arr(4, 3, 2))
    with pytest.raises(ValueError, match='expected 3 channels'): mod.BatchNorm1d(3)(arr(4, 5))
    with pytest.raises(ValueError, match='expected 3 channels'): mod.BatchNorm2d(3)(arr(4, 2, 3, 3))
    with pytest.raises(ValueError, match='Expected more than 1 value per channel when training'): mod.BatchNorm1d(3)(arr(1, 3))
    with pytest.raises(ValueError, match='Expected more than 1 value per channel when training'): mod.BatchNorm2d(3)(arr(1, 3, 1, 1))
    assert mod.BatchNorm1d(3)(arr(1, 3, 2)).shape == (1, 3, 2)      # one example of length 2: two values per channel
    assert mod.BatchNorm2d(3).eval()(arr(1, 3, 1, 1)).shape == (1, 3, 1, 1)
    with pytest.raises(ValueError, match='ending in normalized_shape'): mod.LayerNorm((3, 4))(arr(2, 4, 3))
    with pytest.raises(ValueError, match='ending in normalized_shape'): mod.LayerNorm((3, 4))(arr(4))


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('kwargs, match', [
    ({'num_features': 0}, 'num_features'), ({'num_features': 2.5}, 'num_features'), ({'num_features': True}, 'num_features'),
    ({'eps': 0}, 'eps: expected a value > 0'), ({'eps': -1e-5}, 'eps'), ({'eps': float('nan')}, 'eps'), ({'eps': 'small'}, 'eps'),
    ({'momentum': -0.1}, r'momentum: expected a value in \[0, 1\]'), ({'momentum': 1.5}, 'momentum'), ({'momentum': '0.1'}, 'momentum'),
    ({'affine': 1}, 'affine: expected True or False'), ({'track_running_stats': 'yes'}, 'track_running_stats'),
    ({'bias': None}, 'bias'),
])
def test_bad_batch_norm_arguments(backend, kwargs, match):
    mod = dnp_norm if backend == 'numpy' else tnorm
    kwargs = {'num_features': 3, **kwargs}
    for cls in (mod.BatchNorm1d, mod.BatchNorm2d):
        with pytest.raises((TypeError, ValueError), match=match): cls(**kwargs)


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('kwargs, match', [
    ({'normalized_shape': 0}, 'normalized_shape'), ({'normalized_shape': ()}, 'at least one dimension'),
    ({'normalized_shape': (3, -1)}, 'normalized_shape'), ({'normalized_shape': '3'}, 'an int or a tuple'),
    ({'normalized_shape': 2.0}, 'an int or a tuple'), ({'normalized_shape': True}, 'an int or a tuple'),
    ({'eps': 0.0}, 'eps'), ({'elementwise_affine': 'no'}, 'elementwise_affine'), ({'bias': 0}, 'bias'),
])
def test_bad_layer_norm_arguments(backend, kwargs, match):
    mod = dnp_norm if backend == 'numpy' else tnorm
    with pytest.raises((TypeError, ValueError), match=match): mod.LayerNorm(**{'normalized_shape': 4, **kwargs})


def test_layer_norm_accepts_torch_size_and_lists():
    assert dnp_norm.LayerNorm([3, 4]).normalized_shape == (3, 4)
    assert tnorm.LayerNorm(torch.Size([3, 4])).weight.shape == (3, 4)


def test_numpy_layers_reject_wrong_types_and_dtypes():
    with pytest.raises(TypeError, match="expected dtype float32"): dnp_norm.BatchNorm1d(3)(np.zeros((4, 3)))
    with pytest.raises(TypeError, match="expected dtype float64"): dnp_norm.LayerNorm(3, dtype='float64')(np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match='NumPy array'): dnp_norm.BatchNorm1d(3)(torch.zeros(4, 3))
    with pytest.raises(TypeError, match='floating-point'): dnp_norm.BatchNorm1d(3, affine=False, track_running_stats=False)(np.zeros((4, 3), int))
    with pytest.raises(TypeError, match='floating-point'): tnorm.BatchNorm1d(3)(torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(TypeError, match='floating-point'): tnorm.LayerNorm(3)(torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='dtype'): dnp_norm.BatchNorm1d(3, dtype='int32')
    free = dnp_norm.BatchNorm1d(3, affine=False, track_running_stats=False)     # no arrays of its own: any float dtype
    assert free.dtype is None and free(np.ones((2, 3), np.float64)).dtype == np.float64


def test_backward_checks():
    layer = dnp_norm.BatchNorm1d(3)
    with pytest.raises(RuntimeError, match='backward called before forward'): layer.backward(np.zeros((2, 3), np.float32))
    layer(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match='grad_output: expected shape'): layer.backward(np.zeros((4, 2), np.float32))
    ln = dnp_norm.LayerNorm(3)
    with pytest.raises(RuntimeError, match='backward called before forward'): ln.backward(np.zeros((2, 3), np.float32))


def test_norm_layers_and_training_run_reject_unknown_names():
    with pytest.raises(ValueError, match='name: expected one of'): tnorm.norm_layers('GroupNorm', 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match='device'): tnorm.norm_training_run('BatchNorm1d', (4, 3), device='gpu')


def test_norm_mlp_structure_and_arguments():
    model = dnp_norm.norm_mlp(depth=3, width=5, batch_norm=True, init='he', generator=np.random.default_rng(0))
    kinds = [type(m).__name__ for m in model]
    assert kinds == ['Linear', 'BatchNorm1d', 'ReLU'] * 3 + ['Linear']
    assert model[0].bias is None and model[-1].bias is not None
    plain = dnp_norm.norm_mlp(depth=3, width=5, generator=np.random.default_rng(0))
    assert [type(m).__name__ for m in plain] == ['Linear', 'ReLU'] * 3 + ['Linear']
    he = dnp_norm.norm_mlp(depth=1, width=400, init='he', dtype='float64', generator=np.random.default_rng(0))
    assert abs(he[0].weight.data.var() * 64 - 2) < 0.1                 # He: variance 2 / fan_in
    for bad, match in (({'depth': 0}, 'depth'), ({'width': 1.5}, 'width'), ({'batch_norm': 'yes'}, 'batch_norm'),
                       ({'init': 'xavier'}, 'init')):
        with pytest.raises((TypeError, ValueError), match=match): dnp_norm.norm_mlp(**bad)


# ---------------------------------------------------------------- training with the Learner

def _digits_loaders():
    data = digits_splits()
    return (DataLoader(ArrayDataset(data.X_train, data.y_train), batch_size=32, shuffle=True, generator=0),
            DataLoader(ArrayDataset(data.X_valid, data.y_valid), batch_size=512))


def test_batch_norm_mlp_trains_with_the_learner_numpy():
    from dlcourse.core import manual_seed
    manual_seed(0)
    model = dnp_norm.norm_mlp(depth=4, width=64, batch_norm=True)
    learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), *_digits_loaders(), progress=False)
    history = learn.fit(4)
    assert history.epochs[-1]['valid_accuracy'] > 0.9
    assert all(int(m.num_batches_tracked) == learn.step for m in model if isinstance(m, dnp_norm.BatchNorm1d))


def test_batch_norm_mlp_trains_with_the_learner_torch():
    torch.manual_seed(0)
    layers = []
    for n_in in (64, 32):
        layers += [TorchLinear(n_in, 32, bias=False), tnorm.BatchNorm1d(32), TorchReLU()]
    model = TorchSequential(*layers, TorchLinear(32, 10))
    learn = Learner(model, TorchCrossEntropyLoss(), TorchSGD(model.parameters(), lr=0.2), *_digits_loaders(), progress=False)
    history = learn.fit(2)
    assert history.epochs[-1]['valid_accuracy'] > 0.9
    assert int(model[1].num_batches_tracked) == learn.step


def test_plain_network_diverges_where_batch_norm_trains():
    plain, normalized = enorm.norm_run(False, 1.0, 'he'), enorm.norm_run(True, 1.0, 'he')
    assert plain.diverged_at is not None and plain.diverged_at <= 10
    assert normalized.diverged_at is None and normalized.final_loss < 0.7
    from dlcourse.core import manual_seed
    manual_seed(0)
    model = dnp_norm.norm_mlp(init='he')
    learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=1.0), _digits_loaders()[0], progress=False)
    with pytest.raises(TrainingDiverged):
        learn.fit(1)


def test_default_init_needs_batch_norm():
    plain, normalized = enorm.norm_run(False, 0.1, 'default'), enorm.norm_run(True, 0.1, 'default')
    assert plain.final_loss > 2.2                      # stuck at the loss of a uniform guess, ln 10
    assert normalized.final_loss < 0.8 and normalized.valid_accuracy > 0.85
    assert plain.stats_before[-1, 1] < 0.1 and np.all(np.abs(normalized.stats_before[:, 1] - 0.58) < 0.1)


# ---------------------------------------------------------------- exploration functions

def test_layer_stats_and_smooth():
    X = digits_splits().X_valid
    model = dnp_norm.norm_mlp(depth=3, batch_norm=True, generator=np.random.default_rng(0))
    stats = enorm.layer_stats(model, X)
    assert stats.shape == (3, 2) and np.all(stats[:, 1] > 0.5)
    with pytest.raises(TypeError, match='model'): enorm.layer_stats(object(), X)
    np.testing.assert_allclose(enorm.smooth(np.arange(5.0), window=3), [0, 0.5, 1, 2, 3])
    assert enorm.smooth(np.array([])).size == 0
    with pytest.raises(ValueError, match='window'): enorm.smooth(np.ones(3), window=0)


def test_norm_run_is_cached_and_read_only():
    run = enorm.norm_run(True, 1.0)
    assert enorm.norm_run(True, 1.0) is run
    with pytest.raises(ValueError): run.step_loss[0] = 0.0


@pytest.mark.parametrize('kwargs, match', [({'lr': 0.0}, 'lr'), ({'batch_norm': 1}, 'batch_norm'), ({'init': 'xavier'}, 'init'),
                                           ({'steps': 0}, 'steps'), ({'seed': -1}, 'seed')])
def test_norm_run_bad_arguments(kwargs, match):
    args = {'batch_norm': True, 'lr': 0.1, **kwargs}
    with pytest.raises((TypeError, ValueError), match=match): enorm.norm_run(**args)


def test_plots_draw():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig = enorm.plot_norm_run(True, 1.0, 'he')
    assert len(fig.axes) == 2
    fig2 = enorm.plot_norm_grid(lrs=(1.0,), inits=('he',))
    assert len(fig2.axes) == 1
    axes = enorm.plot_layer_stats(lr=1.0, inits=('he',))
    assert len(axes) == 2
    with pytest.raises(ValueError, match='lrs: expected at least one value'): enorm.plot_norm_grid(lrs=())
    plt.close('all')


def test_explorer_builds():
    pytest.importorskip('ipywidgets')
    widget = enorm.norm_explorer()
    assert widget.children
    with pytest.raises(ValueError, match='steps'): enorm.norm_explorer(steps=0)


@pytest.mark.parametrize('np_cls, torch_cls, builtin_cls', BN_CLASSES)
def test_reset_running_stats(np_cls, torch_cls, builtin_cls):
    shape = (4, 3) if np_cls is dnp_norm.BatchNorm1d else (4, 3, 2, 2)
    x = np.random.default_rng(12).normal(size=shape).astype(np.float32) + 3
    for layer, wrap in ((np_cls(3), lambda a: a), (torch_cls(3), torch.from_numpy)):
        layer(wrap(x)); layer.reset_running_stats()
        sd = {k: np.asarray(v) for k, v in layer.state_dict().items()}
        ref = {k: v.numpy() for k, v in builtin_cls(3).state_dict().items()}
        for k in ref: np.testing.assert_array_equal(sd[k], ref[k])
    np_cls(3, track_running_stats=False).reset_running_stats()
    torch_cls(3, track_running_stats=False).reset_running_stats()


# ---------------------------------------------------------------- the PyTorch side takes tensors; helpers check their arguments

@pytest.mark.parametrize('make', [lambda: tnorm.BatchNorm1d(3), lambda: tnorm.LayerNorm(3),
                                  lambda: tnorm.BatchNorm1d(3, affine=False), lambda: tnorm.LayerNorm(3, bias=False)])
def test_torch_layers_want_a_tensor_of_their_dtype(make):
    layer = make()
    with pytest.raises(TypeError, match='input: expected a torch tensor, got ndarray'): layer(np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match=r"input: expected dtype float32 \(the layer's dtype\)"): layer(torch.zeros(4, 3, dtype=torch.float64))
    assert layer(torch.zeros(4, 3)).dtype == torch.float32


def test_torch_layers_without_parameters_or_statistics_take_any_float_dtype():
    layer = tnorm.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert layer(torch.randn(4, 3, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize('cls, size', [(tnorm.BatchNorm1d, 3), (tnorm.BatchNorm2d, 3), (tnorm.LayerNorm, (3,))])
def test_torch_layers_check_dtype_and_device_as_the_rest_of_dlcourse(cls, size):
    assert cls(size, dtype='float64').weight.dtype == torch.float64
    with pytest.raises(ValueError, match='dtype: expected one of float32, float64'): cls(size, dtype='int64')
    with pytest.raises(ValueError, match='device'): cls(size, device='bogus')


def test_standardize_checks_its_arguments():
    x = np.ones((4, 3))
    with pytest.raises(TypeError, match='x: expected a NumPy array'): dnp_norm.standardize(x.tolist(), (0,), 1e-5)
    with pytest.raises(TypeError, match='axes: expected a tuple of ints'): dnp_norm.standardize(x, 0, 1e-5)
    with pytest.raises(ValueError, match='axes: expected distinct axes of a 2-D array'): dnp_norm.standardize(x, (2,), 1e-5)
    with pytest.raises(ValueError, match='axes: expected distinct axes'): dnp_norm.standardize(x, (0, -2), 1e-5)
    with pytest.raises(ValueError, match='eps'): dnp_norm.standardize(x, (0,), -1.0)
    x_hat, _, _, inv_std = dnp_norm.standardize(x, (0,), 1e-5)
    with pytest.raises(ValueError, match='grad_x_hat, x_hat: expected the same shape'): dnp_norm.standardize_backward(x[:2], x_hat, inv_std, (0,))
    with pytest.raises(ValueError, match=r'inv_std: expected shape \(1, 3\)'): dnp_norm.standardize_backward(x, x_hat, inv_std.T, (0,))


def test_numpy_layers_without_a_dtype_still_want_numpy_arrays():
    for layer in (dnp_norm.BatchNorm1d(3, affine=False, track_running_stats=False), dnp_norm.LayerNorm(3, elementwise_affine=False)):
        with pytest.raises(TypeError, match='input: expected a NumPy array'): layer(torch.zeros(4, 3))


def test_norm_mlp_takes_an_int_seed_as_numpy_does():
    a, b = dnp_norm.norm_mlp(depth=2, width=4, generator=5), dnp_norm.norm_mlp(depth=2, width=4, generator=np.random.default_rng(5))
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(TypeError, match='generator'): dnp_norm.norm_mlp(generator=2.5)


@pytest.mark.parametrize('call, error, match', [
    (lambda: tnorm.norm_layers('BatchNorm1d', 0, 0), ValueError, 'size: expected a value >= 1'),
    (lambda: tnorm.norm_layers('BatchNorm1d', 3, 'seed'), TypeError, 'rng'),
    (lambda: tnorm.norm_layers('BatchNorm1d', 3, 0, training='yes'), TypeError, 'training: expected True or False'),
    (lambda: tnorm.norm_layers('LayerNorm', 3, 0, colour=1), ValueError, r"options: \['colour'\] are not arguments of LayerNorm"),
    (lambda: tnorm.norm_training_run('BatchNorm1d', (1, 3)), ValueError, 'input_shape: batch norm needs more than one value'),
    (lambda: tnorm.norm_training_run('BatchNorm2d', (4, 3)), ValueError, 'input_shape: expected 4-D batches'),
    (lambda: tnorm.norm_training_run('BatchNorm1d', (4, 3), {'momentum': 2.0}), ValueError, 'options: momentum'),
    (lambda: tnorm.norm_training_run('BatchNorm1d', (4, 3), steps=0), ValueError, 'steps'),
    (lambda: tnorm.norm_training_run('BatchNorm1d', (4, 3), dtype='float16'), ValueError, 'dtype'),
    (lambda: tnorm.channel_data(0, (4, 3), dim=2), ValueError, 'dim'),
    (lambda: tnorm.check_norm_training('float16'), ValueError, 'dtype'),
])
def test_cross_check_helpers_check_their_arguments(call, error, match):
    with pytest.raises(error, match=match): call()


def test_normalization_training_rows_belong_to_their_concept():
    results = tnorm.check_norm_training('float64', steps=2)
    assert {r.concept.split('(', 1)[0] for r in results} == {'Normalization training'}


@pytest.mark.parametrize('call, error, match', [
    (lambda: enorm.norm_run(True, 0.1, init=['he']), ValueError, 'init: expected one of'),
    (lambda: enorm.norm_run(True, 0.1, depth=0), ValueError, 'depth'),
    (lambda: enorm.layer_stats(dnp_norm.norm_mlp(depth=2, in_features=3), np.ones((4, 2), np.float32)), ValueError, 'input'),
    (lambda: enorm.smooth('x'), TypeError, 'values: expected a sequence of numbers'),
    (lambda: enorm.smooth(np.ones((2, 2))), ValueError, 'values: expected a 1-D sequence'),
    (lambda: enorm.plot_layer_stats(inits='he'), TypeError, 'inits: expected a list or tuple'),
    (lambda: enorm.plot_layer_stats(axes=object()), TypeError, 'axes: expected 2 matplotlib Axes'),
    (lambda: enorm.plot_norm_grid(lrs=(-0.1,)), ValueError, 'lrs'),
    (lambda: enorm.NormRun(True, 'he', 0.1, np.ones(3), None, float('nan'), np.ones((2, 2)), np.ones((2, 2))), ValueError, 'valid_accuracy'),
    (lambda: enorm.NormRun(True, 'he', 0.1, np.ones(3), None, 0.5, np.ones((2, 2)), np.ones((3, 2))), ValueError, 'stats_before, stats_after'),
    (lambda: enorm.NormRun('yes', 'he', 0.1, np.ones(3), None, 0.5, np.ones((2, 2)), np.ones((2, 2))), TypeError, 'batch_norm'),
])
def test_exploration_functions_check_their_arguments(call, error, match):
    with pytest.raises(error, match=match): call()


def test_a_diverged_run_may_have_no_accuracy():
    run = enorm.NormRun(False, 'he', 1.0, np.ones(3), 4, float('nan'), np.ones((2, 2)), np.full((2, 2), np.nan))
    assert np.isnan(run.final_loss)


# ---------------------------------------------------------------- layer norm: edge shapes, NaN, exact messages; norm_mlp defaults

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_layer_norm_edge_shapes_and_nan_match_torch(backend):
    "A single example of shape normalized_shape, a normalized size of 1, and NaN (which spreads over its row) are PyTorch's."
    mod = dnp_norm if backend == 'numpy' else tnorm
    run = (lambda layer, x: layer(x)) if backend == 'numpy' else (lambda layer, x: layer(torch.from_numpy(x)).detach().numpy())
    for shape, x in ((4, np.array([1.0, 2.0, 3.0, 4.0])), ((2, 1), np.arange(6.0).reshape(3, 2, 1)),
                     (1, np.array([[5.0], [-2.0]])), (3, np.array([[1.0, np.nan, 2.0], [0.0, 1.0, 2.0]]))):
        ours = run(mod.LayerNorm(shape, dtype='float64'), x)
        expected = nn.LayerNorm(shape, dtype=torch.float64)(torch.from_numpy(x)).detach().numpy()
        assert ours.shape == expected.shape == x.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)
    assert np.isnan(ours[0]).all() and not np.isnan(ours[1]).any()


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_layer_norm_errors_name_the_expected_shape_and_integer_sizes(backend):
    mod = dnp_norm if backend == 'numpy' else tnorm
    arr = (lambda *s: np.zeros(s, np.float32)) if backend == 'numpy' else (lambda *s: torch.zeros(*s))
    with pytest.raises(ValueError) as info: mod.LayerNorm((3, 4))(arr(2, 4, 3))
    assert str(info.value) == 'input: expected shape (*, 3, 4) ending in normalized_shape, got (2, 4, 3)'
    with pytest.raises(ValueError) as info: mod.LayerNorm(5)(arr(5, 1))
    assert str(info.value) == 'input: expected shape (*, 5) ending in normalized_shape, got (5, 1)'
    for bad in ((3, 2.5), (2.0,), [4, np.float64(3)]):
        with pytest.raises(TypeError, match='normalized_shape: expected an integer'): mod.LayerNorm(bad)
    assert mod.LayerNorm((np.int64(3), 1)).normalized_shape == (3, 1)


def test_norm_mlp_defaults_and_smallest_width():
    "By default eight hidden blocks of width 64 between 64 inputs and 10 outputs; a width of 1 is allowed."
    model = dnp_norm.norm_mlp(generator=0)
    linears = [m for m in model if isinstance(m, NumpyLinear)]
    assert len(model) == 17 and len(linears) == 9
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 64)] * 8 + [(64, 10)]
    narrow = dnp_norm.norm_mlp(depth=2, width=1, in_features=3, out_features=2, generator=0)
    assert [(m.in_features, m.out_features) for m in narrow if isinstance(m, NumpyLinear)] == [(3, 1), (1, 1), (1, 2)]
    assert narrow(np.ones((4, 3), np.float32)).shape == (4, 2)


@pytest.mark.parametrize('batch_norm', [False, True])
def test_norm_mlp_builds_every_layer_in_the_dtype_asked_for(batch_norm):
    model = dnp_norm.norm_mlp(depth=2, width=4, batch_norm=batch_norm, in_features=3, out_features=2, dtype='float64', generator=0)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert {b.dtype for n, b in model.named_buffers() if 'running' in n} == ({np.dtype(np.float64)} if batch_norm else set())
    out = model(np.ones((5, 3)))
    assert out.dtype == np.float64 and model.backward(np.ones_like(out)).dtype == np.float64
    assert {p.dtype for p in dnp_norm.norm_mlp(depth=2, width=4, batch_norm=batch_norm, generator=0).parameters()} == {np.dtype(np.float32)}


def test_standardize_errors_name_the_argument_that_is_wrong():
    x = np.ones((4, 3))
    x_hat, _, _, inv_std = dnp_norm.standardize(x, (0,), 1e-5)
    with pytest.raises(TypeError, match='^eps: expected a real number'): dnp_norm.standardize(x, (0,), 'small')
    with pytest.raises(TypeError, match='^x_hat: expected a NumPy array'): dnp_norm.standardize_backward(x, x_hat.tolist(), inv_std, (0,))
    with pytest.raises(TypeError, match='^grad_x_hat: expected a NumPy array'): dnp_norm.standardize_backward(x.tolist(), x_hat, inv_std, (0,))
    with pytest.raises(TypeError, match='^inv_std: expected a NumPy array'): dnp_norm.standardize_backward(x, x_hat, inv_std.tolist(), (0,))
