"""Lesson 4b: hand-written autograd.Functions: gradcheck, agreement with autograd, bad input, the digits step three ways."""
import numpy as np
import pytest
import torch
from torch import nn
import torch.nn.functional as F

from dlcourse import numpy as dnp
from dlcourse.crosscheck import concepts, run_checks
from dlcourse.data import load_digits
from dlcourse.numpy.losses import CrossEntropyLoss
from dlcourse.torch.functions import (REDUCTIONS, ManualCrossEntropyLoss, ManualLinear, ManualMLP, ManualMSELoss,
                                      ManualReLU, ReLUFunction,
                                      analytical_jacobians, autograd_nodes, cross_entropy, draw_autograd_graph,
                                      gradcheck_cases, gradcheck_comparison, linear, mse_loss, numerical_jacobians, relu)
from dlcourse.torch.nn import Linear

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA GPU')
f64 = dict(dtype=torch.float64)

def leaf(*shape, seed=0, scale=1.0):
    return (scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), **f64)).requires_grad_()

# ---------------------------------------------------------------- gradcheck on every Function

CASES = list(gradcheck_cases(np.random.default_rng(0)))

@pytest.mark.parametrize('label,fn,inputs', CASES, ids=[c[0] for c in CASES])
def test_gradcheck(label, fn, inputs):
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
    c = gradcheck_comparison('test', label, fn, inputs)
    assert c.ok and c.max_abs_diff < 1e-8

def test_gradcheck_on_extreme_logits():
    logits, target = leaf(5, 4, scale=300.0), torch.tensor([0, 1, 2, 3, 0])
    assert torch.isfinite(cross_entropy(logits, target))
    assert torch.autograd.gradcheck(lambda x: cross_entropy(x, target), (logits,), eps=1e-6, atol=1e-5, rtol=1e-3)

def test_gradcheck_comparison_catches_a_bug():
    class Wrong(ReLUFunction):
        @staticmethod
        def backward(ctx, grad_output): return 2 * ReLUFunction.backward(ctx, grad_output)
    c = gradcheck_comparison('bug', 'relu x2', Wrong.apply, (leaf(3, 4) + 0.0,))
    assert not c.ok

def test_jacobians_have_the_documented_shape():
    x, w = leaf(2, 3), leaf(4, 3, seed=1)
    num = numerical_jacobians(linear, (x, w))
    ana = analytical_jacobians(linear, (x, w))
    assert [j.shape for j in num] == [j.shape for j in ana] == [(8, 6), (8, 12)]
    for a, n in zip(ana, num): torch.testing.assert_close(a, n, rtol=1e-7, atol=1e-9)

def test_double_backward_works():
    x, w, b = leaf(3, 4), leaf(2, 4, seed=1), leaf(2, seed=2)
    assert torch.autograd.gradgradcheck(linear, (x, w, b))

# ---------------------------------------------------------------- against PyTorch's built-ins

@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize('shape', [(5,), (4, 5), (2, 3, 5)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_matches_builtin(dtype, tol, shape, bias):
    g = torch.Generator().manual_seed(0)
    x0, w0, b0 = (torch.randn(*s, generator=g, dtype=dtype) for s in (shape, (3, 5), (3,)))
    grads = []
    for fn in (linear, F.linear):
        x, w, b = (t.clone().requires_grad_() for t in (x0, w0, b0))
        out = fn(x, w, b if bias else None)
        out.backward(torch.ones_like(out) * 0.7)
        grads.append((out, x.grad, w.grad, b.grad))
    for ours, theirs in zip(*grads):
        if theirs is None: assert ours is None; continue
        torch.testing.assert_close(ours, theirs, rtol=tol, atol=tol)

def test_linear_computes_only_needed_gradients():
    x, w = torch.randn(4, 5, **f64), leaf(3, 5)
    linear(x, w).sum().backward()
    assert x.grad is None and w.grad is not None

def test_relu_matches_builtin_including_zero():
    x0 = torch.tensor([-1.0, 0.0, 2.0, -0.0, 3.5], **f64)
    x1, x2 = x0.clone().requires_grad_(), x0.clone().requires_grad_()
    relu(x1).backward(torch.arange(5.0, **f64)); torch.relu(x2).backward(torch.arange(5.0, **f64))
    torch.testing.assert_close(x1.grad, x2.grad, rtol=0, atol=0)
    assert relu(torch.tensor([float('-inf'), float('inf')])).tolist() == [0.0, float('inf')]

@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_cross_entropy_matches_builtin(reduction):
    target = torch.tensor([2, 0, 1, 1, 3, 0])
    x1, x2 = leaf(6, 4, scale=5.0), leaf(6, 4, scale=5.0)
    out1, out2 = cross_entropy(x1, target, reduction), F.cross_entropy(x2, target, reduction=reduction)
    torch.testing.assert_close(out1, out2, rtol=1e-13, atol=1e-13)
    g = torch.rand(out1.shape, **f64)
    out1.backward(g); out2.backward(g)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-13, atol=1e-15)

@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_mse_matches_builtin_including_target_gradient(reduction):
    a1, t1 = leaf(3, 4), leaf(3, 4, seed=1)
    a2, t2 = leaf(3, 4), leaf(3, 4, seed=1)
    out1, out2 = mse_loss(a1, t1, reduction), F.mse_loss(a2, t2, reduction=reduction)
    torch.testing.assert_close(out1, out2, rtol=1e-14, atol=1e-14)
    g = torch.rand(out1.shape, **f64)
    out1.backward(g); out2.backward(g)
    torch.testing.assert_close(a1.grad, a2.grad, rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(t1.grad, t2.grad, rtol=1e-14, atol=1e-15)

def test_mse_target_without_grad():
    a, t = leaf(3), torch.zeros(3, **f64)
    mse_loss(a, t).backward()
    assert t.grad is None and a.grad is not None

# ---------------------------------------------------------------- bad input

W = torch.zeros(3, 5, **f64)

@pytest.mark.parametrize('call,error,message', [
    (lambda: linear(torch.zeros(4, 6, **f64), W), ValueError, 'input: expected last dimension 5'),
    (lambda: linear(torch.zeros(4, 5), W), TypeError, 'input: expected dtype float64 (the dtype of weight)'),
    (lambda: linear(torch.zeros(4, 5, dtype=torch.long), W), TypeError, 'input: expected a floating-point'),
    (lambda: linear(torch.tensor(1.0, **f64), W), ValueError, 'input: expected last dimension 5'),
    (lambda: linear(torch.zeros(4, 5, **f64), W[0]), ValueError, 'weight: expected a 2-D tensor'),
    (lambda: linear(torch.zeros(4, 5, **f64), W, torch.zeros(4, **f64)), ValueError, 'bias: expected shape (3,)'),
    (lambda: linear(torch.zeros(4, 5, **f64), W, torch.zeros(3)), TypeError, 'bias: expected dtype float64'),
    (lambda: linear(np.zeros((4, 5)), W), TypeError, 'input: expected a torch tensor'),
    (lambda: linear(torch.zeros(4, 5, **f64), np.zeros((3, 5))), TypeError, 'weight: expected a torch tensor'),
    (lambda: relu(np.zeros(3)), TypeError, 'input: expected a torch tensor'),
    (lambda: relu(torch.arange(3)), TypeError, 'floating-point'),
    (lambda: cross_entropy(torch.zeros(4, 3), torch.tensor([0, 1, 2, 3])), ValueError, 'class indices must be in [0, 3)'),
    (lambda: cross_entropy(torch.zeros(4, 3), torch.tensor([0, -1, 2, 0])), ValueError, 'class indices must be in [0, 3)'),
    (lambda: cross_entropy(torch.zeros(4, 3), torch.zeros(4)), TypeError, 'target: expected an integer dtype'),
    (lambda: cross_entropy(torch.zeros(4, 3), np.zeros(4, dtype=int)), TypeError, 'target: expected a torch tensor'),
    (lambda: cross_entropy(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long)), ValueError, 'target: expected shape (4,)'),
    (lambda: cross_entropy(torch.zeros(3), torch.zeros(1, dtype=torch.long)), ValueError, 'input: expected logits of shape (N, C)'),
    (lambda: cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)), ValueError, 'input: expected logits'),
    (lambda: cross_entropy(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), 'avg'), ValueError, 'reduction: expected one of'),
    (lambda: mse_loss(torch.zeros(4, 1), torch.zeros(4)), ValueError, 'target: expected the shape of input (4, 1)'),
    (lambda: mse_loss(torch.zeros(4), torch.zeros(4, **f64)), TypeError, 'target: expected dtype float32'),
    (lambda: mse_loss(torch.zeros(4), torch.zeros(4, dtype=torch.long)), TypeError, 'target: expected a floating-point'),
    (lambda: mse_loss(torch.zeros(4), torch.zeros(4), reduction=None), ValueError, 'reduction'),
    (lambda: ManualCrossEntropyLoss('avg'), ValueError, 'reduction'),
    (lambda: ManualMSELoss(reduction='all'), ValueError, 'reduction'),
    (lambda: ManualMLP(64, []), ValueError, 'hidden_channels'),
    (lambda: ManualLinear(0, 3), ValueError, 'in_features'),
    (lambda: autograd_nodes(torch.zeros(3)), ValueError, 'has no grad_fn'),
    (lambda: autograd_nodes(np.zeros(3)), TypeError, 'output: expected a torch tensor'),
])
def test_bad_input(call, error, message):
    with pytest.raises(error) as e: call()
    assert message in str(e.value)

def test_relu_keeps_nan_in_forward_and_backward_like_torch():
    z = torch.tensor([float('nan'), -1.0, 0.0, 2.0, -0.0], **f64, requires_grad=True)
    ref = z.detach().clone().requires_grad_()
    for grad in (torch.ones(5, **f64), torch.full((5,), float('nan'), **f64)):
        z.grad = ref.grad = None
        out, want = relu(z), torch.relu(ref)
        out.backward(grad); want.backward(grad)
        torch.testing.assert_close(out, want, equal_nan=True, rtol=0, atol=0)
        torch.testing.assert_close(z.grad, ref.grad, equal_nan=True, rtol=0, atol=0)
    assert torch.isnan(relu(z)[0]) and z.grad[1] == 0          # NaN kept; a NaN gradient does not leak where z <= 0

def test_a_nan_input_gives_a_nan_loss_through_the_manual_mlp():
    model, x = ManualMLP(3, [4, 2], dtype=torch.float64), torch.ones(2, 3, **f64)
    x[0, 0] = float('nan')
    loss = cross_entropy(model(x), torch.tensor([0, 1]))
    assert torch.isnan(loss)

def test_jacobian_helpers_check_their_arguments():
    x = leaf(2, 3)
    with pytest.raises(TypeError, match='fn: expected a function'): numerical_jacobians(3, (x,))
    with pytest.raises(TypeError, match='inputs: expected a tuple'): analytical_jacobians(relu, x)
    with pytest.raises(ValueError, match='inputs: expected at least one tensor that requires grad'):
        numerical_jacobians(relu, (x.detach(),))
    with pytest.raises(ValueError, match='h: expected a value > 0'): numerical_jacobians(relu, (x,), h=0.0)
    with pytest.raises(TypeError, match='fn: expected a function returning a tensor'): analytical_jacobians(lambda t: 1.0, (x,))
    with pytest.raises(TypeError, match='inputs: gradcheck needs float64'):
        gradcheck_comparison('c', 'l', relu, (torch.ones(3, requires_grad=True),))
    with pytest.raises(TypeError, match='label: expected a str'): gradcheck_comparison('c', 3, relu, (x,))

def test_gradcheck_cases_check_their_arguments_before_drawing_anything():
    assert isinstance(gradcheck_cases(0), list)                                  # a seed works like a Generator
    with pytest.raises(TypeError, match='rng'): gradcheck_cases('x')
    with pytest.raises(ValueError, match='device'): gradcheck_cases(np.random.default_rng(0), 'bogus')

def test_draw_autograd_graph_checks_its_arguments():
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    loss = cross_entropy(ManualMLP(3, [4, 2], dtype=torch.float64)(torch.ones(2, 3, **f64)), torch.tensor([0, 1]))
    with pytest.raises(TypeError, match='params: expected a dict of names to tensors'): draw_autograd_graph(loss, {'w': 3})
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): draw_autograd_graph(loss, ax=object())
    with pytest.raises(ValueError, match='fontsize'): draw_autograd_graph(loss, fontsize=0)
    plt.close('all')

def test_nan_passes_through_like_the_builtins():
    x = torch.tensor([[float('nan'), 1.0]], **f64)
    assert torch.isnan(linear(x, torch.ones(1, 2, **f64))).all()
    assert torch.isnan(cross_entropy(x, torch.tensor([1]))).all()

@CUDA
def test_functions_on_gpu_match_cpu():
    for label, fn, inputs in gradcheck_cases(np.random.default_rng(0), 'cuda'):
        cpu = tuple(x.detach().cpu().requires_grad_(x.requires_grad) for x in inputs)
        out_gpu, out_cpu = fn(*inputs), fn(*cpu)
        torch.testing.assert_close(out_gpu.cpu(), out_cpu, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match='is on'):
        linear(torch.zeros(2, 5, device='cuda', **f64), W)

# ---------------------------------------------------------------- modules and training

def test_modules_mirror_pytorch_names():
    ours, builtin = ManualMLP(6, [8, 3]), nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    assert list(ours.state_dict()) == list(builtin.state_dict())
    assert [type(m) for m in ours] == [ManualLinear, ManualReLU, ManualLinear]
    assert isinstance(ours[0], Linear)
    assert repr(ManualCrossEntropyLoss('sum')) == "ManualCrossEntropyLoss(reduction='sum')"
    out = ours(torch.randn(2, 6))
    assert out.grad_fn is not None and type(out.grad_fn).__name__ == 'LinearFunctionBackward'

def test_autograd_graph_of_the_manual_mlp():
    model = ManualMLP(4, [5, 3], dtype=torch.float64)
    loss = cross_entropy(model(torch.randn(2, 4, **f64)), torch.tensor([0, 2]))
    names = [type(n).__name__ for n in autograd_nodes(loss)]
    assert names[-1] == 'CrossEntropyFunctionBackward'
    assert names.count('LinearFunctionBackward') == 2 and names.count('ReLUFunctionBackward') == 1
    assert names.count('AccumulateGrad') == 4
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    ax = draw_autograd_graph(loss, dict(model.named_parameters()))
    labels = [t.get_text() for t in ax.texts if t.get_text()]
    assert '0.weight\n(5, 4)' in labels and 'CrossEntropyFunction\nBackward' in labels
    plt.close('all')

def test_one_digits_step_three_ways():
    "NumPy hand backward == torch Functions hand backward == torch autograd, in float64."
    digits = load_digits(dtype='float64')
    X, y = digits.X[:64] / 16, digits.y[:64]
    np_model = dnp.MLP(64, [32, 10], dtype='float64', generator=np.random.default_rng(0))
    state = {k: torch.from_numpy(v) for k, v in np_model.state_dict().items()}
    manual, builtin = ManualMLP(64, [32, 10], **f64), nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).double()
    manual.load_state_dict(state); builtin.load_state_dict(state)
    loss_fn = CrossEntropyLoss()
    np_loss = loss_fn(np_model(X), y)
    np_model.backward(loss_fn.backward())
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    l1, l2 = cross_entropy(manual(Xt), yt), F.cross_entropy(builtin(Xt), yt)
    l1.backward(); l2.backward()
    assert abs(float(np_loss) - l2.item()) < 1e-14 and abs(l1.item() - l2.item()) < 1e-14
    ref = dict(builtin.named_parameters())
    for name, p in manual.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ref[name].grad.numpy(), rtol=0, atol=1e-15)
    for name, p in np_model.named_parameters():
        np.testing.assert_allclose(p.grad, ref[name].grad.numpy(), rtol=0, atol=1e-15)

def test_manual_mlp_trains_like_autograd():
    torch.manual_seed(0)
    digits = load_digits(dtype='float64')
    X, y = torch.from_numpy(digits.X[:256] / 16), torch.from_numpy(digits.y[:256])
    ours, ref = ManualMLP(64, [16, 10], **f64), nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)).double()
    ref.load_state_dict(ours.state_dict())
    losses = {0: [], 1: []}
    for i, (model, loss_fn) in enumerate([(ours, cross_entropy), (ref, F.cross_entropy)]):
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(20):
            loss = loss_fn(model(X), y); opt.zero_grad(); loss.backward(); opt.step()
            losses[i].append(loss.item())
    assert losses[0][-1] < 0.5 * losses[0][0]
    np.testing.assert_allclose(losses[0], losses[1], rtol=0, atol=1e-12)

# ---------------------------------------------------------------- the registry

def test_lesson_4_concepts_are_registered_under_the_page_that_shows_them():
    lessons = {c.name: c.lesson for c in concepts() if c.lesson in ('4a', '4b')}
    assert lessons == {'LinearFunction': '4b', 'ReLUFunction': '4b', 'ManualMLP': '4b', 'CrossEntropyFunction': '4b',
                       'MSEFunction': '4b', 'autograd.gradcheck': '4b', 'engine.Value': '4a'}
    names = {c.name: (c.numpy, c.torch, c.builtin) for c in concepts()}
    assert names['ReLUFunction'] == ('dlcourse.numpy.ReLU', 'dlcourse.torch.functions.ManualReLU', 'torch.nn.ReLU')
    assert names['autograd.gradcheck'][2] == 'torch.autograd.gradcheck'

@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_custom_concepts_pass(dtype):
    results = run_checks(dtypes=(dtype,), names=['autograd.gradcheck', 'engine.Value'])
    assert len(results) >= 20 and all(r.ok for r in results)
    assert all(r.dtype == dtype for r in results)
    if dtype == 'float64':
        assert all(r.tolerance == 1e-6 for r in results if r.comparison.startswith('gradcheck'))
