"""Data preparation (dlcourse.prep) and the class-imbalance exploration (dlcourse.explore.prep).

scikit-learn is the test oracle where it has the same function: SimpleImputer, OneHotEncoder,
StratifiedKFold (class counts per fold), compute_class_weight, recall_score."""
import numpy as np
import pytest

from dlcourse.data import NotFittedError
from dlcourse.prep import (CITIES, IMPUTE_STRATEGIES, Imputer, OneHotEncoder, OutlierBounds, Table, check_labelled,
                           class_weights, clip_outliers, drop_duplicates, drop_outliers, iqr_outliers, make_imbalanced, make_patients,
                           random_oversample, random_undersample, stratified_kfold, unify_categories, zscore_outliers)


def holey(n=60, d=4, rate=0.2, seed=0, dtype=np.float64):
    "A random table with about `rate` of its values missing (NaN), some repeated values for most_frequent."
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 6, (n, d)).astype(dtype) + rng.normal(0, 1, (n, d)).round(0).astype(dtype)
    X[rng.uniform(size=X.shape) < rate] = np.nan
    return X


# ----------------------------------------------------------------------------------------------- drop_duplicates
def test_drop_duplicates_keeps_first_in_order():
    X = np.array([[3.0, 1.0], [1.0, 2.0], [3.0, 1.0], [0.0, 0.0], [1.0, 2.0]])
    out, idx = drop_duplicates(X, return_index=True)
    assert idx.tolist() == [0, 1, 3]
    np.testing.assert_array_equal(out, X[[0, 1, 3]])


def test_drop_duplicates_nan_equal_and_signed_zero():
    X = np.array([[np.nan, 1.0], [np.nan, 1.0], [-0.0, 2.0], [0.0, 2.0], [np.nan, 2.0]])
    assert drop_duplicates(X, return_index=True)[1].tolist() == [0, 2, 4]


def test_drop_duplicates_labels_are_part_of_the_record():
    X = np.ones((4, 2))
    y = np.array(['a', 'b', 'a', 'b'], dtype=object)
    Xo, yo, idx = drop_duplicates(X, y, return_index=True)
    assert idx.tolist() == [0, 1] and yo.tolist() == ['a', 'b'] and Xo.shape == (2, 2)


def test_drop_duplicates_integers_empty_and_input_untouched():
    X = np.array([[1, 2], [1, 2], [2, 1]])
    before = X.copy()
    out = drop_duplicates(X)
    assert out.tolist() == [[1, 2], [2, 1]] and out.dtype == X.dtype
    np.testing.assert_array_equal(X, before)
    assert not np.shares_memory(out, X)
    assert drop_duplicates(np.zeros((0, 3))).shape == (0, 3)


def test_drop_duplicates_matches_unique_rows():
    X = np.random.default_rng(0).integers(0, 3, (200, 3)).astype(float)
    assert len(drop_duplicates(X)) == len(np.unique(X, axis=0))


@pytest.mark.parametrize('bad, exc, msg', [
    (np.ones(3), ValueError, 'X: expected a 2-D array'),
    (np.array([['a', 'b']]), TypeError, 'X: expected a numeric dtype'),
    (np.array([[1.0, np.inf]]), ValueError, 'X: contains inf'),
    ([[1.0, 2.0]], TypeError, 'X: expected a NumPy array'),
])
def test_drop_duplicates_bad_input(bad, exc, msg):
    with pytest.raises(exc, match=msg): drop_duplicates(bad)


def test_drop_duplicates_bad_y_and_flag():
    with pytest.raises(ValueError, match='X, y: expected the same number of samples'): drop_duplicates(np.ones((3, 2)), np.ones(2))
    with pytest.raises(TypeError, match='return_index'): drop_duplicates(np.ones((3, 2)), return_index=1)


# ----------------------------------------------------------------------------------------------- Imputer
@pytest.mark.parametrize('strategy', IMPUTE_STRATEGIES)
def test_imputer_matches_sklearn(strategy):
    from sklearn.impute import SimpleImputer
    X_tr, X_te = holey(seed=1), holey(seed=2)
    ours, theirs = Imputer(strategy).fit(X_tr), SimpleImputer(strategy=strategy).fit(X_tr)
    np.testing.assert_allclose(ours.statistics_, theirs.statistics_.astype(float), rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours.transform(X_te), theirs.transform(X_te), rtol=1e-12, atol=0)


def test_imputer_constant_fill_value_matches_sklearn():
    from sklearn.impute import SimpleImputer
    X = holey(seed=3)
    np.testing.assert_array_equal(Imputer('constant', fill_value=-7.5).fit_transform(X),
                                  SimpleImputer(strategy='constant', fill_value=-7.5).fit_transform(X))


def test_imputer_most_frequent_ties_take_smallest():
    X = np.array([[2.0], [1.0], [2.0], [1.0], [np.nan]])
    assert Imputer('most_frequent').fit(X).statistics_.tolist() == [1.0]


def test_imputer_fits_on_train_only():
    X_tr = np.array([[1.0], [3.0], [np.nan]])
    X_te = np.array([[np.nan], [100.0]])
    imp = Imputer('mean').fit(X_tr)
    assert imp.transform(X_te).tolist() == [[2.0], [100.0]]


def test_imputer_never_modifies_input_unless_inplace():
    X = holey(seed=4)
    before = X.copy()
    imp = Imputer('median')
    out = imp.fit_transform(X)
    np.testing.assert_array_equal(X, before)
    assert not np.shares_memory(out, X) and not np.isnan(out).any()
    same = imp.transform(X, inplace=True)
    assert same is X and not np.isnan(X).any()
    np.testing.assert_array_equal(X, out)


def test_imputer_inplace_read_only_is_refused():
    X = holey(seed=5)
    X.flags.writeable = False
    imp = Imputer().fit(X)
    with pytest.raises(ValueError, match='X: the array is read-only'): imp.transform(X, inplace=True)
    assert imp.transform(X).flags.writeable


def test_imputer_keeps_float32():
    X = holey(seed=6, dtype=np.float32)
    out = Imputer('mean').fit_transform(X)
    assert out.dtype == np.float32 and not np.isnan(out).any()


def test_imputer_all_missing_column_names_the_column():
    X = holey(seed=7)
    X[:, 2] = np.nan
    for strategy in ('mean', 'median', 'most_frequent'):
        with pytest.raises(ValueError, match='X: column 2 has no values'): Imputer(strategy).fit(X)
    assert not np.isnan(Imputer('constant').fit_transform(X)).any()   # nothing to learn: fine


@pytest.mark.parametrize('make, exc, msg', [
    (lambda: Imputer('mode'), ValueError, "strategy: expected one of 'mean'"),
    (lambda: Imputer('mean', fill_value=0), ValueError, "fill_value: only used with strategy='constant'"),
    (lambda: Imputer('constant', fill_value='zero'), TypeError, 'fill_value: expected a real number'),
    (lambda: Imputer('constant', fill_value=np.nan), ValueError, 'fill_value'),
    (lambda: Imputer().fit(np.array([[1, 2], [3, 4]])), TypeError, 'X: expected a floating-point dtype'),
    (lambda: Imputer().fit(np.array([['1.0']], dtype=object)), TypeError, 'X: expected a floating-point dtype'),
    (lambda: Imputer().fit(np.array([1.0, np.nan])), ValueError, 'X: expected a 2-D array'),
    (lambda: Imputer().fit(np.zeros((0, 2))), ValueError, 'X: expected at least one sample'),
    (lambda: Imputer().fit(np.array([[np.inf, 1.0]])), ValueError, 'X: contains inf'),
    (lambda: Imputer().transform(np.ones((2, 2))), NotFittedError, 'not fitted yet'),
    (lambda: Imputer().fit(np.ones((2, 2))).transform(np.ones((2, 3))), ValueError, 'X: expected 2 features'),
    (lambda: Imputer().fit(np.ones((2, 2))).transform(np.ones((2, 2)), inplace='yes'), TypeError, 'inplace'),
])
def test_imputer_bad_input(make, exc, msg):
    with pytest.raises(exc, match=msg): make()


# ----------------------------------------------------------------------------------------------- outliers
def test_zscore_outliers_match_definition():
    from scipy.stats import zscore
    X = np.random.default_rng(0).standard_t(2, (300, 3))
    np.testing.assert_array_equal(zscore_outliers(X, threshold=2.5), np.abs(zscore(X, axis=0)) > 2.5)


def test_iqr_outliers_match_definition():
    X = np.random.default_rng(1).standard_t(2, (300, 3))
    q1, q3 = np.percentile(X, [25, 75], axis=0)
    expected = (X < q1 - 2 * (q3 - q1)) | (X > q3 + 2 * (q3 - q1))
    np.testing.assert_array_equal(iqr_outliers(X, k=2), expected)


def test_outliers_ignore_nan_and_accept_1d():
    x = np.array([1.0, 2.0, np.nan, 3.0, 2.0, 50.0])
    mask = iqr_outliers(x)
    assert mask.shape == x.shape and mask.tolist() == [False] * 5 + [True]


def test_zscore_is_masked_by_a_huge_outlier_iqr_is_not():
    x = np.concatenate([np.random.default_rng(1).normal(125, 12, 50).round(), [260.0, 12500.0]])
    assert x[zscore_outliers(x)].tolist() == [12500.0]
    assert {260.0, 12500.0} <= set(x[iqr_outliers(x)].tolist())


def test_constant_column_has_no_outliers_of_its_own():
    X = np.column_stack([np.full(10, 4.0), np.arange(10.0)])
    assert not zscore_outliers(X).any() and not iqr_outliers(X).any()


def test_outlier_bounds_fitted_on_train_apply_to_new_data():
    X_tr = np.arange(1.0, 101.0)[:, None]                 # Q1 25.75, Q3 75.25, IQR 49.5
    bounds = OutlierBounds('iqr').fit(X_tr)
    np.testing.assert_allclose([bounds.lower_[0], bounds.upper_[0]], [25.75 - 74.25, 75.25 + 74.25])
    assert bounds.mask(np.array([[-50.0], [0.0], [150.0], [np.nan]]))[:, 0].tolist() == [True, False, True, False]
    z = OutlierBounds('zscore', k=2).fit(X_tr)
    np.testing.assert_allclose(z.upper_, X_tr.mean() + 2 * X_tr.std())


def test_clip_outliers_new_array_nan_kept_dtype_kept():
    X = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, np.nan], [4.0, 30.0], [400.0, 25.0]], dtype=np.float32)
    before = X.copy()
    bounds = OutlierBounds('iqr').fit(X)
    out = clip_outliers(X, bounds)
    np.testing.assert_array_equal(X, before)
    assert out.dtype == np.float32 and np.isnan(out[2, 1]) and not bounds.mask(out).any()
    assert out[4, 0] == np.float32(bounds.upper_[0]) and out[:4, 0].tolist() == [1, 2, 3, 4]


def test_clip_outliers_inplace_and_1d():
    x = np.array([1.0, 2.0, 3.0, 100.0])
    same = clip_outliers(x, OutlierBounds('iqr').fit(x), inplace=True)
    assert same is x and x.tolist() == [1.0, 2.0, 3.0, 65.5]   # Q1 1.75, Q3 27.25 -> upper fence 65.5


def test_drop_outliers_rows_labels_index():
    X = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 900.0], [2.5, 1.5], [np.nan, 2.0]])
    y = np.array([0, 1, 2, 3, 4])
    bounds = OutlierBounds('iqr').fit(X)
    Xo, yo, idx = drop_outliers(X, bounds, y, return_index=True)
    assert idx.tolist() == [0, 1, 3, 4] and yo.tolist() == [0, 1, 3, 4]   # NaN is missing, not an outlier
    np.testing.assert_array_equal(Xo, X[idx])
    assert drop_outliers(X, bounds).shape == (4, 2)


@pytest.mark.parametrize('make, exc, msg', [
    (lambda: OutlierBounds('mad'), ValueError, "method: expected one of 'iqr', 'zscore'"),
    (lambda: OutlierBounds('iqr', k=0), ValueError, 'k: expected a value > 0'),
    (lambda: zscore_outliers(np.ones((3, 2)), threshold=-1), ValueError, 'threshold: expected a value > 0'),
    (lambda: iqr_outliers(np.ones((3, 2)), k='big'), TypeError, 'k: expected a real number'),
    (lambda: iqr_outliers(np.array([[1.0, np.nan], [2.0, np.nan]])), ValueError, 'X: column 1 has no values'),
    (lambda: iqr_outliers(np.ones((2, 2, 2))), ValueError, 'X: expected a 1-D or 2-D array'),
    (lambda: zscore_outliers(np.array([1, 2, 3])), TypeError, 'X: expected a floating-point dtype'),
    (lambda: OutlierBounds().mask(np.ones((2, 2))), NotFittedError, 'not fitted yet'),
    (lambda: OutlierBounds().fit(np.ones((3, 2))).mask(np.ones((3, 3))), ValueError, 'X: expected 2 features'),
    (lambda: clip_outliers(np.ones((3, 2)), (0, 1)), TypeError, 'bounds: expected a fitted OutlierBounds'),
    (lambda: clip_outliers(np.ones((3, 2)), OutlierBounds()), NotFittedError, 'bounds: this OutlierBounds is not fitted yet'),
    (lambda: iqr_outliers(np.ones((3, 2)), k=None), TypeError, 'k: expected a real number'),
    (lambda: drop_outliers(np.ones((3, 2)), OutlierBounds().fit(np.ones((3, 2))), np.ones(2)), ValueError, 'X, y'),
])
def test_outliers_bad_input(make, exc, msg):
    with pytest.raises(exc, match=msg): make()


# ----------------------------------------------------------------------------------------------- unify_categories
def test_unify_categories_case_strip_and_mapping():
    values = np.array(['NY', ' ny', 'New York', 'new  york ', 'NYC', 'Boston', 'boston', None, np.nan, 'Boston'], dtype=object)
    before = values.copy()
    out, changes = unify_categories(values, mapping={'nyc': 'New York', 'ny': 'New York'})
    assert out.tolist()[:7] == ['New York'] * 5 + ['Boston'] * 2
    assert out[7] is None and np.isnan(out[8]) and out.dtype == object
    assert changes == {'NY': 'New York', ' ny': 'New York', 'new  york ': 'New York', 'NYC': 'New York', 'boston': 'Boston'}
    assert values.tolist()[:8] == before.tolist()[:8]              # the input is untouched


def test_unify_categories_most_frequent_spelling_wins():
    out, changes = unify_categories(np.array(['seattle', 'Seattle', 'seattle', 'SEATTLE ']))
    assert out.tolist() == ['seattle'] * 4 and out.dtype.kind == 'U'
    assert changes == {'Seattle': 'seattle', 'SEATTLE ': 'seattle'}


def test_unify_categories_flags():
    values = np.array(['a', 'A', ' a'])
    assert unify_categories(values, case=False, strip=False)[1] == {}
    assert unify_categories(values, case=False)[0].tolist() == ['a', 'A', 'a']
    assert unify_categories(values, strip=False)[0].tolist() == ['a', 'a', ' a']


def test_unify_categories_recovers_the_patients_cities():
    messy, truth = make_patients(seed=3)
    canonical = {c: c for c in CITIES}                                  # a name mapped to itself fixes its spelling
    out, _ = unify_categories(messy.city, {'NY': 'New York', 'NYC': 'New York', **canonical})
    assert out.tolist() == truth.city.tolist() and sorted(set(out)) == list(CITIES)


@pytest.mark.parametrize('make, exc, msg', [
    (lambda: unify_categories(np.array([1, 2])), TypeError, 'values: expected a 1-D array of strings'),
    (lambda: unify_categories(np.array(['a', 3], dtype=object)), TypeError, 'values: expected strings, got int 3 at index 1'),
    (lambda: unify_categories(np.array([['a']])), ValueError, 'values: expected a 1-D array'),
    (lambda: unify_categories('ab'), TypeError, 'values: expected a NumPy array'),
    (lambda: unify_categories([['a']]), ValueError, 'values: expected a 1-D array'),
    (lambda: unify_categories(['a', 3]), TypeError, 'values: expected strings, got int 3 at index 1'),
    (lambda: unify_categories(np.array(['a']), mapping=[('a', 'b')]), TypeError, 'mapping: expected a dict'),
    (lambda: unify_categories(np.array(['a']), mapping={'a': 1}), TypeError, 'mapping: expected strings'),
    (lambda: unify_categories(np.array(['a']), mapping={'a': 'B', 'A': 'C'}), ValueError, "mapping: 'A' is mapped to both"),
    (lambda: unify_categories(np.array(['a']), mapping={'a': 'NY', 'b': 'ny'}), ValueError, 'are one category'),
    (lambda: unify_categories(np.array(['a']), mapping={'a': 'b', 'b': 'c'}), ValueError, "'b' is mapped to 'c' too"),
    (lambda: unify_categories(np.array(['a']), case=1), TypeError, 'case: expected True or False'),
])
def test_unify_categories_bad_input(make, exc, msg):
    with pytest.raises(exc, match=msg): make()


# ----------------------------------------------------------------------------------------------- OneHotEncoder
def test_one_hot_encoder_matches_sklearn():
    from sklearn.preprocessing import OneHotEncoder as SkOneHotEncoder
    rng = np.random.default_rng(0)
    train = np.array(rng.choice(['red', 'green', 'blue', 'teal'], 50), dtype=object)
    test = np.array(['teal', 'mauve', 'red', 'blue'], dtype=object)
    ours = OneHotEncoder(handle_unknown='ignore').fit(train)
    sk = SkOneHotEncoder(handle_unknown='ignore', sparse_output=False).fit(train[:, None])
    assert ours.categories_.tolist() == sk.categories_[0].tolist()
    np.testing.assert_array_equal(ours.transform(test), sk.transform(test[:, None]))
    assert ours.transform(test).dtype == np.float64


def test_one_hot_encoder_roundtrip_dtype_and_names():
    enc = OneHotEncoder(dtype='int8').fit(np.array(['b', 'a', 'c', 'a']))
    codes = enc.transform(np.array(['c', 'a']))
    assert codes.dtype == np.int8 and codes.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert enc.inverse_transform(codes).tolist() == ['c', 'a']
    assert enc.inverse_transform(np.zeros((1, 3))).tolist() == [None]
    assert enc.feature_names('letter') == ['letter=a', 'letter=b', 'letter=c']


@pytest.mark.parametrize('make, exc, msg', [
    (lambda: OneHotEncoder(handle_unknown='skip'), ValueError, "handle_unknown: expected one of 'error', 'ignore'"),
    (lambda: OneHotEncoder().fit(np.array(['a'])).transform(np.array(['b', 'c', 'b'])), ValueError,
     r"values: unknown categories \['b', 'c'\]"),
    (lambda: OneHotEncoder().fit(np.array([1, 2])), TypeError, 'values: expected a 1-D array of strings'),
    (lambda: OneHotEncoder().fit(np.array(['a', None], dtype=object)), ValueError, 'values: missing value'),
    (lambda: OneHotEncoder().fit(np.array([], dtype=str)), ValueError, 'values: expected at least one value'),
    (lambda: OneHotEncoder().transform(np.array(['a'])), NotFittedError, 'not fitted yet'),
    (lambda: OneHotEncoder(dtype='str'), TypeError, 'dtype'),
    (lambda: OneHotEncoder(dtype=None), TypeError, 'dtype: expected a NumPy numeric dtype'),
    (lambda: OneHotEncoder().fit(np.array(['a'])).feature_names(3), TypeError, 'prefix: expected a string'),
    (lambda: OneHotEncoder().fit(np.array(['a', 'b'])).inverse_transform(np.ones((1, 2))), ValueError, 'at most one 1'),
    (lambda: OneHotEncoder().fit(np.array(['a', 'b'])).inverse_transform(np.ones((1, 3))), ValueError, 'encoded'),
])
def test_one_hot_encoder_bad_input(make, exc, msg):
    with pytest.raises(exc, match=msg): make()


def test_categories_given_as_a_list_are_taken():
    enc = OneHotEncoder().fit(['b', 'a', 'b'])
    assert enc.categories_.tolist() == ['a', 'b'] and enc.transform(['b']).tolist() == [[0.0, 1.0]]
    assert unify_categories(['NY', 'ny', None])[0].tolist() == ['NY', 'NY', None]


def test_table_checks_its_fields():
    X = np.array([[1.0, np.nan], [2.0, 3.0]])
    table = Table(X, ('a', 'b'), ['x', None], np.array([0, 1]))
    assert isinstance(table.city, np.ndarray) and len(table) == 2
    for kwargs, exc, msg in ((dict(columns=('a',)), ValueError, 'columns: expected 2 names'),
                             (dict(columns=['a', 'b']), TypeError, 'columns: expected a tuple'),
                             (dict(city=['x']), ValueError, 'city'),
                             (dict(y=np.array([0.0, 1.0])), TypeError, 'y: expected an integer dtype'),
                             (dict(X=X.tolist()), TypeError, 'X: expected a NumPy array')):
        with pytest.raises(exc, match=msg):
            Table(**{**dict(X=X, columns=('a', 'b'), city=['x', None], y=np.array([0, 1])), **kwargs})


def test_check_labelled_is_the_shared_check_of_samples_and_labels():
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    assert check_labelled(X, y) == (X, y)
    with pytest.raises(ValueError, match='X, y: expected the same number'): check_labelled(X[:3], y)
    with pytest.raises(TypeError, match='X: expected a NumPy array'): check_labelled(X.tolist(), y)
    with pytest.raises(ValueError, match='y: expected at least one sample'): check_labelled(X[:0], y[:0])


# ----------------------------------------------------------------------------------------------- stratified_kfold
def fold_class_counts(folds, y, num_classes):
    return sorted(np.bincount(y[va], minlength=num_classes).tolist() for _, va in folds)


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('n_splits', [2, 3, 5, 7])
def test_stratified_kfold_disjoint_covering_and_like_sklearn(seed, n_splits):
    from sklearn.model_selection import StratifiedKFold
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=int(rng.integers(40, 120)), p=[0.5, 0.25, 0.15, 0.1])
    y[:4 * n_splits] = np.repeat(np.arange(4), n_splits)          # every class has >= n_splits members
    folds = list(stratified_kfold(y, n_splits=n_splits, seed=seed))
    assert len(folds) == n_splits
    np.testing.assert_array_equal(np.sort(np.concatenate([va for _, va in folds])), np.arange(len(y)))
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.arange(len(y)))
    sizes = [len(va) for _, va in folds]
    assert max(sizes) - min(sizes) <= 1
    sk = StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    assert fold_class_counts(folds, y, 4) == fold_class_counts(sk, y, 4)


def test_stratified_kfold_seeds_and_no_shuffle():
    y = np.repeat(np.arange(3), 10)
    same = [list(map(np.ndarray.tolist, f)) for f in stratified_kfold(y, 5, seed=1)]
    assert same == [list(map(np.ndarray.tolist, f)) for f in stratified_kfold(y, 5, seed=1)]
    assert same != [list(map(np.ndarray.tolist, f)) for f in stratified_kfold(y, 5, seed=2)]
    first_val = next(stratified_kfold(y, 5, shuffle=False))[1]
    assert first_val.tolist() == [0, 5, 10, 15, 20, 25]


def test_stratified_kfold_checks_eagerly():
    with pytest.raises(ValueError, match='y: class 1 has only 2 samples, fewer than n_splits=3'):
        stratified_kfold(np.array([0, 0, 0, 1, 1]), n_splits=3)           # raised at the call, not at iteration


@pytest.mark.parametrize('y, kwargs, exc, msg', [
    (np.zeros(10, dtype=int), dict(n_splits=1), ValueError, 'n_splits: expected a value >= 2'),
    (np.zeros(10, dtype=int), dict(n_splits=2.0), TypeError, 'n_splits: expected an integer'),
    (np.zeros(10), {}, TypeError, 'y: expected an integer dtype'),
    (np.zeros((10, 1), dtype=int), {}, ValueError, 'y: expected a 1-D array'),
    (np.array([0, 1, -1, 0, 1]), dict(n_splits=2), ValueError, 'y: class labels must be non-negative'),
    (np.zeros(3, dtype=int), dict(n_splits=5), ValueError, 'y: cannot make n_splits=5 folds of 3 samples'),
    (np.zeros(10, dtype=int), dict(seed=-1), ValueError, 'seed'),
    (np.zeros(10, dtype=int), dict(shuffle='yes'), TypeError, 'shuffle'),
])
def test_stratified_kfold_bad_input(y, kwargs, exc, msg):
    with pytest.raises(exc, match=msg): stratified_kfold(y, **kwargs)


# ----------------------------------------------------------------------------------------------- resampling
def imbalanced_data(seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), [50, 20, 7, 33])
    return rng.normal(size=(len(y), 8, 8)).astype(np.float32), rng.permutation(y)


def test_random_oversample_exact_counts_originals_first():
    X, y = imbalanced_data()
    before = X.copy()
    Xo, yo = random_oversample(X, y)
    assert np.bincount(yo).tolist() == [50] * 4
    np.testing.assert_array_equal(Xo[:len(y)], X)
    np.testing.assert_array_equal(yo[:len(y)], y)
    np.testing.assert_array_equal(X, before)
    added = Xo[len(y):].reshape(len(yo) - len(y), -1)
    rows = {r.tobytes(): label for r, label in zip(X.reshape(len(y), -1), y)}
    assert all(rows[r.tobytes()] == label for r, label in zip(added, yo[len(y):]))  # copies of rows of their own class
    assert Xo.dtype == np.float32 and Xo.shape[1:] == (8, 8)


@pytest.mark.parametrize('ratio, target', [(0.5, 25), (0.3, 15), (0.01, 1)])
def test_random_oversample_ratio(ratio, target):
    X, y = imbalanced_data()
    counts = np.bincount(random_oversample(X, y, ratio=ratio)[1])
    np.testing.assert_array_equal(counts, np.maximum(np.bincount(y), target))


def test_random_undersample_exact_counts_subset_in_order():
    X, y = imbalanced_data()
    Xu, yu = random_undersample(X, y, seed=3)
    assert np.bincount(yu).tolist() == [7] * 4
    index = {r.tobytes(): i for i, r in enumerate(X.reshape(len(y), -1))}
    kept = [index[r.tobytes()] for r in Xu.reshape(len(yu), -1)]
    assert kept == sorted(set(kept)) and y[kept].tolist() == yu.tolist()


@pytest.mark.parametrize('sampler', [random_oversample, random_undersample])
def test_resampling_seeds_reproducible(sampler):
    X, y = imbalanced_data()
    a, b, c = sampler(X, y, seed=5), sampler(X, y, seed=5), sampler(X, y, seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    gen_a, gen_b = sampler(X, y, seed=np.random.default_rng(9)), sampler(X, y, seed=np.random.default_rng(9))
    np.testing.assert_array_equal(gen_a[0], gen_b[0])


def test_class_weights_match_sklearn():
    from sklearn.utils.class_weight import compute_class_weight
    _, y = imbalanced_data()
    w = class_weights(y)
    np.testing.assert_allclose(w, compute_class_weight('balanced', classes=np.arange(4), y=y), rtol=1e-14)
    np.testing.assert_allclose(w * np.bincount(y), len(y) / 4)             # every class weighs n / K in total
    np.testing.assert_allclose(class_weights(y, scheme='sqrt'), np.sqrt(w))
    np.testing.assert_allclose(class_weights(y, num_classes=4), w)
    assert w.dtype == np.float64


@pytest.mark.parametrize('call, exc, msg', [
    (lambda: class_weights(np.array([0, 2])), ValueError, 'y: class 1 has no samples'),
    (lambda: class_weights(np.array([0, 1]), num_classes=3), ValueError, 'y: class 2 has no samples'),
    (lambda: class_weights(np.array([0, 3]), num_classes=3), ValueError, 'y: labels must be < num_classes=3'),
    (lambda: class_weights(np.array([0, 1]), scheme='inverse'), ValueError, "scheme: expected one of 'balanced', 'sqrt'"),
    (lambda: class_weights(np.array([0.0, 1.0])), TypeError, 'y: expected an integer dtype'),
    (lambda: class_weights(np.array([], dtype=int)), ValueError, 'y: expected at least one label'),
    (lambda: random_oversample(np.ones((3, 2)), np.array([0, 1])), ValueError, 'X, y: expected the same number'),
    (lambda: random_oversample(np.ones((3, 2)), np.array([0, 1, 1]), ratio=1.5), ValueError, 'ratio: expected a value in'),
    (lambda: random_oversample(np.ones((3, 2)), np.array([0, 1, 1]), ratio=0), ValueError, 'ratio'),
    (lambda: random_oversample(np.array([[np.nan]]), np.array([0])), ValueError, 'X: contains NaN'),
    (lambda: random_undersample(np.ones((0, 2)), np.array([], dtype=int)), ValueError, 'y: expected at least one sample'),
    (lambda: random_undersample(np.array(['a']), np.array([0])), TypeError, 'X: expected a numeric dtype'),
    (lambda: random_undersample(np.ones((2, 2)), np.array([0, 1]), seed=-3), ValueError, 'seed'),
])
def test_resampling_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg): call()


def test_make_imbalanced_cuts_one_class_in_order():
    X, y = imbalanced_data()
    before = y.copy()
    Xi, yi = make_imbalanced(X, y, cls=0, factor=20)
    counts, original = np.bincount(yi), np.bincount(y)
    assert counts[0] == 3 and counts[1:].tolist() == original[1:].tolist()          # 50 / 20 = 2.5, rounded half up
    index = {r.tobytes(): i for i, r in enumerate(X.reshape(len(y), -1))}
    kept = [index[r.tobytes()] for r in Xi.reshape(len(yi), -1)]
    assert kept == sorted(kept)
    np.testing.assert_array_equal(y, before)
    assert np.bincount(make_imbalanced(X, y, cls=2, factor=1000)[1])[2] == 1      # at least one is kept
    assert np.bincount(make_imbalanced(X, y, cls=1, factor=1)[1])[1] == 20
    np.testing.assert_array_equal(make_imbalanced(X, y, 0, seed=4)[0], make_imbalanced(X, y, 0, seed=4)[0])


@pytest.mark.parametrize('kwargs, exc, msg', [
    (dict(cls=9), ValueError, 'cls: class 9 does not occur in y'),
    (dict(cls=1.5), TypeError, 'cls: expected an integer'),
    (dict(cls=0, factor=0.5), ValueError, 'factor: expected a value >= 1'),
])
def test_make_imbalanced_bad_input(kwargs, exc, msg):
    X, y = imbalanced_data()
    with pytest.raises(exc, match=msg): make_imbalanced(X, y, **kwargs)


# ----------------------------------------------------------------------------------------------- the messy table
def test_make_patients_is_messy_and_reproducible():
    messy, truth = make_patients(n_samples=400, seed=0)
    assert len(messy) == 432 and messy.X.shape == (432, 4)
    assert len(messy) - len(drop_duplicates(messy.X)) == 32
    assert np.isnan(messy.X).any() and not np.isnan(truth.X).any()
    assert len(set(messy.city.tolist())) > len(CITIES) and set(truth.city.tolist()) == set(CITIES)
    again, _ = make_patients(n_samples=400, seed=0)
    np.testing.assert_array_equal(again.X, messy.X)
    assert 0.2 < messy.y.mean() < 0.8
    with pytest.raises(ValueError, match='n_samples'): make_patients(n_samples=5)
    with pytest.raises(ValueError, match='duplicate_rate'): make_patients(duplicate_rate=1.0)


# ----------------------------------------------------------------------------------------------- the exploration
def test_per_class_recall_matches_sklearn():
    from sklearn.metrics import recall_score
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    y_true[y_true == 4] = 3                                              # class 4 absent from y_true
    from dlcourse.explore.prep import per_class_recall
    ours = per_class_recall(y_true, y_pred, 5)
    theirs = recall_score(y_true, y_pred, labels=range(5), average=None, zero_division=np.nan)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    assert np.isnan(ours[4])


def test_per_class_recall_bad_input():
    from dlcourse.explore.prep import per_class_recall
    with pytest.raises(ValueError, match='y_true, y_pred: expected one prediction per label'):
        per_class_recall(np.zeros(3, int), np.zeros(2, int), 2)
    with pytest.raises(ValueError, match=r'y_true: labels must be in 0..1'): per_class_recall(np.array([2]), np.array([0]), 2)
    with pytest.raises(TypeError, match='y_pred: expected an integer dtype'): per_class_recall(np.zeros(1, int), np.zeros(1), 2)


def test_remedy_data():
    from dlcourse.explore.prep import remedy_data
    X, y = imbalanced_data()
    X = X.reshape(len(y), -1)
    assert np.bincount(remedy_data(X, y, 'oversample')[1]).tolist() == [50] * 4
    assert np.bincount(remedy_data(X, y, 'undersample')[1]).tolist() == [7] * 4
    Xw, yw, w = remedy_data(X, y, 'class_weights', num_classes=4)
    assert Xw is X and w.dtype == np.float32 and w.argmax() == 2
    assert remedy_data(X, y, 'none')[2] is None
    with pytest.raises(ValueError, match="remedy: expected one of"): remedy_data(X, y, 'smote')


@pytest.fixture(scope='module')
def table():
    from dlcourse.explore.prep import imbalance_table
    return imbalance_table(factor=20, cls=3)


def test_imbalance_experiment_must_show(table):
    "Digits with the 3s cut x20: without a remedy the 3s are nearly never found; every remedy finds many more."
    none = table['none']
    assert none.kept == 6 and none.train_counts[3] == 6
    assert none.recall[3] < 0.25 and none.accuracy > 0.85                # accuracy hides the collapse
    for remedy in ('oversample', 'undersample', 'class_weights'):
        assert table[remedy].recall[3] > none.recall[3] + 0.25
    assert table['oversample'].train_counts.tolist() == [table['oversample'].train_counts.max()] * 10
    assert table['undersample'].train_counts.tolist() == [6] * 10
    assert table['undersample'].accuracy < table['oversample'].accuracy  # discarding 95% of the data costs the rest


def test_train_imbalanced_cached_read_only_and_checked(table):
    from dlcourse.explore.prep import train_imbalanced
    assert train_imbalanced(20, 'none', 3) is table['none']
    assert not table['none'].recall.flags.writeable
    with pytest.raises(ValueError, match='factor: expected a value >= 1'): train_imbalanced(factor=0)
    with pytest.raises(ValueError, match='cls: expected a value in'): train_imbalanced(cls=10)
    with pytest.raises(ValueError, match="remedy: expected one of"): train_imbalanced(remedy='smote')
    with pytest.raises(ValueError, match='steps'): train_imbalanced(steps=0)


def test_recall_table_and_plots(table):
    import matplotlib.pyplot as plt
    from dlcourse.explore.prep import format_recall_table, plot_imbalance_grid, plot_recall_bars
    text = format_recall_table(table)
    assert text.splitlines()[2].startswith('none') and len(text.splitlines()) == 6
    ax = plot_recall_bars(table['none'])
    assert len(ax.patches) == 10 and 'none' in ax.get_title()
    fig = plot_imbalance_grid(factors=(20,))                              # cached runs: no training
    assert len(fig.axes) == 4
    plt.close('all')
    with pytest.raises(ValueError, match='factors: expected at least one value'): plot_imbalance_grid(factors=())
    with pytest.raises(ValueError, match=r'remedies\[1\]: expected one of'): plot_imbalance_grid(remedies=('none', 'smote'))
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): plot_recall_bars(table['none'], ax='left')
    with pytest.raises(TypeError, match='title'): plot_recall_bars(table['none'], title=3)
    with pytest.raises(TypeError, match=r"results\['none'\]"): format_recall_table({'none': 3})


def test_imbalance_result_checks_its_fields():
    from dlcourse.explore.prep import ImbalanceResult
    good = dict(factor=20.0, remedy='none', cls=3, seed=0, steps=300, kept=6, recall=np.full(10, 0.5), accuracy=0.9,
                train_counts=np.full(10, 6))
    ImbalanceResult(**good)
    for field, bad, message in (('remedy', 'smote', 'remedy'), ('cls', 10, 'cls'), ('factor', 0.5, 'factor'),
                                ('recall', np.full(10, 1.5), 'recall: expected values in'), ('accuracy', 1.5, 'accuracy'),
                                ('train_counts', np.full(9, 6), 'recall, train_counts'),
                                ('train_counts', np.full(10, -1), 'train_counts: expected counts >= 0')):
        with pytest.raises((TypeError, ValueError), match=message): ImbalanceResult(**{**good, field: bad})


def test_remedy_data_and_the_cut_check_before_work(monkeypatch):
    import dlcourse.explore.prep as ep
    from dlcourse.explore.prep import imbalance_table, imbalanced_digits, remedy_data
    X, y = imbalanced_data()
    X = X.reshape(len(y), -1)
    with pytest.raises(TypeError, match='^X: '): remedy_data('X', y, 'none')
    with pytest.raises(ValueError, match='num_classes: expected more than the largest label'): remedy_data(X, y, 'none', num_classes=3)
    with pytest.raises(TypeError, match='seed'): remedy_data(X, y, 'none', seed=None)
    monkeypatch.setattr(ep, 'digits_splits', lambda *a, **k: pytest.fail('loaded the data before checking'))
    with pytest.raises(ValueError, match='seed'): imbalanced_digits(seed=-1)
    with pytest.raises(ValueError, match=r'remedies\[0\]'): imbalance_table(remedies=('smote',))
    with pytest.raises(TypeError, match='remedies: expected a list'): imbalance_table(remedies='none')


def test_imbalance_explorer_builds(table):
    from dlcourse.explore.prep import imbalance_explorer
    widget = imbalance_explorer()
    assert len(widget.children) == 3
    with pytest.raises(ValueError, match='cls'): imbalance_explorer(cls=11)
