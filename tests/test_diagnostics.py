"""Learner callbacks of lesson 8f: the before_step event, GradientClipping and ActivationStats, for both backends."""
import math

import numpy as np
import pytest
import torch

from dlcourse import numpy as dnp
from dlcourse.core import manual_seed
from dlcourse.data import ArrayDataset, DataLoader
from dlcourse.diagnostics import (ActivationStats, GradientClipping, activation_summary, clip_functions, default_layers,
                                  layer_grad_norms, plot_activation_stats, plot_color_dim, plot_grad_norms)
from dlcourse.learner import Callback, CancelBatchException, Learner, TrainingDiverged
from dlcourse.numpy.losses import CrossEntropyLoss
from dlcourse.numpy.nn import Linear, ReLU, Sequential
from dlcourse.numpy.optim import SGD
from dlcourse.torch import nn as tnn
from dlcourse.torch.losses import CrossEntropyLoss as TorchCrossEntropyLoss
from dlcourse.torch.optim import SGD as TorchSGD


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])[y] + rng.normal(scale=0.5, size=(n, 2)), y.astype(np.int64)


def learner(backend='numpy', lr=0.1, cbs=(), hidden=(16, 16), scale=1.0, epochs_data=None):
    "A small MLP on three blobs; the PyTorch one starts from the NumPy one's weights."
    X, y = blobs()
    manual_seed(0)
    model = dnp.MLP(2, [*hidden, 3], dtype='float64')
    for layer in model:
        if isinstance(layer, Linear): layer.weight.data *= scale
    dl = DataLoader(ArrayDataset(X, y), batch_size=16, shuffle=True, generator=0)
    valid = [(X, y)]
    if backend == 'numpy':
        return Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr), dl, valid, cbs=cbs, progress=False)
    tmodel = tnn.MLP(2, [*hidden, 3], dtype=torch.float64)
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return Learner(tmodel, TorchCrossEntropyLoss(), TorchSGD(tmodel.parameters(), lr=lr), dl, valid, cbs=cbs, progress=False)


def weights(learn):
    return {k: np.asarray(v.detach().numpy() if torch.is_tensor(v) else v).copy() for k, v in learn.model.state_dict().items()}


# --- the Learner's before_step event ---------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', ('numpy', 'torch'))
def test_before_step_runs_between_backward_and_update(backend):
    seen = []

    class Probe(Callback):
        def before_batch(self, learn): self.before = weights(learn)
        def before_step(self, learn):
            grads = [p.grad for p in learn.model.parameters()]
            assert all(g is not None for g in grads)                              # after the backward pass
            assert all(np.array_equal(self.before[k], v) for k, v in weights(learn).items())  # before the update
            seen.append(learn.step)
        def after_batch(self, learn):
            assert any(not np.array_equal(self.before[k], v) for k, v in weights(learn).items())

    learn = learner(backend, cbs=[Probe()])
    learn.fit(1)
    assert seen == list(range(6))


@pytest.mark.parametrize('backend', ('numpy', 'torch'))
def test_cancel_batch_in_before_step_skips_the_update(backend):
    class Freeze(Callback):
        def before_step(self, learn): raise CancelBatchException

    learn = learner(backend, cbs=[Freeze()])
    start = weights(learn)
    learn.fit(1)
    assert learn.step == 0 and learn.history.step_loss == []
    assert all(np.array_equal(start[k], v) for k, v in weights(learn).items())


# --- GradientClipping ------------------------------------------------------------------------------------------------

class BuiltinClip(Callback):
    "Reference: torch.nn.utils.clip_grad_norm_ / clip_grad_value_ in before_step."
    def __init__(self, max_norm=None, clip_value=None): self.max_norm, self.clip_value = max_norm, clip_value
    def before_step(self, learn):
        if self.max_norm is not None: torch.nn.utils.clip_grad_norm_(learn.model.parameters(), self.max_norm)
        else: torch.nn.utils.clip_grad_value_(learn.model.parameters(), self.clip_value)


@pytest.mark.parametrize('mode', ({'max_norm': 0.3}, {'clip_value': 0.05}))
def test_gradient_clipping_both_backends_follow_torch_nn_utils(mode):
    runs = {}
    for name, backend, cb in (('numpy', 'numpy', GradientClipping(**mode)), ('torch', 'torch', GradientClipping(**mode)),
                              ('builtin', 'torch', BuiltinClip(**mode))):
        learn = learner(backend, lr=0.5, cbs=[cb])
        learn.fit(3)
        runs[name] = (weights(learn), np.array(learn.history.step_loss), cb)
    ref_w, ref_loss, _ = runs['builtin']
    for name in ('numpy', 'torch'):
        w, loss, cb = runs[name]
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-10)
        for k in ref_w: np.testing.assert_allclose(w[k], ref_w[k], rtol=1e-10, atol=1e-12)
    if 'max_norm' in mode:
        np.testing.assert_allclose(runs['numpy'][2].norms, runs['torch'][2].norms, rtol=1e-10)
        assert 0 < runs['numpy'][2].clipped_fraction <= 1


def test_gradient_clipping_logs_norm_before_clipping_and_inf_only_measures():
    measure = GradientClipping(max_norm=math.inf)
    learn = learner('numpy', cbs=[measure])
    plain = learner('numpy')
    learn.fit(2); plain.fit(2)
    assert measure.clipped_fraction == 0.0 and len(measure.norms) == 12
    np.testing.assert_array_equal(learn.history.step_loss, plain.history.step_loss)
    threshold = float(np.median(measure.norms))
    clip = GradientClipping(max_norm=threshold)
    learner('numpy', cbs=[clip]).fit(1)
    assert clip.norms[0] == measure.norms[0]                     # the first norm is before any clipping
    assert 0 < clip.clipped_fraction < 1


@pytest.mark.parametrize('backend', ('numpy', 'torch'))
def test_clipping_by_value_bounds_every_gradient_entry(backend):
    class After(Callback):
        order = 20
        def before_step(self, learn):
            self.largest = max(float(np.abs(np.asarray(p.grad.detach() if torch.is_tensor(p.grad) else p.grad)).max())
                               for p in learn.model.parameters())
    after = After()
    learner(backend, cbs=[GradientClipping(clip_value=0.01), after]).fit(1)
    assert after.largest <= 0.01


def test_clipping_saves_a_diverging_run():
    with pytest.raises(TrainingDiverged): learner('numpy', lr=50.0, scale=8.0, hidden=(32,) * 4).fit(3)
    learn = learner('numpy', lr=50.0, scale=8.0, hidden=(32,) * 4, cbs=[GradientClipping(max_norm=0.01)])
    learn.fit(3)
    assert np.isfinite(learn.history.step_loss).all()


def test_clip_functions_pick_the_backend():
    from dlcourse.numpy import clip as nclip
    from dlcourse.torch import clip as tclip
    assert clip_functions(dnp.MLP(2, [3])) is nclip and clip_functions(tnn.MLP(2, [3])) is tclip


def test_gradient_clipping_bad_input():
    with pytest.raises(ValueError, match='max_norm, clip_value: expected exactly one of them'): GradientClipping()
    with pytest.raises(ValueError, match='expected exactly one'): GradientClipping(max_norm=1.0, clip_value=1.0)
    with pytest.raises(ValueError, match='max_norm: expected a value >= 0'): GradientClipping(max_norm=-1.0)
    with pytest.raises(ValueError, match='clip_value: expected a value >= 0'): GradientClipping(clip_value=-1.0)
    with pytest.raises(TypeError, match='norm_type: expected a real number'): GradientClipping(max_norm=1.0, norm_type='l2')
    with pytest.raises(ValueError, match='only known when clipping by norm'): GradientClipping(clip_value=1.0).clipped_fraction
    assert math.isnan(GradientClipping(max_norm=1.0).clipped_fraction)
    assert repr(GradientClipping(clip_value=0.5)) == 'GradientClipping(clip_value=0.5)'


# --- hooks -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_activation_stats_hooks_each_observed_layer_once_per_call_and_removes_them(backend):
    cb = ActivationStats()
    learn = learner(backend, cbs=[cb])
    calls = []
    # a second hook on an observed layer, registered the same way in both backends, counts the calls
    handle = learn.model[1].register_forward_hook(lambda m, args, out: calls.append(out.shape))
    learn.fit(1)
    hooks = lambda m: m._forward_hooks
    assert [len(hooks(m)) for m in learn.model.modules()] == [0, 0, 1, 0, 0, 0]   # only ours is left after fit
    handle.remove()
    assert len(calls) == 6 + 1 and len(cb.steps) == 6                              # 6 training batches + 1 evaluation


# --- ActivationStats -------------------------------------------------------------------------------------------------

def test_activation_summary_numpy_and_torch_agree_and_handle_nonfinite():
    x = np.random.default_rng(0).normal(scale=2.0, size=(64, 32))
    m1, s1, h1 = activation_summary(x)
    m2, s2, h2 = activation_summary(torch.from_numpy(x))
    assert m1 == pytest.approx(x.mean(), rel=1e-12) and s1 == pytest.approx(x.std(), rel=1e-12)
    assert m2 == pytest.approx(m1, rel=1e-12) and s2 == pytest.approx(s1, rel=1e-12)
    np.testing.assert_array_equal(h1, h2)
    assert h1.sum() == x.size and len(h1) == 40
    edge = np.array([-5.0, -3.0, 3.0, 7.0, np.inf, -np.inf, np.nan])
    for a in (edge, torch.from_numpy(edge)):
        mean, std, counts = activation_summary(a, bins=6, hist_range=(-3.0, 3.0))
        assert math.isnan(mean) and math.isnan(std)
        np.testing.assert_array_equal(counts, [3, 0, 0, 0, 0, 3])   # clamped into the end bins, NaN left out
    assert activation_summary(np.ones(3, dtype=np.float32))[0] == 1.0


@pytest.mark.parametrize('every', (1, 4))
def test_activation_stats_numpy_and_torch_record_the_same(every):
    stats = {}
    for backend in ('numpy', 'torch'):
        cb = ActivationStats(every=every, hist_range=(-1.0, 5.0), bins=20)
        learn = learner(backend, cbs=[cb])
        learn.fit(2)
        stats[backend] = cb
    a, b = stats['numpy'], stats['torch']
    assert a.layers == b.layers == ['1', '3'] and a.grad_layers == b.grad_layers == ['0', '2', '4']
    np.testing.assert_array_equal(a.steps, np.arange(0, 12, every))         # training steps only, not evaluation
    assert a.means.shape == (len(a.steps), 2) and a.hists.shape == (len(a.steps), 2, 20)
    assert a.grad_norms.shape == (len(a.steps), 3)
    for name in ('means', 'stds', 'grad_norms'):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10)
    np.testing.assert_array_equal(a.hists, b.hists)
    assert (a.hists.sum(axis=2) == 16 * 16).all()                           # batch 16 x width 16, every value counted
    np.testing.assert_allclose(a.bin_edges, np.linspace(-1, 5, 21))


def test_activation_stats_values_match_a_manual_forward_and_grad_norms():
    cb = ActivationStats(modules=['0', '3'])
    learn = learner('numpy', cbs=[cb])
    model = learn.model
    x, y = next(iter(learner('numpy').train_dl))     # a fresh loader with the same seed: the first batch of the fit
    first = model[0](x)
    third = model[3](model[2](model[1](first)))
    learn.fit(1)
    assert cb.layers == ['0', '3']
    assert cb.means[0, 0] == pytest.approx(first.mean(), rel=1e-12)
    assert cb.stds[0, 1] == pytest.approx(third.std(), rel=1e-12)
    norms = cb.grad_norms[-1]
    manual = layer_grad_norms(model)
    np.testing.assert_allclose(norms, [manual[k] for k in cb.grad_layers], rtol=1e-12)
    for name, value in manual.items():
        grads = [p.grad for n, p in model.named_parameters() if n.rpartition('.')[0] == name]
        assert value == pytest.approx(math.sqrt(sum((g ** 2).sum() for g in grads)), rel=1e-12)


def test_activation_stats_reads_gradients_before_clipping():
    stats, clip = ActivationStats(), GradientClipping(max_norm=1e-3)
    learner('numpy', cbs=[clip, stats]).fit(1)
    total = np.sqrt((stats.grad_norms ** 2).sum(axis=1))
    np.testing.assert_allclose(total, clip.norms, rtol=1e-10)


def test_hooks_are_removed_after_fit_even_when_training_diverges():
    cb = ActivationStats()
    learn = learner('numpy', lr=1e4, scale=10.0, hidden=(32,) * 4, cbs=[cb])
    with pytest.raises(TrainingDiverged) as info: learn.fit(3)
    assert not any(m._forward_hooks for m in learn.model.modules())
    assert len(cb.steps) == info.value.step                                 # the diverging step is recorded too
    assert not np.isfinite(cb.stds[-1]).all() or not np.isfinite(cb.grad_norms[-1]).all()
    cb.means; cb.hists                                                      # NaN statistics do not break the arrays


def test_repeated_fits_accumulate_and_grads_off():
    cb = ActivationStats(grads=False)
    learn = learner('numpy', cbs=[cb])
    learn.fit(1); learn.fit(1)
    np.testing.assert_array_equal(cb.steps, np.arange(12))
    assert np.isnan(cb.grad_norms).all()


def test_default_layers():
    assert default_layers(dnp.MLP(2, [4, 4, 3])) == ['1', '3']
    assert default_layers(tnn.MLP(2, [4, 4, 3])) == ['1', '3']
    assert default_layers(Sequential(Linear(2, 3), Linear(3, 1))) == ['0', '1']
    nested = Sequential(Sequential(Linear(2, 3), ReLU()), Linear(3, 1))
    assert default_layers(nested) == ['0.1']


def test_plots_draw():
    import matplotlib.pyplot as plt
    cb = ActivationStats()
    learner('numpy', cbs=[cb]).fit(1)
    axes = plot_activation_stats(cb)
    assert len(axes[0].lines) == 2 and axes[1].get_yscale() == 'log'
    fig = plot_color_dim(cb, ncols=1)
    assert len(fig.axes) == 2 and fig.axes[0].images
    ax = plot_grad_norms(cb)
    assert len(ax.lines) == 3
    plt.close('all')


def test_activation_stats_bad_input():
    with pytest.raises(ValueError, match='every: expected a value >= 1'): ActivationStats(every=0)
    with pytest.raises(ValueError, match='bins: expected a value >= 1'): ActivationStats(bins=0)
    with pytest.raises(ValueError, match='hist_range: expected low < high'): ActivationStats(hist_range=(1.0, 1.0))
    with pytest.raises(ValueError, match='hist_range: expected a pair'): ActivationStats(hist_range=(1.0,))
    with pytest.raises(ValueError, match='hist_range: expected a finite number'): ActivationStats(hist_range=(0.0, math.inf))
    with pytest.raises(TypeError, match='modules: expected a list of module names'): ActivationStats(modules='1')
    with pytest.raises(TypeError, match='modules: expected a list of module names'): ActivationStats(modules=[1])
    with pytest.raises(TypeError, match='grads: expected True or False'): ActivationStats(grads='yes')
    with pytest.raises(ValueError, match='nothing recorded yet'): ActivationStats().stds
    with pytest.raises(ValueError, match=r"modules: no module named \['9'\]"): learner('numpy', cbs=[ActivationStats(modules=['9'])]).fit(1)
    cb = ActivationStats()
    learn = learner('numpy', cbs=[cb]); learn.fit(1)
    cb.modules = ['0']
    with pytest.raises(ValueError, match='recorded layers'): learn.fit(1)
    with pytest.raises(TypeError, match='stats: expected an ActivationStats'): plot_color_dim(GradientClipping(max_norm=1.0))
    with pytest.raises(ValueError, match='ncols: expected a value >= 1'): plot_color_dim(cb, ncols=0)
    with pytest.raises(TypeError, match='a: expected a floating NumPy array or tensor'): activation_summary(np.arange(3))
    with pytest.raises(ValueError, match='bins'): activation_summary(np.ones(3), bins=0)


def test_events_plots_and_helpers_check_what_they_are_given():
    import matplotlib.pyplot as plt
    clip, stats = GradientClipping(max_norm=1.0), ActivationStats()
    for event in (clip.before_fit, clip.before_step, stats.before_fit, stats.before_batch, stats.before_step, stats.after_fit):
        with pytest.raises(TypeError, match='learn: expected the Learner'): event('not a learner')
    for helper in (layer_grad_norms, default_layers):
        with pytest.raises(TypeError, match='model: expected a dlcourse.numpy Module or a torch.nn.Module'): helper(3)
    cb = ActivationStats()
    learner('numpy', cbs=[cb]).fit(1)
    for plot in (plot_activation_stats, plot_color_dim, plot_grad_norms):
        with pytest.raises(TypeError, match='title: expected a string'): plot(cb, title=None)
    with pytest.raises(TypeError, match='axes: expected 2 matplotlib Axes'): plot_activation_stats(cb, axes=object())
    with pytest.raises(TypeError, match='ax: expected 1 matplotlib Axes'): plot_grad_norms(cb, ax='x')
    with pytest.raises(TypeError, match='modules: expected a list of module names'): ActivationStats(modules=object())
    plt.close('all')
