"""The shared training loop: both backends, callbacks, divergence, evaluation, bad input."""
import numpy as np
import pytest
import torch

from dlcourse import numpy as dnp
from dlcourse.core import manual_seed
from dlcourse.data import ArrayDataset, DataLoader
from dlcourse.learner import (Callback, CancelBatchException, CancelEpochException, CancelFitException, Learner, NumpyBackend, TorchBackend,
                              TrainingDiverged, accuracy)
from dlcourse.numpy.losses import CrossEntropyLoss, MSELoss
from dlcourse.numpy.optim import SGD
from dlcourse.torch import nn as tnn
from dlcourse.torch.losses import CrossEntropyLoss as TorchCrossEntropyLoss
from dlcourse.torch.optim import SGD as TorchSGD


def blobs(n=120, seed=0):
    "Three well separated Gaussian blobs in 2-D: an easy classification task."
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    return centers[y] + rng.normal(scale=0.5, size=(n, 2)), y.astype(np.int64)


def numpy_learner(lr=0.1, cbs=(), batch_size=16, **kw):
    X, y = blobs()
    manual_seed(0)
    model = dnp.MLP(2, [16, 3], dtype='float64')
    dl = DataLoader(ArrayDataset(X, y), batch_size=batch_size, shuffle=True, generator=0)
    return Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr), dl, DataLoader(ArrayDataset(X, y), batch_size=50),
                   cbs=cbs, progress=False, **kw)


def torch_learner_like(np_learn, lr=0.1):
    model = tnn.MLP(2, [16, 3], dtype=torch.float64)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in np_learn.model.state_dict().items()})
    X, y = blobs()
    dl = DataLoader(ArrayDataset(X, y), batch_size=16, shuffle=True, generator=0)
    return Learner(model, TorchCrossEntropyLoss(), TorchSGD(model.parameters(), lr=lr), dl,
                   DataLoader(ArrayDataset(X, y), batch_size=50), progress=False)


def test_both_backends_learn_and_agree_step_by_step():
    np_learn = numpy_learner()
    t_learn = torch_learner_like(np_learn)
    h_np, h_t = np_learn.fit(5), t_learn.fit(5)
    assert len(h_np.step_loss) == 5 * 8
    np.testing.assert_allclose(h_np.step_loss, h_t.step_loss, rtol=1e-10)
    assert h_np.epochs[-1]['valid_accuracy'] == 1.0 == h_t.epochs[-1]['valid_accuracy']
    assert h_np.epochs[-1]['train_loss'] < h_np.epochs[0]['train_loss']


def test_history_records_steps_and_epochs():
    learn = numpy_learner()
    history = learn.fit(2)
    history = learn.fit(1)  # a second fit continues the same history
    assert [e['epoch'] for e in history.epochs] == [0, 1, 2]
    assert history.epochs[-1]['steps'] == 24 == learn.step
    assert history.column('valid_loss').shape == (3,)


def test_divergence_stops_with_the_step_and_a_hint():
    learn = numpy_learner(lr=1e4)
    with pytest.raises(TrainingDiverged) as info: learn.fit(5)
    err = info.value
    assert err.step >= 1 and f"at step {err.step}" in str(err) and 'lower the learning rate (it is 10000)' in str(err)
    assert len(learn.history.step_loss) == err.step - 1


def test_callbacks_run_in_order_and_can_cancel():
    events = []

    class Log(Callback):
        order = 1
        def before_fit(self, learn): events.append('before_fit')
        def before_epoch(self, learn): events.append('before_epoch')
        def after_epoch(self, learn): events.append('after_epoch')
        def after_fit(self, learn): events.append('after_fit')

    class SkipOddBatches(Callback):
        def before_batch(self, learn):
            if learn.step % 2: raise CancelBatchException

    class StopAfterOneEpoch(Callback):
        order = 2
        def after_epoch(self, learn): raise CancelFitException

    learn = numpy_learner(cbs=[StopAfterOneEpoch(), Log(), SkipOddBatches()])
    history = learn.fit(5)
    assert events == ['before_fit', 'before_epoch', 'after_epoch', 'after_fit']
    assert len(history.epochs) == 1


def test_cancel_epoch_moves_to_the_next_epoch():
    class ThreeStepsPerEpoch(Callback):
        def after_batch(self, learn):
            if learn.step % 3 == 0: raise CancelEpochException
    history = numpy_learner(cbs=[ThreeStepsPerEpoch()]).fit(2)
    assert [e['steps'] for e in history.epochs] == [3, 6]


def test_evaluate_weights_batches_by_size():
    learn = numpy_learner()
    X, y = blobs()
    whole = learn.evaluate([(X, y)])
    batched = learn.evaluate(DataLoader(ArrayDataset(X, y), batch_size=7))
    assert abs(whole['loss'] - batched['loss']) < 1e-12 and whole['accuracy'] == batched['accuracy']
    assert learn.predict(X).shape == (120, 3)


def test_regression_without_metrics():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)); y = X @ np.array([[1.0], [-2.0], [0.5]])
    manual_seed(0)
    model = dnp.Linear(3, 1, dtype='float64')
    learn = Learner(model, MSELoss(), SGD(model.parameters(), lr=0.1), DataLoader(ArrayDataset(X, y), batch_size=16),
                    DataLoader(ArrayDataset(X, y), batch_size=64), metrics=(), progress=False)
    history = learn.fit(30)
    assert history.epochs[-1]['valid_loss'] < 1e-6 and 'valid_accuracy' not in history.epochs[-1]


def test_accuracy():
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    with pytest.raises(ValueError, match='target: expected 2 labels'): accuracy(np.zeros((2, 2)), np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match='target: expected an integer'): accuracy(np.zeros((2, 2)), np.zeros(2))


@pytest.mark.parametrize('make, error, fragment', [
    (lambda m, o, dl: Learner(m, None, o, dl), TypeError, 'loss_func: expected a loss'),
    (lambda m, o, dl: Learner(m, CrossEntropyLoss(), None, dl), TypeError, 'opt: expected an optimizer'),
    (lambda m, o, dl: Learner(m, CrossEntropyLoss(), object(), dl), TypeError, 'opt: expected an optimizer'),
    (lambda m, o, dl: Learner(m, CrossEntropyLoss(), o, 3), TypeError, 'train_dl'),
    (lambda m, o, dl: Learner(m, CrossEntropyLoss(), o, dl, valid_dl=3), TypeError, 'valid_dl'),
    (lambda m, o, dl: Learner('model', CrossEntropyLoss(), o, dl), TypeError, 'model: expected'),
    (lambda m, o, dl: Learner(m, CrossEntropyLoss(), o, dl, device='cuda'), ValueError, 'device'),
    (lambda m, o, dl: Learner(m, CrossEntropyLoss(), o, dl, progress=False).fit(-1), ValueError, 'epochs'),
    (lambda m, o, dl: Learner(m, CrossEntropyLoss(), o, dl, progress=False).evaluate([]), ValueError, 'dl: expected at least one batch'),
])
def test_bad_input(make, error, fragment):
    X, y = blobs()
    model = dnp.MLP(2, [4, 3], dtype='float64')
    with pytest.raises(error, match=fragment):
        make(model, SGD(model.parameters(), lr=0.1), DataLoader(ArrayDataset(X, y), batch_size=8))


def test_progress_bar_shows_steps_and_loss():
    import io
    from dlcourse.learner import ProgressCallback
    out = io.StringIO()
    learn = numpy_learner(cbs=[ProgressCallback(file=out, disable=False)])
    learn.fit(2)
    text = out.getvalue()
    assert '16/16' in text and 'train_loss' in text and 'valid_acc' in text


def test_train_loss_is_the_mean_of_that_epochs_step_losses():
    "Not a running mean over every step so far: each epoch's train_loss averages that epoch's steps alone."
    history = numpy_learner().fit(3)
    steps = np.array(history.step_loss).reshape(3, 8)          # 120 samples in batches of 16: 8 steps an epoch
    np.testing.assert_allclose(history.column('train_loss'), steps.mean(axis=1), rtol=1e-12)
    running = np.cumsum(history.step_loss)[7::8] / np.arange(8, 25, 8)
    assert not np.allclose(history.column('train_loss')[1:], running[1:])   # the two definitions differ here


def test_train_loss_skips_cancelled_batches_and_continues_across_fits():
    class SkipEveryThirdBatch(Callback):
        seen = 0
        def before_step(self, learn):
            self.seen += 1
            if self.seen % 3 == 0: raise CancelBatchException
    learn = numpy_learner(cbs=[SkipEveryThirdBatch()])
    learn.fit(1); learn.fit(1)                                   # 8 batches an epoch: 2, then 3 of them skipped
    first, second = learn.history.epochs
    assert (first['steps'], second['steps']) == (6, 11)
    recorded = learn.history.step_loss
    assert len(recorded) == 11
    np.testing.assert_allclose([first['train_loss'], second['train_loss']], [np.mean(recorded[:6]), np.mean(recorded[6:])])


def _nan_batches():
    X, y = blobs()
    X = X.copy()
    X[20, 1] = np.nan      # in the second batch of 16
    return DataLoader(ArrayDataset(X, y), batch_size=16)


def _diverges_at_the_nan_batch(model, loss_func, opt):
    learn = Learner(model, loss_func, opt, _nan_batches(), progress=False)
    with pytest.raises(TrainingDiverged) as info: learn.fit(2)
    assert info.value.step == 2 and info.value.epoch == 0 and 'inputs are scaled and finite' in str(info.value)
    assert len(learn.history.step_loss) == 1


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_a_nan_input_stops_training_in_both_backends(backend):
    "With an activation that propagates NaN (tanh), a NaN in the data makes that batch's loss NaN: TrainingDiverged."
    manual_seed(0)
    if backend == 'numpy':
        model = dnp.MLP(2, [8, 3], activation_layer=dnp.Tanh, dtype='float64')
        _diverges_at_the_nan_batch(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1))
    else:
        model = tnn.MLP(2, [8, 3], activation_layer=torch.nn.Tanh, dtype=torch.float64)
        _diverges_at_the_nan_batch(model, TorchCrossEntropyLoss(), TorchSGD(model.parameters(), lr=0.1))


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_a_nan_input_stops_a_relu_mlp_in_both_backends(backend):
    manual_seed(0)
    if backend == 'numpy':
        model = dnp.MLP(2, [8, 3], dtype='float64')
        _diverges_at_the_nan_batch(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1))
    else:
        model = tnn.MLP(2, [8, 3], dtype=torch.float64)
        _diverges_at_the_nan_batch(model, TorchCrossEntropyLoss(), TorchSGD(model.parameters(), lr=0.1))


def _parts():
    X, y = blobs()
    model = dnp.MLP(2, [4, 3], dtype='float64')
    return model, SGD(model.parameters(), lr=0.1), DataLoader(ArrayDataset(X, y), batch_size=8), X, y


@pytest.mark.parametrize('make, error, fragment', [
    (lambda m, o, dl, X, y: Learner(dnp.ReLU(), CrossEntropyLoss(), o, dl), ValueError, 'model: this ReLU has no parameters'),
    (lambda m, o, dl, X, y: Learner(torch.nn.ReLU(), torch.nn.CrossEntropyLoss(), o, dl), ValueError, 'model: this ReLU has no parameters'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, metrics=(3,)), TypeError, 'metrics: expected functions'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, metrics=accuracy), TypeError, 'metrics: expected a list of functions'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, metrics='accuracy'), TypeError, 'metrics: expected a list'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, metrics=(accuracy, accuracy)), ValueError, 'metrics: expected distinct names'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, cbs=[3]), TypeError, 'cbs: expected callbacks'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, cbs=Callback()), TypeError, 'cbs: expected a list of callbacks'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, cbs=[Callback]), TypeError, 'write Callback()'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, cbs=[type('Odd', (Callback,), {'order': 'x', 'after_epoch': print})()]), TypeError, r'cbs\[0\].order'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, []), ValueError, 'train_dl: expected at least one batch'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, valid_dl=[]), ValueError, 'valid_dl: expected at least one batch'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, [(X, y, y)]), ValueError, 'train_dl: expected batches of .input, target., got a batch of 3 items'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, [X]), ValueError, 'train_dl: expected batches of'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, [(X, y[:-1])]), ValueError, 'train_dl: a batch holds 120 inputs but 119 targets'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, DataLoader(ArrayDataset(X, y, y))), ValueError, 'its dataset holds 3 arrays'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, iter(dl)), TypeError, 'train_dl: expected something that can be iterated once per epoch'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, 'batches'), TypeError, 'train_dl: expected an iterable'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), SGD(dnp.Linear(2, 3).parameters()), dl), ValueError, "opt: it updates parameters that are not the model's"),
    (lambda m, o, dl, X, y: Learner(m, dnp.cross_entropy, o, dl), TypeError, 'loss_func: the NumPy backend needs a loss module with a backward'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress='yes'), TypeError, 'progress: expected True or False'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, name=3), TypeError, 'name: expected a str'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress=False).evaluate(iter([(X, y)])), TypeError, 'dl: expected something'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress=False).predict([['a', 'b']]), TypeError, 'x: expected a numeric dtype'),
])
def test_everything_is_checked_before_any_work(make, error, fragment):
    model, opt, dl, X, y = _parts()
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(error, match=fragment): make(model, opt, dl, X, y)
    assert all(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))


def test_a_loader_without_length_that_yields_nothing_is_an_error_at_the_first_epoch():
    class Empty:
        def __iter__(self): return iter(())
    model, opt, *_ = _parts()
    learn = Learner(model, CrossEntropyLoss(), opt, Empty(), progress=False)
    with pytest.raises(ValueError, match='train_dl: yielded no batches in epoch 0'): learn.fit(1)
    assert learn.history.epochs == []


def test_a_bad_batch_from_a_loader_without_length_is_named_before_the_step():
    class Triples:
        def __iter__(self): yield blobs()[0], blobs()[1], blobs()[1]
    model, opt, *_ = _parts()
    learn = Learner(model, CrossEntropyLoss(), opt, Triples(), progress=False)
    with pytest.raises(ValueError, match='train_dl: expected batches of .input, target., got a batch of 3 items'): learn.fit(1)
    assert learn.step == 0


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_backends_convert_and_check_batches(backend):
    X, y = blobs()
    if backend == 'numpy':
        model = dnp.Linear(2, 3, dtype='float64')
        b = NumpyBackend(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1))
    else:
        model = torch.nn.Linear(2, 3).double()
        b = TorchBackend(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    xb, yb = b.batch(X.astype(np.float32).tolist(), y)          # nested lists and float32: cast to the model's dtype
    assert str(xb.dtype).endswith('float64') and len(xb) == len(yb) == 120
    assert str(b.batch(X.astype(np.int64), y)[0].dtype).endswith('float64')   # integer inputs too
    with pytest.raises(ValueError, match='x, y: expected a batch of inputs and targets with the same number'): b.batch(X, y[:-1])
    with pytest.raises(ValueError, match='x, y: expected'): b.batch(X[:0], y[:0])
    with pytest.raises(TypeError, match='y: expected a numeric dtype'): b.batch(X, np.array(['a'] * 120))
    with pytest.raises(ValueError, match='x: expected an array, a tensor or nested lists'): b.batch([[1.0], [2.0, 3.0]], y[:2])
    with pytest.raises(TypeError, match='before_step: expected a function'): b.train_step(X, y, before_step=3)
    with pytest.raises(ValueError, match='scores, y'): b.loss(np.zeros((3, 3)), y)
    with pytest.raises(TypeError, match='mode: expected True or False'): b.set_training('eval')
    assert np.isfinite(b.train_step(X, y)) and b.predict(X).shape == (120, 3)


def test_backend_for_picks_by_type_and_checks_the_device():
    from dlcourse.learner import backend_for
    model = dnp.Linear(2, 3)
    assert isinstance(backend_for(model, CrossEntropyLoss(), SGD(model.parameters())), NumpyBackend)
    tmodel = torch.nn.Linear(2, 3)
    assert isinstance(backend_for(tmodel, torch.nn.CrossEntropyLoss(), torch.optim.SGD(tmodel.parameters()), 'cpu'), TorchBackend)
    with pytest.raises(ValueError, match='device'): backend_for(tmodel, torch.nn.CrossEntropyLoss(), torch.optim.SGD(tmodel.parameters()), 'bogus')
    with pytest.raises(TypeError, match='model: expected a dlcourse.numpy Module or a torch.nn.Module'):
        backend_for(object(), CrossEntropyLoss(), SGD(model.parameters()))


def test_history_and_progress_check_their_arguments():
    import io
    from dlcourse.learner import History, ProgressCallback
    with pytest.raises(TypeError, match='step_loss: expected a list of losses'): History([0.5, 'x'])
    with pytest.raises(TypeError, match='epochs: expected a list of per-epoch records'): History([], [3])
    h = History([0.5], [{'epoch': 0, 'train_loss': 0.5}])
    np.testing.assert_array_equal(h.column('valid_loss'), [np.nan])
    with pytest.raises(TypeError, match='key'): h.column(['train_loss'])
    with pytest.raises(TypeError, match='axes: expected 2 matplotlib Axes'): h.plot(axes=3)
    with pytest.raises(TypeError, match='title'): h.plot(title=None)
    with pytest.raises(TypeError, match='file: expected a text stream'): ProgressCallback(file=3)
    with pytest.raises(TypeError, match='disable: expected True or False'): ProgressCallback(disable='yes')
    cb = ProgressCallback(file=io.StringIO(), disable=True)
    with pytest.raises(TypeError, match='learn: expected the Learner'): cb.before_fit(object())
    learn = numpy_learner()
    cb.before_fit(learn)
    with pytest.raises(ValueError, match='learn: its history holds no epoch yet'): cb.after_epoch(learn)


def test_metrics_may_be_any_named_callable_and_name_the_columns():
    import functools
    def top_class_share(scores, target): return float(np.mean(np.argmax(scores, axis=1) == 0))
    learn = numpy_learner(metrics=[accuracy, functools.partial(top_class_share)])
    record = learn.fit(1).epochs[-1]
    assert {'valid_accuracy', 'valid_partial', 'valid_loss'} <= set(record)


def test_the_optimizer_may_train_part_of_the_model_but_nothing_else():
    model, _, dl, *_ = _parts()
    head = list(model.parameters())[-2:]
    Learner(model, CrossEntropyLoss(), SGD(head, lr=0.1), dl, progress=False).fit(1)          # fine-tuning the last layer
    stray = dnp.Linear(2, 3).weight
    with pytest.raises(ValueError, match="opt: it updates parameters that are not the model's"):
        Learner(model, CrossEntropyLoss(), SGD([*model.parameters(), stray], lr=0.1), dl)
