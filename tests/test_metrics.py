"""Lesson 9 (evaluation metrics): agreement with scikit-learn (the oracle) on many random and degenerate cases, for
every average and zero_division (warnings included), PyTorch against NumPy, bad input for every public function,
the plots and the threshold exploration.

The registered concept 'metrics' (NumPy, PyTorch and scikit-learn on fixed cases) runs in tests/test_crosscheck.py."""
import inspect
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

import dlcourse.numpy.metrics as nm
import dlcourse.torch.metrics as tm
from conftest import requires_cuda
from dlcourse.explore import metrics as em

AVERAGES = ('binary', 'micro', 'macro', 'weighted', None)
ZERO_DIVISIONS = ('warn', 0.0, 1.0, np.nan)
SCORES = ('precision_score', 'recall_score', 'f1_score')


def call(f, *args, **kwargs):
    "f(...) as a float array (or the ValueError's class), and the sorted messages of the UndefinedMetricWarnings it issued."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try: value = np.asarray(nm.to_numpy(f(*args, **kwargs)), dtype=float)
        except ValueError: value = ValueError
    return value, sorted(str(w.message) for w in caught if w.category.__name__ == 'UndefinedMetricWarning')


def assert_same(ours, theirs, where):
    (a, wa), (b, wb) = ours, theirs
    if a is ValueError or b is ValueError: assert a is b, f"{where}: only one raised ValueError ({a}, {b})"
    else:
        assert a.shape == b.shape, f"{where}: shapes {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True, err_msg=where)
    assert wa == wb, f"{where}: warnings differ:\n{wa}\n{wb}"


def random_case(seed: int, binary: bool):
    "Random labels (sometimes sparse, sometimes with an explicit `labels`), small enough to hit every corner case."
    rng = np.random.default_rng(seed)
    k = 2 if binary else int(rng.integers(3, 6))
    n = int(rng.integers(1, 15))
    y_true, y_pred = rng.integers(0, k, n), rng.integers(0, k, n)
    if not binary and rng.random() < 0.3: y_true, y_pred = 3 * y_true, 3 * y_pred
    if binary and rng.random() < 0.3: y_pred[:] = y_pred[0]
    labels = None
    if rng.random() < 0.3: labels = [int(l) for l in rng.choice(np.arange(3 * k), size=int(rng.integers(1, 4)), replace=False)]
    return y_true, y_pred, labels


@pytest.mark.parametrize('binary', [True, False], ids=['binary', 'multiclass'])
@pytest.mark.parametrize('seed', range(15))
def test_scores_agree_with_sklearn(seed, binary):
    y_true, y_pred, labels = random_case(seed, binary)
    tt, tp = torch.as_tensor(y_true), torch.as_tensor(y_pred)
    for average in AVERAGES:
        for zd in ZERO_DIVISIONS:
            for name in SCORES:
                kw = dict(labels=labels, average=average, zero_division=zd)
                ref = call(getattr(skm, name), y_true, y_pred, **kw)
                where = f"{name}({y_true}, {y_pred}, {kw})"
                assert_same(call(getattr(nm, name), y_true, y_pred, **kw), ref, 'numpy ' + where)
                assert_same(call(getattr(tm, name), tt, tp, **kw), ref, 'torch ' + where)


@pytest.mark.parametrize('seed', range(10))
@pytest.mark.parametrize('beta', [0.0, 0.5, 2.0, math.inf])
def test_fbeta_and_prfs_agree_with_sklearn(seed, beta):
    y_true, y_pred, labels = random_case(seed, binary=False)
    for average in AVERAGES[1:]:
        for zd in ZERO_DIVISIONS:
            kw = dict(beta=beta, labels=labels, average=average, zero_division=zd)
            ref = call(skm.fbeta_score, y_true, y_pred, **kw)
            assert_same(call(nm.fbeta_score, y_true, y_pred, **kw), ref, f"numpy fbeta {kw}")
            assert_same(call(tm.fbeta_score, torch.as_tensor(y_true), torch.as_tensor(y_pred), **kw), ref, f"torch fbeta {kw}")
            with warnings.catch_warnings(record=True):
                warnings.simplefilter('always')
                theirs = skm.precision_recall_fscore_support(y_true, y_pred, **kw)
                ours = nm.precision_recall_fscore_support(y_true, y_pred, **kw)
            for a, b in zip(ours[:3], theirs[:3]): np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
            if average is None: np.testing.assert_array_equal(ours[3], theirs[3])
            else: assert ours[3] is None


@pytest.mark.parametrize('seed', range(15))
def test_confusion_matrix_and_accuracy_agree_with_sklearn(seed):
    y_true, y_pred, labels = random_case(seed, binary=seed % 3 == 0)
    for normalize in ('true', 'pred', 'all', None):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try: ref = skm.confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
            except ValueError: ref = ValueError
        for module, args in ((nm, (y_true, y_pred)), (tm, (torch.as_tensor(y_true), torch.as_tensor(y_pred)))):
            if ref is ValueError:
                with pytest.raises(ValueError, match='labels: at least one of'): module.confusion_matrix(*args, labels=labels)
            else: np.testing.assert_allclose(nm.to_numpy(module.confusion_matrix(*args, labels=labels, normalize=normalize)), ref,
                                             rtol=1e-15)
    assert nm.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    assert float(tm.accuracy(torch.as_tensor(y_true), torch.as_tensor(y_pred))) == skm.accuracy_score(y_true, y_pred)


@pytest.mark.parametrize('seed', range(12))
def test_classification_report_agrees_with_sklearn(seed):
    y_true, y_pred, labels = random_case(seed, binary=seed % 4 == 0)
    names = None if labels is None or seed % 2 else [f"class {l}" for l in labels]
    for zd in ('warn', 0.0, 1.0, np.nan):
        for digits in (2, 4):
            kw = dict(labels=labels, target_names=names, digits=digits, zero_division=zd)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                theirs_dict = skm.classification_report(y_true, y_pred, output_dict=True, **kw)
                ours_dict = nm.classification_report(y_true, y_pred, output_dict=True, **kw)
                torch_dict = tm.classification_report(torch.as_tensor(y_true), torch.as_tensor(y_pred), output_dict=True, **kw)
                theirs, ours = skm.classification_report(y_true, y_pred, **kw), nm.classification_report(y_true, y_pred, **kw)
                torch_text = tm.classification_report(torch.as_tensor(y_true), torch.as_tensor(y_pred), **kw)
            for d in (ours_dict, torch_dict):
                assert list(d) == list(theirs_dict)
                for key, entry in theirs_dict.items():
                    if isinstance(entry, dict):
                        assert list(d[key]) == list(entry)
                        np.testing.assert_allclose(list(d[key].values()), list(entry.values()), rtol=1e-12, equal_nan=True)
                    else: assert d[key] == pytest.approx(entry, rel=1e-12)
            assert ours == torch_text
            if (y_true == y_pred).any(): assert ours == theirs      # with no hit at all sklearn prints the support as floats


def test_report_support_is_an_integer_even_with_no_correct_prediction():
    report = nm.classification_report(np.array([0, 1]), np.array([1, 0]), zero_division=0.0)
    assert '         1\n' in report and '1.0\n' not in report
    assert nm.precision_recall_fscore_support(np.array([0, 1]), np.array([1, 0]))[3].dtype == np.int64


def test_warning_messages_match_sklearn():
    cases = [(np.array([0, 1, 1]), np.array([0, 0, 0])), (np.array([0, 0, 2]), np.array([0, 1, 1])), (np.array([0, 0]), np.array([0, 0]))]
    for y_true, y_pred in cases:
        for name in SCORES + ('precision_recall_fscore_support', 'classification_report'):
            for average in ('macro', None, 'micro', 'binary'):
                if name == 'classification_report' and average != 'macro': continue
                kw = {} if name == 'classification_report' else {'average': average}
                assert call(getattr(nm, name), y_true, y_pred, **kw)[1] == call(getattr(skm, name), y_true, y_pred, **kw)[1]


def test_no_warning_unless_zero_division_is_warn():
    for zd in (0.0, 1.0, np.nan):
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            nm.f1_score(np.array([0, 0]), np.array([0, 0]), zero_division=zd)
            tm.f1_score(torch.tensor([0, 0]), torch.tensor([0, 0]), zero_division=zd)
    with pytest.warns(nm.UndefinedMetricWarning, match='F-score is ill-defined and being set to 0.0 due to no true nor predicted samples'):
        assert tm.f1_score(torch.tensor([0, 0]), torch.tensor([0, 0])) == 0


def test_pos_label_warning_mirrors_sklearn():
    y_true, y_pred = np.array([0, 1, 2]), np.array([0, 2, 2])
    for module, args in ((nm, (y_true, y_pred)), (tm, (torch.as_tensor(y_true), torch.as_tensor(y_pred)))):
        with pytest.warns(UserWarning, match='pos_label=2 is ignored'): module.precision_score(*args, pos_label=2, average='macro', zero_division=0.0)
    with pytest.warns(UserWarning, match='pos_label'): skm.precision_score(y_true, y_pred, pos_label=2, average='macro', zero_division=0.0)
    assert nm.precision_score(np.array([0, 1, 0]), np.array([0, 0, 0]), pos_label=0) == skm.precision_score([0, 1, 0], [0, 0, 0], pos_label=0)


# --- the must-show degenerate cases, by hand ---

def test_class_never_predicted():
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1])
    with pytest.warns(nm.UndefinedMetricWarning, match='Precision is ill-defined'):
        np.testing.assert_allclose(nm.precision_score(y_true, y_pred, average=None), [1, 1 / 3, 0])
    np.testing.assert_allclose(nm.precision_score(y_true, y_pred, average=None, zero_division=1.0), [1, 1 / 3, 1])
    assert nm.precision_score(y_true, y_pred, average='macro', zero_division=np.nan) == pytest.approx((1 + 1 / 3) / 2)
    np.testing.assert_allclose(nm.f1_score(y_true, y_pred, average=None, zero_division=1.0), [1, 0.5, 0])


def test_class_absent_from_y_true():
    y_true, y_pred = np.array([0, 0, 1]), np.array([0, 2, 1])
    with pytest.warns(nm.UndefinedMetricWarning, match='Recall is ill-defined and being set to 0.0 in labels with no true samples'):
        np.testing.assert_allclose(nm.recall_score(y_true, y_pred, average=None), [0.5, 1, 0])
    assert np.isnan(nm.recall_score(y_true, y_pred, average=None, zero_division=np.nan)[2])
    assert nm.recall_score(y_true, y_pred, average='weighted', zero_division=np.nan) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(nm.confusion_matrix(y_true, y_pred), [[1, 0, 1], [0, 1, 0], [0, 0, 0]])


def test_single_class_and_all_undefined():
    zeros = np.zeros(4, dtype=np.int64)
    for zd, expected in (('warn', 0.0), (0.0, 0.0), (1.0, 1.0)):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            assert nm.f1_score(zeros, zeros, zero_division=zd) == expected
    assert math.isnan(nm.f1_score(zeros, zeros, zero_division=np.nan))
    assert math.isnan(nm.recall_score(zeros, zeros, labels=[5], average='macro', zero_division=np.nan))
    assert nm.accuracy(zeros, zeros) == 1.0
    np.testing.assert_array_equal(nm.confusion_matrix(zeros, zeros), [[4]])
    np.testing.assert_array_equal(nm.confusion_matrix(zeros, zeros, num_classes=3), [[4, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_micro_equals_accuracy_and_weighted_recall_equals_accuracy():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 6, 200), rng.integers(0, 6, 200)
    acc = nm.accuracy(y_true, y_pred)
    for name in SCORES: assert getattr(nm, name)(y_true, y_pred, average='micro') == pytest.approx(acc, rel=1e-14)
    assert nm.recall_score(y_true, y_pred, average='weighted') == pytest.approx(acc, rel=1e-14)


def test_imbalanced_accuracy_misleads():
    y = np.zeros(1000, dtype=np.int64); y[::100] = 1
    never = np.zeros(1000, dtype=np.int64)
    assert nm.accuracy(y, never) == 0.99
    assert nm.recall_score(y, never) == 0.0
    assert nm.recall_score(y, never, average='macro') == 0.5


def test_inputs_are_not_modified_and_other_integer_dtypes_work():
    y_true, y_pred = np.array([0, 2, 1, 2], dtype=np.uint8), np.array([0, 1, 1, 2], dtype=np.int32)
    before = y_true.copy(), y_pred.copy()
    expected = skm.f1_score(y_true, y_pred, average='macro')
    assert nm.f1_score(y_true, y_pred, average='macro') == pytest.approx(expected)
    assert float(tm.f1_score(torch.as_tensor(y_true), torch.as_tensor(y_pred), average='macro')) == pytest.approx(expected)
    np.testing.assert_array_equal(y_true, before[0]); np.testing.assert_array_equal(y_pred, before[1])


def test_large_sparse_labels():
    y_true, y_pred = np.array([10**9, 5, 5, 10**9]), np.array([10**9, 5, 10**9, 7])
    np.testing.assert_array_equal(nm.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
    np.testing.assert_array_equal(tm.confusion_matrix(torch.as_tensor(y_true), torch.as_tensor(y_pred)).numpy(),
                                  skm.confusion_matrix(y_true, y_pred))


# --- PyTorch against NumPy ---

def test_torch_results_are_tensors_on_the_device_in_float64():
    y_true, y_pred = torch.tensor([0, 1, 2, 2, 1]), torch.tensor([0, 2, 2, 2, 1])
    acc = tm.accuracy(y_true, y_pred)
    assert acc.ndim == 0 and acc.dtype == torch.float64
    macro = tm.f1_score(y_true, y_pred, average='macro')
    assert macro.ndim == 0 and macro.dtype == torch.float64
    per_class = tm.precision_recall_fscore_support(y_true, y_pred)
    assert [t.shape for t in per_class] == [(3,)] * 4 and per_class[3].dtype == torch.int64
    assert tm.confusion_matrix(y_true, y_pred).dtype == torch.int64
    assert tm.predictions(torch.tensor([[0.1, 0.3], [2.0, -1.0]])).tolist() == [1, 0]


@pytest.mark.parametrize('seed', range(5))
def test_torch_matches_numpy_on_larger_data(seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(500, 7))
    y_true = rng.integers(0, 7, 500)
    y_np, y_t = nm.predictions(scores), tm.predictions(torch.as_tensor(scores))
    np.testing.assert_array_equal(y_t.numpy(), y_np)
    t_true = torch.as_tensor(y_true)
    np.testing.assert_array_equal(tm.confusion_matrix(t_true, y_t).numpy(), nm.confusion_matrix(y_true, y_np))
    for normalize in ('true', 'pred', 'all'):
        np.testing.assert_allclose(tm.confusion_matrix(t_true, y_t, normalize=normalize).numpy(),
                                   nm.confusion_matrix(y_true, y_np, normalize=normalize), rtol=1e-15)
    for average in AVERAGES[1:]:
        ours = nm.precision_recall_fscore_support(y_true, y_np, average=average)
        theirs = tm.precision_recall_fscore_support(t_true, y_t, average=average)
        for a, b in zip(ours[:3], theirs[:3]): np.testing.assert_allclose(nm.to_numpy(b), a, rtol=1e-14)


@requires_cuda
def test_torch_metrics_on_gpu():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    t_true, t_pred = torch.as_tensor(y_true, device='cuda'), torch.as_tensor(y_pred, device='cuda')
    macro = tm.f1_score(t_true, t_pred, average='macro')
    assert macro.device.type == 'cuda'
    assert float(macro) == pytest.approx(skm.f1_score(y_true, y_pred, average='macro'), rel=1e-12)
    np.testing.assert_array_equal(tm.confusion_matrix(t_true, t_pred).cpu().numpy(), skm.confusion_matrix(y_true, y_pred))
    with pytest.raises(ValueError, match='y_pred: expected a tensor on cuda'): tm.accuracy(t_true, torch.as_tensor(y_pred))


SKLEARN_BLOCKED = "import sys\nsys.modules['sklearn'] = None   # as on a plain install: `import sklearn` fails\n"


def test_check_runs_without_sklearn_and_says_what_it_skipped():
    "A plain install has no scikit-learn: importing the metrics needs none, and the check skips only the comparisons with it."
    code = SKLEARN_BLOCKED + """
import json
import dlcourse.torch.metrics as tm
from dlcourse.crosscheck import format_table, run_checks
assert not tm.sklearn_available()
results = run_checks(('float64',), ['metrics'])
skipped, ran = [r for r in results if r.skipped], [r for r in results if not r.skipped]
assert len(skipped) == 9 * 10 and len(ran) == 9 * 6, (len(skipped), len(ran))
assert all(' vs scikit-learn: ' in r.comparison and 'scikit-learn is not installed' in r.skipped and r.ok for r in skipped)
assert all('torch vs numpy' in r.comparison and r.ok for r in ran)
rows = json.loads(json.dumps([r.as_dict() for r in results]))
assert sum(bool(row['skipped']) for row in rows) == 90 and all(row['max_abs_diff'] is None for row in rows if row['skipped'])
print(format_table(results))
"""
    out = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True).stdout
    assert 'ok, 90 skipped' in out


def test_check_compares_with_sklearn_when_it_is_installed():
    results = tm.check_metrics('float64')
    assert len(results) == 9 * 16 and all(r.ok and not r.skipped for r in results)
    assert sum(' vs scikit-learn: ' in r.comparison for r in results) == 9 * 10
    assert sum(r.comparison.startswith('torch vs numpy') for r in results) == 9 * 6


def test_torch_vs_numpy_catches_a_difference(monkeypatch):
    "The PyTorch-against-NumPy comparisons fail when the PyTorch side is wrong, with or without scikit-learn."
    monkeypatch.setattr(tm, 'sklearn_available', lambda: False)
    right = tm.f1_score
    monkeypatch.setattr(tm, 'f1_score', lambda *a, **kw: right(*a, **kw) * 0.99)
    failed = [r for r in tm.check_metrics('float64') if not r.ok]
    assert failed and all(r.comparison.startswith('torch vs numpy') for r in failed)


def test_signatures_mirror_sklearn():
    for name in SCORES + ('fbeta_score', 'precision_recall_fscore_support', 'classification_report', 'confusion_matrix'):
        theirs = {k: v.default for k, v in inspect.signature(getattr(skm, name)).parameters.items()
                  if k not in ('sample_weight', 'warn_for')}
        for module in (nm, tm):
            ours = {k: v.default for k, v in inspect.signature(getattr(module, name)).parameters.items() if k != 'num_classes'}
            assert ours == theirs, (module.__name__, name)


def test_numpy_metrics_import_neither_torch_nor_matplotlib():
    code = ("import sys, dlcourse.numpy.metrics\n"
            "assert 'torch' not in sys.modules, 'torch imported'\nassert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, '-c', code], check=True)


# --- bad input, every public function ---

Y = np.array([0, 1, 2, 1])
BAD_LABELS = [
    ('y_true', [0, 1, 2, 1], TypeError, 'y_true: expected a NumPy array or torch tensor, got list'),
    ('y_true', np.array([0.0, 1.0, 2.0, 1.0]), TypeError, 'y_true: expected an integer dtype'),
    ('y_true', np.array([True, False, True, False]), TypeError, 'y_true: expected an integer dtype'),
    ('y_true', np.array([[0, 1, 2, 1]]), ValueError, 'y_true: expected a 1-D array'),
    ('y_true', np.array([0, -1, 2, 1]), ValueError, 'y_true: expected class labels 0, 1, 2, ..., got the negative label -1'),
    ('y_pred', np.array([0, -3, 2, 1]), ValueError, 'y_pred: expected class labels 0, 1, 2, ..., got the negative label -3'),
    ('y_pred', np.array([0, 1, 2]), ValueError, 'y_pred: expected 4 labels (as many as y_true), got 3'),
]
LABEL_FUNCTIONS = ['accuracy', 'confusion_matrix', 'precision_score', 'recall_score', 'f1_score', 'fbeta_score',
                   'precision_recall_fscore_support', 'classification_report']


@pytest.mark.parametrize('name', LABEL_FUNCTIONS)
@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_bad_labels(name, backend):
    module = nm if backend == 'numpy' else tm
    f = getattr(module, name)
    kw = {'average': 'macro'} if name in SCORES + ('fbeta_score',) else {}
    if name == 'fbeta_score': kw['beta'] = 2.0
    conv = (lambda a: a) if backend == 'numpy' else (lambda a: torch.as_tensor(a) if isinstance(a, np.ndarray) else a)
    for arg, bad, error, message in BAD_LABELS:
        if backend == 'torch' and isinstance(bad, list): message = 'y_true: expected a torch tensor, got list'
        args = (conv(Y), conv(bad)) if arg == 'y_pred' else (conv(bad), conv(Y))
        with pytest.raises(error) as info: f(*args, **kw)
        assert message in str(info.value)
    empty = conv(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match='y_true: expected at least one label'): f(empty, empty, **kw)


@pytest.mark.parametrize('module', [nm, tm], ids=['numpy', 'torch'])
def test_bad_options(module):
    conv = (lambda a: a) if module is nm else torch.as_tensor
    y, p = conv(Y), conv(np.array([0, 1, 1, 1]))
    with pytest.raises(ValueError, match="average: expected one of 'binary', 'micro', 'macro', 'weighted', None, got 'samples'"):
        module.f1_score(y, p, average='samples')
    with pytest.raises(ValueError, match="average: 'binary' needs at most two classes"): module.recall_score(y, p)
    for zd in ('ignore', 0.5, True, None, -1):
        with pytest.raises(ValueError, match='zero_division: expected'): module.precision_score(y, p, average='macro', zero_division=zd)
    with pytest.raises(ValueError, match='pos_label: 3 is not one of the classes'): module.f1_score(conv(np.array([0, 1])), conv(np.array([1, 1])), pos_label=3)
    with pytest.raises(ValueError, match='pos_label: expected a value >= 0'): module.f1_score(y, p, average='macro', pos_label=-1)
    with pytest.raises(TypeError, match='pos_label: expected an integer'): module.f1_score(y, p, average='macro', pos_label='1')
    with pytest.raises(ValueError, match='beta: expected a value >= 0'): module.fbeta_score(y, p, beta=-1.0, average='macro')
    with pytest.raises(ValueError, match='beta: expected a real number, got NaN'): module.fbeta_score(y, p, beta=np.nan, average='macro')
    with pytest.raises(ValueError, match=r'labels: expected distinct labels, got \[1, 1\]'): module.f1_score(y, p, labels=[1, 1], average='macro')
    with pytest.raises(TypeError, match='labels: expected integer class labels'): module.f1_score(y, p, labels=[1.5], average='macro')
    with pytest.raises(ValueError, match='labels: expected at least one label'): module.f1_score(y, p, labels=[], average='macro')
    with pytest.raises(ValueError, match='labels: expected class labels 0, 1, 2'): module.confusion_matrix(y, p, labels=[-1, 0])
    with pytest.raises(ValueError, match=r'labels: at least one of \[7\] must occur in y_true'): module.confusion_matrix(y, p, labels=[7])
    with pytest.raises(ValueError, match='labels, num_classes: give one of them'): module.confusion_matrix(y, p, labels=[0], num_classes=3)
    with pytest.raises(ValueError, match='num_classes: expected a value >= 1'): module.confusion_matrix(y, p, num_classes=0)
    with pytest.raises(ValueError, match=r'y_true: label 2 is out of range for num_classes=2 \(labels 0..1\)'): module.confusion_matrix(y, p, num_classes=2)
    with pytest.raises(ValueError, match="normalize: expected one of 'true', 'pred', 'all', None"): module.confusion_matrix(y, p, normalize='rows')
    with pytest.raises(ValueError, match='target_names: expected 3 names'): module.classification_report(y, p, target_names=['a', 'b'])
    with pytest.raises(TypeError, match='target_names: expected a sequence of 3 names'): module.classification_report(y, p, target_names='abc')
    with pytest.raises(TypeError, match='target_names: expected a sequence of strings'): module.classification_report(y, p, target_names=[1, 2, 3])
    with pytest.raises(TypeError, match='target_names: expected a sequence'): module.classification_report(y, p, target_names=object())
    with pytest.raises(ValueError, match='digits: expected a value >= 0'): module.classification_report(y, p, digits=-1)
    with pytest.raises(TypeError, match='output_dict: expected True or False'): module.classification_report(y, p, output_dict=1)


@pytest.mark.parametrize('module', [nm, tm], ids=['numpy', 'torch'])
def test_bad_scores(module):
    conv = (lambda a: a) if module is nm else torch.as_tensor
    with pytest.raises(ValueError, match='scores: expected a 2-D array'): module.predictions(conv(np.zeros(3)))
    with pytest.raises(ValueError, match='scores: contains NaN or inf'): module.predictions(conv(np.array([[np.nan, 0.0]])))
    with pytest.raises(ValueError, match='scores: expected at least one column'): module.predictions(conv(np.zeros((2, 0))))
    with pytest.raises(TypeError, match='scores: expected'): module.predictions([[0.0, 1.0]])
    assert module.predictions(conv(np.array([[1, 5, 2]]))).tolist() == [1]


def test_torch_rejects_numpy_and_mixed_devices():
    with pytest.raises(TypeError, match='y_true: expected a torch tensor, got ndarray'): tm.accuracy(Y, torch.as_tensor(Y))
    with pytest.raises(TypeError, match='scores: expected a torch tensor'): tm.predictions(np.zeros((2, 2)))
    with pytest.raises(ValueError, match='device: expected'): tm.check_metrics('float64', device='gpu')


def test_confusion_matrix_helpers():
    cm = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
    np.testing.assert_allclose(nm.normalize_confusion_matrix(cm, 'true'), [[5 / 6, 1 / 6, 0], [0.4, 0.6, 0], [0, 0, 0]])
    assert nm.most_confused(cm) == [(1, 0, 2), (0, 1, 1)]
    assert nm.most_confused(cm, labels=['a', 'b', 'c'], k=1) == [('b', 'a', 2)]
    assert nm.most_confused(np.eye(3, dtype=int)) == []
    with pytest.raises(ValueError, match='cm: expected a non-empty square matrix'): nm.most_confused(np.ones((2, 3)))
    with pytest.raises(ValueError, match='cm: expected non-negative counts'): nm.normalize_confusion_matrix(-np.eye(2), 'all')
    with pytest.raises(ValueError, match="normalize: expected one of 'true', 'pred', 'all'"): nm.normalize_confusion_matrix(cm, None)
    with pytest.raises(ValueError, match='k: expected a value >= 1'): nm.most_confused(cm, k=0)
    with pytest.raises(ValueError, match='labels: expected 3 names'): nm.most_confused(cm, labels=['a'])
    with pytest.raises(TypeError, match='labels: expected a sequence of 3 names'): nm.most_confused(cm, labels=object())
    with pytest.raises(TypeError, match='cm: expected a numeric dtype'): nm.most_confused(np.array([['a']]))


def test_torch_normalize_confusion_matrix_checks_its_matrix():
    cm = torch.tensor([[5, 1], [2, 3]])
    torch.testing.assert_close(tm.normalize_confusion_matrix(cm, 'true'), torch.tensor([[5 / 6, 1 / 6], [0.4, 0.6]], dtype=torch.float64))
    with pytest.raises(TypeError, match='cm: expected a torch tensor'): tm.normalize_confusion_matrix(cm.numpy(), 'true')
    with pytest.raises(ValueError, match='cm: expected non-negative counts'): tm.normalize_confusion_matrix(-cm, 'true')
    with pytest.raises(ValueError, match='cm: expected a non-empty square matrix'): tm.normalize_confusion_matrix(torch.ones(2, 3), 'all')
    with pytest.raises(ValueError, match='normalize: expected one of'): tm.normalize_confusion_matrix(cm, None)


def test_plot_confusion_matrix():
    import matplotlib.pyplot as plt
    cm = torch.tensor([[5, 1], [2, 3]])
    ax = nm.plot_confusion_matrix(cm, display_labels=['no', 'yes'], title='t')
    assert sorted(t.get_text() for t in ax.texts) == ['1', '2', '3', '5']
    assert [t.get_text() for t in ax.get_xticklabels()] == ['no', 'yes'] and ax.get_title() == 't'
    ax = nm.plot_confusion_matrix(cm, normalize='true')
    assert sorted(t.get_text() for t in ax.texts) == ['0.17', '0.40', '0.60', '0.83']
    with pytest.raises(ValueError, match='display_labels: expected 2 names'): nm.plot_confusion_matrix(cm, display_labels=['x'])
    with pytest.raises(ValueError, match='normalize'): nm.plot_confusion_matrix(cm, normalize='rows')
    with pytest.raises(ValueError, match='cm: expected a 2-D array'): nm.plot_confusion_matrix(np.ones(3))
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): nm.plot_confusion_matrix(cm, ax='left')
    with pytest.raises(ValueError, match='cmap: expected a matplotlib colormap'): nm.plot_confusion_matrix(cm, cmap='no-such-map')
    with pytest.raises(TypeError, match='title: expected a string'): nm.plot_confusion_matrix(cm, title=3)
    assert nm.plot_confusion_matrix(cm, cmap=plt.get_cmap('viridis')).images
    plt.close('all')


# --- the exploration ---

def synthetic_problem(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int64)
    scores = rng.normal(size=(n, 2)); scores[:, 1] += 2.5 * y
    return scores, y


def test_one_vs_rest_and_threshold_sweep():
    scores, y = synthetic_problem()
    probs, labels = em.one_vs_rest(scores, y, positive=1)
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(scores[:, 0] - scores[:, 1])))
    sweep = em.threshold_sweep(probs, labels)
    assert len(sweep['threshold']) == 201 and sweep['recall'][0] == 1.0
    assert sweep['precision'][0] == pytest.approx(y.mean())
    assert np.all(np.diff(sweep['recall']) <= 0)
    i = np.nanargmax(sweep['f1'])
    assert em.best_threshold(sweep) == sweep['threshold'][i]
    m = em.threshold_metrics(probs, labels, 0.5)
    pred = (probs >= 0.5).astype(int)
    assert m['f1'] == pytest.approx(skm.f1_score(y, pred)) and m['recall'] == pytest.approx(skm.recall_score(y, pred))
    np.testing.assert_array_equal(m['cm'], skm.confusion_matrix(y, pred))
    top = em.threshold_metrics(probs, labels, 1.0)        # nothing reaches 1.0: precision 1 by zero_division=1.0
    assert top['precision'] == 1.0 and top['recall'] == 0.0 and top['f1'] == 0.0
    np.testing.assert_array_equal(em.decide(np.array([0.2, 0.5, 0.9]), 0.5), [0, 1, 1])


def test_exploration_bad_input():
    scores, y = synthetic_problem(50)
    probs, labels = em.one_vs_rest(scores, y, positive=1)
    with pytest.raises(ValueError, match=r'positive: expected a value in \[0, 1\]'): em.one_vs_rest(scores, y, positive=2)
    with pytest.raises(TypeError, match='scores: expected a floating-point dtype'): em.one_vs_rest(y[:, None], y, positive=0)
    with pytest.raises(ValueError, match='y: expected 50 labels'): em.one_vs_rest(scores, y[:3], positive=0)
    with pytest.raises(ValueError, match=r'threshold: expected a value in \[0, 1\]'): em.decide(probs, -0.1)
    with pytest.raises(ValueError, match=r'probs: expected probabilities in \[0, 1\]'): em.threshold_metrics(probs + 1, labels, 0.5)
    with pytest.raises(ValueError, match='y: expected binary labels'): em.threshold_metrics(probs, labels * 2, 0.5)
    with pytest.raises(ValueError, match='probs: expected 2 probabilities'): em.threshold_metrics(probs, labels[:2], 0.5)
    with pytest.raises(ValueError, match='zero_division'): em.threshold_metrics(probs, labels, 0.5, zero_division='x')
    with pytest.raises(ValueError, match='thresholds: expected at least 1'): em.threshold_sweep(probs, labels, thresholds=[])
    with pytest.raises(TypeError, match='thresholds: expected a numeric dtype'): em.threshold_sweep(probs, labels, thresholds=[0.2, 'x'])
    with pytest.raises(ValueError, match='zero_division: expected 0.0 or 1.0'): em.threshold_metrics(probs, labels, 0.5, zero_division=np.nan)
    with pytest.raises(TypeError, match='sweep: expected the dict threshold_sweep returns'): em.best_threshold({'threshold': [0.5]})
    with pytest.raises(TypeError, match='positive_name: expected a string'): em.plot_threshold(probs, labels, 0.5, positive_name=3)
    with pytest.raises(ValueError, match='thresholds: expected 1 to 6'): em.plot_threshold_gallery(probs, labels, thresholds=())
    with pytest.raises(ValueError, match=r'thresholds: expected a value in \[0, 1\]'): em.plot_threshold_gallery(probs, labels, thresholds=(2,))


def test_exploration_plots_and_widget():
    import matplotlib.pyplot as plt
    scores, y = synthetic_problem(100)
    probs, labels = em.one_vs_rest(scores, y, positive=1)
    fig = em.plot_threshold(probs, labels, 0.3, positive_name='one')
    assert len(fig.axes) == 4                                   # three panels and the colour bar
    fig = em.plot_threshold_gallery(probs, labels, thresholds=(0.2, 0.8), positive_name='one')
    assert len(fig.axes) == 6                                   # curves, PR curve, two matrices with colour bars
    widget = em.threshold_explorer(scores, y, positive=1)
    digit, threshold = widget.children[0].children
    threshold.value = 0.9
    digit.value = 0
    plt.close('all')


def test_digits_test_scores():
    from dlcourse.recipes import digits_test_scores
    scores, y = digits_test_scores(epochs=2)
    assert scores.shape == (270, 10) and y.shape == (270,)
    assert float(tm.accuracy(y, tm.predictions(scores))) > 0.85
    with pytest.raises(ValueError, match='epochs: expected a value >= 1'): digits_test_scores(epochs=0)


def test_most_confused_orders_by_count_then_true_then_predicted_label_and_keeps_five():
    cm = np.array([[9, 4, 0, 2],
                   [1, 8, 3, 0],
                   [4, 0, 7, 6],
                   [2, 5, 1, 9]])
    # off-diagonal counts, by hand: 6 (2->3), 5 (3->1), 4 (0->1 and 2->0: the lower true label first), 3 (1->2),
    # then 2 (0->3, 3->0) and 1 (1->0, 3->2)
    assert nm.most_confused(cm) == [(2, 3, 6), (3, 1, 5), (0, 1, 4), (2, 0, 4), (1, 2, 3)]
    assert nm.most_confused(cm, k=20) == [(2, 3, 6), (3, 1, 5), (0, 1, 4), (2, 0, 4), (1, 2, 3), (0, 3, 2), (3, 0, 2),
                                          (1, 0, 1), (3, 2, 1)]
    assert nm.most_confused(cm.T, labels=list('abcd'), k=3) == [('d', 'c', 6), ('b', 'd', 5), ('a', 'c', 4)]
