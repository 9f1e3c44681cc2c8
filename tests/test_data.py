"Tests for dlcourse.data: digits, splits, scalers, one-hot, mini-batch loaders and synthetic datasets."
import inspect
import subprocess
import sys

import matplotlib
matplotlib.use('Agg')
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcourse.core import as_generator, manual_seed
from dlcourse.data import (ArrayDataset, DataLoader, Digits, MinMaxScaler, NotFittedError, StandardScaler,
                           load_digits, make_moons, make_regression_curve, make_spirals, one_hot,
                           show_digits, split_indices, to_torch_loader, train_val_test_split)

sk_pre = pytest.importorskip('sklearn.preprocessing')


# ---------------------------------------------------------------- digits

def test_digits_shapes_and_classes():
    d = load_digits()
    assert isinstance(d, Digits) and len(d) == 1797
    assert d.X.shape == (1797, 64) and d.X.dtype == np.float32
    assert d.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(d.images.reshape(-1, 64), d.X)
    assert d.y.shape == (1797,) and d.y.dtype == np.int64
    assert d.classes == tuple('0123456789')
    np.testing.assert_array_equal(np.bincount(d.y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    assert d.X.min() == 0 and d.X.max() == 16 and (d.X == np.round(d.X)).all()


def test_digits_match_sklearn():
    from sklearn.datasets import load_digits as sk_load_digits
    sk, d = sk_load_digits(), load_digits('float64')
    np.testing.assert_array_equal(d.X, sk.data)
    np.testing.assert_array_equal(d.y, sk.target)
    assert d.X.dtype == np.float64


def test_digits_returns_fresh_copies():
    a = load_digits()
    a.X[:] = -5
    a.y[:] = 7
    b = load_digits()
    assert b.X.min() == 0 and np.bincount(b.y).min() > 100
    assert not np.shares_memory(a.X, b.X)


@pytest.mark.parametrize('dtype', ['int8', 'float16', 'nope', 3])
def test_digits_bad_dtype(dtype):
    with pytest.raises(ValueError, match='dtype'):
        load_digits(dtype)


# ---------------------------------------------------------------- splits

def test_split_stratified_disjoint_complete():
    d = load_digits()
    tr, va, te = split_indices(d.y, val_size=0.15, test_size=0.15, seed=0)
    assert (len(tr), len(va), len(te)) == (1257, 270, 270)
    allidx = np.concatenate([tr, va, te])
    np.testing.assert_array_equal(np.sort(allidx), np.arange(1797))   # disjoint and complete
    counts = np.bincount(d.y)
    for idx, frac, slack in [(tr, 0.7, 2), (va, 0.15, 1), (te, 0.15, 1)]:   # train is what is left: two roundings
        per_class = np.bincount(d.y[idx], minlength=10)
        assert np.all(np.abs(per_class - frac * counts) < slack), per_class


def test_split_arrays_follow_indices():
    d = load_digits()
    out = train_val_test_split(d.X, d.y, seed=3)
    tr, va, te = split_indices(d.y, seed=3)
    for (Xs, ys), idx in zip([out[0:2], out[2:4], out[4:6]], [tr, va, te]):
        np.testing.assert_array_equal(Xs, d.X[idx])
        np.testing.assert_array_equal(ys, d.y[idx])


def test_split_deterministic_and_seed_dependent():
    y = load_digits().y
    a, b = split_indices(y, seed=7), split_indices(y, seed=7)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    c = split_indices(y, seed=8)
    assert not np.array_equal(a[2], c[2])
    g1, g2 = split_indices(y, seed=np.random.default_rng(7)), split_indices(y, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(g1[0], g2[0])


def test_split_unstratified_and_regression_targets():
    X = np.arange(100.0).reshape(50, 2)
    y = np.linspace(0, 1, 50)                       # float targets: only without stratification
    Xtr, ytr, Xva, yva, Xte, yte = train_val_test_split(X, y, val_size=0.2, test_size=0.1, stratify=False, seed=1)
    assert (len(Xtr), len(Xva), len(Xte)) == (35, 10, 5)
    assert len(np.intersect1d(ytr, yte)) == 0
    np.testing.assert_allclose(Xtr[:, 0] / 2, ytr * 49)


def test_split_zero_sizes_and_tensors():
    y = np.repeat(np.arange(3), 10)
    tr, va, te = split_indices(y, val_size=0, test_size=0)
    assert len(tr) == 30 and len(va) == len(te) == 0
    X = torch.arange(60.0).reshape(30, 2)
    Xtr, ytr, *_ = train_val_test_split(X, torch.from_numpy(y), seed=0)
    assert isinstance(Xtr, torch.Tensor) and len(Xtr) == len(ytr) == 20      # 0.15 * 30 = 4.5 rounds up to 5


def test_split_small_classes_keep_train_nonempty():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    tr, va, te = split_indices(y, val_size=0.2, test_size=0.2, seed=0)
    assert len(tr) + len(va) + len(te) == 10 and len(te) == 2 and len(va) == 2
    with pytest.raises(ValueError, match='val_size, test_size'):
        split_indices(np.array([0, 1]), val_size=0.4, test_size=0.4, stratify=False)
    tr, va, te = split_indices(np.array([0, 1, 1]), val_size=0.3, test_size=0.3)   # a class may run out, not the split
    assert (len(tr), len(va), len(te)) == (1, 1, 1)


@pytest.mark.parametrize('kwargs, exc, name', [
    (dict(val_size=-0.1), ValueError, 'val_size'),
    (dict(val_size=1.0), ValueError, 'val_size'),
    (dict(test_size=1.5), ValueError, 'test_size'),
    (dict(test_size='0.2'), TypeError, 'test_size'),
    (dict(val_size=0.6, test_size=0.5), ValueError, 'val_size, test_size'),
    (dict(stratify='yes'), TypeError, 'stratify'),
    (dict(seed=-1), ValueError, 'seed'),
    (dict(seed='abc'), TypeError, 'seed'),
    (dict(seed=1.5), TypeError, 'seed'),
])
def test_split_bad_arguments(kwargs, exc, name):
    d = load_digits()
    with pytest.raises(exc, match=name):
        train_val_test_split(d.X, d.y, **kwargs)
    with pytest.raises(exc, match=name):
        split_indices(d.y, **kwargs)


def test_split_bad_arrays():
    d = load_digits()
    with pytest.raises(ValueError, match='X, y'):
        train_val_test_split(d.X, d.y[:-1])
    with pytest.raises(TypeError, match='y: expected an integer'):
        train_val_test_split(d.X, d.y.astype(float))
    with pytest.raises(ValueError, match='y: expected a 1-D'):
        train_val_test_split(d.X, d.y[:, None])
    with pytest.raises(TypeError, match='X: expected'):
        train_val_test_split(list(d.X), d.y)
    with pytest.raises(ValueError, match='X: contains NaN'):
        train_val_test_split(np.full((4, 2), np.nan), np.array([0, 1, 0, 1]))


def test_as_generator():
    g = np.random.default_rng(0)
    assert as_generator(g) is g
    assert as_generator(5).integers(1000) == np.random.default_rng(5).integers(1000)
    manual_seed(3)
    from dlcourse.core import default_generator
    assert as_generator(None) is default_generator()
    with pytest.raises(TypeError, match='generator'):
        as_generator(True)
    with pytest.raises(TypeError, match='gen'):
        as_generator('x', name='gen')


# ---------------------------------------------------------------- scalers

def _data_with_constant_columns(dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(40, 6)) * np.array([1, 10, 0.01, 1, 1, 1])
    X[:, 3] = 0.0                # exactly constant at zero (like the digits' corner pixels)
    X[:, 4] = 0.1                # constant at a value that is not exactly representable
    X[:, 5] = 7.0
    return X.astype(dtype)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_standard_scaler_matches_sklearn(dtype):
    X = _data_with_constant_columns(dtype)
    Xtr, Xte = X[:30], X[30:]
    ours, ref = StandardScaler().fit(Xtr), sk_pre.StandardScaler().fit(Xtr)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.mean_, ref.mean_, **tol)
    np.testing.assert_allclose(ours.var_, ref.var_, **tol)
    np.testing.assert_allclose(ours.scale_, ref.scale_, **tol)
    np.testing.assert_allclose(ours.transform(Xte), ref.transform(Xte), **tol)
    np.testing.assert_allclose(ours.inverse_transform(Xte), ref.inverse_transform(Xte), **tol)
    np.testing.assert_allclose(ours.fit_transform(Xtr), ref.fit_transform(Xtr), **tol)
    assert ours.transform(Xte).dtype == dtype
    assert np.isfinite(ours.transform(Xte)).all()
    np.testing.assert_array_equal(ours.scale_[3:], 1.0)


@pytest.mark.parametrize('with_mean, with_std', [(True, False), (False, True), (False, False)])
def test_standard_scaler_options_match_sklearn(with_mean, with_std):
    X = _data_with_constant_columns()
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    ref = sk_pre.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(X), ref.inverse_transform(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('feature_range', [(0, 1), (-1, 1), (2.5, 3.0)])
def test_minmax_scaler_matches_sklearn(feature_range):
    X = _data_with_constant_columns()
    Xtr, Xte = X[:30], X[30:]
    ours, ref = MinMaxScaler(feature_range).fit(Xtr), sk_pre.MinMaxScaler(feature_range).fit(Xtr)
    for attr in ['data_min_', 'data_max_', 'data_range_', 'scale_', 'min_']:
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.transform(Xte), ref.transform(Xte), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(Xte), ref.inverse_transform(Xte), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.fit_transform(Xtr), ref.fit_transform(Xtr), rtol=1e-12, atol=1e-12)
    Z = ours.transform(Xtr)
    np.testing.assert_allclose(Z.min(axis=0), feature_range[0], atol=1e-12)
    np.testing.assert_allclose(Z[:, :3].max(axis=0), feature_range[1], atol=1e-12)


def test_scalers_on_digits_fit_on_train_only():
    d = load_digits('float64')
    Xtr, ytr, Xva, yva, Xte, yte = train_val_test_split(d.X, d.y, seed=0)
    for ours, ref in [(StandardScaler(), sk_pre.StandardScaler()), (MinMaxScaler(), sk_pre.MinMaxScaler())]:
        ours.fit(Xtr); ref.fit(Xtr)
        for part in (Xtr, Xva, Xte):
            np.testing.assert_allclose(ours.transform(part), ref.transform(part), rtol=1e-12, atol=1e-12)
        # the statistics are the training split's, not the whole dataset's
        assert not np.allclose(ours.transform(d.X), type(ours)().fit_transform(d.X))


def test_scalers_do_not_modify_input_and_integer_input():
    Xi = np.array([[1, 2], [3, 2], [5, 2]], dtype=np.int64)
    for s in (StandardScaler(), MinMaxScaler()):
        X = _data_with_constant_columns()
        before = X.copy()
        s.fit(X); s.transform(X); s.fit_transform(X); s.inverse_transform(X)
        np.testing.assert_array_equal(X, before)
        out = type(s)().fit_transform(Xi)
        assert out.dtype == np.float64 and np.isfinite(out).all()


def test_scalers_not_fitted_and_feature_mismatch():
    for s in (StandardScaler(), MinMaxScaler()):
        for method in ('transform', 'inverse_transform'):
            with pytest.raises(NotFittedError, match=f'{type(s).__name__}.{method}.*not fitted'):
                getattr(s, method)(np.ones((2, 3)))
        assert issubclass(NotFittedError, ValueError)
        s.fit(np.ones((4, 3)))
        with pytest.raises(ValueError, match='X: expected 3 features'):
            s.transform(np.ones((2, 4)))


@pytest.mark.parametrize('X, exc, msg', [
    (np.ones(5), ValueError, 'X: expected a 2-D'),
    (np.ones((2, 2, 2)), ValueError, 'X: expected a 2-D'),
    ([[1.0, 2.0]], TypeError, 'X: expected a NumPy array'),
    (torch.ones(3, 2), TypeError, 'X: expected a NumPy array'),
    (np.array([[1.0, np.nan]]), ValueError, 'X: contains NaN'),
    (np.array([['a', 'b']]), TypeError, 'X: expected a numeric'),
    (np.ones((0, 3)), ValueError, 'X: expected at least one sample'),
])
def test_scalers_bad_X(X, exc, msg):
    for cls in (StandardScaler, MinMaxScaler):
        with pytest.raises(exc, match=msg):
            cls().fit(X)


@pytest.mark.parametrize('feature_range, exc', [((1, 0), ValueError), ((0, 0), ValueError), ((0,), TypeError),
                                                ('01', TypeError), ((0, float('inf')), ValueError),
                                                ((0, float('nan')), ValueError), ((0, 'a'), TypeError)])
def test_minmax_bad_feature_range(feature_range, exc):
    with pytest.raises(exc, match='feature_range'):
        MinMaxScaler(feature_range)


def test_standard_scaler_bad_flags():
    with pytest.raises(TypeError, match='with_mean'):
        StandardScaler(with_mean=1)
    with pytest.raises(TypeError, match='with_std'):
        StandardScaler(with_std='no')


# ---------------------------------------------------------------- one-hot

@pytest.mark.parametrize('shape', [(7,), (3, 4), (2, 3, 2), (0,)])
@pytest.mark.parametrize('num_classes', [None, -1, 6, 11])
def test_one_hot_matches_torch(shape, num_classes):
    y = np.random.default_rng(0).integers(0, 6, size=shape)
    if len(y) == 0 and num_classes in (None, -1):
        with pytest.raises(ValueError, match='num_classes'):
            one_hot(y, num_classes)
        return
    expected = F.one_hot(torch.from_numpy(y), -1 if num_classes is None else num_classes).numpy()
    got = one_hot(y, num_classes)
    assert got.dtype == np.int64 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_one_hot_dtypes_and_int_kinds():
    y = np.array([2, 0, 1], dtype=np.uint8)
    np.testing.assert_array_equal(one_hot(y, dtype='float32'), np.eye(3, dtype=np.float32)[[2, 0, 1]])
    assert one_hot(y, dtype=np.float64).dtype == np.float64
    assert one_hot(y, dtype=bool).dtype == np.bool_


@pytest.mark.parametrize('args, exc, msg', [
    ((np.array([0, -1]),), ValueError, 'y: class labels must be non-negative'),
    ((np.array([0, 3]), 3), ValueError, 'y: labels must be < num_classes=3'),
    ((np.array([0.0, 1.0]),), TypeError, 'y: expected an integer'),
    (([0, 1],), TypeError, 'y: expected a NumPy array'),
    ((torch.tensor([0, 1]),), TypeError, 'y: expected a NumPy array'),
    ((np.array([0, 1]), 0), ValueError, 'num_classes'),
    ((np.array([0, 1]), -2), ValueError, 'num_classes'),
    ((np.array([0, 1]), 2.0), TypeError, 'num_classes'),
    ((np.array([0, 1]), True), TypeError, 'num_classes'),
    ((np.array([0, 1]), 2, 'nonsense'), TypeError, 'dtype'),
    ((np.array([0, 1]), 2, 'U5'), TypeError, 'dtype'),
])
def test_one_hot_bad_input(args, exc, msg):
    with pytest.raises(exc, match=msg):
        one_hot(*args)


# ---------------------------------------------------------------- ArrayDataset / DataLoader

def test_array_dataset_indexing():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    ds = ArrayDataset(X, y)
    assert len(ds) == 10
    x0, y0 = ds[3]
    np.testing.assert_array_equal(x0, X[3]); assert y0 == 3
    xb, yb = ds[np.array([1, 4])]
    np.testing.assert_array_equal(xb, X[[1, 4]]); np.testing.assert_array_equal(yb, [1, 4])
    xs, ys = ds[2:5]
    assert xs.shape == (3, 2) and ys.tolist() == [2, 3, 4]
    assert len(ArrayDataset(y)[0]) == 1


def test_array_dataset_bad_input():
    with pytest.raises(TypeError, match='arrays'):
        ArrayDataset()
    with pytest.raises(ValueError, match=r'arrays\[1\]: expected 10 samples'):
        ArrayDataset(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(TypeError, match=r'arrays\[0\]'):
        ArrayDataset([1, 2, 3])
    with pytest.raises(ValueError, match=r'arrays\[0\]'):
        ArrayDataset(np.array(3.0))


def test_array_dataset_holds_missing_values_like_tensor_dataset():
    "A dataset is a container: NaN passes through it (the training loop stops on the NaN loss it causes)."
    ds = ArrayDataset(np.zeros(2), np.array([1.0, np.nan]))
    assert np.isnan(ds[1][1]) and len(torch.utils.data.TensorDataset(torch.tensor([1.0, float('nan')]))) == len(ds)


@pytest.mark.parametrize('n', [0, 1, 10, 64, 65, 130])
@pytest.mark.parametrize('batch_size', [1, 7, 64, 100])
@pytest.mark.parametrize('drop_last', [False, True])
def test_loader_batch_counts(n, batch_size, drop_last):
    ds = ArrayDataset(np.arange(n, dtype=np.float64).reshape(n, 1), np.arange(n))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=drop_last, generator=0)
    sizes = [len(yb) for _, yb in loader]
    expected = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == len(sizes) == expected
    assert all(s == batch_size for s in sizes[:-1])
    if drop_last:
        assert all(s == batch_size for s in sizes)
    else:
        assert sum(sizes) == n
    torch_ds = torch.utils.data.TensorDataset(torch.zeros(n, 1))     # PyTorch agrees on the count
    assert len(loader) == len(torch.utils.data.DataLoader(torch_ds, batch_size=batch_size, drop_last=drop_last))


def test_loader_epoch_is_a_permutation_and_batches_align():
    X, y = np.arange(50.0)[:, None] * 10, np.arange(50)
    loader = DataLoader(ArrayDataset(X, y), batch_size=8, shuffle=True, generator=1)
    seen = []
    for xb, yb in loader:
        assert isinstance(xb, np.ndarray) and xb.shape[1:] == (1,)
        np.testing.assert_array_equal(xb[:, 0], yb * 10)          # rows stay together
        seen.append(yb)
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), y)


def test_loader_no_shuffle_is_sequential():
    y = np.arange(23)
    loader = DataLoader(ArrayDataset(y), batch_size=5)
    assert (loader.batch_size, loader.shuffle, loader.drop_last) == (5, False, False)
    np.testing.assert_array_equal(np.concatenate([b for (b,) in loader]), y)
    assert DataLoader(ArrayDataset(y)).batch_size == 1           # PyTorch's default


def test_loader_shuffle_determinism():
    ds = ArrayDataset(np.arange(100))

    def epochs(gen, k=3, **kw):
        loader = DataLoader(ds, batch_size=16, shuffle=True, generator=gen, **kw)
        return [np.concatenate([b for (b,) in loader]) for _ in range(k)]

    a, b = epochs(5), epochs(5)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], a[1])                          # fresh permutation per epoch
    assert not np.array_equal(a[0], epochs(6)[0])
    c = epochs(np.random.default_rng(5))
    np.testing.assert_array_equal(c[0], a[0])
    manual_seed(5)                                                 # None -> dlcourse's default generator
    d = epochs(None)
    np.testing.assert_array_equal(d[0], a[0])


def test_loader_batches_are_copies():
    X = np.zeros((10, 2))
    loader = DataLoader(ArrayDataset(X), batch_size=4)
    for (xb,) in loader:
        xb += 1
    assert (X == 0).all()


@pytest.mark.parametrize('kwargs, exc, msg', [
    (dict(batch_size=0), ValueError, 'batch_size'),
    (dict(batch_size=2.0), TypeError, 'batch_size'),
    (dict(batch_size=True), TypeError, 'batch_size'),
    (dict(shuffle='yes'), TypeError, 'shuffle'),
    (dict(drop_last=1), TypeError, 'drop_last'),
    (dict(generator='seed'), TypeError, 'generator'),
    (dict(generator=-3), ValueError, 'generator'),
])
def test_loader_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        DataLoader(ArrayDataset(np.zeros(4)), **kwargs)


def test_loader_bad_dataset():
    with pytest.raises(TypeError, match='dataset: expected an ArrayDataset'):
        DataLoader((np.zeros(4), np.zeros(4)))
    with pytest.raises(TypeError, match='dataset'):
        DataLoader(torch.utils.data.TensorDataset(torch.zeros(4)))


# ---------------------------------------------------------------- NumPy <-> PyTorch loaders

def _assert_same_batches(np_loader, torch_loader, epochs=3):
    total = 0
    for _ in range(epochs):
        for np_batch, t_batch in zip(np_loader, torch_loader, strict=True):
            assert isinstance(t_batch, tuple) and len(t_batch) == len(np_batch)
            for a, t in zip(np_batch, t_batch):
                assert isinstance(t, torch.Tensor)
                assert t.numpy().dtype == a.dtype.newbyteorder('=')
                np.testing.assert_array_equal(t.numpy(), a)
            total += 1
    return total


@pytest.mark.parametrize('shuffle', [True, False])
@pytest.mark.parametrize('drop_last', [True, False])
def test_torch_loader_identical_batches(shuffle, drop_last):
    d = load_digits()
    Xtr, ytr, *_ = train_val_test_split(d.X, d.y, seed=0)
    np_loader = DataLoader(ArrayDataset(Xtr, ytr), batch_size=100, shuffle=shuffle, drop_last=drop_last, generator=42)
    torch_loader = to_torch_loader(np_loader)
    assert isinstance(torch_loader, torch.utils.data.DataLoader)
    assert isinstance(torch_loader.sampler, torch.utils.data.Sampler)
    assert len(torch_loader) == len(np_loader) == (12 if drop_last else 13)
    assert (torch_loader.batch_size, torch_loader.drop_last) == (100, drop_last)
    assert _assert_same_batches(np_loader, torch_loader) == 3 * len(np_loader)


def test_torch_loader_starts_from_current_state_and_keeps_dtypes():
    X = np.random.default_rng(0).normal(size=(37, 3))              # float64 stays float64
    y = np.arange(37)
    np_loader = DataLoader(ArrayDataset(X, y), batch_size=5, shuffle=True, generator=np.random.default_rng(9))
    first = [yb for _, yb in np_loader]                            # the NumPy loader has moved on one epoch...
    torch_loader = to_torch_loader(np_loader)                      # ...so its twin replays from epoch 2
    assert _assert_same_batches(np_loader, torch_loader, epochs=2) == 16
    xb, yb = next(iter(torch_loader))
    assert xb.dtype == torch.float64 and yb.dtype == torch.int64
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(first, [t for _, t in torch_loader]))


def test_torch_loader_default_generator():
    manual_seed(11)
    np_loader = DataLoader(ArrayDataset(np.arange(30)), batch_size=4, shuffle=True)
    torch_loader = to_torch_loader(np_loader)
    _assert_same_batches(np_loader, torch_loader, epochs=2)


def test_torch_loader_odd_arrays():
    X = np.arange(12, dtype='>f4').reshape(6, 2)               # big-endian and read-only arrays are converted
    y = np.arange(6)
    y.flags.writeable = False
    np_loader = DataLoader(ArrayDataset(X, y), batch_size=4)
    _assert_same_batches(np_loader, to_torch_loader(np_loader), epochs=1)
    with pytest.raises(TypeError, match='loader: dataset array 1'):
        to_torch_loader(DataLoader(ArrayDataset(X, np.array(list('abcdef')))))


def test_torch_loader_bad_input():
    with pytest.raises(TypeError, match='loader'):
        to_torch_loader(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(3))))


def test_module_does_not_import_torch():
    code = "import sys, dlcourse.data, dlcourse.mnist; assert 'torch' not in sys.modules; " \
           "assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, '-c', code], check=True)


# ---------------------------------------------------------------- synthetic datasets

def test_spirals():
    X, y = make_spirals()
    assert X.shape == (300, 2) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    assert np.abs(X).max() <= 1.0 + 1e-6                           # radius grows from 0 to 1
    X2, y2 = make_spirals(n_samples=101, n_classes=4, noise=0.0, seed=1, dtype='float64')
    assert X2.dtype == np.float64 and np.bincount(y2).tolist() == [26, 25, 25, 25]
    np.testing.assert_array_equal(make_spirals(seed=5)[0], make_spirals(seed=5)[0])
    assert not np.array_equal(make_spirals(seed=5)[0], make_spirals(seed=6)[0])


def test_moons():
    X, y = make_moons()
    assert X.shape == (200, 2) and set(y.tolist()) == {0, 1} and np.bincount(y).tolist() == [100, 100]
    X0, y0 = make_moons(n_samples=51, noise=0.0)
    outer, inner = X0[y0 == 0], X0[y0 == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, atol=1e-6)                     # upper unit half circle
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (outer[:, 1] >= -1e-6).all() and (inner[:, 1] <= 0.5 + 1e-6).all()
    np.testing.assert_array_equal(make_moons(seed=2)[0], make_moons(seed=2)[0])


def test_regression_curve():
    x, y = make_regression_curve()
    assert x.shape == y.shape == (100, 1) and x.dtype == y.dtype == np.float32
    assert np.abs(x).max() <= np.pi
    x0, y0 = make_regression_curve(n_samples=50, noise=0.0, dtype='float64')
    np.testing.assert_allclose(y0, np.sin(x0), atol=1e-12)
    resid = y - np.sin(x)
    assert 0.05 < resid.std() < 0.2


def test_synthetic_sets_have_their_exact_shape_defaults_and_noise():
    "The noise-free shapes point by point, their defaults (those the lessons quote), and the noise level each adds."
    X, y = make_moons(n_samples=101, noise=0.0, dtype='float64')
    outer, inner = X[y == 0], X[y == 1]
    assert (len(outer), len(inner)) == (50, 51)
    angles_out = np.sort(np.arctan2(outer[:, 1], outer[:, 0]))              # the upper arc, from 0 to pi
    angles_in = np.sort(np.arctan2(0.5 - inner[:, 1], 1 - inner[:, 0]))    # the lower arc, from 0 to pi
    np.testing.assert_allclose(angles_out, np.linspace(0, np.pi, 50), atol=1e-12)
    np.testing.assert_allclose(angles_in, np.linspace(0, np.pi, 51), atol=1e-12)
    X, y = make_spirals(n_samples=101, n_classes=4, noise=0.0, dtype='float64')
    for k in range(4):
        arm, m = X[y == k], (26 if k == 0 else 25)
        r = np.sort(np.hypot(*arm.T))
        np.testing.assert_allclose(r, np.linspace(0, 1, m), atol=1e-12)        # the radius grows from 0 to 1...
        out = arm[np.hypot(*arm.T) > 1e-9]                                    # ...as the angle turns by 4 radians
        expected = 2 * np.pi * k / 4 + 4 * np.hypot(*out.T)
        np.testing.assert_allclose(np.angle(np.exp(1j * (np.arctan2(*out.T) - expected))), 0, atol=1e-9)
    x, _ = make_regression_curve(n_samples=2000, noise=0.0, seed=3, dtype='float64')
    assert x.min() < -3.1 and x.max() > 3.1                                  # x covers [-pi, pi]
    (Xc, yc), (Xn, yn) = (make_moons(4000, noise=noise, dtype='float64') for noise in (0.0, 0.3))
    assert np.array_equal(yc, yn) and abs(np.std(Xn - Xc) / 0.3 - 1) < 0.05  # the same seed: the same order, noise added
    (xc, tc), (xn, tn) = (make_regression_curve(4000, noise=noise, dtype='float64') for noise in (0.0, 0.3))
    assert np.array_equal(xc, xn) and abs(np.std(tn - tc) / 0.3 - 1) < 0.05
    (Sc, sc), (Sn, sn) = (make_spirals(4000, noise=noise, dtype='float64') for noise in (0.0, 0.3))
    far = np.hypot(*Sc.T) > 0.1                                               # spirals' noise turns the angle
    turn = np.angle(np.exp(1j * (np.arctan2(*Sn[far].T) - np.arctan2(*Sc[far].T))))
    assert np.array_equal(sc, sn) and abs(np.std(turn) / 0.3 - 1) < 0.05
    for make, noise, n_samples in ((make_moons, 0.1, 200), (make_spirals, 0.2, 300), (make_regression_curve, 0.1, 100)):
        params = inspect.signature(make).parameters
        assert (params['noise'].default, params['n_samples'].default, params['seed'].default, params['dtype'].default) == \
            (noise, n_samples, 0, 'float32')
    assert inspect.signature(make_spirals).parameters['n_classes'].default == 3


@pytest.mark.parametrize('fn, kwargs, exc, msg', [
    (make_spirals, dict(n_samples=2, n_classes=3), ValueError, 'n_samples'),
    (make_spirals, dict(n_classes=0), ValueError, 'n_classes'),
    (make_spirals, dict(n_classes=2.5), TypeError, 'n_classes'),
    (make_spirals, dict(noise=-0.1), ValueError, 'noise'),
    (make_spirals, dict(seed='x'), TypeError, 'seed'),
    (make_moons, dict(n_samples=1), ValueError, 'n_samples'),
    (make_moons, dict(noise=float('inf')), ValueError, 'noise'),
    (make_moons, dict(dtype='int32'), ValueError, 'dtype'),
    (make_regression_curve, dict(n_samples=0), ValueError, 'n_samples'),
    (make_regression_curve, dict(n_samples=1.0), TypeError, 'n_samples'),
    (make_regression_curve, dict(noise='a'), TypeError, 'noise'),
    (make_regression_curve, dict(seed=-1), ValueError, 'seed'),
])
def test_synthetic_bad_arguments(fn, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(**kwargs)


# ---------------------------------------------------------------- gallery

def test_show_digits():
    import matplotlib.pyplot as plt
    d = load_digits()
    preds = d.y[:12].copy()
    preds[3] = (preds[3] + 1) % 10
    fig = show_digits(d.images[:12], d.y[:12], preds, n=12, ncols=5)
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 12 and len(fig.axes) == 15
    assert axes[3].get_title() == f"{preds[3]} ({d.y[3]})"
    assert axes[3].title.get_color() == 'tab:red' and axes[0].get_title() == str(d.y[0])
    fig2 = show_digits(d.X, n=3, classes=list('abcdefghij'))             # flattened images, no labels
    assert len([ax for ax in fig2.axes if ax.images]) == 3
    fig3 = show_digits(d.images[:4], d.y[:4], classes=list('abcdefghij'))
    assert [ax.get_title() for ax in fig3.axes if ax.images] == [list('abcdefghij')[c] for c in d.y[:4]]
    plt.close('all')


@pytest.mark.parametrize('args, kwargs, exc, msg', [
    ((np.zeros((3, 10)),), {}, ValueError, 'images: a 2-D array needs square'),
    ((np.zeros(5),), {}, ValueError, 'images'),
    (([[0.0]],), {}, TypeError, 'images'),
    ((np.zeros((3, 8, 8)), np.zeros(2, int)), {}, ValueError, 'labels: expected 3'),
    ((np.zeros((3, 8, 8)), np.zeros(3)), {}, TypeError, 'labels'),
    ((np.zeros((3, 8, 8)), np.zeros(3, int), np.zeros(4, int)), {}, ValueError, 'preds'),
    ((np.zeros((3, 8, 8)),), dict(n=0), ValueError, 'n: '),
    ((np.zeros((3, 8, 8)),), dict(ncols=0), ValueError, 'ncols'),
])
def test_show_digits_bad_input(args, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        show_digits(*args, **kwargs)


def test_digits_splits_standardizes_exactly_like_raw_pixels():
    from dlcourse.data import digits_splits
    digits = load_digits('float64')
    X_tr, _, X_va, _, _, _ = train_val_test_split(digits.X, digits.y, seed=3)
    scaler = StandardScaler().fit(X_tr)
    data = digits_splits(3, dtype='float64')
    np.testing.assert_array_equal(data.X_train, scaler.transform(X_tr))  # dividing by 16 is exact
    np.testing.assert_array_equal(data.X_valid, scaler.transform(X_va))
    assert data.standardized and data.X_train.dtype == np.float64


def test_digits_splits_fraction_keeps_every_class_and_fits_the_scaler_on_the_subset():
    from dlcourse.data import digits_splits
    full, small = digits_splits(standardize=False), digits_splits(fraction=0.25, subset_seed=1, standardize=False)
    assert abs(len(small.y_train) - 0.25 * len(full.y_train)) <= 1
    np.testing.assert_allclose(np.bincount(small.y_train) / len(small.y_train),
                               np.bincount(full.y_train) / len(full.y_train), atol=0.01)
    np.testing.assert_allclose(small.scaler.mean_, small.X_train.mean(axis=0), atol=1e-6)
    np.testing.assert_array_equal(small.X_valid, full.X_valid)
    assert not np.array_equal(small.y_train, digits_splits(fraction=0.25, subset_seed=2, standardize=False).y_train)


@pytest.mark.parametrize('kwargs, error, fragment', [
    (dict(fraction=0), ValueError, 'fraction'), (dict(fraction=1.5), ValueError, 'fraction'),
    (dict(standardize='no'), TypeError, 'standardize'), (dict(dtype='int8'), ValueError, 'dtype'),
])
def test_digits_splits_rejects_bad_arguments(kwargs, error, fragment):
    from dlcourse.data import digits_splits
    with pytest.raises(error, match=fragment): digits_splits(**kwargs)


def test_standardize_wraps_a_loader_and_checks_its_arguments():
    from dlcourse.data import Standardize
    X = np.arange(12, dtype=np.float64).reshape(6, 2)
    scaler = StandardScaler().fit(X)
    dl = Standardize(DataLoader(ArrayDataset(X, np.arange(6)), batch_size=4), scaler)
    batches = list(dl)
    assert len(dl) == len(batches) == 2
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), scaler.transform(X))
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), np.arange(6))
    with pytest.raises(TypeError, match='dl'): Standardize(3, scaler)
    with pytest.raises(TypeError, match='scaler'): Standardize([], 'scaler')
    with pytest.raises(ValueError, match='not fitted'): Standardize([], StandardScaler())


# ---------------------------------------------------------------- what the containers and helpers check

def test_digits_container_checks_its_fields():
    from dlcourse.data import Digits
    d = load_digits()
    with pytest.raises(ValueError, match='X, y: expected the same number of samples, got 1797 and 1796'):
        Digits(d.X, d.y[:-1], d.images, d.classes)
    with pytest.raises(ValueError, match='images: expected the 1797 rows of X as square images'):
        Digits(d.X, d.y, d.images[:, :4], d.classes)
    with pytest.raises(ValueError, match='classes: expected a name for every label up to 9, got 2 names'):
        Digits(d.X, d.y, d.images, ('0', '1'))
    with pytest.raises(TypeError, match='classes: expected a sequence of class names'):
        Digits(d.X, d.y, d.images, '0123456789')


def test_digits_splits_container_checks_its_fields():
    from dlcourse.data import DigitsSplits, digits_splits
    s = digits_splits()
    parts = [s.X_train, s.y_train, s.X_valid, s.y_valid, s.X_test, s.y_test, s.scaler, True]
    assert DigitsSplits(*parts).standardized
    for i, value, error, fragment in [(1, s.y_valid, ValueError, 'X_train, y_train: expected the same number of samples'),
                                      (2, s.X_valid[:, :5], ValueError, r'X_valid: expected shape \(\*, 64\)'),
                                      (5, s.y_test.astype(float), TypeError, 'y_test: expected an integer dtype'),
                                      (6, StandardScaler(), ValueError, 'scaler: this StandardScaler is not fitted yet'),
                                      (6, StandardScaler().fit(s.X_train[:, :3]), ValueError, 'scaler: fitted on 3 features'),
                                      (6, MinMaxScaler(), TypeError, 'scaler: expected a StandardScaler'),
                                      (7, 'yes', TypeError, 'standardized: expected True or False')]:
        bad = list(parts)
        bad[i] = value
        with pytest.raises(error, match=fragment): DigitsSplits(*bad)


def test_digits_splits_names_the_fraction_that_keeps_nothing():
    from dlcourse.data import digits_splits
    with pytest.raises(ValueError, match='fraction: 1e-09 of the 1257 training images keeps none; it must be more than 0.0004'):
        digits_splits(fraction=1e-9)
    assert len(digits_splits(fraction=0.5 / 1257 + 1e-9).y_train) == 1       # the smallest fraction that keeps one
    for name in ('split_seed', 'subset_seed'):
        with pytest.raises(TypeError, match=name): digits_splits(**{name: None})
        with pytest.raises(ValueError, match=name): digits_splits(**{name: -1})


@pytest.mark.parametrize('kwargs, exc, msg', [
    (dict(classes=('a', 'b')), ValueError, 'classes: expected a name for every label up to'),
    (dict(classes='0123456789'), TypeError, 'classes: expected a sequence'),
    (dict(classes=3), TypeError, 'classes'),
    (dict(figsize=(0, 2)), ValueError, 'figsize'),
    (dict(figsize=(2,)), TypeError, 'figsize: expected a .width, height. pair'),
    (dict(figsize='big'), TypeError, 'figsize'),
    (dict(figsize=(2, float('nan'))), ValueError, 'figsize'),
])
def test_show_digits_checks_classes_and_figsize(kwargs, exc, msg):
    d = load_digits()
    with pytest.raises(exc, match=msg): show_digits(d.images[:4], d.y[:4], **kwargs)


def test_show_digits_fits_the_page_column():
    import matplotlib.pyplot as plt
    fig = show_digits(load_digits().images, n=40, ncols=10)
    assert fig.get_size_inches()[0] <= 8.5
    plt.close('all')


def test_tensor_batch_dataset_checks_its_tensors():
    from dlcourse.data import TensorBatchDataset
    ds = TensorBatchDataset(torch.arange(6.0).reshape(3, 2), torch.arange(3))
    xb, yb = ds.__getitems__([2, 0])
    assert yb.tolist() == [2, 0] and xb.shape == (2, 2) and len(ds) == 3
    with pytest.raises(TypeError, match='tensors: expected at least one'): TensorBatchDataset()
    with pytest.raises(TypeError, match=r'tensors\[0\]: expected a torch tensor'): TensorBatchDataset(np.zeros(3))
    with pytest.raises(ValueError, match=r'tensors\[1\]: expected 3 samples'): TensorBatchDataset(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match=r'tensors\[0\]'): TensorBatchDataset(torch.tensor(1.0))


def test_standardize_rejects_a_string_and_names_an_unfitted_scaler():
    from dlcourse.data import Standardize
    with pytest.raises(TypeError, match='dl: expected an iterable'): Standardize('batches', StandardScaler().fit(np.ones((2, 2))))
    with pytest.raises(ValueError, match='scaler: this StandardScaler is not fitted yet'): Standardize([], StandardScaler())


# ---------------------------------------------------------------- randomness covers its whole range

def test_shuffled_loader_puts_every_sample_in_every_position():
    "An off-by-one in the permutation (one sample never first, or never last) cannot pass."
    loader = DataLoader(ArrayDataset(np.arange(5)), batch_size=5, shuffle=True, generator=0)
    orders = np.array([next(iter(loader))[0] for _ in range(300)])
    for position in range(5): assert set(orders[:, position]) == set(range(5))
    assert len({tuple(o) for o in orders}) > 100                               # 120 orders exist: most are drawn


@pytest.mark.parametrize('stratify', [True, False])
def test_every_sample_can_land_in_every_split(stratify):
    y = np.repeat(np.arange(3), 8)
    where = np.zeros((3, len(y)), dtype=bool)
    for seed in range(60):
        for part, idx in enumerate(split_indices(y, val_size=0.25, test_size=0.25, stratify=stratify, seed=seed)): where[part, idx] = True
    assert where.all()


@pytest.mark.parametrize('test_size', [0.1, 0.15])
def test_stratified_counts_match_sklearn(test_size):
    "Both give every class its share of the test split by largest remainders (when they agree on the split's size)."
    from sklearn.model_selection import StratifiedShuffleSplit
    y = load_digits().y
    _, sk_test = next(StratifiedShuffleSplit(1, test_size=test_size, random_state=0).split(np.zeros(len(y)), y))
    _, _, test = split_indices(y, val_size=0, test_size=test_size)
    np.testing.assert_array_equal(np.bincount(y[test]), np.bincount(y[sk_test]))


# ---------------------------------------------------------------- exact texts, defaults and edge cases

def test_reprs_name_the_class_and_every_setting():
    assert repr(StandardScaler()) == 'StandardScaler(with_mean=True, with_std=True)'
    assert repr(StandardScaler(with_mean=False)) == 'StandardScaler(with_mean=False, with_std=True)'
    assert repr(StandardScaler(with_std=False)) == 'StandardScaler(with_mean=True, with_std=False)'
    assert repr(MinMaxScaler((-1, 1))) == 'MinMaxScaler(feature_range=(-1, 1))'
    assert repr(ArrayDataset(np.zeros((4, 2)), np.arange(4))) == \
        'ArrayDataset(ndarray of shape (4, 2) and dtype float64, ndarray of shape (4,) and dtype int64)'
    assert repr(load_digits('float64')) == ('Digits(n=1797, X: ndarray of shape (1797, 64) and dtype float64, '
                                            'y: ndarray of shape (1797,) and dtype int64, classes=10)')


def test_minmax_scaler_treats_a_range_below_ten_eps_as_constant_like_sklearn():
    "scikit-learn's bound: a column whose range is under 10 machine epsilons is constant (scale 1); exactly 10 is not."
    import warnings
    eps = np.finfo(np.float64).eps
    X = np.array([[0.0, 0.0, 5.0], [10 * eps, 9.5 * eps, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter('error')                             # and no warning on the way
        ours = MinMaxScaler().fit(X)
    ref = sk_pre.MinMaxScaler().fit(X)
    np.testing.assert_array_equal(ours.scale_, ref.scale_)
    np.testing.assert_array_equal(ours.transform(X), ref.transform(X))
    np.testing.assert_array_equal(ours.transform(X)[:, 0], [0.0, 1.0])
    np.testing.assert_array_equal(ours.scale_[1:], [1.0, 1.0])


def test_minmax_feature_range_errors_name_the_argument():
    for bad in (('a', 1), (0, 'b')):
        with pytest.raises(TypeError, match=r'^feature_range: '): MinMaxScaler(bad)


def test_one_hot_refuses_zero_classes_even_for_no_labels():
    for y in (np.zeros(0, np.int64), np.array([0, 1])):
        for num_classes in (0, -2):
            with pytest.raises(ValueError, match=r'^num_classes: expected a value >= 1'): one_hot(y, num_classes)
    assert one_hot(np.zeros(0, np.int64), 3).shape == (0, 3)


def test_tensor_batch_dataset_holds_missing_values_and_at_most_64_dims():
    "Like ArrayDataset (a container: NaN passes through), and no more dimensions than the NumPy arrays it is made from."
    from dlcourse.data import TensorBatchDataset
    ds = TensorBatchDataset(torch.tensor([1.0, float('nan')]), torch.tensor([0.0, float('inf')]))
    x, t = ds.__getitems__([1])
    assert torch.isnan(x).all() and torch.isinf(t).all()
    assert len(TensorBatchDataset(torch.zeros([1] * 64))) == 1
    with pytest.raises(ValueError, match=r'tensors\[0\]'): TensorBatchDataset(torch.zeros([1] * 65))


def test_tensor_batch_dataset_gives_one_sample_and_empty_batches():
    from dlcourse.data import TensorBatchDataset
    ds = TensorBatchDataset(torch.arange(6.0).reshape(3, 2), torch.arange(3))
    xb, yb = ds.__getitems__([])
    assert xb.shape == (0, 2) and yb.shape == (0,) and yb.dtype == torch.int64
    x1, y1 = ds[1]                                                 # one sample, as TensorDataset gives it
    assert x1.tolist() == [2.0, 3.0] and y1.item() == 1 and y1.ndim == 0


def test_torch_loader_shares_writable_memory_and_copies_read_only_arrays():
    "No copy of a (contiguous, native, writable) dataset; a read-only one is copied, without PyTorch's not-writable warning."
    import warnings
    X = np.arange(12.0).reshape(6, 2)
    y = np.arange(6)
    y.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        tensors = to_torch_loader(DataLoader(ArrayDataset(X, y), batch_size=4)).dataset.tensors
    assert np.shares_memory(tensors[0].numpy(), X)
    assert not np.shares_memory(tensors[1].numpy(), y) and tensors[1].tolist() == y.tolist()


def test_synthetic_sets_defaults_are_the_documented_ones():
    "Calling with no arguments is calling with the documented defaults (the lessons quote them)."
    for make, defaults in ((make_spirals, dict(n_samples=300, n_classes=3, noise=0.2, seed=0, dtype='float32')),
                           (make_moons, dict(n_samples=200, noise=0.1, seed=0, dtype='float32')),
                           (make_regression_curve, dict(n_samples=100, noise=0.1, seed=0, dtype='float32'))):
        for got, expected in zip(make(), make(**defaults), strict=True):
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
    X, y = make_moons()
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert make_moons(dtype='float64')[0].dtype == np.float64


def test_synthetic_sets_smallest_sizes():
    X, y = make_spirals(n_samples=5, n_classes=1)                  # a single arm
    assert X.shape == (5, 2) and y.tolist() == [0] * 5
    X, y = make_moons(n_samples=2)                                 # one point on each moon
    assert X.shape == (2, 2) and sorted(y.tolist()) == [0, 1]
    x, t = make_regression_curve(n_samples=1)
    assert x.shape == t.shape == (1, 1)


def test_show_digits_defaults_and_smallest_grids():
    import matplotlib.pyplot as plt
    d = load_digits()
    fig = show_digits(d.images[:40])                                # default: the first 32 images, 8 a row
    assert len(fig.axes) == 32 and {ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes} == {(4, 8)}
    fig = show_digits(d.images[:12], d.y[:12], n=12, ncols=5)       # 15 cells, 3 of them empty: every frame is hidden
    assert len(fig.axes) == 15 and not any(ax.axison for ax in fig.axes) and [bool(ax.images) for ax in fig.axes[-4:]] == [True] + [False] * 3
    fig = show_digits(d.images[:5], ncols=1)                         # one column
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes} == {(5, 1)}
    fig = show_digits(d.images, n=1, figsize=(1, 0.5))               # one image, in a small figure
    assert len(fig.axes) == 1 and tuple(fig.get_size_inches()) == (1.0, 0.5)
    fig = show_digits(d.images[:3].astype(np.uint8), np.array([1, 2, 3], dtype=np.uint8))   # raw pixel counts and labels
    assert [ax.get_title() for ax in fig.axes] == ['1', '2', '3']
    plt.close('all')


@pytest.mark.parametrize('args, exc, msg', [
    ((np.full((2, 8, 8), 'a'),), TypeError, '^images: expected a numeric dtype'),
    ((torch.zeros(2, 8, 8),), TypeError, '^images: expected a NumPy array'),
    ((np.zeros((2, 8, 8)), np.zeros((2, 1), int)), ValueError, '^labels: expected a 1-D array'),
    ((np.zeros((2, 8, 8)), None, np.zeros((2, 1), int)), ValueError, '^preds: expected a 1-D array'),
    ((np.zeros((2, 8, 8)), torch.zeros(2, dtype=torch.long)), TypeError, '^labels: expected a NumPy array'),
    ((np.zeros((2, 8, 8)), None, torch.zeros(2, dtype=torch.long)), TypeError, '^preds: expected a NumPy array'),
])
def test_show_digits_takes_numpy_numbers_and_flat_label_vectors(args, exc, msg):
    with pytest.raises(exc, match=msg): show_digits(*args)


def test_split_and_load_defaults_are_the_documented_ones():
    y = load_digits().y
    X = np.arange(len(y), dtype=np.float64)[:, None]
    for got, expected in zip(split_indices(y), split_indices(y, val_size=0.15, test_size=0.15, stratify=True, seed=0), strict=True):
        np.testing.assert_array_equal(got, expected)
    for got, expected in zip(train_val_test_split(X, y), train_val_test_split(X, y, 0.15, 0.15, True, 0), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert load_digits().X.dtype == np.float32


@pytest.mark.parametrize('kwargs, message', [
    (dict(val_size=1.0), r'val_size: expected a value in \[0, 1\)'),
    (dict(test_size=-0.1), r'test_size: expected a value in \[0, 1\)'),
    (dict(val_size=0.5, test_size=0.5), r'val_size, test_size: together they must be < 1 to leave training data, got 0.5 \+ 0.5 = 1.0'),
    (dict(val_size=0.7, test_size=0.4), r'val_size, test_size: together they must be < 1'),
])
def test_split_size_errors_name_the_sizes(kwargs, message):
    with pytest.raises(ValueError, match='^' + message): split_indices(np.arange(10) % 2, **kwargs)


def test_show_digits_names_classes_without_labels():
    import matplotlib.pyplot as plt
    fig = show_digits(load_digits().images[:2], classes=['digit'])    # one name is enough when there are no labels
    assert len(fig.axes) == 2
    plt.close('all')


def test_scaler_errors_start_with_the_argument_they_name():
    for make, error, message in ((lambda: StandardScaler(with_mean=1), TypeError, 'with_mean: expected True or False'),
                                 (lambda: StandardScaler(with_std='no'), TypeError, 'with_std: expected True or False'),
                                 (lambda: StandardScaler().fit(np.ones(3)), ValueError, 'X: expected a 2-D array'),
                                 (lambda: MinMaxScaler().fit(np.ones((2, 2))).transform(np.ones((2, 3))), ValueError,
                                  'X: expected 2 features'),
                                 (lambda: StandardScaler().transform(np.ones((2, 2))), NotFittedError,
                                  'StandardScaler.transform: this StandardScaler is not fitted yet')):
        with pytest.raises(error, match='^' + message): make()


def test_loader_errors_start_with_the_argument_they_name():
    ds = ArrayDataset(np.zeros(4))
    for kwargs, error, message in ((dict(batch_size=0), ValueError, 'batch_size: expected a value >= 1'),
                                   (dict(shuffle='yes'), TypeError, 'shuffle: expected True or False'),
                                   (dict(drop_last=1), TypeError, 'drop_last: expected True or False')):
        with pytest.raises(error, match='^' + message): DataLoader(ds, **kwargs)
