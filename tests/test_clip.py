"""Gradient clipping (lessons 8d/8e): NumPy and PyTorch-from-ops against torch.nn.utils, edge cases, bad input."""
import math
import warnings

import numpy as np
import pytest
import torch

from conftest import requires_cuda
from dlcourse.numpy import clip as nclip
from dlcourse.numpy.nn import MLP, Parameter
from dlcourse.torch import clip as tclip

NORM_TYPES = (0.5, 1.0, 2.0, 3.5, math.inf, -math.inf, 0.0, -1.0)
BACKENDS = ('numpy', 'torch')


def grads_of(seed=0, shapes=((4, 3), (3,), (5, 2), (1,)), scales=(1.0, 10.0, 0.1, 3.0)):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) * c for s, c in zip(shapes, scales)]


def params_for(backend, grads, dtype='float64'):
    "Parameters (zeros) whose .grad are `grads` (None for none), for 'numpy', 'torch' (ours) or 'builtin'."
    out = []
    for g in grads:
        shape = (2,) if g is None else np.shape(g)
        if backend == 'numpy':
            p = Parameter(np.zeros(shape, dtype=dtype)); p.grad = None if g is None else np.array(g, dtype=dtype)
        else:
            p = torch.nn.Parameter(torch.zeros(shape, dtype=getattr(torch, dtype)))
            p.grad = None if g is None else torch.tensor(np.array(g), dtype=getattr(torch, dtype))
        out.append(p)
    return out


def as_np(x):
    return None if x is None else (x.detach().numpy() if torch.is_tensor(x) else np.asarray(x))


def run(backend, function, grads, *args, dtype='float64', **kwargs):
    "Call `function` of a backend ('numpy', 'torch' or 'builtin'); returns (returned value, gradients after) as NumPy."
    params = params_for('numpy' if backend == 'numpy' else 'torch', grads, dtype)
    fn = {'numpy': nclip, 'torch': tclip, 'builtin': torch.nn.utils}[backend]
    returned = getattr(fn, function)(params, *args, **kwargs)
    return as_np(returned), [as_np(p.grad) for p in params]


def assert_same(actual, expected, rtol=1e-12):
    "Equal NaN/inf patterns, and finite entries within rtol of the largest |expected|."
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape
    np.testing.assert_array_equal(np.isfinite(a), np.isfinite(e))
    np.testing.assert_array_equal(a[~np.isfinite(a)], e[~np.isfinite(e)])
    finite = np.isfinite(e)
    scale = np.abs(e[finite]).max(initial=0)
    assert np.abs(a[finite] - e[finite]).max(initial=0) <= rtol * scale


# --- must show: matches torch.nn.utils to relative 1e-12, norm_type inf and the non-finite error included ---------

@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('norm_type', NORM_TYPES)
@pytest.mark.parametrize('factor', (0.3, 3.0))
def test_clip_grad_norm_matches_torch(backend, norm_type, factor):
    grads = grads_of()
    norm = float(torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], norm_type))
    ref_total, ref_grads = run('builtin', 'clip_grad_norm_', grads, norm * factor, norm_type)
    total, out = run(backend, 'clip_grad_norm_', grads, norm * factor, norm_type)
    assert_same(total, ref_total)
    for g, r in zip(out, ref_grads): assert_same(g, r)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('clip_value', (0.0, 0.2, 1.0, 100.0, math.inf))
def test_clip_grad_value_matches_torch(backend, clip_value):
    grads = grads_of()
    _, ref = run('builtin', 'clip_grad_value_', grads, clip_value)
    returned, out = run(backend, 'clip_grad_value_', grads, clip_value)
    assert returned is None
    for g, r in zip(out, ref): assert_same(g, r, rtol=0)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('bad', (math.inf, -math.inf, math.nan))
@pytest.mark.parametrize('norm_type', (2.0, math.inf, 1.0))
def test_nonfinite_gradients_scaled_like_torch(backend, bad, norm_type):
    grads = grads_of(); grads[0][1, 2] = bad
    ref_total, ref_grads = run('builtin', 'clip_grad_norm_', grads, 1.0, norm_type)
    total, out = run(backend, 'clip_grad_norm_', grads, 1.0, norm_type)
    assert_same(total, ref_total)
    for g, r in zip(out, ref_grads): assert_same(g, r)
    _, ref_grads = run('builtin', 'clip_grad_value_', grads, 0.5)
    _, out = run(backend, 'clip_grad_value_', grads, 0.5)
    for g, r in zip(out, ref_grads): assert_same(g, r, rtol=0)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('bad', (math.inf, math.nan))
@pytest.mark.parametrize('norm_type', (2.0, math.inf, 3.5))
def test_error_if_nonfinite_raises_torch_error_and_leaves_grads(backend, bad, norm_type):
    grads = grads_of(); grads[1][0] = bad
    with pytest.raises(RuntimeError) as expected: run('builtin', 'clip_grad_norm_', grads, 1.0, norm_type, error_if_nonfinite=True)
    params = params_for('numpy' if backend == 'numpy' else 'torch', grads)
    fn = nclip if backend == 'numpy' else tclip
    with pytest.raises(RuntimeError) as ours: fn.clip_grad_norm_(params, 1.0, norm_type, error_if_nonfinite=True)
    assert str(ours.value) == str(expected.value)
    for p, g in zip(params, grads): assert_same(as_np(p.grad), g, rtol=0)


@pytest.mark.parametrize('dtype', ('float64', 'float32'))
@pytest.mark.parametrize('name', ('clip_grad_norm_', 'clip_grad_value_'))
def test_registered_checks_pass(name, dtype):
    results = tclip.check_clip(name, dtype)
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]
    assert tclip.CLIP_RTOL['float64'] == 1e-12


# --- edge cases -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', BACKENDS)
def test_edge_cases_match_torch(backend):
    cases = [
        ([None, None], 1.0, {}),                        # no gradients at all: norm 0
        ([np.zeros(3)], 1.0, {}),                       # an all-zero gradient: the 1e-6 avoids 0/0
        ([[1e200, 1e200], [1.0]], 1.0, {}),             # the sum of squares overflows: norm inf
        ([[1e-300, 1e-300]], 1.0, {}),                  # it underflows: norm 0
        ([[3.0, 4.0]], 0.0, {}),                        # max_norm 0 zeroes the gradients
        ([[3.0, 4.0]], math.inf, {}),                   # max_norm inf only measures
        ([[3.0, 4.0]], 5.0, {}),                        # norm exactly max_norm: scaled by a hair below 1
        ([[3.0, -4.0], None, [12.0]], 6.5, {'norm_type': 'inf'}),
    ]
    for grads, max_norm, kwargs in cases:
        ref_total, ref_grads = run('builtin', 'clip_grad_norm_', grads, max_norm, **kwargs)
        total, out = run(backend, 'clip_grad_norm_', grads, max_norm, **kwargs)
        assert_same(total, ref_total)
        assert total.dtype == ref_total.dtype
        for g, r in zip(out, ref_grads):
            assert (g is None) == (r is None)
            if r is not None: assert_same(g, r)


def test_float32_single_element_and_overflow_like_torch():
    for grads in ([np.array([1e20])], [np.array([1e20, 1e20])], [np.array([2e19]), np.array([2e19])]):
        ref_total, ref = run('builtin', 'clip_grad_norm_', grads, 1.0, dtype='float32')
        for backend in BACKENDS:
            total, out = run(backend, 'clip_grad_norm_', grads, 1.0, dtype='float32')
            assert total.dtype == np.float32
            assert_same(total, ref_total, rtol=1e-6)
            for g, r in zip(out, ref): assert_same(g, r, rtol=1e-6)


def test_mixed_dtypes_like_torch():
    grads = grads_of()[:2]
    ref_params = params_for('torch', grads[:1], 'float32') + params_for('torch', grads[1:], 'float64')
    ours = params_for('numpy', grads[:1], 'float32') + params_for('numpy', grads[1:], 'float64')
    ref_total = torch.nn.utils.clip_grad_norm_(ref_params, 1.0)
    total = nclip.clip_grad_norm_(ours, 1.0)
    assert total.dtype == np.float64 and ref_total.dtype == torch.float64
    assert_same(total, as_np(ref_total))
    for p, r in zip(ours, ref_params):
        assert p.grad.dtype == as_np(r.grad).dtype
        assert_same(p.grad, as_np(r.grad), rtol=1e-6)


@pytest.mark.parametrize('ord', NORM_TYPES)
@pytest.mark.parametrize('dtype', ('float64', 'float32'))
def test_vector_norm_matches_torch_linalg(ord, dtype):
    rng = np.random.default_rng(1)
    for x in (rng.normal(size=(3, 4)), np.array([0.0, -2.0, 5.0]), np.array([-7.5]), np.zeros(4)):
        x = x.astype(dtype)
        ref = torch.linalg.vector_norm(torch.from_numpy(x), ord).numpy()
        for ours in (nclip.vector_norm(x, ord), tclip.vector_norm(torch.from_numpy(x), ord).numpy()):
            assert ours.shape == () and ours.dtype == ref.dtype
            assert_same(ours, ref, rtol=1e-6 if dtype == 'float32' else 1e-13)


@pytest.mark.parametrize('backend', BACKENDS)
def test_single_parameter_in_place_and_skipped_parameters(backend):
    (p, q) = params_for('numpy' if backend == 'numpy' else 'torch', [[3.0, 4.0], None])
    fn = nclip if backend == 'numpy' else tclip
    grad = p.grad
    total = fn.clip_grad_norm_(p, 1.0)
    assert float(total) == 5.0 and p.grad is grad            # modified in place, same array
    np.testing.assert_allclose(as_np(p.grad), [0.6, 0.8], rtol=1e-6)
    fn.clip_grad_value_(p, 0.7); assert p.grad is grad
    fn.clip_grad_norm_([p, q], 1.0); fn.clip_grad_value_([p, q], 1.0)
    assert q.grad is None


@pytest.mark.parametrize('backend', BACKENDS)
def test_empty_generator_warns_and_empty_list_returns_float32_zero(backend):
    fn = nclip if backend == 'numpy' else tclip
    with pytest.warns(UserWarning, match='empty generator'): total = fn.clip_grad_norm_((p for p in []), 1.0)
    assert float(total) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        total = fn.clip_grad_norm_([], 1.0)
        assert as_np(total).dtype == np.float32 and float(total) == 0.0
        fn.clip_grad_value_((p for p in []), 1.0)              # PyTorch does not warn here either


def test_model_parameters_generator_is_clipped():
    model = MLP(3, [4, 2], dtype='float64')
    model.backward(np.ones_like(model(np.ones((5, 3)))))
    before = np.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    total = nclip.clip_grad_norm_(model.parameters(), before / 2)
    assert float(total) == pytest.approx(before, rel=1e-12)
    after = np.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    assert after == pytest.approx(before / 2, rel=1e-6)


def test_get_total_norm_and_clip_grads_with_norm_split():
    grads = grads_of()
    for p in NORM_TYPES:
        ref = torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], p)
        assert_same(nclip.get_total_norm(grads, p), as_np(ref))
        assert_same(tclip.get_total_norm([torch.tensor(g) for g in grads], p), as_np(ref))
    ours, theirs = params_for('numpy', grads), params_for('torch', grads)
    nclip.clip_grads_with_norm_(ours, 1.0, 20.0)
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, torch.tensor(20.0, dtype=torch.float64))
    for p, r in zip(ours, theirs): assert_same(p.grad, as_np(r.grad))
    mine = params_for('torch', grads)
    tclip.clip_grads_with_norm_(mine, 1.0, 20.0)
    for p, r in zip(mine, theirs): assert_same(as_np(p.grad), as_np(r.grad))


@requires_cuda
def test_torch_clipping_on_cuda_matches_numpy():
    for name in ('clip_grad_norm_', 'clip_grad_value_'):
        for dtype in ('float64', 'float32'):
            results = tclip.check_clip(name, dtype, device='cuda')
            assert all(r.ok for r in results), [r for r in results if not r.ok]


# --- bad input ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', BACKENDS)
def test_bad_input(backend):
    fn = nclip if backend == 'numpy' else tclip
    kind = 'dlcourse.numpy Parameter' if backend == 'numpy' else 'torch.Tensor'
    params = params_for('numpy' if backend == 'numpy' else 'torch', [[1.0, 2.0]])
    cases = [
        (lambda: fn.clip_grad_norm_(params, -1.0), ValueError, 'max_norm: expected a value >= 0'),
        (lambda: fn.clip_grad_norm_(params, math.nan), ValueError, 'max_norm: expected a real number, got NaN'),
        (lambda: fn.clip_grad_norm_(params, '1'), TypeError, 'max_norm: expected a real number'),
        (lambda: fn.clip_grad_norm_(params, 1.0, norm_type='two'), TypeError, 'norm_type: expected a real number'),
        (lambda: fn.clip_grad_norm_(params, 1.0, norm_type=math.nan), ValueError, 'norm_type: expected a real number, got NaN'),
        (lambda: fn.clip_grad_norm_(params, 1.0, norm_type=True), TypeError, 'norm_type'),
        (lambda: fn.clip_grad_norm_(params, 1.0, error_if_nonfinite=1), TypeError, 'error_if_nonfinite: expected True or False'),
        (lambda: fn.clip_grad_norm_(params, 1.0, foreach='yes'), TypeError, 'foreach: expected True or False'),
        (lambda: fn.clip_grad_norm_(3.0, 1.0), TypeError, f"parameters: expected a {kind} or an iterable"),
        (lambda: fn.clip_grad_norm_('abc', 1.0), TypeError, 'parameters: expected'),
        (lambda: fn.clip_grad_norm_([params[0], 'x'], 1.0), TypeError, f"parameters[1]: expected a {kind}"),
        (lambda: fn.clip_grad_value_(params, -0.5), ValueError, 'clip_value: expected a value >= 0'),
        (lambda: fn.clip_grad_value_(params, None), TypeError, 'clip_value: expected a real number'),
        (lambda: fn.clip_grad_value_(params, 1.0, foreach=0), TypeError, 'foreach: expected True or False'),
        (lambda: fn.clip_grads_with_norm_(params, 1.0, 'big'), TypeError, 'total_norm: expected a floating-point number'),
        (lambda: fn.clip_grads_with_norm_(params, -1.0, 1.0), ValueError, 'max_norm: expected a value >= 0'),
        (lambda: fn.vector_norm(as_arr(backend, [1.0]), 'l2'), TypeError, 'ord: expected a real number'),
        (lambda: fn.vector_norm([1.0, 2.0]), TypeError, 'x: expected a floating-point NumPy array' if backend == 'numpy' else 'x: expected a torch tensor'),
        (lambda: fn.vector_norm(as_arr(backend, [1, 2])), TypeError, 'x: expected a floating-point'),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=None) as info: call()
        assert message in str(info.value), (message, str(info.value))
    if backend == 'numpy':
        with pytest.raises(TypeError, match='pass model.parameters()'): fn.clip_grad_norm_(MLP(2, [3]), 1.0)
        with pytest.raises(TypeError, match=r'tensors\[0\]: expected a floating-point NumPy array'): fn.get_total_norm([np.arange(3)])
        with pytest.raises(TypeError, match=r'tensors\[0\]: expected a NumPy array'): fn.get_total_norm([[1.0]])
    else:
        from dlcourse.torch.nn import MLP as TorchMLP
        with pytest.raises(TypeError, match='pass model.parameters()'): fn.clip_grad_norm_(TorchMLP(2, [3]), 1.0)
        with pytest.raises(TypeError, match=r'tensors\[0\]: expected a floating-point dtype'): fn.get_total_norm([torch.arange(3)])
        with pytest.raises(TypeError, match='0-d tensor'): fn.clip_grads_with_norm_(params, 1.0, torch.ones(2))


def as_arr(backend, values):
    return np.array(values) if backend == 'numpy' else torch.tensor(values)


def test_check_clip_rejects_unknown_function():
    with pytest.raises(ValueError, match="function: expected one of 'clip_grad_norm_', 'clip_grad_value_'"):
        tclip.check_clip('clip_grad_sign_')


@pytest.mark.parametrize('call, error, match', [
    (lambda: tclip.clip_problem(seed=-1), ValueError, 'seed'),
    (lambda: tclip.clip_problem(nonfinite='big'), ValueError, "nonfinite: expected one of None, 'inf', 'nan'"),
    (lambda: tclip.clip_run('jax', 'clip_grad_norm_', {'max_norm': 1.0}), ValueError, 'backend'),
    (lambda: tclip.clip_run('numpy', 'clip_grad', {'max_norm': 1.0}), ValueError, 'function'),
    (lambda: tclip.clip_run('numpy', 'clip_grad_norm_', {'max_norm': 1.0, 'colour': 1}), ValueError, r"kwargs: \['colour'\]"),
    (lambda: tclip.clip_run('numpy', 'clip_grad_norm_', {'max_norm': 1.0}, dtype='float16'), ValueError, 'dtype'),
    (lambda: tclip.clip_run('numpy', 'clip_grad_norm_', {'max_norm': 1.0}, single='yes'), TypeError, 'single'),
    (lambda: tclip.check_clip('clip_grad_norm_', 'float16'), ValueError, 'dtype'),
])
def test_cross_check_helpers_check_their_arguments(call, error, match):
    with pytest.raises(error, match=match): call()


def test_clip_run_reports_the_errors_the_function_raises():
    assert tclip.clip_run('numpy', 'clip_grad_norm_', {'max_norm': 1.0, 'error_if_nonfinite': True}, nonfinite='nan') == {'error': RuntimeError}


def test_clip_concepts_name_their_lesson_and_implementations():
    from dlcourse.crosscheck import concepts
    found = {c.name: c for c in concepts()}
    for name in ('clip_grad_norm_', 'clip_grad_value_'):
        c = found[name]
        assert (c.lesson, c.numpy, c.torch, c.builtin) == ('8e', f'dlcourse.numpy.clip.{name}', f'dlcourse.torch.clip.{name}',
                                                          f'torch.nn.utils.{name}')


@pytest.mark.parametrize('total_norm', (3.7, 20.0, 1.234567))
def test_float32_grads_scaled_by_a_float32_coefficient_like_torch(total_norm):
    "A float64 total norm (mixed-dtype models have one) is rounded to each gradient's dtype before it multiplies: bit for bit as torch."
    g = np.random.default_rng(0).normal(size=1000).astype(np.float32)
    ours = Parameter(np.zeros(1000, dtype=np.float32)); ours.grad = g.copy()
    theirs = torch.nn.Parameter(torch.zeros(1000)); theirs.grad = torch.from_numpy(g.copy())
    nclip.clip_grads_with_norm_([ours], 1.0, np.float64(total_norm))
    torch.nn.utils.clip_grads_with_norm_([theirs], 1.0, torch.tensor(total_norm, dtype=torch.float64))
    assert ours.grad.dtype == np.float32
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_vector_norm_defaults_to_2_and_empty_inf_norms_are_the_p_limits():
    x = np.array([3.0, -4.0, 12.0])
    assert nclip.vector_norm(x) == 13.0 == float(torch.linalg.vector_norm(torch.from_numpy(x)))
    for backend_norm, empty in ((nclip.vector_norm, np.empty(0, dtype=np.float32)),
                                (tclip.vector_norm, torch.empty(0, dtype=torch.float32))):
        # torch.linalg refuses these; we return the limits of the p-norm of nothing (0 for p -> inf, inf for p -> -inf)
        assert float(backend_norm(empty, math.inf)) == 0.0 and float(backend_norm(empty, -math.inf)) == math.inf
        assert as_np(backend_norm(empty, math.inf)).dtype == np.float32
    assert float(nclip.get_total_norm([np.empty(0), np.array([2.0, -5.0])], math.inf)) == 5.0


@pytest.mark.parametrize('backend', BACKENDS)
def test_string_infinite_norm_types_like_torch(backend):
    grads = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]
    for name in ('inf', '-inf'):
        ref_total, ref_grads = run('builtin', 'clip_grad_norm_', grads, 0.25, name)
        total, out = run(backend, 'clip_grad_norm_', grads, 0.25, name)
        assert float(total) == float(ref_total) == (4.0 if name == 'inf' else 0.5)
        for g, r in zip(out, ref_grads): assert_same(g, r)
        assert float(run(backend, 'clip_grad_norm_', grads, 0.25, float(name))[0]) == float(total)


def test_overflow_and_inf_over_inf_are_silent_like_torch():
    "Norms and coefficients that overflow, divide by zero or are inf/inf give torch's values without RuntimeWarnings."
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert nclip.vector_norm(np.array([1e200, 1e200])) == math.inf          # the sum of squares overflows
        assert nclip.vector_norm(np.array([0.0, 2.0]), -1.0) == 0.0              # 0 ** -1 is a division by zero
        assert float(torch.linalg.vector_norm(torch.tensor([0.0, 2.0]), -1.0)) == 0.0
        grads = [[1e-8, 2e-8]]
        for backend in ('builtin', 'numpy'):                                     # max_norm / tiny norm overflows: no clipping
            total, out = run(backend, 'clip_grad_norm_', grads, 1e308)
            assert out[0].tolist() == grads[0]
        grads = [[math.inf, 1.0]]                                                # inf / inf: the gradients become NaN
        ref_total, ref = run('builtin', 'clip_grad_norm_', grads, math.inf)
        total, out = run('numpy', 'clip_grad_norm_', grads, math.inf)
        assert float(total) == float(ref_total) == math.inf
        assert np.isnan(ref[0]).all() and np.isnan(out[0]).all()


@pytest.mark.parametrize('backend', BACKENDS)
def test_empty_generator_warning_is_torchs(backend):
    fn = nclip if backend == 'numpy' else tclip
    with pytest.warns(UserWarning) as ours: fn.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(UserWarning) as theirs: torch.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs] == [
        '`parameters` is an empty generator, no gradient clipping will occur.']


@pytest.mark.parametrize('foreach', (True, False, None))
def test_foreach_is_accepted_and_changes_nothing(foreach):
    grads = grads_of()
    ref_total, ref_grads = run('builtin', 'clip_grad_norm_', grads, 1.0, foreach=foreach)
    total, out = run('numpy', 'clip_grad_norm_', grads, 1.0, foreach=foreach)
    assert_same(total, ref_total)
    for g, r in zip(out, ref_grads): assert_same(g, r)
    _, ref_grads = run('builtin', 'clip_grad_value_', grads, 0.5, foreach=foreach)
    _, out = run('numpy', 'clip_grad_value_', grads, 0.5, foreach=foreach)
    for g, r in zip(out, ref_grads): assert_same(g, r, rtol=0)
    params = params_for('numpy', grads)
    nclip.clip_grads_with_norm_(params, 1.0, 20.0, foreach=foreach)
    assert_same(params[0].grad, grads[0] / (20.0 + 1e-6))
