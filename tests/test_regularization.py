"Regularization (lesson 9): dropout, L1/L2 penalties, L2 penalty versus coupled and decoupled weight decay."
import numpy as np
import pytest
import torch

from dlcourse.crosscheck import gradient_check
from dlcourse.numpy import regularization as npreg
from dlcourse.numpy.adaptive import Adam, AdamW
from dlcourse.numpy.nn import Parameter
from dlcourse.numpy.optim import SGD
from dlcourse.torch import regularization as treg


# ---- dropout ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('p', [0.0, 0.3, 0.5, 1.0])
def test_eval_is_identity(p):
    x = np.random.default_rng(0).normal(size=(5, 6))
    np.testing.assert_array_equal(npreg.Dropout(p).eval()(x), x)
    t = torch.as_tensor(x)
    assert torch.equal(treg.Dropout(p).eval()(t), t)
    drop = npreg.Dropout(p).eval()
    drop(x)
    np.testing.assert_array_equal(drop.backward(x), x)


@pytest.mark.parametrize('p', [0.1, 0.5, 0.8])
def test_training_mean_within_tolerance(p):
    n = 1_000_000
    x = np.random.default_rng(1).normal(2.0, 1.0, size=n)
    outs = [npreg.Dropout(p, generator=np.random.default_rng(3))(x),
            treg.Dropout(p, generator=torch.Generator().manual_seed(3))(torch.as_tensor(x)).numpy()]
    for out in outs:
        assert abs(out.mean() - x.mean()) < 5 * out.std() / np.sqrt(n)
        assert abs(np.mean(out == 0) - p) < 5 * np.sqrt(p * (1 - p) / n)
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-15)


def test_p_zero_and_one():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_array_equal(npreg.Dropout(0.0)(x), x)
    np.testing.assert_array_equal(npreg.Dropout(1.0)(x), np.zeros_like(x))
    t = torch.as_tensor(x, dtype=torch.float32)
    assert torch.equal(treg.Dropout(1.0)(t), torch.nn.Dropout(1.0)(t))
    drop = npreg.Dropout(1.0)
    drop(x)
    np.testing.assert_array_equal(drop.backward(np.ones_like(x)), np.zeros_like(x))


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_shared_mask_agreement(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 9)).astype(dtype)
    g = rng.normal(size=(7, 9)).astype(dtype)
    mask = rng.random((7, 9)) >= 0.4
    ref_out = x * mask / (1 - 0.4)
    np_drop = npreg.FixedMaskDropout(mask, 0.4)
    np_out, np_grad = np_drop(x), np_drop.backward(g)
    t = torch.tensor(x, requires_grad=True)
    t_out = treg.FixedMaskDropout(torch.as_tensor(mask), 0.4)(t)
    t_out.backward(torch.as_tensor(g))
    rtol = 1e-12 if dtype == 'float64' else 1e-6
    for out, grad in ((np_out, np_grad), (t_out.detach().numpy(), t.grad.numpy())):
        np.testing.assert_allclose(out, ref_out, rtol=rtol, atol=0)
        np.testing.assert_allclose(grad, g * mask / (1 - 0.4), rtol=rtol, atol=0)
        assert out.dtype == np.dtype(dtype)


def test_random_dropout_backward_uses_forward_mask():
    x = np.random.default_rng(0).normal(size=(4, 5))
    drop = npreg.Dropout(0.5, generator=np.random.default_rng(1))
    out = drop(x)
    g = np.ones_like(x)
    np.testing.assert_array_equal(drop.backward(g), (out != 0) * 2.0)


def test_gradient_check_fixed_mask():
    rng = np.random.default_rng(0)
    mask = rng.random((4, 6)) >= 0.3
    errors = gradient_check(npreg.FixedMaskDropout(mask, 0.3), (rng.normal(size=(4, 6)),))
    assert errors['input'] < 1e-6


def test_dropout_generator_reproducible():
    x = np.ones((10, 10))
    a = npreg.Dropout(0.5, generator=np.random.default_rng(7))(x)
    b = npreg.Dropout(0.5, generator=np.random.default_rng(7))(x)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('p', [-0.1, 1.01, float('nan'), float('inf')])
def test_dropout_bad_p(p):
    for cls in (npreg.Dropout, treg.Dropout):
        with pytest.raises(ValueError, match='p'):
            cls(p)


@pytest.mark.parametrize('p', ['0.5', None, True])
def test_dropout_p_wrong_type(p):
    for cls in (npreg.Dropout, treg.Dropout):
        with pytest.raises(TypeError, match='p'):
            cls(p)


def test_dropout_bad_input_and_args():
    with pytest.raises(TypeError, match='input'):
        npreg.Dropout(0.5)(np.arange(4))
    with pytest.raises(TypeError, match='input'):
        treg.Dropout(0.5)(torch.arange(4))
    with pytest.raises(TypeError, match='input'):
        npreg.Dropout(0.5)([1.0, 2.0])
    with pytest.raises(TypeError, match='generator'):
        npreg.Dropout(0.5, generator='0')
    with pytest.raises(TypeError, match='generator'):
        treg.Dropout(0.5, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match='inplace'):
        npreg.Dropout(0.5, inplace=True)
    with pytest.raises(ValueError, match='mask'):
        npreg.dropout_with_mask(np.ones((2, 3)), np.ones((3, 2), bool), 0.5)
    with pytest.raises(ValueError, match='mask'):
        treg.dropout_with_mask(torch.ones(2, 3), torch.ones(3, 2, dtype=torch.bool), 0.5)


def test_dropout_generator_takes_an_int_seed_as_numpy_does():
    x = np.ones((6, 7))
    np.testing.assert_array_equal(npreg.Dropout(0.5, generator=7)(x), npreg.Dropout(0.5, generator=np.random.default_rng(7))(x))
    with pytest.raises(ValueError, match='generator'):
        npreg.Dropout(0.5, generator=-1)
    with pytest.raises(TypeError, match='generator'):
        npreg.Dropout(0.5, generator=2.5)


@pytest.mark.parametrize('cls', [npreg.Dropout, treg.Dropout])
@pytest.mark.parametrize('flag', ['no', None, 0])
def test_dropout_inplace_must_be_a_bool(cls, flag):
    with pytest.raises(TypeError, match='inplace'):
        cls(0.5, inplace=flag)


@pytest.mark.parametrize('make', [lambda: npreg.Dropout(0.5, generator=0), lambda: npreg.FixedMaskDropout(np.ones((2, 3), bool), 0.5)])
def test_backward_with_a_misshaped_gradient_blames_the_gradient(make):
    drop = make()
    drop(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r'^grad_output: expected shape \(2, 3\)'):
        drop.backward(np.ones((2, 4)))
    with pytest.raises(TypeError, match='^grad_output'):
        drop.backward([[1.0, 1.0, 1.0]] * 2)


def test_mask_must_hold_booleans_or_zeros_and_ones():
    x = np.ones(3)
    np.testing.assert_array_equal(npreg.dropout_with_mask(x, np.array([1, 0, 1]), 0.5), [2.0, 0.0, 2.0])
    for bad in (np.array([0.5, 1.0, 0.0]), np.array([2, 0, 1]), np.array([np.nan, 1.0, 0.0])):
        with pytest.raises(ValueError, match='^mask: '):
            npreg.dropout_with_mask(x, bad, 0.5)
        with pytest.raises(ValueError, match='^mask: '):
            npreg.FixedMaskDropout(bad, 0.5)
        with pytest.raises(ValueError, match='^mask: '):
            treg.FixedMaskDropout(torch.as_tensor(bad), 0.5)
    with pytest.raises(ValueError, match=r'input, mask: expected the same shape, got \(3,\) and \(1, 3\)'):
        npreg.dropout_with_mask(x, np.ones((1, 3), bool), 0.5)


def test_draw_mask_checks_its_shape():
    drop = npreg.Dropout(0.3, generator=0)
    assert drop.draw_mask((2, 5)).shape == (2, 5) and drop.draw_mask([4]).dtype == bool
    with pytest.raises(TypeError, match='shape'):
        drop.draw_mask('x')
    with pytest.raises(TypeError, match=r'shape\[1\]'):
        drop.draw_mask((2, 'x'))
    with pytest.raises(ValueError, match=r'shape\[0\]'):
        drop.draw_mask((-1, 3))


def test_torch_side_refuses_numpy_arrays_clearly():
    with pytest.raises(TypeError, match='input: expected a torch tensor'):
        treg.Dropout(0.5)(np.ones(3))
    with pytest.raises(TypeError, match='input: expected a torch tensor'):
        treg.dropout_with_mask(np.ones(3), torch.ones(3, dtype=torch.bool), 0.5)
    with pytest.raises(TypeError, match='mask: expected a torch tensor'):
        treg.FixedMaskDropout(np.ones(3, bool), 0.5)
    with pytest.raises(TypeError, match='input: expected a torch tensor'):
        treg.FixedMaskDropout(torch.ones(3, dtype=torch.bool), 0.5).eval()(np.ones(3))


def test_dropout_nan_passes_through():
    x = np.array([np.nan, 1.0, np.inf])
    out = npreg.Dropout(0.0)(x)
    np.testing.assert_array_equal(out, x)


# ---- penalties -------------------------------------------------------------------------------------------

def test_numpy_penalties_value_and_grad():
    w = Parameter(np.array([[-2.0, 0.0], [0.5, 3.0]]))
    assert npreg.l1_penalty([w], 0.1) == pytest.approx(0.1 * 5.5)
    np.testing.assert_array_equal(w.grad, 0.1 * np.sign(w.data))
    w.grad = np.ones_like(w.data)
    assert npreg.l2_penalty([w], 0.2) == pytest.approx(0.1 * (4 + 0.25 + 9))
    np.testing.assert_array_equal(w.grad, 1 + 0.2 * w.data)


def test_torch_penalties_match_numpy():
    data = np.random.default_rng(0).normal(size=(3, 4))
    for np_fn, t_fn, name in ((npreg.l1_penalty, treg.l1_penalty, 'l1'), (npreg.l2_penalty, treg.l2_penalty, 'l2')):
        p = Parameter(data.copy())
        value = np_fn([p], 0.3)
        t = torch.tensor(data, requires_grad=True)
        penalty = t_fn([t], 0.3)
        penalty.backward()
        assert penalty.ndim == 0, name
        assert float(penalty.detach()) == pytest.approx(value, rel=1e-14), name
        np.testing.assert_allclose(t.grad.numpy(), p.grad, rtol=1e-15, atol=0)


def test_l2_penalty_gradient_equals_sgd_weight_decay_exactly():
    for opt_cls, kw in ((SGD, dict(lr=0.1)), (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)), (Adam, dict(lr=0.01))):
        rng = np.random.default_rng(0)
        w0, grads = rng.normal(size=(4, 3)), rng.normal(size=(10, 4, 3))
        p1, p2 = Parameter(w0.copy()), Parameter(w0.copy())
        o1, o2 = opt_cls([p1], **kw), opt_cls([p2], weight_decay=0.05, **kw)
        for g in grads:
            p1.grad = g.copy()
            npreg.l2_penalty([p1], 0.05)
            o1.step()
            p2.grad = g.copy()
            o2.step()
        np.testing.assert_array_equal(p1.data, p2.data)


def test_adamw_differs_from_adam_l2():
    for dtype in ('float64', 'float32'):
        adam_l2 = treg.numpy_l2_run('Adam', dtype, penalty=0.1)
        adamw = treg.numpy_l2_run('AdamW', dtype, weight_decay=0.1)
        assert np.abs(adam_l2 - adamw).max() > 1e-2
        t_adam_l2 = treg.torch_l2_run('Adam', dtype, penalty=0.1)
        t_adamw = treg.torch_l2_run('AdamW', dtype, weight_decay=0.1)
        assert np.abs(t_adam_l2 - t_adamw).max() > 1e-2
        np.testing.assert_allclose(t_adamw, treg.numpy_l2_run('AdamW', dtype, weight_decay=0.1),
                                   rtol=1e-4 if dtype == 'float32' else 1e-10)


@pytest.mark.parametrize('fn', [npreg.l1_penalty, npreg.l2_penalty])
def test_numpy_penalty_bad_inputs(fn):
    w = Parameter(np.ones(3))
    with pytest.raises(ValueError, match='weight'):
        fn([w], -0.1)
    with pytest.raises(TypeError, match='weight'):
        fn([w], '0.1')
    with pytest.raises(ValueError, match='weight'):
        fn([w], float('nan'))
    with pytest.raises(TypeError, match=r'parameters\[0\]'):
        fn([np.ones(3)], 0.1)
    assert w.grad is None   # nothing accumulated on a failed call


@pytest.mark.parametrize('fn', [treg.l1_penalty, treg.l2_penalty])
def test_torch_penalty_bad_inputs(fn):
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match='weight'):
        fn([w], -0.1)
    with pytest.raises(TypeError, match=r'parameters\[0\]'):
        fn([np.ones(3)], 0.1)
    with pytest.raises(TypeError, match=r'parameters\[0\]'):
        fn([torch.arange(3)], 0.1)
    with pytest.raises(ValueError, match='parameters'):
        fn([], 0.1)


@pytest.mark.parametrize('fn', [npreg.l1_penalty, npreg.l2_penalty, treg.l1_penalty, treg.l2_penalty])
def test_penalty_parameters_must_be_iterable(fn):
    with pytest.raises(TypeError, match='parameters: expected an iterable'):
        fn(3, 0.1)
    with pytest.raises(TypeError, match=r'parameters\[0\]'):
        fn('w', 0.1)


def test_a_single_parameter_is_accepted_by_both_backends():
    w = Parameter(np.array([1.0, -2.0]))
    assert npreg.l1_penalty(w, 0.5) == 1.5
    assert float(treg.l1_penalty(torch.tensor([1.0, -2.0]), 0.5)) == 1.5


def test_penalty_zero_weight_is_zero():
    w = Parameter(np.ones(3))
    assert npreg.l2_penalty([w], 0.0) == 0.0
    np.testing.assert_array_equal(w.grad, np.zeros(3))
    assert float(treg.l1_penalty([torch.ones(3)], 0)) == 0.0


def test_registered_concepts_pass():
    for check in (treg.check_dropout, treg.check_l1_penalty, treg.check_l2_weight_decay):
        for dtype in ('float64', 'float32'):
            results = check(dtype)
            assert results and all(c.ok for c in results), [c for c in results if not c.ok]


def test_numpy_penalty_empty_parameters():
    with pytest.raises(ValueError, match='parameters'):
        npreg.l2_penalty([], 0.1)


def test_p_one_matches_torch_on_nan():
    x = np.array([np.nan, 1.0, -np.inf])
    out = npreg.Dropout(1.0)(x)
    ref = torch.nn.Dropout(1.0)(torch.as_tensor(x)).numpy()
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(treg.Dropout(1.0)(torch.as_tensor(x)).numpy(), ref)


def test_l1_concept_is_registered_with_its_lesson_and_implementations():
    from dlcourse.crosscheck import concepts
    l1, = [c for c in concepts() if c.name == 'L1 penalty']
    assert (l1.lesson, l1.numpy, l1.torch, l1.builtin) == (
        '9b', 'dlcourse.numpy.regularization.l1_penalty', 'dlcourse.torch.regularization.l1_penalty', '')


def test_l1_check_catches_a_dropped_parameter_and_a_wrong_gradient(monkeypatch):
    monkeypatch.setattr(treg, 'l1_penalty', lambda params, weight: weight * params[0].abs().sum())
    failed = [c.comparison for c in treg.check_l1_penalty('float64') if not c.ok]
    assert failed and all('torch' in f for f in failed) and any('missing' in f for f in failed)
    monkeypatch.undo()
    true_l1 = npreg.l1_penalty
    def doubled(params, weight):
        params = list(params)
        value = true_l1(params, weight)
        for p in params: p.grad = 2 * p.grad
        return value
    monkeypatch.setattr(npreg, 'l1_penalty', doubled)
    failed = [c.comparison for c in treg.check_l1_penalty('float64') if not c.ok]
    assert any('numpy gradcheck' in f for f in failed) and any('numpy vs' in f for f in failed)


@pytest.mark.parametrize('call, message', [
    (lambda: treg.numpy_l2_run('Nadam', 'float64'), "optimizer: expected one of 'SGD'"),
    (lambda: treg.torch_l2_run('SGD', 'float16'), 'dtype'),
    (lambda: treg.numpy_l2_run('SGD', 'float64', steps=0), 'steps'),
    (lambda: treg.torch_l2_run('SGD', 'float64', device='bogus'), 'device'),
    (lambda: treg.check_l2_weight_decay('float64', lam=0.0), 'lam'),
    (lambda: treg.check_dropout(None), 'dtype'),
    (lambda: treg.check_l1_penalty('float64', device='bogus'), 'device'),
    (lambda: treg.digits_small_experiment(seeds=()), 'seeds: expected at least one value'),
    (lambda: treg.digits_small_experiment(seeds=(0, -1)), r'seeds\[1\]'),
    (lambda: treg.digits_small_experiment(dropout=1.5), 'dropout'),
    (lambda: treg.digits_small_experiment(hidden=0), 'hidden'),
])
def test_experiment_and_check_arguments_are_checked_first(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


# ---- defaults, eval mode, non-finite values ---------------------------------------------------------------

def test_dropout_defaults_like_torch_and_follow_manual_seed():
    from dlcourse.core import manual_seed
    drop = npreg.Dropout()
    assert drop.p == torch.nn.Dropout().p == 0.5 and drop.extra_repr() == 'p=0.5, inplace=False'
    x = np.ones((6, 7))
    manual_seed(3); a = drop(x)                          # no generator: the one manual_seed sets, at call time
    manual_seed(3); b = drop(x)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, 2.0 * (np.random.default_rng(3).random((6, 7)) >= 0.5))


def test_fixed_mask_dropout_in_eval_is_the_identity_both_ways():
    mask = np.array([[True, False, True], [False, True, True]])
    drop = npreg.FixedMaskDropout(mask, 0.5).eval()
    x, g = np.arange(6.0).reshape(2, 3), np.full((2, 3), 3.0)
    out = drop(x)
    np.testing.assert_array_equal(out, x)
    assert out is not x
    np.testing.assert_array_equal(drop.backward(g), g)
    np.testing.assert_array_equal(drop(np.array([[np.nan, np.inf, 1.0]] * 2)), np.array([[np.nan, np.inf, 1.0]] * 2))
    with pytest.raises(TypeError, match='^input: expected a NumPy array, got'): drop([[1.0, 2.0, 3.0]] * 2)
    with pytest.raises(TypeError, match='^input: expected a NumPy array, got'): drop(torch.ones(2, 3))
    drop.train()
    np.testing.assert_array_equal(drop(x), x * mask * 2.0)
    np.testing.assert_array_equal(drop.backward(g), g * mask * 2.0)


@pytest.mark.filterwarnings('ignore:invalid value encountered in multiply:RuntimeWarning')   # -inf * 0 (NumPy warns)
def test_nan_and_inf_pass_through_a_given_mask_like_torch():
    x = np.array([np.nan, np.inf, -np.inf, 2.0])
    mask = np.array([True, True, False, True])
    expected = torch.nn.functional.dropout(torch.as_tensor(x), 0.5)      # only to confirm torch lets them through
    assert torch.isnan(expected).sum() >= 1
    out = npreg.dropout_with_mask(x, mask, 0.5)
    np.testing.assert_array_equal(out, [np.nan, np.inf, np.nan, 4.0])    # -inf * 0 is NaN, as in torch
    np.testing.assert_array_equal(out, treg.dropout_with_mask(torch.as_tensor(x), torch.as_tensor(mask), 0.5).numpy())
    np.testing.assert_array_equal(npreg.FixedMaskDropout(mask, 0.5)(x), out)


def test_p_one_zeroes_without_warnings():
    import warnings
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = npreg.Dropout(1.0)(x)
        np.testing.assert_array_equal(npreg.dropout_with_mask(x, np.ones(4, bool), 1.0), out)
    np.testing.assert_array_equal(out, torch.nn.Dropout(1.0)(torch.as_tensor(x)).numpy())


def test_check_mask_compares_shapes_with_any_numpy_input():
    mask = np.array([1, 0, 1])
    assert npreg.check_mask(mask, np.arange(3)) is mask                  # only the shape of input matters
    assert npreg.check_mask(mask, np.array([np.nan, 1.0, np.inf])) is mask
    with pytest.raises(TypeError, match='^input: expected a NumPy array, got'): npreg.check_mask(mask, torch.ones(3))
    with pytest.raises(TypeError, match=r'^shape\[0\]: expected an integer'): npreg.Dropout(0.5).draw_mask((2.0, 3))


def test_penalties_of_diverged_weights_are_inf_or_nan_not_errors():
    for data, l1, l2 in (([np.inf, 1.0], np.inf, np.inf), ([np.nan, 1.0], np.nan, np.nan)):
        for fn, expected in ((npreg.l1_penalty, l1), (npreg.l2_penalty, l2)):
            w = Parameter(np.ones(2)); w.data[:] = data          # a weight that training drove to inf or NaN
            value = fn([w], 0.1)
            ref = float(treg.l1_penalty([torch.tensor(data)], 0.1) if fn is npreg.l1_penalty
                        else treg.l2_penalty([torch.tensor(data)], 0.1))
            np.testing.assert_array_equal(value, expected)
            np.testing.assert_array_equal(ref, expected)


def test_penalties_of_float32_weights_are_summed_in_float64():
    "2**24 + 1 and 4097**2 are not float32 numbers; the penalty is still exact."
    w = Parameter(np.array([2.0 ** 24] + [1.0] * 999, dtype=np.float32))
    assert npreg.l1_penalty([w], 1.0) == 2 ** 24 + 999
    assert npreg.l2_penalty([Parameter(np.array([4097.0], dtype=np.float32))], 1.0) == 4097 ** 2 / 2
