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
from dlcourse.numpy import losses as dnp_losses
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


def _linear_backend(backend: str, dtype: str, loss: str):
    "A 2 -> 3 Linear in `dtype` with the loss class named `loss`, wrapped in the NumPy or the PyTorch backend."
    if backend == 'numpy':
        model = dnp.Linear(2, 3, dtype=dtype)
        return model, NumpyBackend(model, getattr(dnp_losses, loss)(), SGD(model.parameters(), lr=0.1))
    model = torch.nn.Linear(2, 3).to(getattr(torch, dtype))
    return model, TorchBackend(model, getattr(torch.nn, loss)(), torch.optim.SGD(model.parameters(), lr=0.1))


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_backends_convert_and_check_batches(backend):
    X, y = blobs()
    model, b = _linear_backend(backend, 'float64', 'CrossEntropyLoss')
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


class PlainSGD:
    "An optimizer with nothing but step() and zero_grad(): no param_groups, so there is no learning rate to report."
    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params: p.grad = None

    def step(self):
        for p in self.params: p.data -= self.lr * p.grad


def test_an_optimizer_without_param_groups_trains_and_its_divergence_hint_names_no_rate():
    X, y = blobs()
    manual_seed(0)
    model = dnp.MLP(2, [8, 3], dtype='float64')
    learn = Learner(model, CrossEntropyLoss(), PlainSGD(model.parameters(), lr=0.1), DataLoader(ArrayDataset(X, y), batch_size=16),
                    progress=False)
    history = learn.fit(3)
    assert history.epochs[-1]['train_loss'] < history.epochs[0]['train_loss']
    manual_seed(0)
    model = dnp.MLP(2, [8, 3], activation_layer=dnp.Tanh, dtype='float64')
    learn = Learner(model, CrossEntropyLoss(), PlainSGD(model.parameters(), lr=0.1), _nan_batches(), progress=False)
    with pytest.raises(TrainingDiverged) as info: learn.fit(1)
    assert info.value.lr is None
    assert str(info.value) == ("the training loss became nan at step 2 (epoch 0); training was stopped. Hint: lower the learning "
                               "rate, check that the inputs are scaled and finite, or clip the gradients.")


def test_training_diverged_says_where_and_which_rate():
    assert str(TrainingDiverged(7, 1, float('inf'), 0.25)) == (
        "the training loss became inf at step 7 (epoch 1); training was stopped. Hint: lower the learning rate (it is 0.25), "
        "check that the inputs are scaled and finite, or clip the gradients.")
    assert 'learning rate, check' in str(TrainingDiverged(7, 1, float('nan')))


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_predict_runs_in_evaluation_mode_and_leaves_the_model_training(backend):
    "Dropout is off while predicting (the same outputs every time, those of the model in eval mode), and back on after."
    X, _ = blobs()
    manual_seed(0); torch.manual_seed(0)
    if backend == 'numpy':
        model = dnp.Sequential(dnp.Linear(2, 64, dtype='float64'), dnp.Dropout(0.5), dnp.Linear(64, 3, dtype='float64'))
        learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), [(X, blobs()[1])], progress=False)
        model.eval(); expected = model(X); model.train()
    else:
        model = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.Dropout(0.5), torch.nn.Linear(64, 3)).double()
        learn = Learner(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), [(X, blobs()[1])],
                        progress=False)
        model.eval()
        with torch.no_grad(): expected = model(torch.from_numpy(X)).numpy()
        model.train()
    first, second = learn.predict(X), learn.predict(X)
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, expected)
    assert model.training


def test_history_columns_are_float_arrays_with_nan_where_not_recorded():
    from dlcourse.learner import History
    h = History([0.5, 0.4], [{'epoch': 0, 'steps': 1}, {'epoch': 1}])
    epochs, steps = h.column('epoch'), h.column('steps')
    assert epochs.dtype == np.float64 and epochs.tolist() == [0.0, 1.0]
    assert steps.dtype == np.float64 and steps[0] == 1.0 and np.isnan(steps[1])
    assert History().column('epoch').shape == (0,)


def test_torch_backend_keeps_the_model_where_it_is_and_moves_batches_to_it():
    "With device=None the model stays on its device (PyTorch's data-less 'meta' device stands in for a GPU here): batches follow."
    model = torch.nn.Linear(2, 3, device='meta', dtype=torch.float64)
    b = TorchBackend(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    assert b.device == torch.device('meta') and model.weight.device == torch.device('meta')
    X, y = blobs()
    xb, yb = b.batch(X.astype(np.float32), y)                       # arrays: moved to the model, inputs cast to its dtype
    assert (xb.device.type, xb.dtype, yb.device.type, yb.dtype) == ('meta', torch.float64, 'meta', torch.int64)
    xt, yt = b.batch(torch.zeros(4, 2, device='meta'), torch.zeros(4, dtype=torch.long, device='meta'))   # tensors there already
    assert (xt.device.type, xt.dtype, yt.device.type, yt.dtype) == ('meta', torch.float64, 'meta', torch.int64)


def test_torch_backend_moves_the_model_to_the_device_asked_for(monkeypatch):
    "The model goes to the device that `device` names (a machine with a GPU is simulated: 'cpu' resolves to 'meta')."
    import dlcourse.learner as learner_module
    monkeypatch.setattr(learner_module, 'resolve_device', lambda device: torch.device('meta'))
    model = torch.nn.Linear(2, 3, dtype=torch.float64)
    b = TorchBackend(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), device='cpu')
    assert b.device == torch.device('meta') and model.weight.device == torch.device('meta')
    assert b.batch(*blobs())[0].device == torch.device('meta')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA GPU on this machine')
def test_torch_backend_moves_the_model_and_batches_to_the_gpu():
    model = torch.nn.Linear(2, 3, dtype=torch.float64)
    b = TorchBackend(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), device='cuda')
    assert model.weight.device.type == 'cuda' == b.device.type
    xb, yb = b.batch(*blobs())
    assert xb.device.type == yb.device.type == 'cuda'
    assert TorchBackend(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)).device.type == 'cuda'


def _progress_segments(monkeypatch, seconds_per_step=0.15, **learner_kwargs):
    "Fit one epoch of 15 steps with a progress bar on a fake clock that advances `seconds_per_step` a step: what each redraw shows."
    import io
    import time
    import tqdm.std
    from dlcourse.learner import ProgressCallback
    clock = [time.time()]                        # starts at the real time: tqdm's monitor thread (real clock) sees nothing stale
    monkeypatch.setattr(tqdm.std, 'time', lambda: clock[0])

    class Tick(Callback):
        order = 50                                                 # before the progress bar's (90)
        def after_batch(self, learn): clock[0] += seconds_per_step

    out = io.StringIO()
    learn = numpy_learner(cbs=[Tick(), ProgressCallback(file=out, disable=False)], batch_size=8, **learner_kwargs)
    history = learn.fit(1)
    return out.getvalue(), out.getvalue().split('\r')[1:], history


def test_progress_bar_redraws_at_most_five_times_a_second_and_shows_the_loss_every_ten_steps(monkeypatch):
    import re
    text, segments, history = _progress_segments(monkeypatch, name='blobs')
    assert all(s.startswith('blobs: ') for s in segments)        # the learner's name labels the bar
    counts = [int(re.search(r'(\d+)/15', s).group(1)) for s in segments]
    assert counts == [0, 2, 4, 6, 8, 10, 12, 14, 15, 15]           # 0.15 s a step: a redraw every second step, then the epoch's end
    step10 = f"loss={history.step_loss[9]:.4f}]"                  # set at step 10, shown at the next redraw (no redraw of its own)
    assert [s.endswith(step10) for s in segments[:8]] == [False] * 6 + [True, True]
    assert 'loss=' not in ''.join(segments[:6])
    record = history.epochs[0]
    summary = f"epoch=1, train_loss={record['train_loss']:.4f}, valid_acc={record['valid_accuracy']:.3f}]"
    assert segments[-2].endswith(summary) and segments[-1] == segments[-2] + '\n'   # the finished bar stays on screen


def test_progress_bar_is_off_when_the_output_is_not_a_terminal_unless_asked_for():
    import io
    from dlcourse.learner import ProgressCallback
    quiet, shown = io.StringIO(), io.StringIO()
    numpy_learner(cbs=[ProgressCallback(file=quiet)]).fit(1)
    numpy_learner(cbs=[ProgressCallback(file=shown, disable=False)]).fit(1)
    assert quiet.getvalue() == '' and '8/8' in shown.getvalue()


def test_progress_bar_counts_steps_of_a_loader_without_length():
    "No total is known: the bar counts the steps (and does not ask the loader for a length)."
    import io
    from dlcourse.learner import ProgressCallback
    X, y = blobs()

    class Batches:
        def __iter__(self): return iter(DataLoader(ArrayDataset(X, y), batch_size=40))

    out = io.StringIO()
    model = dnp.MLP(2, [4, 3], dtype='float64')
    Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), Batches(),
            cbs=[ProgressCallback(file=out, disable=False)], progress=False).fit(2)
    final = out.getvalue().split('\r')[-1]
    assert final.startswith('6it ') and '/' not in final.split('[')[0]


def test_progress_bar_stays_when_the_fit_runs_inside_an_outer_bar():
    "A sweep's own bar around fits: each fit's finished bar is kept (tqdm's default would erase a nested one)."
    import io
    from tqdm.auto import tqdm
    from dlcourse.learner import ProgressCallback
    out = io.StringIO()
    with tqdm(total=1, file=io.StringIO()):
        numpy_learner(cbs=[ProgressCallback(file=out, disable=False)]).fit(1)
    assert out.getvalue().endswith('valid_acc=1.000]\n')


def _dropout_learner(**kwargs):
    X, y = blobs()
    manual_seed(0)
    model = dnp.Sequential(dnp.Linear(2, 32, dtype='float64'), dnp.Dropout(0.5), dnp.Linear(32, 3, dtype='float64'))
    learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), DataLoader(ArrayDataset(X, y), batch_size=16),
                    DataLoader(ArrayDataset(X, y), batch_size=50), progress=False, **kwargs)
    return learn, model, X, y


def test_evaluate_is_the_eval_mode_loss_and_accuracy_of_the_whole_set():
    "Batches of 7 (the last one short) weighted by size give PyTorch's cross-entropy and the accuracy of all 120 samples at once."
    import torch.nn.functional as F
    learn, model, X, y = _dropout_learner()
    result = learn.evaluate(DataLoader(ArrayDataset(X, y), batch_size=7))
    assert model.training                                           # back in training mode afterwards
    model.eval(); scores = model(X); model.train()
    expected = F.cross_entropy(torch.from_numpy(scores), torch.from_numpy(y)).item()
    assert set(result) == {'loss', 'accuracy'}
    assert result['loss'] == pytest.approx(expected, rel=1e-12)
    assert result['accuracy'] == pytest.approx(np.mean(scores.argmax(axis=1) == y), rel=1e-12)


def test_training_steps_run_in_training_mode_and_the_model_is_left_training():
    modes = []

    class Mode(Callback):
        def before_batch(self, learn): modes.append(learn.model.training)

    learn, model, *_ = _dropout_learner(cbs=[Mode()])
    learn.fit(2)                                                    # each epoch ends with an evaluation (valid_dl)
    assert modes == [True] * 16 and model.training


def test_an_epoch_whose_every_batch_is_cancelled_records_a_nan_loss_quietly():
    import warnings

    class SkipAll(Callback):
        def before_batch(self, learn): raise CancelBatchException

    learn = numpy_learner(cbs=[SkipAll()])
    with warnings.catch_warnings():
        warnings.simplefilter('error')                              # no 'mean of empty slice'
        history = learn.fit(2)
    assert history.step_loss == [] and [e['steps'] for e in history.epochs] == [0, 0]
    assert all(np.isnan(e['train_loss']) for e in history.epochs)


def test_an_epoch_record_holds_exactly_its_numbers_and_its_duration():
    import time
    learn = numpy_learner()
    t0 = time.perf_counter()
    record = learn.fit(1).epochs[0]
    elapsed = time.perf_counter() - t0
    assert set(record) == {'epoch', 'train_loss', 'steps', 'seconds', 'valid_loss', 'valid_accuracy'}
    assert (record['epoch'], record['steps']) == (0, 8)
    assert 0 < record['seconds'] <= elapsed


def test_a_fresh_learner():
    from dlcourse.learner import ProgressCallback
    X, y = blobs()
    model = dnp.Linear(2, 3, dtype='float64')
    learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), [(X, y)])
    assert (learn.step, learn.epoch, learn.epochs_to_run, learn.name) == (0, 0, 0, '')
    assert learn.history.step_loss == [] and learn.history.epochs == [] and learn.valid_dl is None
    assert [type(cb) for cb in learn.cbs] == [ProgressCallback]      # a progress bar unless progress=False
    assert Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), [(X, y)], progress=False).cbs == []
    assert isinstance(Learner(model, CrossEntropyLoss(), SGD(model.parameters()), [(X, y)], device='cpu').backend, NumpyBackend)
    assert isinstance(Learner(model, CrossEntropyLoss(), SGD(model.parameters()), [(X, y)], device=torch.device('cpu')).backend,
                      NumpyBackend)


class StepOnly:
    "Has step() but no zero_grad()."
    param_groups = []
    def step(self): pass


class ZeroGradOnly:
    "Has zero_grad() but no step()."
    param_groups = []
    def zero_grad(self): pass


class CallableCollection:
    "A metric collection: callable (computes all) and iterable (over its metrics) - still not a list of metrics."
    def __call__(self, scores, target): return {}
    def __iter__(self): return iter([accuracy])


def loss(scores, target): return 0.0


def _make_triples():
    X, y = blobs()

    class Triples:
        def __iter__(self): yield X, y, y

    return Triples()


@pytest.mark.parametrize('make, error, message', [
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, []), ValueError, r'train_dl: expected at least one batch'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, valid_dl=[]), ValueError, r'valid_dl: expected at least one batch'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, [X]), ValueError,
     r'train_dl: expected batches of \(input, target\), got a batch of ndarray of shape \(120, 2\) and dtype float64'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, _make_triples(), progress=False).fit(1), ValueError,
     r'train_dl: expected batches of \(input, target\), got a batch of 3 items'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress='yes'), TypeError, r'progress: expected True or False'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, name=3), TypeError, r'name: expected a str'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, cbs='x'), TypeError, r'cbs: expected a list of callbacks'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, cbs=3), TypeError, r'cbs: expected a list of callbacks'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, metrics=[accuracy, loss]), ValueError,
     r"metrics: expected distinct names other than 'loss'"),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, metrics=CallableCollection()), TypeError,
     r'metrics: expected a list of functions'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), StepOnly(), dl), TypeError, r'opt: expected an optimizer with step\(\) and zero_grad\(\)'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), ZeroGradOnly(), dl), TypeError, r'opt: expected an optimizer with step\(\) and zero_grad\(\)'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress=False).fit(0), ValueError, r'epochs: expected a value >= 1'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress=False).fit(2.5), TypeError, r'epochs: expected an integer'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress=False).evaluate([]), ValueError, r'dl: expected at least one batch'),
    (lambda m, o, dl, X, y: Learner(m, CrossEntropyLoss(), o, dl, progress=False).evaluate(_make_triples()), ValueError,
     r'dl: expected batches of \(input, target\), got a batch of 3 items'),
    (lambda m, o, dl, X, y: accuracy(np.zeros(3), np.zeros(3, dtype=int)), ValueError, r'scores: expected a 2-D array'),
    (lambda m, o, dl, X, y: accuracy(np.zeros((2, 2)), np.zeros(2)), TypeError, r'target: expected an integer'),
    (lambda m, o, dl, X, y: accuracy(np.zeros((2, 2)), np.zeros((2, 1), dtype=int)), ValueError, r'target: expected a 1-D array'),
    (lambda m, o, dl, X, y: accuracy(np.full((2, 2), 'a'), np.zeros(2, dtype=int)), TypeError, r'scores: expected a numeric dtype'),
])
def test_errors_start_with_the_argument_they_name(make, error, message):
    model, opt, dl, X, y = _parts()
    with pytest.raises(error, match='^' + message): make(model, opt, dl, X, y)


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_backends_name_the_argument_and_take_any_numbers_as_scores(backend):
    X, y = blobs()
    model, b = _linear_backend(backend, 'float32', 'MSELoss')
    _, targets = b.batch(X, np.zeros((120, 3)))                      # float64 targets: cast to the float32 model's dtype
    assert str(targets.dtype).endswith('float32')
    assert str(b.batch(X, np.zeros((120, 3), dtype=np.float16))[1].dtype).endswith('float32')   # and float16 ones too
    assert str(b.batch(X, y)[1].dtype).endswith('int64')               # integer targets (class labels) stay integers
    assert b.loss(np.ones((2, 3), dtype=np.int64), np.zeros((2, 3))) == 1.0     # integer scores are numbers too
    assert np.isnan(b.loss(np.full((2, 3), np.nan), np.zeros((2, 3))))          # a NaN in the scores is a NaN loss, not an error
    for call, error, message in ((lambda: b.set_training('eval'), TypeError, 'mode: expected True or False'),
                                 (lambda: b.loss([[1.0], [2.0, 3.0]], y[:2]), ValueError, 'scores: expected an array'),
                                 (lambda: b.loss(np.full((2, 3), 'a'), y[:2]), TypeError, 'scores: expected a numeric dtype'),
                                 (lambda: b.loss(np.zeros((2, 3)), np.array(['a', 'b'])), TypeError, 'y: expected a numeric dtype'),
                                 (lambda: b.batch(np.full((2, 2), 'a'), y[:2]), TypeError, 'x: expected a numeric dtype'),
                                 (lambda: b.predict(np.full((2, 2), 'a')), TypeError, 'x: expected a numeric dtype')):
        with pytest.raises(error, match='^' + message): call()


def test_accuracy_counts_nan_scores_like_pytorch_and_is_nan_for_no_samples():
    import warnings
    scores = np.array([[np.nan, 0.0], [0.0, 1.0], [2.0, np.nan], [3, 1]])
    target = np.array([1, 1, 1, 0])
    expected = (torch.from_numpy(scores).argmax(dim=1) == torch.from_numpy(target)).double().mean().item()
    assert accuracy(scores, target) == expected == 0.75                # argmax takes a NaN as the largest entry
    assert accuracy(np.array([[0, 2], [5, 1]]), np.array([1, 1])) == 0.5   # integer scores
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert np.isnan(accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int)))


def test_callbacks_need_no_base_class_and_default_to_order_zero():
    "Any object with an event method is a callback; without an `order` it runs as order 0: after negative, before positive orders."
    events = []

    class Plain:
        def before_fit(self, learn): events.append('plain')

    class Early(Callback):
        order = -1
        def before_fit(self, learn): events.append('early')

    class Late(Callback):
        order = 0.5
        def before_fit(self, learn): events.append('late')

    numpy_learner(cbs=[Late(), Plain(), Early()]).fit(1)
    assert events == ['early', 'plain', 'late']


class SquaredError:
    "A loss module as a learner might write one, with nothing done about non-finite values."
    def __call__(self, scores, target):
        self.diff = scores - target
        return float((self.diff ** 2).mean())

    def backward(self):
        return 2 * self.diff / self.diff.size


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_overflow_is_reported_as_a_loss_not_as_a_numpy_warning(backend):
    "Even where warnings are errors: a diverging run still ends in TrainingDiverged, and an overflowing loss is inf."
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        learn = numpy_learner(lr=1e4) if backend == 'numpy' else torch_learner_like(numpy_learner(), lr=1e4)
        with pytest.raises(TrainingDiverged): learn.fit(5)
        assert learn.backend.loss(np.array([[1e308, -1e308, 0.0]]), np.array([1])) == float('inf')
        assert not np.isfinite(learn.backend.loss(np.array([[np.inf, -np.inf, 0.0]]), np.array([1])))
        if backend == 'numpy':                                     # an inf input: inf - inf inside the network
            X, y = blobs()
            X[20, 1] = np.inf
            manual_seed(0)
            model = dnp.MLP(2, [8, 3], dtype='float64')
            learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), DataLoader(ArrayDataset(X, y), batch_size=16),
                            progress=False)
            with pytest.raises(TrainingDiverged, match='at step 2 '): learn.fit(1)
            b = NumpyBackend(model, SquaredError(), SGD(model.parameters(), lr=0.1))      # a loss written by the user
            assert np.isnan(b.loss(np.array([[np.inf]]), np.array([[np.inf]])))
