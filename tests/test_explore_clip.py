"""Lesson 8g's exploration: the tanh recurrence (BPTT by hand), its task, training with and without clipping."""
import math

import numpy as np
import pytest
import torch

from dlcourse.crosscheck import gradient_check
from dlcourse.explore.clip import (TASK_WEIGHTS, RecurrenceRun, TanhRecurrence, clipping_grid, plot_clipping_grid,
                                   plot_clipping_run, plot_run, recent_sum_task, train_recurrence)


def test_recurrence_gradient_check():
    model = TanhRecurrence(2, 5, 3, weight_scale=2.0, dtype='float64', generator=np.random.default_rng(0))
    errors = gradient_check(model, (np.random.default_rng(1).normal(size=(3, 7, 2)),))
    assert set(errors) == {'input', 'weight_ih', 'weight_hh', 'bias', 'readout.weight', 'readout.bias'}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize('scale', (0.5, 3.0))
def test_recurrence_matches_torch_rnn(scale):
    rng = np.random.default_rng(2)
    model = TanhRecurrence(3, 6, 2, weight_scale=scale, dtype='float64', generator=np.random.default_rng(3))
    model.bias.data = rng.normal(size=6)
    rnn = torch.nn.RNN(3, 6, batch_first=True, dtype=torch.float64)
    readout = torch.nn.Linear(6, 2, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(model.weight_ih.data)); rnn.weight_hh_l0.copy_(torch.from_numpy(model.weight_hh.data))
        rnn.bias_ih_l0.copy_(torch.from_numpy(model.bias.data)); rnn.bias_hh_l0.zero_()
        readout.weight.copy_(torch.from_numpy(model.readout.weight.data)); readout.bias.copy_(torch.from_numpy(model.readout.bias.data))
    x = rng.normal(size=(4, 9, 3))
    xt = torch.tensor(x, requires_grad=True)
    out_t = readout(rnn(xt)[0][:, -1])
    g = rng.normal(size=(4, 2))
    out_t.backward(torch.from_numpy(g))
    out = model(x); gx = model.backward(g)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-11, atol=1e-14)
    for ours, theirs in ((model.weight_ih, rnn.weight_ih_l0), (model.weight_hh, rnn.weight_hh_l0), (model.bias, rnn.bias_ih_l0),
                         (model.readout.weight, readout.weight)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_weight_scale_is_the_spectral_radius_and_dtypes():
    for scale in (0.0, 0.7, 2.5):
        model = TanhRecurrence(hidden_size=16, weight_scale=scale, generator=np.random.default_rng(0))
        assert np.abs(np.linalg.eigvals(model.weight_hh.data.astype(np.float64))).max() == pytest.approx(scale, abs=1e-5)
    model = TanhRecurrence()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model(np.zeros((2, 4, 1), dtype=np.float32)).shape == (2, 1)
    assert 'hidden_size=16' in repr(model)


def test_recent_sum_task():
    X, y = recent_sum_task(50, steps=8, seed=1, dtype='float64')
    assert X.shape == (50, 8, 1) and y.shape == (50, 1) and X.dtype == y.dtype == np.float64
    np.testing.assert_allclose(y[:, 0], X[:, -1, 0] + 0.5 * X[:, -2, 0] + 0.25 * X[:, -3, 0])
    X2, _ = recent_sum_task(50, steps=8, seed=1)
    assert X2.dtype == np.float32 and np.allclose(X2, X, atol=1e-6)
    assert sum(w * w for w in TASK_WEIGHTS) == 1.3125


def test_must_show_clipping_decides_between_nan_and_training():
    tame = train_recurrence(weight_scale=1.0)
    chaotic = train_recurrence(weight_scale=2.5)
    clipped = train_recurrence(weight_scale=2.5, max_norm=1.0)
    assert tame.diverged_at is None and tame.valid_loss < 0.05                     # a tame recurrence trains unclipped
    assert chaotic.diverged_at is not None and math.isnan(chaotic.valid_loss)      # a chaotic one ends in NaN
    assert len(chaotic.loss) == chaotic.diverged_at - 1 and len(chaotic.grad_norm) == chaotic.diverged_at
    assert clipped.diverged_at is None and clipped.valid_loss < 0.5                # clipped, it learns (baseline 1.31)
    assert clipped.clipped_fraction > 0.9 and tame.clipped_fraction == 0.0
    np.testing.assert_array_equal(clipped.grad_norm[0], chaotic.grad_norm[0])      # same seed, same first gradient


def test_grid_and_plots():
    import matplotlib.pyplot as plt
    grid = clipping_grid(weight_scales=(1.0, 3.0), thresholds=(None, 1.0), seeds=(0,), epochs=1)
    assert list(grid) == [(1.0, None), (1.0, 1.0), (3.0, None), (3.0, 1.0)]
    assert all(isinstance(r, RecurrenceRun) and len(rs) == 1 for rs in grid.values() for r in rs)
    fig = plot_clipping_grid(grid)
    assert len(fig.axes) == 4
    axes = plot_clipping_run(3.0, 1.0)
    assert len(axes[0].lines) >= 3
    plt.close('all')


def test_bad_input():
    with pytest.raises(ValueError, match='hidden_size: expected a value >= 1'): TanhRecurrence(hidden_size=0)
    with pytest.raises(ValueError, match='weight_scale: expected a value >= 0'): TanhRecurrence(weight_scale=-0.5)
    with pytest.raises(TypeError, match='input_size: expected an integer'): TanhRecurrence(input_size=1.5)
    model = TanhRecurrence(1, 4)
    with pytest.raises(TypeError, match='input: expected dtype float32'): model(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match=r'input: expected shape \(batch, steps, 1\)'): model(np.zeros((2, 1), dtype=np.float32))
    with pytest.raises(ValueError, match='input: expected last dimension 1'): model(np.zeros((2, 3, 2), dtype=np.float32))
    with pytest.raises(RuntimeError, match='called before forward'): TanhRecurrence(1, 4).backward(np.zeros((2, 1), dtype=np.float32))
    with pytest.raises(ValueError, match=r'weights: expected 1 to 2 \(steps\) weights'): recent_sum_task(10, steps=2)
    with pytest.raises(ValueError, match='n: expected a value >= 1'): recent_sum_task(0)
    with pytest.raises(ValueError, match='max_norm: expected a value > 0'): train_recurrence(max_norm=0.0)
    with pytest.raises(TypeError, match='seed: expected an integer'): train_recurrence(seed=0.5)
    with pytest.raises(ValueError, match='seeds: expected at least one value'): clipping_grid(seeds=())
    with pytest.raises(ValueError, match='max_norm: expected a value > 0'): plot_clipping_run(max_norm=-1.0)


def test_generator_takes_an_int_seed_as_numpy_does():
    a, b = TanhRecurrence(1, 4, generator=3), TanhRecurrence(1, 4, generator=np.random.default_rng(3))
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    for bad in ('x', 2.5, -1):
        with pytest.raises((TypeError, ValueError), match='generator'): TanhRecurrence(1, 4, generator=bad)


def _run(**changes):
    fields = dict(weight_scale=2.0, max_norm=1.0, loss=np.ones(3), grad_norm=np.ones(3), diverged_at=None, valid_loss=0.5)
    return RecurrenceRun(**{**fields, **changes})


@pytest.mark.parametrize('call, error, match', [
    (lambda: _run(max_norm=0.0), ValueError, 'max_norm'),
    (lambda: _run(grad_norm=np.ones((3, 2))), ValueError, 'grad_norm'),
    (lambda: _run(diverged_at=0), ValueError, 'diverged_at'),
    (lambda: _run(valid_loss=float('nan')), ValueError, 'valid_loss'),
    (lambda: recent_sum_task(4, seed=-1), ValueError, 'seed'),
    (lambda: recent_sum_task(4, weights=()), ValueError, 'weights: expected at least one value'),
    (lambda: train_recurrence(lr=0.0), ValueError, 'lr'),
    (lambda: train_recurrence(n_train=0), ValueError, 'n_train'),
    (lambda: clipping_grid(thresholds=(0.0,)), ValueError, 'thresholds'),
    (lambda: plot_clipping_grid({'x': 1}), TypeError, 'grid: expected a dict'),
    (lambda: plot_clipping_grid({(1.0, None): [3]}), TypeError, 'grid: expected a RecurrenceRun'),
])
def test_more_bad_input(call, error, match):
    with pytest.raises(error, match=match): call()


def test_backward_wants_a_gradient_of_the_output_shape():
    model = TanhRecurrence(1, 4, generator=0)
    model(np.ones((2, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r'grad_output: expected shape \(2, 1\)'): model.backward(np.ones((3, 1), np.float32))
    with pytest.raises(TypeError, match='grad_output: expected a NumPy array'): model.backward([[1.0], [1.0]])


def test_a_diverged_run_has_no_validation_loss_and_plot_run_draws_it():
    import matplotlib.pyplot as plt
    run = _run(diverged_at=2, valid_loss=float('nan'))
    assert len(plot_run(run)) == 2
    with pytest.raises(ValueError, match='color'): plot_run(run, color='not a colour')
    plt.close('all')
