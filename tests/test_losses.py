"""Lesson 3 (losses): bad input, extreme logits, BCE at exactly 0 and 1, unreduced backward, ignore_index edge cases,
functional forms and the exploration.

The three-way cross-checks of the registered concepts (MSELoss, L1Loss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss,
MultiMarginLoss) run in tests/test_crosscheck.py; this file covers what the registry does not."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import dlcourse.numpy.losses as nl
import dlcourse.torch.losses as tl
from dlcourse.crosscheck import concepts
from dlcourse.explore import losses as el

NAMES = ('MSELoss', 'L1Loss', 'CrossEntropyLoss', 'BCELoss', 'BCEWithLogitsLoss', 'MultiMarginLoss')
BACKENDS = {'numpy': nl, 'torch': tl}


def as_backend(backend: str, x):
    "`x` (array or None) as the backend's array type."
    if x is None or backend == 'numpy': return x
    return torch.as_tensor(x)


def builtin_value_and_grad(loss, x: np.ndarray, target: np.ndarray, grad_output=None):
    "A PyTorch loss's value and its input gradient (for `grad_output`, default 1), as NumPy arrays."
    xt = torch.tensor(x, requires_grad=True)
    value = loss(xt, torch.as_tensor(target))
    value.backward(None if grad_output is None else torch.as_tensor(grad_output))
    return value.detach().numpy(), xt.grad.numpy()


def numpy_value_and_grad(loss, x, target, grad_output=None):
    "A NumPy loss's value and its input gradient."
    return loss(x, target), loss.backward(grad_output)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------- the registry and the API

def test_every_loss_is_registered_on_page_3b_with_its_implementations():
    registered = {c.name: c for c in concepts()}
    for name in NAMES:
        c = registered[name]
        assert (c.lesson, c.numpy, c.torch, c.builtin) == ('3b', f"dlcourse.numpy.{name}", f"dlcourse.torch.{name}", f"torch.nn.{name}")


@pytest.mark.parametrize('module', [nl, tl], ids=['numpy', 'torch'])
def test_losses_dict(module):
    assert set(module.LOSSES) == {'mse', 'l1', 'cross_entropy', 'bce', 'bce_with_logits', 'multi_margin'}
    assert {cls.__name__ for cls in module.LOSSES.values()} == set(NAMES)


def test_numpy_losses_do_not_import_torch():
    code = "import sys, dlcourse.numpy.losses; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, '-c', code], check=True)


@pytest.mark.parametrize('name', NAMES)
def test_defaults_mirror_pytorch(name):
    import inspect
    ours = inspect.signature(getattr(nl, name)).parameters
    theirs = {k: v for k, v in inspect.signature(getattr(torch.nn, name)).parameters.items()
              if k not in ('size_average', 'reduce')}
    assert list(ours) == list(theirs)
    for k in ours: assert ours[k].default == theirs[k].default, k


def test_weights_are_buffers_in_state_dict_and_cast_by_to():
    w = np.array([1.0, 2.0, 3.0])
    loss = nl.CrossEntropyLoss(weight=w).to('float32')
    assert loss.state_dict()['weight'].dtype == np.float32
    assert set(nl.BCEWithLogitsLoss(pos_weight=w).state_dict()) == {'pos_weight'}
    assert set(tl.BCEWithLogitsLoss(pos_weight=torch.ones(3)).state_dict()) == {'pos_weight'}
    assert list(nl.MSELoss().state_dict()) == []


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', NAMES)
def test_bad_reduction(backend, name):
    with pytest.raises(ValueError, match="reduction: expected one of 'none', 'mean', 'sum', got 'avg'"):
        getattr(BACKENDS[backend], name)(reduction='avg')


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', ['MSELoss', 'L1Loss', 'BCELoss', 'BCEWithLogitsLoss'])
def test_elementwise_losses_reject_bad_targets(backend, name):
    loss = getattr(BACKENDS[backend], name)()
    x = as_backend(backend, np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match=r"target: expected the input's shape \(3, 4\), got \(3, 1\)"):
        loss(x, as_backend(backend, np.full((3, 1), 0.5)))
    with pytest.raises(ValueError, match=r"target: expected the input's shape"):
        loss(x, as_backend(backend, np.full((4, 3), 0.5)))  # same size, other shape
    with pytest.raises(TypeError, match="target: expected the input's dtype float64"):
        loss(x, as_backend(backend, np.full((3, 4), 0.5, np.float32)))
    with pytest.raises(TypeError, match='target: expected a floating-point dtype'):
        loss(x, as_backend(backend, np.zeros((3, 4), np.int64)))
    with pytest.raises(ValueError, match='target: contains NaN or inf'):
        loss(x, as_backend(backend, np.full((3, 4), np.nan)))
    with pytest.raises(TypeError, match='input: expected a floating-point dtype'):
        loss(as_backend(backend, np.zeros((3, 4), np.int64)), x)


@pytest.mark.parametrize('name', NAMES)
def test_numpy_losses_refuse_tensors_and_lists(name):
    loss = getattr(nl, name)()
    with pytest.raises(TypeError, match='input: expected a NumPy array'):
        loss(torch.zeros(3, 4), np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match='input: expected a NumPy array'):
        loss([[0.5, 0.5]], np.zeros(1, dtype=np.int64))


@pytest.mark.parametrize('name', NAMES)
def test_torch_losses_refuse_arrays(name):
    with pytest.raises(TypeError, match='expected a torch tensor'):
        getattr(tl, name)()(np.zeros((3, 4)), torch.zeros(3, dtype=torch.long))


@pytest.mark.parametrize('backend', BACKENDS)
def test_bce_probabilities_outside_unit_interval(backend):
    loss = BACKENDS[backend].BCELoss()
    x, t = np.array([0.2, 0.7]), np.array([0.0, 1.0])
    for bad_x in (np.array([0.2, 1.0 + 1e-12]), np.array([-1e-300, 0.5]), np.array([np.nan, 0.5])):
        with pytest.raises(ValueError, match=r'input: expected probabilities in \[0, 1\]'):
            loss(as_backend(backend, bad_x), as_backend(backend, t))
    with pytest.raises(ValueError, match=r'target: expected probabilities in \[0, 1\]'):
        loss(as_backend(backend, x), as_backend(backend, np.array([0.0, 2.0])))
    with pytest.raises(ValueError, match=r'target: expected probabilities in \[0, 1\]'):
        BACKENDS[backend].BCEWithLogitsLoss()(as_backend(backend, x), as_backend(backend, np.array([-1.0, 1.0])))


def test_pytorch_also_refuses_bce_probabilities_outside_unit_interval():
    with pytest.raises(RuntimeError, match='between 0 and 1'):
        F.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', ['CrossEntropyLoss', 'MultiMarginLoss'])
def test_class_index_targets(backend, name):
    loss = getattr(BACKENDS[backend], name)()
    x = as_backend(backend, np.zeros((3, 4)))
    for bad, value in (([0, 1, 4], 4), ([0, -1, 2], -1), ([0, 1, -100], -100) if name == 'MultiMarginLoss' else ([7, 1, 2], 7)):
        with pytest.raises(ValueError, match=f"target: class index {value} is out of range for 4 classes"):
            loss(x, as_backend(backend, np.array(bad)))
    with pytest.raises(ValueError, match=r'target: expected class indices of shape \(3,\)'):
        loss(x, as_backend(backend, np.array([0, 1])))
    with pytest.raises(ValueError, match=r'target: expected class indices of shape \(3,\)'):
        loss(x, as_backend(backend, np.zeros((3, 1), np.int64)))
    with pytest.raises(TypeError, match='target: expected an integer dtype'):
        loss(x, as_backend(backend, np.array([0.0, 1.0, 2.0])))
    with pytest.raises(ValueError, match='input: expected class scores'):
        loss(as_backend(backend, np.array(1.0)), as_backend(backend, np.array(0)))


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', ['CrossEntropyLoss', 'MultiMarginLoss'])
def test_class_weight_shape_and_dtype(backend, name):
    module = BACKENDS[backend]
    x, y = as_backend(backend, np.zeros((3, 4))), as_backend(backend, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r'weight: expected one weight per class, shape \(4,\) for an input of shape \(3, 4\) \(classes in dimension 1\), got \(3,\)'):
        getattr(module, name)(weight=as_backend(backend, np.ones(3)))(x, y)
    with pytest.raises(TypeError, match="weight: expected the input's dtype float64"):
        getattr(module, name)(weight=as_backend(backend, np.ones(4, np.float32)))(x, y)
    with pytest.raises(ValueError, match='weight: expected a 1-D array'):
        getattr(module, name)(weight=as_backend(backend, np.ones((4, 1))))
    with pytest.raises(ValueError, match='weight: contains NaN'):
        getattr(module, name)(weight=as_backend(backend, np.array([1.0, np.nan, 1.0, 1.0])))


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name,option', [('BCELoss', 'weight'), ('BCEWithLogitsLoss', 'weight'),
                                         ('BCEWithLogitsLoss', 'pos_weight')])
def test_broadcast_weights(backend, name, option):
    module = BACKENDS[backend]
    x = as_backend(backend, np.full((3, 4), 0.5))
    for ok in (np.ones(4), np.ones((3, 1)), np.ones((3, 4))):
        getattr(module, name)(**{option: as_backend(backend, ok)})(x, x)
    for bad in (np.ones(3), np.ones((2, 3, 4)), np.ones(5)):
        with pytest.raises(ValueError, match=f"{option}: expected a shape that broadcasts to the input's"):
            getattr(module, name)(**{option: as_backend(backend, bad)})(x, x)


@pytest.mark.parametrize('backend', BACKENDS)
def test_cross_entropy_options(backend):
    module = BACKENDS[backend]
    x = as_backend(backend, np.zeros((3, 4)))
    for bad in (-0.1, 1.5, float('nan')):
        with pytest.raises(ValueError, match='label_smoothing'):
            module.CrossEntropyLoss(label_smoothing=bad)
    with pytest.raises(TypeError, match='ignore_index: expected an integer'):
        module.CrossEntropyLoss(ignore_index=1.5)
    soft = as_backend(backend, np.full((3, 4), 0.25))
    with pytest.raises(ValueError, match='ignore_index: not supported with class-probability targets'):
        module.CrossEntropyLoss(ignore_index=0)(x, soft)
    with pytest.raises(ValueError, match='target: class probabilities must sum to 1 over dimension 1'):
        module.CrossEntropyLoss()(x, as_backend(backend, np.full((3, 4), 0.5)))
    with pytest.raises(ValueError, match=r'target: expected probabilities in \[0, 1\]'):
        module.CrossEntropyLoss()(x, as_backend(backend, np.array([[2.0, -1.0, 0, 0]] * 3)))
    with pytest.raises(TypeError, match='target: expected a floating-point dtype'):
        module.CrossEntropyLoss()(x, as_backend(backend, np.zeros((3, 4), np.int64)))


def test_pytorch_silently_ignores_negative_label_smoothing_we_refuse_it():
    x, y = torch.randn(3, 4), torch.tensor([0, 1, 2])
    assert torch.equal(F.cross_entropy(x, y, label_smoothing=-0.5), F.cross_entropy(x, y))
    with pytest.raises(ValueError, match='label_smoothing'): nl.CrossEntropyLoss(label_smoothing=-0.5)


@pytest.mark.parametrize('backend', BACKENDS)
def test_multi_margin_options(backend):
    module = BACKENDS[backend]
    for bad in (0, 3, 1.5):
        with pytest.raises(ValueError, match='p: expected 1 or 2'):
            module.MultiMarginLoss(p=bad)
    with pytest.raises(TypeError, match='p: expected a real number'):
        module.MultiMarginLoss(p='1')
    with pytest.raises(TypeError, match='margin'):
        module.MultiMarginLoss(margin=None)
    with pytest.raises(ValueError, match='margin'):
        module.MultiMarginLoss(margin=float('nan'))
    with pytest.raises(ValueError, match=r'input: expected scores of shape \(C,\) or \(N, C\)'):
        module.MultiMarginLoss()(as_backend(backend, np.zeros((2, 3, 4))), as_backend(backend, np.zeros((2, 4), np.int64)))


@pytest.mark.parametrize('p', [1, 2])
@pytest.mark.parametrize('margin', [-0.5, 0.0, 2.5])
def test_multi_margin_any_margin_like_pytorch(rng, p, margin):
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    v, g = numpy_value_and_grad(nl.MultiMarginLoss(p=p, margin=margin), x, y)
    bv, bg = builtin_value_and_grad(torch.nn.MultiMarginLoss(p=p, margin=margin), x, y)
    np.testing.assert_allclose(v, bv, rtol=1e-12)
    np.testing.assert_allclose(g, bg, rtol=1e-12, atol=1e-15)
    tv, tg = builtin_value_and_grad(tl.MultiMarginLoss(p=p, margin=margin), x, y)
    np.testing.assert_allclose(tv, bv, rtol=1e-12)
    np.testing.assert_allclose(tg, bg, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize('backend', BACKENDS)
def test_multi_margin_single_sample_target_shapes(rng, backend):
    x = rng.normal(size=5)
    expected = F.multi_margin_loss(torch.tensor(x), torch.tensor(2))
    for target in (np.array(2), np.array([2])):
        value = BACKENDS[backend].MultiMarginLoss()(as_backend(backend, x), as_backend(backend, target))
        assert float(value) == pytest.approx(float(expected), rel=1e-14)


def test_backward_errors():
    loss = nl.MSELoss()
    with pytest.raises(RuntimeError, match='MSELoss.backward called before forward'): loss.backward()
    loss(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r'grad_output: expected shape \(\)'): loss.backward(np.ones(3))
    with pytest.raises(TypeError, match='grad_output: expected a NumPy array'): loss.backward('1')
    unreduced = nl.CrossEntropyLoss(reduction='none')
    unreduced(np.zeros((3, 4)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"grad_output: required when reduction='none'"): unreduced.backward()
    with pytest.raises(ValueError, match=r'grad_output: expected shape \(3,\), got \(3, 4\)'):
        unreduced.backward(np.ones((3, 4)))


def test_error_messages_match_between_backends():
    def message(f):
        with pytest.raises(Exception) as info: f()
        return f"{type(info.value).__name__}: {info.value}"
    x, t = np.zeros((3, 4)), np.array([0, 1, 9])
    assert message(lambda: nl.CrossEntropyLoss()(x, t)) == message(lambda: tl.CrossEntropyLoss()(torch.tensor(x), torch.tensor(t)))
    p = np.array([0.5, 1.5])
    assert message(lambda: nl.BCELoss()(p, p / 2)) == message(lambda: tl.BCELoss()(torch.tensor(p), torch.tensor(p / 2)))


# ---------------------------------------------------------------- scalar grad_output and reduction='none'

def test_scalar_grad_output_scales_the_gradient(rng):
    x, y = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    loss = nl.CrossEntropyLoss()
    loss(x, y)
    g1 = loss.backward()
    np.testing.assert_allclose(loss.backward(2.5), 2.5 * g1, rtol=1e-15)
    np.testing.assert_allclose(loss.backward(np.array(-1.0)), -g1, rtol=1e-15)
    np.testing.assert_array_equal(loss.backward(None), loss.backward(1.0))


CASES_NONE = {
    'MSELoss': (lambda m: m.MSELoss, lambda r: (r.normal(size=(4, 5)), r.normal(size=(4, 5)))),
    'L1Loss': (lambda m: m.L1Loss, lambda r: (r.normal(size=(4, 5)), r.normal(size=(4, 5)) + 10)),
    'CrossEntropyLoss': (lambda m: m.CrossEntropyLoss, lambda r: (r.normal(size=(4, 5)), np.array([0, 4, -100, 2]))),
    'CrossEntropyLoss(N,C,d)': (lambda m: m.CrossEntropyLoss, lambda r: (r.normal(size=(2, 5, 3)), r.integers(0, 5, (2, 3)))),
    'CrossEntropyLoss(1-D)': (lambda m: m.CrossEntropyLoss, lambda r: (r.normal(size=5), np.array(1))),
    'BCELoss': (lambda m: m.BCELoss, lambda r: (r.uniform(0.1, 0.9, (4, 5)), r.uniform(size=(4, 5)))),
    'BCEWithLogitsLoss': (lambda m: m.BCEWithLogitsLoss, lambda r: (r.normal(size=(4, 5)), r.uniform(size=(4, 5)))),
    'MultiMarginLoss': (lambda m: m.MultiMarginLoss, lambda r: (r.normal(size=(4, 5)), r.integers(0, 5, 4))),
    'MultiMarginLoss(1-D)': (lambda m: m.MultiMarginLoss, lambda r: (r.normal(size=5), np.array(3))),
    'CrossEntropyLoss(probabilities)': (lambda m: m.CrossEntropyLoss, lambda r: (r.normal(size=(4, 5)), r.dirichlet(np.ones(5), 4))),
}


@pytest.mark.parametrize('case', CASES_NONE)
def test_reduction_none_backward_with_array_grad_output(rng, case):
    cls, make = CASES_NONE[case]
    x, t = make(rng)
    np_loss = cls(nl)(reduction='none')
    out = np_loss(x, t)
    g = rng.normal(size=out.shape)
    grad = np_loss.backward(g)
    bv, bg = builtin_value_and_grad(cls(torch.nn)(reduction='none'), x, t, g)
    assert out.shape == bv.shape and grad.shape == x.shape
    np.testing.assert_allclose(out, bv, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad, bg, rtol=1e-12, atol=1e-15)
    tv, tg = builtin_value_and_grad(cls(tl)(reduction='none'), x, t, g)
    np.testing.assert_allclose(tv, bv, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(tg, bg, rtol=1e-12, atol=1e-15)


def test_float32_stays_float32(rng):
    x = rng.normal(size=(4, 5)).astype(np.float32)
    y = rng.integers(0, 5, 4)
    for loss, target in ((nl.CrossEntropyLoss(label_smoothing=0.1), y), (nl.MultiMarginLoss(p=2), y),
                         (nl.MSELoss(), x), (nl.BCEWithLogitsLoss(), np.full_like(x, 0.3))):
        assert loss(x, target).dtype == np.float32
        assert loss.backward().dtype == np.float32


# ---------------------------------------------------------------- ignore_index

@pytest.mark.parametrize('backend', ['numpy', 'torch', 'builtin'])
@pytest.mark.parametrize('options', [{}, {'weight': np.array([1.0, 2.0, 3.0])}, {'label_smoothing': 0.3},
                                     {'weight': np.array([1.0, 2.0, 3.0]), 'label_smoothing': 0.3}],
                         ids=['plain', 'weight', 'smoothing', 'weight+smoothing'])
def test_all_ignored(rng, backend, options):
    x, y = rng.normal(size=(4, 3)), np.full(4, -100)
    module = {'numpy': nl, 'torch': tl, 'builtin': torch.nn}[backend]
    convert = lambda v: as_backend('numpy' if backend == 'numpy' else 'torch', v) if isinstance(v, np.ndarray) else v
    make = lambda reduction: module.CrossEntropyLoss(**{k: convert(v) for k, v in options.items()}, reduction=reduction)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        run = numpy_value_and_grad if backend == 'numpy' else builtin_value_and_grad
        value, grad = run(make('mean'), x, y if backend == 'numpy' else torch.tensor(y))
        assert np.isnan(value)
        np.testing.assert_array_equal(grad, np.zeros_like(x))
        value, grad = run(make('sum'), x, y if backend == 'numpy' else torch.tensor(y))
        assert value == 0
        np.testing.assert_array_equal(grad, np.zeros_like(x))


def test_some_ignored_custom_index_and_weighted_mean(rng):
    x = rng.normal(size=(5, 4))
    y = np.array([3, 1, 3, 0, 2])
    w = np.array([0.5, 1.0, 2.0, 4.0])
    value, grad = numpy_value_and_grad(nl.CrossEntropyLoss(weight=w, ignore_index=3), x, y)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    kept = np.array([1, 3, 4])
    expected = -(w[y[kept]] * logp[kept, y[kept]]).sum() / w[y[kept]].sum()
    assert value == pytest.approx(expected, rel=1e-14)
    assert np.all(grad[[0, 2]] == 0)
    bv, bg = builtin_value_and_grad(torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=3), x, y)
    np.testing.assert_allclose(value, bv, rtol=1e-14)
    np.testing.assert_allclose(grad, bg, rtol=1e-13, atol=1e-16)


# ---------------------------------------------------------------- extreme values

EXTREME_LOGITS = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, 1e4, 1e4, -1e4], [1e4, 1e4, 1e4, 1e4], [-1e4, -1e4, -1e4, 5.0]])
EXTREME_LABELS = np.array([1, 2, 0, 0])
EXTREME_TARGETS = np.array([[1.0, 0.0, 0.5, 1.0], [1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.3, 1.0], [1.0, 0.0, 0.0, 0.7]])


@pytest.fixture
def strict_floats():
    "Every NumPy overflow, division by zero or invalid value raises; so does every warning."
    with warnings.catch_warnings(), np.errstate(over='raise', divide='raise', invalid='raise'):
        warnings.simplefilter('error')
        yield


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('name,options,target', [
    ('CrossEntropyLoss', {}, EXTREME_LABELS),
    ('CrossEntropyLoss', {'label_smoothing': 0.2, 'weight': np.array([1.0, 2.0, 0.5, 1.0])}, EXTREME_LABELS),
    ('CrossEntropyLoss', {}, np.full((4, 4), 0.25)),
    ('BCEWithLogitsLoss', {}, EXTREME_TARGETS),
    ('BCEWithLogitsLoss', {'pos_weight': np.array([3.0, 0.5, 1.0, 2.0])}, EXTREME_TARGETS),
    ('MultiMarginLoss', {'p': 2}, EXTREME_LABELS),
    ('MSELoss', {}, EXTREME_TARGETS),
], ids=['ce', 'ce-smoothing-weight', 'ce-probabilities', 'bce-logits', 'bce-logits-pos-weight', 'hinge-p2', 'mse'])
def test_extreme_logits_are_finite_silent_and_equal_to_pytorch(strict_floats, dtype, name, options, target):
    x = EXTREME_LOGITS.astype(dtype)
    target = target.astype(dtype) if target.dtype.kind == 'f' else target
    np_options = {k: v.astype(dtype) for k, v in options.items() if isinstance(v, np.ndarray)}
    np_options.update({k: v for k, v in options.items() if not isinstance(v, np.ndarray)})
    t_options = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in np_options.items()}
    for reduction in ('mean', 'sum'):
        value, grad = numpy_value_and_grad(getattr(nl, name)(**np_options, reduction=reduction), x, target)
        bv, bg = builtin_value_and_grad(getattr(torch.nn, name)(**t_options, reduction=reduction), x, target)
        tv, tg = builtin_value_and_grad(getattr(tl, name)(**t_options, reduction=reduction), x, target)
        assert np.isfinite(value) and np.isfinite(grad).all()
        rtol = 1e-6 if dtype == 'float32' else 1e-14
        np.testing.assert_allclose(value, bv, rtol=rtol)
        np.testing.assert_allclose(grad, bg, rtol=rtol, atol=1e-7 if dtype == 'float32' else 1e-16)
        np.testing.assert_allclose(tv, bv, rtol=rtol)
        np.testing.assert_allclose(tg, bg, rtol=rtol, atol=1e-7 if dtype == 'float32' else 1e-16)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_log_softmax_does_not_cancel_at_large_logits(strict_floats, dtype):
    z = np.array([[1e4, 1e4, 0.0]], dtype=dtype)
    expected = F.log_softmax(torch.from_numpy(z), 1).numpy()
    np.testing.assert_array_equal(nl.log_softmax(z, 1), expected)
    np.testing.assert_array_equal(tl.log_softmax(torch.from_numpy(z), 1).numpy(), expected)
    np.testing.assert_allclose(nl.logsumexp(z, 1), torch.logsumexp(torch.from_numpy(z), 1).numpy(), rtol=1e-7)


def test_logsumexp_edge_rows():
    z = np.array([[-np.inf, -np.inf], [np.inf, 0.0], [1e308, 1e308]])
    with np.errstate(invalid='raise', over='raise'):
        ours = nl.logsumexp(z, 1)
    np.testing.assert_array_equal(ours[:2], torch.logsumexp(torch.from_numpy(z), 1).numpy()[:2])
    assert ours[2] == pytest.approx(1e308 + np.log(2))
    np.testing.assert_array_equal(tl.logsumexp(torch.from_numpy(z), 1).numpy()[:2], ours[:2])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
@pytest.mark.parametrize('weighted', [False, True])
def test_bce_at_exactly_zero_and_one_equals_pytorch(strict_floats, dtype, reduction, weighted):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5], dtype=dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.7, 1.0], dtype=dtype)
    w = np.linspace(0.5, 2.0, 7).astype(dtype) if weighted else None
    g = np.linspace(-1.0, 2.0, 7).astype(dtype) if reduction == 'none' else None
    value, grad = numpy_value_and_grad(nl.BCELoss(w, reduction), p, y, g)
    bv, bg = builtin_value_and_grad(torch.nn.BCELoss(as_backend('torch', w), reduction=reduction), p, y, g)
    tv, tg = builtin_value_and_grad(tl.BCELoss(as_backend('torch', w), reduction=reduction), p, y, g)
    rtol = 1e-6 if dtype == 'float32' else 1e-15
    for ours in ((value, grad), (tv, tg)):
        np.testing.assert_allclose(ours[0], bv, rtol=rtol)
        np.testing.assert_allclose(ours[1], bg, rtol=rtol)
    if reduction == 'none' and not weighted:
        np.testing.assert_array_equal(value[:4], [0, 0, 100, 100])
        assert grad[3] == bg[3] and abs(grad[3]) > 1e11  # (1 - 0) / EPSILON, the float32 1e-12 as PyTorch has it


def test_bce_epsilon_is_pytorchs_float32_constant():
    assert nl.EPSILON == float(np.float32(1e-12)) != 1e-12


def test_bce_with_logits_slope_at_zero():
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    tl.BCEWithLogitsLoss(reduction='sum')(x, torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, -0.5, 0.0], atol=1e-16)
    loss = nl.BCEWithLogitsLoss(reduction='sum')
    loss(np.zeros(3), np.array([0.0, 1.0, 0.5]))
    np.testing.assert_allclose(loss.backward(), [0.5, -0.5, 0.0], atol=1e-16)


@pytest.mark.parametrize('name', NAMES)
def test_nan_input_gives_nan_loss_silently_like_pytorch(name):
    x = np.array([[np.nan, 0.5, 0.2], [0.1, 0.2, 0.3]])
    target = {'CrossEntropyLoss': np.array([0, 1]), 'MultiMarginLoss': np.array([0, 1])}.get(name, np.full((2, 3), 0.5))
    if name == 'BCELoss':  # PyTorch refuses NaN probabilities, and so do we
        with pytest.raises(ValueError, match='input: expected probabilities'): nl.BCELoss()(x, target)
        return
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        loss = getattr(nl, name)()
        assert np.isnan(loss(x, target))
        builtin = getattr(torch.nn, name)()(torch.tensor(x), torch.tensor(target)).item()
        # PyTorch's MultiMarginLoss drops NaN scores (NaN > 0 is false); ours, like every other loss, returns NaN
        assert builtin == pytest.approx((0.9 + 1.1) / 3 / 2) if name == 'MultiMarginLoss' else np.isnan(builtin)
        assert np.isnan(getattr(tl, name)()(torch.tensor(x), torch.tensor(target)).item())
        loss.backward()


@pytest.mark.parametrize('name', ['CrossEntropyLoss', 'BCEWithLogitsLoss', 'MSELoss'])
def test_inf_input_is_not_an_error(name):
    x = np.array([[np.inf, 0.0, -np.inf]])
    target = np.array([0]) if name == 'CrossEntropyLoss' else np.array([[1.0, 0.5, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        value = getattr(nl, name)()(x, target)
    builtin = getattr(torch.nn, name)()(torch.tensor(x), torch.tensor(target)).item()
    assert np.array_equal(value, builtin, equal_nan=True)


def test_empty_batch_mean_is_nan_like_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert np.isnan(nl.MSELoss()(np.zeros((0, 3)), np.zeros((0, 3))))
        assert np.isnan(nl.CrossEntropyLoss()(np.zeros((0, 3)), np.zeros(0, np.int64)))
        assert nl.CrossEntropyLoss(reduction='sum')(np.zeros((0, 3)), np.zeros(0, np.int64)) == 0


# ---------------------------------------------------------------- functional forms

FUNCTIONAL = [
    ('mse_loss', 'MSELoss', {}, lambda r: r.normal(size=(3, 4)), lambda r: r.normal(size=(3, 4))),
    ('l1_loss', 'L1Loss', {'reduction': 'sum'}, lambda r: r.normal(size=(3, 4)), lambda r: r.normal(size=(3, 4))),
    ('cross_entropy', 'CrossEntropyLoss', {'ignore_index': 1, 'label_smoothing': 0.1},
     lambda r: r.normal(size=(3, 4)), lambda r: np.array([0, 1, 3])),
    ('binary_cross_entropy', 'BCELoss', {'reduction': 'none'}, lambda r: r.uniform(0.1, 0.9, (3, 4)),
     lambda r: r.uniform(size=(3, 4))),
    ('binary_cross_entropy_with_logits', 'BCEWithLogitsLoss', {'pos_weight': np.array([1.0, 2.0, 3.0, 4.0])},
     lambda r: r.normal(size=(3, 4)), lambda r: r.uniform(size=(3, 4))),
    ('multi_margin_loss', 'MultiMarginLoss', {'p': 2, 'margin': 0.5}, lambda r: r.normal(size=(3, 4)),
     lambda r: np.array([0, 1, 3])),
]


@pytest.mark.parametrize('fname,cls,options,make_x,make_t', FUNCTIONAL, ids=[f[0] for f in FUNCTIONAL])
def test_functional_forms(rng, fname, cls, options, make_x, make_t):
    x, t = make_x(rng), make_t(rng)
    t_options = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    expected = getattr(F, fname)(torch.tensor(x), torch.tensor(t), **t_options).numpy()
    np.testing.assert_allclose(getattr(nl, fname)(x, t, **options), expected, rtol=1e-14)
    np.testing.assert_allclose(getattr(tl, fname)(torch.tensor(x), torch.tensor(t), **t_options).numpy(), expected, rtol=1e-14)
    np.testing.assert_array_equal(getattr(nl, fname)(x, t, **options), getattr(nl, cls)(**options)(x, t))


@pytest.mark.parametrize('name', ['mse_loss', 'l1_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits'])
def test_functional_forms_check_their_arguments(name):
    x = np.full((2, 3), 0.5)
    with pytest.raises(ValueError, match='reduction'): getattr(nl, name)(x, x, reduction='avg')
    with pytest.raises(ValueError, match="target: expected the input's shape"): getattr(nl, name)(x, x[:, :2])
    with pytest.raises(ValueError, match='reduction'): getattr(tl, name)(torch.tensor(x), torch.tensor(x), reduction='avg')


def test_log_softmax_and_logsumexp_check_dim():
    with pytest.raises(ValueError, match='dim'): nl.log_softmax(np.zeros((2, 3)), 2)
    with pytest.raises(TypeError, match='dim'): nl.logsumexp(np.zeros((2, 3)), None)
    with pytest.raises(ValueError, match='dim'): tl.log_softmax(torch.zeros(2, 3), -3)


@pytest.mark.parametrize('device', ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='no CUDA GPU on this machine'))])
def test_torch_losses_on_device(device):
    w = torch.tensor([1.0, 2.0, 3.0])
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 1, -100, 0])
    ours = tl.CrossEntropyLoss(weight=w, label_smoothing=0.1).to(device)(x.to(device), y.to(device))
    builtin = torch.nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)(x, y)
    assert ours.device.type == device
    assert ours.item() == pytest.approx(builtin.item(), rel=1e-6)


# ---------------------------------------------------------------- the exploration

def test_loss_sweep_matches_pytorch_autograd():
    z = np.linspace(-5, 5, 41)
    sweep = el.loss_sweep(z, target=0.3, true_class=1, num_classes=4, other_logits=0.5, margin=1.5, label_smoothing=0.2)
    assert set(sweep.losses) == set(el.SWEEP_LOSSES)
    zt = torch.tensor(z, requires_grad=True)
    logits = torch.cat([zt[:, None], torch.full((41, 3), 0.5, dtype=torch.float64)], 1)
    targets = torch.full((41,), 1)
    y = torch.full((41,), 0.3, dtype=torch.float64)
    reference = {
        'mse': (zt - y) ** 2, 'l1': (zt - y).abs(), 'mse_sigmoid': (torch.sigmoid(zt) - y) ** 2,
        'bce_with_logits': F.binary_cross_entropy_with_logits(zt, y, reduction='none'),
        'cross_entropy': F.cross_entropy(logits, targets, reduction='none', label_smoothing=0.2),
        'multi_margin': F.multi_margin_loss(logits, targets, margin=1.5, reduction='none'),
    }
    for name, value in reference.items():
        grad, = torch.autograd.grad(value.sum(), zt)
        np.testing.assert_allclose(sweep.losses[name], value.detach().numpy(), rtol=1e-12, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(sweep.grads[name], grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=name)


def test_loss_sweep_shows_the_sigmoid_saturation():
    sweep = el.loss_sweep(np.array([-8.0]), target=1.0, losses=['mse_sigmoid', 'bce_with_logits'])
    assert abs(sweep.grads['mse_sigmoid'][0]) < 1e-3
    assert sweep.grads['bce_with_logits'][0] == pytest.approx(-1.0, abs=1e-3)


def test_loss_sweep_bad_input():
    with pytest.raises(ValueError, match="losses: expected one of 'mse'"): el.loss_sweep(losses=['hinge'])
    with pytest.raises(ValueError, match='target'): el.loss_sweep(target=-0.1)
    with pytest.raises(ValueError, match='true_class'): el.loss_sweep(true_class=3, num_classes=3)
    with pytest.raises(ValueError, match='num_classes'): el.loss_sweep(num_classes=1)
    with pytest.raises(ValueError, match='label_smoothing'): el.loss_sweep(label_smoothing=1.5)
    with pytest.raises(TypeError, match='margin'): el.loss_sweep(margin='1')
    with pytest.raises(ValueError, match='z: expected a 1-D array'): el.loss_sweep(z=np.zeros((2, 2)))
    with pytest.raises(ValueError, match='at least one loss'): el.plot_loss_explorer(losses=[])


def test_plots_and_widget():
    import matplotlib.pyplot as plt
    fig = el.plot_loss_sweep(el.loss_sweep(losses=['cross_entropy', 'l1']))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) >= 2
    fig = el.plot_loss_small_multiples(el.SMALL_MULTIPLES[:2], losses=['mse', 'multi_margin'], columns=2)
    assert len(fig.axes) == 4
    fig = el.plot_loss_small_multiples()                  # five panels, three to a row: the sixth slot holds the legend
    assert len(fig.axes) == 12 and sum(ax.axison for ax in fig.axes) == 10
    assert [ax.get_legend() is not None for ax in fig.axes].count(True) == 1
    fig = el.plot_loss_explorer(label_smoothing=0.3, losses=['cross_entropy'])
    plt.close('all')
    pytest.importorskip('ipywidgets')
    widget = el.loss_explorer()
    assert type(widget).__name__ == 'VBox'
    plt.close('all')


# ---------------------------------------------------------------- lists, arrays and flags where they do not belong

@pytest.mark.parametrize('call, error, fragment', [
    (lambda: nl.cross_entropy(np.zeros((2, 3)), [0, 1]), TypeError, 'target: expected a NumPy array, got list'),
    (lambda: nl.CrossEntropyLoss()(np.zeros((2, 3)), torch.tensor([0, 1])), TypeError, 'target: expected a NumPy array, got Tensor'),
    (lambda: nl.mse_loss([0.0, 1.0], np.zeros(2)), TypeError, 'input: expected a NumPy array, got list'),
    (lambda: nl.multi_margin_loss(np.zeros((2, 3)), [0, 1]), TypeError, 'target: expected a NumPy array'),
    (lambda: nl.multi_margin_loss(np.zeros(3), 1), TypeError, 'target: expected a NumPy array, got int'),
    (lambda: nl.multi_margin_loss(np.zeros(3), np.array([0, 1])), ValueError, 'target: expected class indices of shape ()'),
    (lambda: nl.mse_loss(np.zeros(3), torch.zeros(3)), TypeError, 'target: expected a NumPy array, got Tensor'),
    (lambda: nl.BCEWithLogitsLoss(pos_weight=np.array([1, 2])), TypeError, 'pos_weight: expected a floating-point dtype'),
    (lambda: nl.logsumexp(np.zeros((2, 3)), 1, keepdim='no'), TypeError, 'keepdim: expected True or False'),
    (lambda: nl.log_softmax(np.zeros((2, 3))), TypeError, 'dim: expected an integer axis, got None'),
    (lambda: tl.cross_entropy(torch.zeros(2, 3), [0, 1]), TypeError, 'target: expected a torch tensor, got list'),
    (lambda: tl.cross_entropy(np.zeros((2, 3)), np.array([0, 1])), TypeError, 'input: expected a torch tensor, got ndarray'),
    (lambda: tl.CrossEntropyLoss()(np.zeros((2, 3)), torch.tensor([0, 1])), TypeError, 'input: expected a torch tensor'),
    (lambda: tl.logsumexp(np.zeros((2, 3)), 1), TypeError, 'input: expected a torch tensor, got ndarray'),
    (lambda: tl.log_softmax(np.zeros((2, 3)), 1), TypeError, 'input: expected a torch tensor, got ndarray'),
    (lambda: tl.logsumexp(torch.zeros(2, 3), 1, keepdim='no'), TypeError, 'keepdim: expected True or False'),
    (lambda: tl.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]), weight='x'), TypeError, 'weight: expected a torch tensor or None'),
    (lambda: tl.binary_cross_entropy(torch.zeros(3), torch.zeros(3), weight=np.ones(3)), TypeError, 'weight: expected a torch tensor'),
    (lambda: tl.binary_cross_entropy_with_logits(torch.zeros(3), torch.zeros(3), pos_weight=[1.0]), TypeError, 'pos_weight'),
    (lambda: tl.multi_margin_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.ones(2, 3)), ValueError, 'weight: expected a 1-D'),
])
def test_lists_arrays_and_flags_get_clear_errors(call, error, fragment):
    with pytest.raises(error) as info: call()
    assert fragment in str(info.value)


def test_a_weight_that_misses_an_input_with_a_new_batch_dimension_names_the_input():
    with pytest.raises(ValueError, match=r"weight: expected one weight per class, shape \(2,\) for an input of shape \(1, 2, 3\)"):
        nl.CrossEntropyLoss(weight=np.ones(3))(np.zeros((1, 2, 3)), np.zeros((1, 3), int))


# ---------------------------------------------------------------- signatures of the functional forms are PyTorch's

@pytest.mark.parametrize('name', ['mse_loss', 'l1_loss', 'cross_entropy', 'binary_cross_entropy',
                                  'binary_cross_entropy_with_logits', 'multi_margin_loss', 'log_softmax'])
@pytest.mark.parametrize('backend', BACKENDS)
def test_functional_signatures_are_pytorchs(backend, name):
    from test_nn import signature_mismatches
    assert not signature_mismatches(getattr(BACKENDS[backend], name), getattr(F, name), ignore=('size_average', 'reduce', '_stacklevel'))


@pytest.mark.parametrize('name', NAMES)
def test_torch_loss_defaults_mirror_pytorch(name):
    from test_nn import signature_mismatches
    assert not signature_mismatches(getattr(tl, name), getattr(torch.nn, name))


@pytest.mark.parametrize('backend', BACKENDS)
def test_logsumexp_signature_is_pytorchs(backend):
    import inspect
    params = inspect.signature(BACKENDS[backend].logsumexp).parameters   # torch.logsumexp(input, dim, keepdim=False): a builtin
    assert list(params) == ['input', 'dim', 'keepdim'] and params['dim'].default is inspect.Parameter.empty
    assert params['keepdim'].default is False


# ---------------------------------------------------------------- class-probability targets, tolerances, defaults

@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
@pytest.mark.parametrize('label_smoothing', [0.0, 0.2])
def test_probability_targets_with_weight_on_spatial_input_match_pytorch(rng, reduction, label_smoothing):
    "Class probabilities over dimension 1 of an (N, C, d) input, with class weights: value and gradient are PyTorch's."
    x = rng.normal(size=(2, 4, 3))
    t = np.moveaxis(rng.dirichlet(np.ones(4), (2, 3)), -1, 1)              # sums to 1 over dimension 1
    w = np.array([0.5, 1.0, 2.0, 3.0])
    options = dict(weight=w, label_smoothing=label_smoothing, reduction=reduction)
    g = rng.normal(size=(2, 3)) if reduction == 'none' else None
    value, grad = numpy_value_and_grad(nl.CrossEntropyLoss(**options), x, t, g)
    t_options = {**options, 'weight': torch.from_numpy(w)}
    bv, bg = builtin_value_and_grad(torch.nn.CrossEntropyLoss(**t_options), x, t, g)
    assert value.shape == bv.shape and grad.shape == x.shape
    np.testing.assert_allclose(value, bv, rtol=1e-13)
    np.testing.assert_allclose(grad, bg, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize('dtype, close, far', [('float64', 1e-7, 1e-5), ('float32', 2e-4, 5e-3), ('float16', 4e-3, 0.05)])
def test_probability_sums_are_checked_to_a_tolerance_that_fits_the_dtype(dtype, close, far):
    "Sums of class probabilities may miss 1 by rounding (1e-6 in float64, 1e-3 in float32, 1e-2 in float16), not by more."
    x = np.zeros((1, 2), dtype)
    target = lambda off: np.array([[0.5 + off, 0.5]], dtype)
    assert abs(float(target(close).sum()) - 1) > 0                         # really off, by less than the tolerance
    value = nl.CrossEntropyLoss()(x, target(close))
    assert value.dtype == dtype and float(value) == pytest.approx(np.log(2) * (1 + close), rel=1e-2)
    with pytest.raises(ValueError, match='target: class probabilities must sum to 1 over dimension 1'):
        nl.CrossEntropyLoss()(x, target(far))


def test_logsumexp_keepdim_and_shapes_are_torchs(rng):
    z = rng.normal(size=(1, 3, 2))
    for dim in (0, 1, 2, -1):
        for keepdim in (False, True):
            expected = torch.logsumexp(torch.from_numpy(z), dim, keepdim=keepdim).numpy()
            ours = nl.logsumexp(z, dim, keepdim=keepdim)
            assert ours.shape == expected.shape, (dim, keepdim)
            np.testing.assert_allclose(ours, expected, rtol=1e-14)
    assert nl.logsumexp(z, 1).shape == (1, 2) and nl.logsumexp(z, 1, keepdim=True).shape == (1, 1, 2)


def test_functional_defaults_give_pytorchs_values(rng):
    "Called with no options, the functional losses are PyTorch's (label_smoothing=0, p=1, margin=1, mean)."
    x, y = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    np.testing.assert_allclose(nl.cross_entropy(x, y), F.cross_entropy(torch.tensor(x), torch.tensor(y)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(nl.multi_margin_loss(x, y), F.multi_margin_loss(torch.tensor(x), torch.tensor(y)).numpy(), rtol=1e-14)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    assert float(nl.cross_entropy(x, y)) == pytest.approx(-logp[np.arange(5), y].mean(), rel=1e-14)
