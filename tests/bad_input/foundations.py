"""Bad-input examples for the foundations: dlcourse.data, dlcourse.mnist, dlcourse.crosscheck and dlcourse.learner."""
import atexit
import io
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import torch

from badinput import Call
from dlcourse import crosscheck as cc
from dlcourse.data import (ArrayDataset, DataLoader, MinMaxScaler, StandardScaler, TensorBatchDataset, digits_splits,
                           load_digits)
from dlcourse.learner import History, Learner, NumpyBackend, ProgressCallback, TorchBackend
from dlcourse.mnist import write_idx
from dlcourse.numpy.losses import CrossEntropyLoss, cross_entropy
from dlcourse.numpy.nn import Linear, ReLU
from dlcourse.numpy.optim import SGD

# ------------------------------------------------------------------ data

X = np.arange(24, dtype=np.float64).reshape(8, 3) % 5
Y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
DIGITS = load_digits()
SPLITS = digits_splits()


def fitted(scaler):
    "A fresh scaler of the same kind, fitted on X."
    return lambda: type(scaler)(**scaler._params()).fit(X)


def loader(**kw):
    return DataLoader(ArrayDataset(X, Y), batch_size=4, **kw)


DATA = [
    Call('dlcourse.data.Digits', (DIGITS.X, DIGITS.y, DIGITS.images, DIGITS.classes),
         bad={'y': [DIGITS.y[:-1]], 'images': [DIGITS.X], 'classes': [('0', '1')]}),
    Call('dlcourse.data.load_digits', ('float64',), bad={'dtype': ['int8']}),
    Call('dlcourse.data.show_digits', (DIGITS.images[:4], DIGITS.y[:4], DIGITS.y[:4]), dict(n=4, ncols=2),
         bad={'labels': [DIGITS.y[:3]], 'preds': [DIGITS.y[:5]], 'n': [0], 'ncols': [0], 'images': [np.zeros((4, 10))]}),
    Call('dlcourse.data.show_digits', (DIGITS.images[:4], DIGITS.y[:4]), dict(classes=tuple('0123456789'), figsize=(2.0, 2.0)),
         bad={'classes': [('a', 'b')], 'figsize': [(0, 2.0), (2.0,), (2.0, -1.0)]}),
    Call('dlcourse.data.split_indices', (Y,), dict(val_size=0.25, test_size=0.25, stratify=True, seed=0),
         bad={'val_size': [-0.1, 1.0, 0.8], 'test_size': [1.5], 'seed': [-1], 'y': [np.zeros(8)]}),
    Call('dlcourse.data.split_indices', (Y,), dict(stratify=False, seed=np.random.default_rng(0))),
    Call('dlcourse.data.train_val_test_split', (X, Y), dict(val_size=0.25, test_size=0.25, stratify=True, seed=0),
         bad={'y': [Y[:-1]], 'X': [X[:-1]], 'val_size': [0.75]}),
    Call('dlcourse.data.StandardScaler', (True, True)),
    Call('dlcourse.data.StandardScaler.fit', (X,), make=StandardScaler, bad={'X': [np.ones((0, 3)), np.ones(3)]}),
    Call('dlcourse.data.StandardScaler.transform', (X,), make=fitted(StandardScaler()), bad={'X': [np.ones((2, 4))]}),
    Call('dlcourse.data.StandardScaler.inverse_transform', (X,), make=fitted(StandardScaler()), bad={'X': [np.ones((2, 4))]}),
    Call('dlcourse.data.MinMaxScaler', ((0.0, 1.0),), bad={'feature_range': [(1.0, 0.0), (0.0, 0.0), (0.0, float('inf')), (0.0,)]}),
    Call('dlcourse.data.MinMaxScaler.fit', (X,), make=MinMaxScaler, bad={'X': [np.ones((0, 3))]}),
    Call('dlcourse.data.MinMaxScaler.transform', (X,), make=fitted(MinMaxScaler()), bad={'X': [np.ones((2, 4))]}),
    Call('dlcourse.data.MinMaxScaler.inverse_transform', (X,), make=fitted(MinMaxScaler()), bad={'X': [np.ones((2, 4))]}),
    Call('dlcourse.data.DigitsSplits', (SPLITS.X_train, SPLITS.y_train, SPLITS.X_valid, SPLITS.y_valid, SPLITS.X_test,
                                        SPLITS.y_test, SPLITS.scaler, True),
         bad={'y_train': [SPLITS.y_valid], 'X_valid': [SPLITS.X_valid[:, :3]], 'scaler': [StandardScaler()]}),
    Call('dlcourse.data.digits_splits', (0,), dict(fraction=0.5, subset_seed=0, standardize=True, dtype='float32'),
         bad={'fraction': [0.0, 1.5, 1e-9], 'split_seed': [-1], 'subset_seed': [-1], 'dtype': ['int8']}),
    Call('dlcourse.data.one_hot', (Y,), dict(num_classes=2, dtype='float32'),
         bad={'num_classes': [0, 1, -2], 'dtype': ['U5', 'nonsense'], 'y': [np.array([0, -1])]}),
    Call('dlcourse.data.ArrayDataset', (X, Y), bad={'arrays': [np.float64(1.0)]}),
    Call('dlcourse.data.DataLoader', (ArrayDataset(X, Y),), dict(batch_size=4, shuffle=True, drop_last=False, generator=0),
         bad={'batch_size': [0], 'generator': [-1]}),
    Call('dlcourse.data.Standardize', (loader(), fitted(StandardScaler())()), bad={'scaler': [StandardScaler()]}),
    Call('dlcourse.data.TensorBatchDataset', (torch.ones(4, 2), torch.arange(4)), bad={'tensors': [torch.tensor(1.0)]}),
    Call('dlcourse.data.to_torch_loader', (loader(shuffle=True, generator=0),)),
    Call('dlcourse.data.make_spirals', (30,), dict(n_classes=3, noise=0.2, seed=0, dtype='float64'),
         bad={'n_samples': [2, -1], 'n_classes': [0], 'noise': [-0.1, float('inf')], 'seed': [-1], 'dtype': ['int8']}),
    Call('dlcourse.data.make_moons', (20,), dict(noise=0.1, seed=0, dtype='float64'),
         bad={'n_samples': [1], 'noise': [-1.0], 'seed': [-1]}),
    Call('dlcourse.data.make_regression_curve', (20,), dict(noise=0.1, seed=0, dtype='float64'),
         bad={'n_samples': [0], 'noise': [-1.0], 'seed': [-1]}),
]

# ------------------------------------------------------------------ mnist

TMP = Path(tempfile.mkdtemp(prefix='dlcourse-badinput-'))
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
LABELS = np.array([5, 0, 4, 1], dtype=np.uint8)
IDX = write_idx(TMP / 'labels-idx1-ubyte.gz', LABELS)


def idx_file(name: str, data: bytes) -> Path:
    "A file holding `data`, made once for the examples below."
    path = TMP / name
    path.write_bytes(data)
    return path


BAD_IDX = [
    idx_file('html', b'<html></html>'),
    idx_file('empty', b''),
    idx_file('unknown-code', bytes([0, 0, 0x42, 1]) + struct.pack('>I', 1) + b'\0'),
    idx_file('short-header', bytes([0, 0, 8, 3, 0, 0])),
    idx_file('zero-dims', bytes([0, 0, 8, 0, 7])),
    idx_file('too-many-dims', bytes([0, 0, 8, 200]) + struct.pack('>200I', *[1] * 200) + b'\0'),
    idx_file('huge-dims', bytes([0, 0, 8, 3]) + struct.pack('>3I', 2**32 - 1, 2**32 - 1, 2**32 - 1) + b'\0'),
    idx_file('truncated', bytes([0, 0, 8, 1]) + struct.pack('>I', 10) + b'\0'),
    idx_file('bad-gzip', b'\x1f\x8b\x08\x00garbage'),
]
for split, (images, labels) in {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz')}.items():
    for folder in ('mnist', 'fashion_mnist'):
        write_idx(TMP / 'root' / folder / images, np.zeros((4, 28, 28), dtype=np.uint8))
        write_idx(TMP / 'root' / folder / labels, LABELS)

# Paths are given as str: a Path's generic bad values include 'x', which is a fine (relative) path.
MNIST = [
    Call('dlcourse.mnist.read_idx', (str(IDX),), bad={'path_or_fileobj': BAD_IDX + [io.StringIO('text')]},
         doubtful={'path_or_fileobj': [IDX, io.BytesIO(IDX.read_bytes())]}),
    Call('dlcourse.mnist.write_idx', (str(TMP / 'out-idx1-ubyte'), LABELS),
         bad={'array': [LABELS.astype(np.int64), np.array(['a']), np.zeros(())]}),
    Call('dlcourse.mnist.file_md5', (str(IDX),)),
    Call('dlcourse.mnist.download', (IDX.as_uri(), str(TMP / 'dl' / 'labels.gz')), dict(md5=None, timeout=5.0),
         bad={'url': ['not a url', 'gopher://x'], 'md5': ['abc', 'z' * 32], 'timeout': [0.0, -1.0]}),
    Call('dlcourse.mnist.load_mnist', (str(TMP / 'root'),), dict(split='train', download=False, dtype='float32'),
         bad={'split': ['validation'], 'dtype': ['int8']}),
    Call('dlcourse.mnist.load_fashion_mnist', (str(TMP / 'root'),), dict(split='train', download=False, dtype='float64'),
         bad={'split': ['t10k'], 'dtype': ['float16']}),
]

# ------------------------------------------------------------------ crosscheck

RNG = np.random.default_rng(0)
XS = (RNG.normal(size=(3, 4)),)


def case() -> cc.Case:
    return cc.Case(Linear(4, 2, dtype='float64'), torch.nn.Linear(4, 2).double(), None, XS)


def comparisons() -> list:
    return [cc.Comparison('Linear(a)', 'output', 'float64', 1e-12, 1e-10, True), cc.skipped('B', 'vs sklearn', 'float32', 'no sklearn')]


CROSSCHECK = [
    Call('dlcourse.crosscheck.Comparison', ('Linear', 'output', 'float64', 1e-12, 1e-10, True), dict(skipped=''),
         bad={'dtype': ['float16'], 'tolerance': [-1.0]}),
    Call('dlcourse.crosscheck.skipped', ('Linear', 'vs sklearn', 'float64', 'scikit-learn is not installed'), bad={'dtype': ['float16']}),
    Call('dlcourse.crosscheck.relative_error', (np.ones(3), np.ones(3)), bad={'expected': [np.ones(4)]}),
    Call('dlcourse.crosscheck.compare', ('Linear', 'output', np.ones(3), np.ones(3), 'float64'), dict(rtol=1e-10),
         bad={'dtype': ['float16'], 'rtol': [-1.0]}),
    Call('dlcourse.crosscheck.Case', (Linear(4, 2), torch.nn.Linear(4, 2), torch.nn.Linear(4, 2), XS, ()),
         bad={'inputs': [(np.ones(3), 'x')]}),
    Call('dlcourse.crosscheck.Run', (np.ones(3), [np.ones(3)], {'weight': np.ones(2)}), doubtful={'input_grads': [[None]]}),
    Call('dlcourse.crosscheck.grad_output_like', (np.ones((2, 3)),), dict(seed=0), bad={'seed': [-1]}),
    Call('dlcourse.crosscheck.run_numpy', (Linear(4, 2, dtype='float64'), XS), dict(targets=(), seed=0),
         bad={'inputs': [(np.ones((3, 5)),)], 'seed': [-1]}),
    Call('dlcourse.crosscheck.run_torch', (torch.nn.Linear(4, 2).double(), XS), dict(targets=(), seed=0, device='cpu'),
         bad={'inputs': [(np.ones(3), 'x')], 'seed': [-1], 'device': ['bogus']}),
    Call('dlcourse.crosscheck.prepare', (case(), 'float64'), dict(device='cpu'), bad={'dtype': ['float16'], 'device': ['bogus']}),
    Call('dlcourse.crosscheck.check_case', ('Linear', case()), dict(dtype='float64', gradcheck=False, device='cpu'),
         bad={'dtype': ['float16'], 'device': ['bogus']}),
    Call('dlcourse.crosscheck.numerical_gradient', (lambda: 0.0, np.ones(3)), dict(h=1e-6), bad={'h': [0.0, -1e-6]}),
    Call('dlcourse.crosscheck.gradient_check', (Linear(4, 2, dtype='float64'), XS), dict(targets=(), h=1e-6, seed=0),
         bad={'h': [0.0], 'seed': [-1]}),
    Call('dlcourse.crosscheck.Concept', ('Linear', '1b', lambda dtype, device='cpu': []), dict(description='', numpy='', torch='', builtin='')),
    Call('dlcourse.crosscheck.fixed_seeds', (0,), bad={'seed': [-1]}),
    Call('dlcourse.crosscheck.register', (cc.Concept('BadInputProbe', '1b', lambda dtype, device='cpu': []),)),
    Call('dlcourse.crosscheck.register_cases', ('BadInputProbe', '1b', lambda rng: []),
         dict(description='', gradcheck=True, numpy='', torch='', builtin='')),
    Call('dlcourse.crosscheck.lesson_key', ('2b',)),
    Call('dlcourse.crosscheck.run_checks', (('float64',), ['Linear']), dict(device='cpu', progress=None),
         bad={'dtypes': [('float16',)], 'names': [['NoSuchConcept']], 'device': ['bogus']}),
    Call('dlcourse.crosscheck.concept_of', (comparisons()[0],)),
    Call('dlcourse.crosscheck.summarize', (comparisons(),)),
    Call('dlcourse.crosscheck.format_table', (comparisons(),), dict(full=False)),
]

# ------------------------------------------------------------------ learner

def numpy_parts():
    model = Linear(3, 2, dtype='float64', generator=0)
    return model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1)


def torch_parts():
    model = torch.nn.Linear(3, 2).double()
    return model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)


def learner(parts=numpy_parts, **kw):
    return Learner(*parts(), loader(), loader(), progress=False, **kw)


def started_progress():
    cb = ProgressCallback(file=io.StringIO(), disable=True)
    cb.before_fit(fitted_learner())
    return cb


def fitted_learner():
    learn = learner()
    learn.fit(1)
    return learn


XT, YT = torch.as_tensor(X), torch.as_tensor(Y)
HISTORY = History([0.7, 0.6], [{'epoch': 0, 'train_loss': 0.65}])

LEARNER = [
    Call('dlcourse.learner.NumpyBackend', numpy_parts()),
    Call('dlcourse.learner.NumpyBackend.batch', (X, Y), make=lambda: NumpyBackend(*numpy_parts()), bad={'x': [np.array(['a'])]}),
    Call('dlcourse.learner.NumpyBackend.train_step', (X, Y), dict(before_step=lambda: None), make=lambda: NumpyBackend(*numpy_parts()),
         bad={'y': [Y[:-1]]}),
    Call('dlcourse.learner.NumpyBackend.predict', (X,), make=lambda: NumpyBackend(*numpy_parts()), bad={'x': [np.array([['a']])]}),
    Call('dlcourse.learner.NumpyBackend.loss', (X[:, :2], Y), make=lambda: NumpyBackend(*numpy_parts()), bad={'y': [Y[:-1]]}),
    Call('dlcourse.learner.NumpyBackend.set_training', (True,), make=lambda: NumpyBackend(*numpy_parts())),
    Call('dlcourse.learner.TorchBackend', torch_parts(), dict(device='cpu'), bad={'device': ['bogus']}),
    Call('dlcourse.learner.TorchBackend.batch', (X, Y), make=lambda: TorchBackend(*torch_parts()), bad={'x': [np.array(['a'])]}),
    Call('dlcourse.learner.TorchBackend.train_step', (XT, YT), dict(before_step=lambda: None), make=lambda: TorchBackend(*torch_parts()),
         bad={'y': [YT[:-1]]}),
    Call('dlcourse.learner.TorchBackend.predict', (XT,), make=lambda: TorchBackend(*torch_parts()), bad={'x': [np.array([['a']])]}),
    Call('dlcourse.learner.TorchBackend.loss', (X[:, :2], YT), make=lambda: TorchBackend(*torch_parts()), bad={'y': [YT[:-1]]}),
    Call('dlcourse.learner.TorchBackend.set_training', (False,), make=lambda: TorchBackend(*torch_parts())),
    Call('dlcourse.learner.backend_for', numpy_parts(), dict(device='cpu'), bad={'device': ['cuda', 'bogus']}),
    Call('dlcourse.learner.backend_for', torch_parts(), dict(device='cpu'), bad={'device': ['bogus']}),
    Call('dlcourse.learner.accuracy', (X[:, :2], Y), bad={'target': [Y[:-1]]}),
    Call('dlcourse.learner.History', (HISTORY.step_loss, HISTORY.epochs), bad={'epochs': [[{'epoch': 0}, 3]]}),
    Call('dlcourse.learner.History.column', ('train_loss',), make=lambda: History([0.7, 0.6], [{'epoch': 0, 'train_loss': 0.65}])),
    Call('dlcourse.learner.History.plot', ('loss',), make=lambda: History([0.7, 0.6], [{'epoch': 0, 'train_loss': 0.65}])),
    Call('dlcourse.learner.check_learner', (learner(),), bad={'learn': [History(), ProgressCallback(), learner]}),
    Call('dlcourse.learner.ProgressCallback', (io.StringIO(), True), bad={'file': [3, 'x']}),
    Call('dlcourse.learner.ProgressCallback.before_fit', (fitted_learner(),), make=lambda: ProgressCallback(file=io.StringIO())),
    Call('dlcourse.learner.ProgressCallback.after_batch', (fitted_learner(),), make=started_progress),
    Call('dlcourse.learner.ProgressCallback.after_epoch', (fitted_learner(),), make=started_progress, bad={'learn': [learner()]}),
    Call('dlcourse.learner.ProgressCallback.after_fit', (fitted_learner(),), make=started_progress),
    Call('dlcourse.learner.Learner', numpy_parts() + (loader(), loader()),
         dict(cbs=[ProgressCallback(file=io.StringIO())], metrics=[], device='cpu', progress=False, name='run'),
         bad={'cbs': [[3], ProgressCallback(), [ProgressCallback, 'x']], 'metrics': [(3,), ['accuracy']],
              'train_dl': [[], [(X, Y, Y)], [(X,)], loader().dataset, iter(loader()), DataLoader(ArrayDataset(X, Y, Y))],
              'valid_dl': [[(X, Y, Y)], []], 'device': ['cuda'], 'model': [ReLU(), torch.nn.ReLU(), torch.nn.Linear(3, 2)],
              'loss_func': [cross_entropy], 'opt': [SGD(Linear(3, 2).parameters(), lr=0.1)]},
         doubtful={'train_dl': [[(X, Y)]]}),
    Call('dlcourse.learner.Learner.fit', (1,), make=learner, bad={'epochs': [0, -1]}),
    Call('dlcourse.learner.Learner.predict', (X,), make=learner, bad={'x': [[[1.0], [2.0, 3.0]]]}),
    Call('dlcourse.learner.Learner.evaluate', (loader(),), make=learner, bad={'dl': [[], [(X, Y, Y)], [(X, Y[:-1])], iter([(X, Y)])]}),
]

CALLS = DATA + MNIST + CROSSCHECK + LEARNER
