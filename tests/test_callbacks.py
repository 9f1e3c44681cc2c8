"""Early stopping (dlcourse.callbacks) with scripted validation scores, both backends; and the overfitting exploration."""
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dlcourse.callbacks import EarlyStopping, snapshot_state
from dlcourse.core import manual_seed
from dlcourse.data import ArrayDataset, DataLoader
from dlcourse.learner import CancelFitException, History, Learner
from dlcourse.numpy.losses import CrossEntropyLoss, MSELoss
from dlcourse.numpy.nn import MLP, Linear
from dlcourse.numpy.optim import SGD
from dlcourse.torch.losses import CrossEntropyLoss as TorchCrossEntropyLoss
from dlcourse.torch.nn import MLP as TorchMLP
from dlcourse.torch.optim import SGD as TorchSGD


def numpy_model():
    return Linear(2, 1, dtype='float64')


def torch_model():
    return torch.nn.Linear(2, 1, dtype=torch.float64)


def set_weight(model, value):
    "Mark the model's weights with the epoch number, in place (as an optimizer would change them)."
    if isinstance(model, torch.nn.Module):
        with torch.no_grad(): model.weight.fill_(value)
    else:
        model.weight.data[...] = value


def weight(model):
    w = model.weight
    return float(w.detach()[0, 0]) if isinstance(w, torch.Tensor) else float(w.data[0, 0])


def idle_learner(model=None, epochs=()):
    "A Learner for `model` that a test drives by hand instead of fitting it, its history holding the records `epochs`."
    model = numpy_model() if model is None else model
    if isinstance(model, torch.nn.Module):
        learn = Learner(model, torch.nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                        [(torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64))], progress=False)
    else:
        learn = Learner(model, MSELoss(), SGD(model.parameters(), lr=0.1), [(np.zeros((1, 2)), np.zeros((1, 1)))], progress=False)
    learn.history.epochs += list(epochs)
    return learn


def scripted(scores, model=None, monitor='valid_loss', **kwargs):
    "Feed `scores` to EarlyStopping through a Learner that is never fit, weights set to the epoch number; return (callback, epochs run)."
    model = numpy_model() if model is None else model
    learn = idle_learner(model)
    es = EarlyStopping(monitor=monitor, **kwargs)
    es.before_fit(learn)
    ran = 0
    try:
        for epoch, score in enumerate(scores):
            set_weight(model, epoch)
            learn.history.epochs.append({'epoch': epoch, 'train_loss': 1.0, monitor: score})
            ran += 1
            es.after_epoch(learn)
    except CancelFitException:
        pass
    finally:
        es.after_fit(learn)
    return es, ran, model


@pytest.mark.parametrize('make_model', [numpy_model, torch_model], ids=['numpy', 'torch'])
@pytest.mark.parametrize('patience', [0, 1, 3, 5])
def test_stops_within_patience_and_restores_best(make_model, patience):
    rng = np.random.default_rng(patience)
    scores = list(np.linspace(1.0, 0.5, 6)) + list(0.6 + rng.random(20))   # best at epoch 5, never beaten after
    es, ran, model = scripted(scores, make_model(), patience=patience)
    assert es.best_epoch == 5 and es.best_score == pytest.approx(0.5)
    assert es.stopped_epoch == ran - 1
    assert 1 <= es.stopped_epoch - es.best_epoch <= patience + 1
    assert es.stopped_epoch - es.best_epoch == max(patience, 1)
    assert weight(model) == 5.0


@pytest.mark.parametrize('make_model', [numpy_model, torch_model], ids=['numpy', 'torch'])
def test_snapshot_is_a_copy(make_model):
    model = make_model()
    set_weight(model, 1.0)
    saved = snapshot_state(model)
    set_weight(model, 7.0)
    assert float(saved['weight'][0, 0]) == 1.0


def test_no_stop_when_always_improving_and_restore_off():
    es, ran, model = scripted([5, 4, 3, 2, 1], patience=1)
    assert (ran, es.stopped_epoch, es.best_epoch, weight(model)) == (5, None, 4, 4.0)
    es, ran, model = scripted([1, 2, 3, 4], patience=1, restore_best_weights=False)
    assert (es.stopped_epoch, es.best_epoch, weight(model)) == (1, 0, 1.0)
    assert es.best_state is None


def test_mode_max():
    es, ran, model = scripted([0.5, 0.7, 0.9, 0.8, 0.85, 0.6], monitor='valid_accuracy', mode='max', patience=2)
    assert (es.best_epoch, es.best_score, es.stopped_epoch, weight(model)) == (2, 0.9, 4, 2.0)


def test_ties_are_not_improvements():
    es, _, _ = scripted([0.5, 0.5, 0.5], patience=1)
    assert (es.best_epoch, es.stopped_epoch) == (0, 1)


def test_min_delta():
    # improvements of 0.01 are below min_delta=0.05: epoch 0 stays the best
    es, _, model = scripted([1.0, 0.99, 0.98, 0.97, 0.5], patience=3, min_delta=0.05)
    assert (es.best_epoch, es.stopped_epoch, weight(model)) == (0, 3, 0.0)
    # an improvement of exactly min_delta is not enough; more than it is
    es, _, _ = scripted([1.0, 0.75, 0.76], patience=5, min_delta=0.25)
    assert es.best_epoch == 0
    es, _, _ = scripted([1.0, 0.74], patience=5, min_delta=0.25)
    assert es.best_epoch == 1
    es, _, _ = scripted([0.5, 0.6, 0.81], monitor='valid_accuracy', mode='max', patience=5, min_delta=0.2)
    assert es.best_epoch == 2


def test_nan_is_never_an_improvement():
    es, _, model = scripted([1.0, float('nan'), float('nan')], patience=2)
    assert (es.best_epoch, es.stopped_epoch, weight(model)) == (0, 2, 0.0)


def test_improved_takes_a_number_and_refuses_nan():
    es = EarlyStopping()
    assert es.improved(1.0) and not es.improved(float('inf')) and es.improved(np.float32(0.5))
    for bad, error in (('x', TypeError), (None, TypeError), (True, TypeError), (float('nan'), ValueError)):
        with pytest.raises(error, match='^score'):
            es.improved(bad)


@pytest.mark.parametrize('hook', ['before_fit', 'after_epoch', 'after_fit'])
@pytest.mark.parametrize('learn', [3, 'learn', SimpleNamespace(model=None), SimpleNamespace(history=History(), model=None)])
def test_hooks_refuse_something_that_is_not_a_learner(hook, learn):
    with pytest.raises(TypeError, match='^learn: expected the Learner that runs the fit'):
        getattr(EarlyStopping(), hook)(learn)


def test_after_epoch_needs_a_recorded_epoch():
    with pytest.raises(ValueError, match='^learn: learn.history holds no epoch'):
        EarlyStopping().after_epoch(idle_learner())


def test_reset_between_fits():
    learn = idle_learner()
    es = EarlyStopping(patience=0)
    es.before_fit(learn)
    learn.history.epochs += [{'epoch': 0, 'valid_loss': 1.0}]
    es.after_epoch(learn)
    es.before_fit(learn)
    assert (es.best_score, es.best_epoch, es.stopped_epoch, es.wait) == (None, None, None, 0)


@pytest.mark.parametrize('kwargs, error, message', [
    (dict(mode='maximum'), ValueError, "mode: expected one of 'min', 'max'"),
    (dict(mode=None), ValueError, 'mode:'),
    (dict(patience=-1), ValueError, 'patience: expected a value >= 0'),
    (dict(patience=2.5), TypeError, 'patience: expected an integer'),
    (dict(patience=True), TypeError, 'patience:'),
    (dict(min_delta=-0.1), ValueError, 'min_delta: expected a value >= 0'),
    (dict(min_delta=float('nan')), ValueError, 'min_delta'),
    (dict(min_delta='0.1'), TypeError, 'min_delta'),
    (dict(monitor=3), TypeError, 'monitor: expected the name'),
    (dict(restore_best_weights=1), TypeError, 'restore_best_weights'),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=None) as info:
        EarlyStopping(**kwargs)
    assert message in str(info.value)


def test_unknown_monitor_names_the_available_keys():
    learn = idle_learner(epochs=[{'epoch': 0, 'train_loss': 1.0, 'valid_loss': 0.5}])
    with pytest.raises(ValueError) as info:
        EarlyStopping(monitor='val_loss').after_epoch(learn)
    assert "monitor: 'val_loss' is not recorded in learn.history; available: epoch, train_loss, valid_loss" == str(info.value)
    learn = idle_learner(epochs=[{'epoch': 0, 'train_loss': 1.0}])
    with pytest.raises(ValueError, match='available: epoch, train_loss.*pass valid_dl'):
        EarlyStopping().after_epoch(learn)


def test_snapshot_state_rejects_non_models():
    with pytest.raises(TypeError, match='model: expected a model with state_dict'):
        snapshot_state(object())


def blobs(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])[y] + rng.normal(scale=1.5, size=(n, 2)), y.astype(np.int64)


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_learner_end_to_end(backend):
    "A big network on few noisy points overfits; early stopping triggers and the restored model scores the best loss."
    X, y = blobs()
    y_noisy = y.copy(); y_noisy[::4] = (y_noisy[::4] + 1) % 3
    Xv, yv = blobs(300, seed=1)
    manual_seed(0); torch.manual_seed(0)
    if backend == 'numpy':
        model = MLP(2, [128, 128, 3], dtype='float64')
        loss, opt = CrossEntropyLoss(), SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        model = TorchMLP(2, [128, 128, 3], dtype=torch.float64)
        loss, opt = TorchCrossEntropyLoss(), TorchSGD(model.parameters(), lr=0.05, momentum=0.9)
    es = EarlyStopping(patience=3)
    learn = Learner(model, loss, opt, DataLoader(ArrayDataset(X, y_noisy), batch_size=10, shuffle=True, generator=0),
                    DataLoader(ArrayDataset(Xv, yv), batch_size=300), cbs=[es], progress=False)
    history = learn.fit(200)
    assert es.stopped_epoch is not None and len(history.epochs) == es.stopped_epoch + 1 < 200
    assert es.stopped_epoch - es.best_epoch == 3
    losses = history.column('valid_loss')
    assert es.best_score == pytest.approx(losses.min()) and es.best_epoch == int(losses.argmin())
    assert learn.evaluate(learn.valid_dl)['loss'] == pytest.approx(es.best_score, rel=1e-12)


def test_unknown_monitor_in_a_fit_propagates():
    X, y = blobs()
    manual_seed(0)
    model = MLP(2, [8, 3], dtype='float64')
    learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), DataLoader(ArrayDataset(X, y), batch_size=30),
                    cbs=[EarlyStopping()], progress=False)
    with pytest.raises(ValueError, match="'valid_loss' is not recorded.*pass valid_dl"):
        learn.fit(2)


# the exploration's computation (dlcourse.explore.overfitting)
from dlcourse.explore.overfitting import (Curves, add_label_noise, plot_curves, plot_grid, plot_sweep, precompute_grid,
                                          sweep, train_curves, training_subset)


def test_add_label_noise():
    y = np.arange(100) % 10
    before = y.copy()
    noisy = add_label_noise(y, 0.3, seed=1)
    assert (noisy != y).sum() == 30 and np.array_equal(y, before)
    assert noisy.min() >= 0 and noisy.max() < 10
    assert np.array_equal(add_label_noise(y, 0.0), y)
    assert (add_label_noise(y, 1.0) != y).all()
    assert np.array_equal(add_label_noise(y, 0.3, seed=1), noisy)


@pytest.mark.parametrize('kwargs, message', [
    (dict(noise=-0.1), 'noise: expected a value in [0, 1]'),
    (dict(noise=0.1, num_classes=0), 'num_classes: expected a value >= 1'),
    (dict(noise=0.1, num_classes=3), 'y: labels must lie in [0, num_classes=3)'),
    (dict(noise=0.1, seed=-1), 'seed: expected a value >= 0'),
])
def test_add_label_noise_bad_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        add_label_noise(np.arange(10), **kwargs)
    assert message in str(info.value)
    with pytest.raises(ValueError, match='label noise needs at least 2 classes'):
        add_label_noise(np.zeros(4, dtype=np.int64), 0.5)
    with pytest.raises(TypeError, match='y:'):
        add_label_noise(np.array([0.5, 1.0]), 0.1)


def test_training_subset_and_curves():
    X_train, y_train, X_valid, y_valid = training_subset(0.1, 0.2)
    assert len(y_train) == round(0.1 * 1257) and X_valid.shape == (len(y_valid), 64)
    assert abs(X_train.mean()) < 1e-5
    curves = train_curves(width=8, fraction=0.1, noise=0.2, epochs=3)
    assert isinstance(curves, Curves) and curves.train_error.shape == (3,)
    assert train_curves(width=8, fraction=0.1, noise=0.2, epochs=3) is curves
    with pytest.raises(ValueError):
        curves.valid_error[0] = 0.0
    assert 0 <= curves.valid_error.min() and curves.valid_error.max() <= 1


def test_memorising_small_noisy_data():
    "A wide net on 5% of the digits with 30% wrong labels: training error far below the noise, a large gap."
    curves = train_curves(width=128, fraction=0.05, noise=0.3)
    assert curves.train_error[-1] < 0.1 and curves.gap > 0.25


def test_weight_decay_curbs_memorising_noisy_labels():
    "The lesson's sweep: with 30% wrong labels a moderate weight decay lifts training error and cuts validation error."
    plain = train_curves(width=256, fraction=0.25, noise=0.3)
    decayed = train_curves(width=256, fraction=0.25, noise=0.3, weight_decay=0.03)
    assert decayed.train_error[-1] > plain.train_error[-1] + 0.1
    assert decayed.valid_error[-1] < plain.valid_error[-1] - 0.05
    crushed = train_curves(width=256, fraction=0.25, noise=0.3, weight_decay=0.3)
    assert crushed.valid_error[-1] > decayed.valid_error[-1] + 0.2  # too strong: underfits


@pytest.mark.parametrize('knob, values, settings, message', [
    ('height', [1], {}, "knob: expected one of"),
    ('width', [4], dict(width=8), "'width' is the knob being swept"),
    ('width', [], {}, 'values: expected at least one value'),
    ('fraction', [0.0], {}, 'fraction: expected a value in (0, 1]'),
    ('noise', [1.0], {}, 'noise: expected a value in [0, 1)'),
    ('depth', [0], {}, 'depth: expected a value >= 1'),
    ('weight_decay', [-1e-3], {}, 'weight_decay: expected a value >= 0'),
])
def test_sweep_bad_input(knob, values, settings, message):
    with pytest.raises(ValueError) as info:
        sweep(knob, values, **settings)
    assert message in str(info.value)


def test_sweep_checks_every_value_and_setting_before_training(monkeypatch):
    import dlcourse.explore.overfitting as ov
    trained = []
    monkeypatch.setattr(ov, '_train_curves', lambda *args: trained.append(args))
    for call, message in ((lambda: sweep('width', [4, 0]), 'values[1]: width: expected a value >= 1'),
                          (lambda: sweep('width', [4, 'x']), 'values[1]: expected a real number'),
                          (lambda: sweep('width', 'x'), 'values: expected a list, tuple or 1-D array of numbers'),
                          (lambda: sweep('width', [4], epochs=0), 'settings: epochs: expected a value >= 1'),
                          (lambda: sweep('width', [4], colour='red'), 'settings: '),
                          (lambda: plot_grid(widths=(4, 0)), 'widths[1]: width'),
                          (lambda: plot_grid(fractions=(0.1, 2.0)), 'fractions[1]: fraction'),
                          (lambda: precompute_grid(noises=(0.0, 1.0)), 'noises[1]: noise'),
                          (lambda: precompute_grid(weight_decays=object()), 'weight_decays: expected a list')):
        with pytest.raises((TypeError, ValueError), match=re.escape(message)):
            call()
    assert trained == []


def test_training_subset_checks_before_loading(monkeypatch):
    import dlcourse.explore.overfitting as ov
    monkeypatch.setattr(ov, 'digits_splits', lambda **kwargs: pytest.fail('loaded the data before checking'))
    for kwargs, message in ((dict(fraction=0.0), 'fraction'), (dict(noise=1.5), 'noise'), (dict(seed=None), 'seed')):
        with pytest.raises((TypeError, ValueError), match=message):
            training_subset(**kwargs)


def test_curves_checks_and_copies_its_columns():
    column = np.array([0.5, 0.4])
    curves = Curves((), column, column, column, column)
    assert curves.train_error is not column and column.flags.writeable and not curves.train_error.flags.writeable
    with pytest.raises(TypeError, match='settings'): Curves([], column, column, column, column)
    with pytest.raises(TypeError, match='train_loss'): Curves((), column, column, [0.5, 0.4], column)
    with pytest.raises(ValueError, match='valid_loss: expected one value per epoch'): Curves((), column, column, column, column[:1])
    with pytest.raises(ValueError, match='train_error'): Curves((), column[:0], column[:0], column[:0], column[:0])


def test_plots_check_what_they_draw():
    import matplotlib.pyplot as plt
    curves = Curves((), *np.full((4, 3), 0.5))
    with pytest.raises(TypeError, match='curves'): plot_curves({'train_error': [0.5]})
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): plot_curves(curves, ax='left')
    with pytest.raises(TypeError, match='legend'): plot_curves(curves, legend='yes')
    result = dict(knob='width', values=[2, 4], train_error=np.array([0.5, 0.2]), valid_error=np.array([0.6, 0.4]))
    with pytest.raises(ValueError, match="result: expected the keys"): plot_sweep({'knob': 'width'})
    with pytest.raises(ValueError, match=re.escape("result['valid_error']")): plot_sweep({**result, 'valid_error': np.ones(3)})
    with pytest.raises(TypeError, match='log'): plot_sweep(result, log=None)
    assert plot_sweep(result, log=True).get_xscale() == 'log'
    plt.close('all')


def test_sweep_more_data_narrows_the_gap():
    result = sweep('fraction', [0.05, 0.5], width=64, noise=0.2, epochs=15)
    gaps = result['valid_error'] - result['train_error']
    assert gaps[1] < gaps[0]
