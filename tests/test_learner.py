"""The shared training loop: both backends, callbacks, divergence, evaluation, bad input."""
import numpy as np
import pytest
import torch

from dlcourse import numpy as dnp
from dlcourse.core import manual_seed
from dlcourse.data import ArrayDataset, DataLoader
from dlcourse.learner import (Callback, CancelBatchException, CancelEpochException, CancelFitException, Learner,
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
