"""Lesson 1: the NumPy Module machinery and layers, and their PyTorch twins, beyond the registered cross-checks."""
import numpy as np
import pytest
import torch

from dlcourse import numpy as dnp
from dlcourse.core import to_numpy
from dlcourse.numpy.nn import Module, Parameter, RemovableHandle
from dlcourse.torch import nn as tnn


def test_parameter_names_and_state_dict_match_pytorch():
    np_model = dnp.MLP(4, [5, 3])
    builtin = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    assert list(np_model.state_dict()) == list(builtin.state_dict())
    assert list(tnn.MLP(4, [5, 3]).state_dict()) == list(builtin.state_dict())
    builtin.load_state_dict({k: torch.from_numpy(v) for k, v in np_model.state_dict().items()})
    np_model.load_state_dict(builtin.state_dict())


def test_gradients_accumulate_and_zero_grad_clears_them():
    layer = dnp.Linear(3, 2, dtype='float64')
    x = np.ones((4, 3))
    layer(x); layer.backward(np.ones((4, 2)))
    first = layer.weight.grad.copy()
    layer(x); layer.backward(np.ones((4, 2)))
    np.testing.assert_allclose(layer.weight.grad, 2 * first)
    layer.zero_grad(set_to_none=False)
    assert not layer.weight.grad.any()
    layer.zero_grad()
    assert layer.weight.grad is None


def test_default_init_matches_pytorch_bounds():
    dnp.manual_seed(0)
    w = dnp.Linear(100, 400).weight.data
    assert np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.099
    assert abs(w.std() - 0.1 / np.sqrt(3)) < 2e-3


def test_train_eval_and_dtype_conversion():
    model = dnp.MLP(3, [4, 2])
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.to('float64')
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model(np.ones((1, 3))).dtype == np.float64


def test_repr_lists_layers_like_pytorch():
    text = repr(dnp.MLP(3, [4, 2]))
    assert '(0): Linear(in_features=3, out_features=4, bias=True)' in text and '(1): ReLU()' in text


def test_buffers_are_saved_and_cast():
    class WithBuffer(Module):
        def __init__(self):
            super().__init__()
            self.register_buffer('running_mean', np.zeros(3, dtype=np.float32))
    m = WithBuffer()
    assert list(m.state_dict()) == ['running_mean']
    m.load_state_dict({'running_mean': np.ones(3)})
    assert m.running_mean.tolist() == [1, 1, 1]
    m.to('float64')
    assert m.running_mean.dtype == np.float64


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: dnp.Linear(0, 3), ValueError, 'in_features'),
    (lambda: dnp.Linear(3, 2.5), TypeError, 'out_features'),
    (lambda: dnp.Linear(3, 2)(np.ones((2, 4), dtype=np.float32)), ValueError, 'expected last dimension 3'),
    (lambda: dnp.Linear(3, 2)(np.ones((2, 3))), TypeError, "expected dtype float32 (the layer's dtype)"),
    (lambda: dnp.Linear(3, 2)(np.ones((2, 3), dtype=np.int32)), TypeError, 'floating-point'),
    (lambda: dnp.Linear(3, 2)(np.float32(1.0)), TypeError, 'input'),
    (lambda: dnp.Linear(3, 2).backward(np.ones((2, 2))), RuntimeError, 'before forward'),
    (lambda: dnp.ReLU().backward(np.ones(2)), RuntimeError, 'before forward'),
    (lambda: dnp.ReLU()(np.arange(3)), TypeError, 'floating-point'),
    (lambda: dnp.MLP(3, []), ValueError, 'hidden_channels'),
    (lambda: dnp.MLP(3, [2], activation_layer='relu'), TypeError, 'activation_layer'),
    (lambda: dnp.Sequential(object()), TypeError, 'expected a dlcourse.numpy Module'),
    (lambda: Parameter([1.0]), TypeError, 'data'),
    (lambda: dnp.Linear(2, 2, dtype='int8'), ValueError, 'dtype'),
    (lambda: dnp.Linear(2, 2).load_state_dict({'weight': np.zeros((2, 2))}), ValueError, 'state_dict: missing keys'),
    (lambda: dnp.Linear(2, 2).load_state_dict({'weight': np.zeros((3, 2)), 'bias': np.zeros(2)}), ValueError, "state_dict['weight']"),
    (lambda: tnn.Linear(0, 2), ValueError, 'in_features'),
    (lambda: tnn.Linear(3, 2)(torch.ones(2, 4)), ValueError, 'expected last dimension 3'),
    (lambda: tnn.ReLU()(torch.arange(3)), TypeError, 'floating-point'),
    (lambda: tnn.MLP(3, [], ), ValueError, 'hidden_channels'),
    (lambda: tnn.Sequential(dnp.ReLU()), TypeError, 'expected a torch.nn.Module'),
])
def test_bad_input_is_a_clear_error(call, error, fragment):
    with pytest.raises(error) as info: call()
    assert fragment in str(info.value)


def test_linear_backward_checks_grad_output_shape():
    layer = dnp.Linear(3, 2)
    layer(np.ones((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match='grad_output: expected shape'):
        layer.backward(np.ones((4, 3), dtype=np.float32))


def test_module_without_super_init_is_reported():
    class Broken(Module):
        def __init__(self): self.weight = Parameter(np.zeros(2))
    with pytest.raises(AttributeError, match='super'):
        Broken()


# --- forward hooks, as torch.nn.Module.register_forward_hook ------------------------------------------------------------

def test_forward_hook_is_called_once_per_call_with_module_args_and_output():
    layer, seen = dnp.ReLU(), []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append((m, args, out.copy())))
    x = np.array([-1.0, 2.0])
    out = layer(x)
    assert len(seen) == 1 and seen[0][0] is layer and seen[0][1][0] is x and len(seen[0][1]) == 1
    np.testing.assert_array_equal(seen[0][2], out)
    layer.forward(x)                                        # only calls through __call__ run hooks, as in PyTorch
    dnp.ReLU()(x)                                           # hooks belong to one instance, not to the class
    assert len(seen) == 1
    handle.remove(); handle.remove()                       # removing twice is harmless
    layer(x)
    assert len(seen) == 1 and not layer._forward_hooks
    np.testing.assert_array_equal(layer.backward(np.ones(2)), [0.0, 1.0])   # backward untouched


def test_forward_hooks_run_in_order_and_may_replace_the_output():
    for make in (dnp.ReLU, torch.nn.ReLU):                  # the same hooks give the same results in PyTorch
        layer, order = make(), []
        layer.register_forward_hook(lambda m, args, out: order.append('first'))           # None keeps the output
        doubled = layer.register_forward_hook(lambda m, args, out: 2 * out)
        layer.register_forward_hook(lambda m, args, out: order.append(float(out.sum())))  # sees the replacement
        x = np.array([-1.0, 3.0])
        out = layer(x if make is dnp.ReLU else torch.from_numpy(x))
        assert float(out.sum()) == 6.0 and order == ['first', 6.0]
        doubled.remove()
        assert float(layer(x if make is dnp.ReLU else torch.from_numpy(x)).sum()) == 3.0


def test_forward_hooks_inside_sequential_and_with_block():
    np_model = dnp.MLP(4, [5, 3], dtype='float64')
    t_model = tnn.MLP(4, [5, 3], dtype=torch.float64)
    t_model.load_state_dict({k: torch.from_numpy(v) for k, v in np_model.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, 4))
    records = {}
    for name, model, data in (('numpy', np_model, x), ('torch', t_model, torch.from_numpy(x))):
        seen = records[name] = []
        with model[1].register_forward_hook(lambda m, args, out: seen.append(to_numpy(out).copy())):
            model(data)
        model(data)                                         # the with block removed the hook
    assert len(records['numpy']) == len(records['torch']) == 1
    np.testing.assert_allclose(records['numpy'][0], records['torch'][0], rtol=1e-12)
    # a replacement inside a Sequential reaches the next layer and the backward pass still runs
    handle = np_model[1].register_forward_hook(lambda m, args, out: np.zeros_like(out))
    np.testing.assert_array_equal(np_model(x), np.broadcast_to(np_model[2].bias.data, (2, 3)))
    handle.remove()
    assert np_model.backward(np.ones((2, 3))).shape == (2, 4)


def test_forward_hook_bad_input_and_handle_ids():
    layer = dnp.ReLU()
    with pytest.raises(TypeError, match='hook: expected a function hook\\(module, args, output\\), got'):
        layer.register_forward_hook('print')
    a, b = (layer.register_forward_hook(lambda m, args, out: None) for _ in range(2))
    assert isinstance(a, RemovableHandle) and b.id > a.id and list(layer._forward_hooks) == [a.id, b.id]


def test_forward_hooks_run_on_numpy_losses():
    from dlcourse.numpy.losses import MSELoss
    seen = []
    loss_fn = MSELoss()
    handle = loss_fn.register_forward_hook(lambda module, args, output: seen.append((len(args), float(output))))
    value = loss_fn(np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32))
    assert seen == [(2, float(value))] and float(value) == 1.0
    handle.remove()
    loss_fn(np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32))
    assert len(seen) == 1


# --- PyTorch habits on the NumPy side: a Parameter is usable as its array, a Module has torch.nn.Module's surface -------

def test_a_parameter_behaves_like_the_array_it_holds_as_torch_parameter_does_like_a_tensor():
    layer = dnp.Linear(3, 2, dtype='float64', generator=0)
    p, data = layer.weight, layer.weight.data
    t = torch.nn.Parameter(torch.from_numpy(data.copy()))
    assert np.asarray(p) is data and np.asarray(p, dtype=np.float32).dtype == np.float32
    assert (p.shape, p.dtype, p.ndim, p.size, len(p)) == (data.shape, data.dtype, 2, 6, 2)
    for ours, theirs in [(p - 1.0, t - 1.0), (2 * p, 2 * t), (p @ np.ones(3), t @ torch.ones(3, dtype=torch.float64)),
                         (np.ones((4, 2)) @ p, torch.ones(4, 2, dtype=torch.float64) @ t), (-p, -t), (p ** 2, t ** 2),
                         (np.exp(p), torch.exp(t)), (p.sum(), t.sum()), (p.T, t.T), (p[0], t[0]), (p[:, 1:], t[:, 1:]),
                         (p > 0, t > 0), (p == data, t == t), (p.reshape(-1), t.reshape(-1))]:
        assert type(ours) in (np.ndarray, np.float64), type(ours)
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-15)     # exp may differ in the last bit
    assert layer.weight.grad is None and p.data is data                       # .data and .grad still work


def test_parameter_in_place_ops_and_item_assignment_change_the_data_and_keep_the_parameter():
    p = dnp.Parameter(np.ones((2, 3)))
    data, q = p.data, p
    p *= 3
    p[0, 0] = 5.0
    p[1] = dnp.Parameter(np.zeros(3))
    assert p is q and p.data is data
    np.testing.assert_array_equal(data, [[5, 3, 3], [0, 0, 0]])


def test_parameters_stay_hashable_by_identity_so_optimizer_state_can_key_on_them():
    a, b = dnp.Parameter(np.ones(2)), dnp.Parameter(np.ones(2))
    state = {a: 'a', b: 'b'}
    assert state[a] == 'a' and state[b] == 'b' and len({a, b, a}) == 2
    sgd = dnp.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = np.ones(2), np.ones(2)
    sgd.step()
    assert set(sgd.state) == {a, b}


@pytest.mark.parametrize('grad, error, fragment', [
    ('x', TypeError, 'grad: expected a NumPy array'),
    ([1.0, 1.0], TypeError, 'grad: expected a NumPy array'),
    (torch.ones(2), TypeError, 'grad: expected a NumPy array'),
    (np.ones(3), ValueError, 'grad: expected shape (2,), got (3,)'),
    (np.ones(2, np.float32), TypeError, 'grad: expected dtype float64'),
    (np.ones(2, int), TypeError, 'grad: expected a floating-point dtype'),
])
def test_accumulate_grad_checks_its_gradient(grad, error, fragment):
    p = dnp.Parameter(np.ones(2))
    with pytest.raises(error) as info: p.accumulate_grad(grad)
    assert fragment in str(info.value) and p.grad is None


def _shared_pair(nn_module):
    "The same structure in either backend: a container whose ReLU appears twice, and a nested Sequential."
    relu = nn_module.ReLU()
    return nn_module.Sequential(nn_module.Linear(3, 4), relu, nn_module.Sequential(nn_module.Linear(4, 4), relu),
                                nn_module.Linear(4, 2), relu)


@pytest.mark.parametrize('remove_duplicate', [True, False])
def test_module_traversal_matches_torch(remove_duplicate):
    ours, theirs = _shared_pair(dnp), _shared_pair(torch.nn)
    names = lambda pairs: [(name, type(m).__name__) for name, m in pairs]
    assert names(ours.named_modules(remove_duplicate=remove_duplicate)) == names(theirs.named_modules(remove_duplicate=remove_duplicate))
    assert names(ours.named_modules(prefix='model')) == names(theirs.named_modules(prefix='model'))
    assert names(ours.named_children()) == names(theirs.named_children())
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    for recurse in (True, False):
        assert [n for n, _ in ours.named_parameters(recurse=recurse)] == [n for n, _ in theirs.named_parameters(recurse=recurse)]
        assert len(list(ours.parameters(recurse=recurse))) == len(list(theirs.parameters(recurse=recurse)))
    assert [n for n, _ in ours[2].named_parameters(prefix='inner')] == [n for n, _ in theirs[2].named_parameters(prefix='inner')]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_apply_visits_children_first_then_the_module_like_torch():
    seen = {'ours': [], 'torch': []}
    _shared_pair(dnp).apply(lambda m: seen['ours'].append(type(m).__name__))
    _shared_pair(torch.nn).apply(lambda m: seen['torch'].append(type(m).__name__))
    assert seen['ours'] == seen['torch']
    model = dnp.MLP(3, [4, 2], dtype='float64')
    def zero_linear(m):
        if isinstance(m, dnp.Linear): m.weight.data[...] = 0
    assert model.apply(zero_linear) is model and all(not layer.weight.data.any() for layer in model if isinstance(layer, dnp.Linear))


def test_to_cpu_float_double_mirror_torch():
    model = dnp.MLP(3, [4, 2])
    model.register_buffer('steps', np.zeros(1, dtype=np.int64))
    for call, dtype in [(lambda m: m.to('cpu'), np.float32), (lambda m: m.to(torch.device('cpu')), np.float32),
                        (lambda m: m.double(), np.float64), (lambda m: m.float(), np.float32),
                        (lambda m: m.to('cpu', 'float64'), np.float64), (lambda m: m.to(dtype=np.float32), np.float32),
                        (lambda m: m.to(torch.float64), np.float64), (lambda m: m.to(device='cpu:0', dtype='float32'), np.float32),
                        (lambda m: m.cpu(), np.float32)]:
        assert call(model) is model
        assert {p.dtype for p in model.parameters()} == {np.dtype(dtype)} and model.steps.dtype == np.int64
    assert model(np.ones((2, 3), np.float32)).dtype == np.float32


@pytest.mark.parametrize('call, error, fragment', [
    (lambda m: m.to('cuda'), ValueError, 'device: the NumPy backend computes on the CPU only'),
    (lambda m: m.to('mps'), ValueError, 'device: the NumPy backend computes on the CPU only'),
    (lambda m: m.to(device=3), TypeError, "device: expected 'cpu' or None"),
    (lambda m: m.to('float16'), ValueError, 'dtype: expected one of float32, float64'),
    (lambda m: m.to('bogus'), ValueError, 'dtype'),
    (lambda m: m.to(dtype=3), ValueError, 'dtype'),
    (lambda m: m.train('no'), TypeError, 'mode: expected True or False'),
    (lambda m: m.train(0), TypeError, 'mode: expected True or False'),
    (lambda m: m.zero_grad(set_to_none='no'), TypeError, 'set_to_none'),
    (lambda m: m.apply('print'), TypeError, 'fn: expected a function'),
    (lambda m: m.load_state_dict('weights.npz'), TypeError, 'state_dict: expected a dict'),
    (lambda m: m.load_state_dict(m.state_dict(), strict='no'), TypeError, 'strict'),
    (lambda m: m.load_state_dict({**m.state_dict(), '0.weight': np.array(['a'] * 12).reshape(4, 3)}), TypeError, "state_dict['0.weight']"),
    (lambda m: m.named_modules(prefix=3), TypeError, 'prefix: expected a string'),
    (lambda m: m.named_modules(memo=[]), TypeError, 'memo: expected a set'),
    (lambda m: m.named_parameters(recurse='no'), TypeError, 'recurse'),
    (lambda m: m.parameters(recurse=None), TypeError, 'recurse'),
    (lambda m: m.named_buffers(remove_duplicate=1), TypeError, 'remove_duplicate'),
    (lambda m: m.register_buffer('', np.zeros(2)), ValueError, 'name: expected a non-empty name'),
    (lambda m: m.register_buffer('a.b', np.zeros(2)), ValueError, "without '.'"),
    (lambda m: m.register_buffer(3, np.zeros(2)), TypeError, 'name: expected a string'),
    (lambda m: m.register_buffer('mean', [0.0, 0.0]), TypeError, 'tensor: expected a NumPy array or None'),
])
def test_module_methods_check_their_arguments_before_doing_anything(call, error, fragment):
    model = dnp.MLP(3, [4, 2])
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(error) as info: call(model)
    assert fragment in str(info.value)
    assert all(np.array_equal(before[k], v) and before[k].dtype == v.dtype for k, v in model.state_dict().items())
    assert all(m.training for m in model.modules())


def test_a_failed_load_state_dict_changes_nothing():
    model = dnp.Linear(3, 2)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"state_dict\['weight'\]: expected shape \(2, 3\)"):
        model.load_state_dict({'bias': np.ones(2), 'weight': np.ones((3, 2))})
    np.testing.assert_array_equal(model.bias.data, before['bias'])


# --- generator= accepts what NumPy accepts; boolean flags are flags --------------------------------------------------------

def test_linear_generator_takes_a_seed_or_a_generator_and_never_ignores_it():
    weights = lambda **kw: dnp.Linear(3, 2, **kw).weight.data
    np.testing.assert_array_equal(weights(generator=42), weights(generator=np.random.default_rng(42)))
    np.testing.assert_array_equal(weights(generator=0), weights(generator=np.random.default_rng(0)))
    dnp.manual_seed(5)
    assert not np.array_equal(weights(generator=0), weights())                   # 0 is a seed, not "no generator"
    with pytest.raises(ValueError, match='generator: expected a value >= 0'): dnp.Linear(3, 2, generator=-1)
    with pytest.raises(TypeError, match='generator: expected an np.random.Generator'): dnp.Linear(3, 2, generator=0.5)


def test_mlp_turns_a_seed_into_one_generator_shared_by_its_layers():
    a, b = dnp.MLP(4, [4, 4, 4], generator=7), dnp.MLP(4, [4, 4, 4], generator=np.random.default_rng(7))
    for x, y in zip(a.parameters(), b.parameters()): np.testing.assert_array_equal(x.data, y.data)
    assert not np.array_equal(a[0].weight.data, a[2].weight.data)              # not the same draws for every layer


@pytest.mark.parametrize('make', [lambda b: dnp.Linear(3, 2, bias=b), lambda b: dnp.MLP(3, [2], bias=b),
                                  lambda b: tnn.Linear(3, 2, bias=b), lambda b: tnn.MLP(3, [2], bias=b)])
@pytest.mark.parametrize('flag', ['no', 0, 1, None, np.array([True])])
def test_bias_must_be_true_or_false(make, flag):
    with pytest.raises(TypeError, match='bias: expected True or False'): make(flag)


def test_numpy_layers_take_device_cpu_only():
    assert dnp.Linear(3, 2, device='cpu').weight.dtype == np.float32
    assert dnp.MLP(3, [2], device=torch.device('cpu'), dtype='float64')[0].weight.dtype == np.float64
    with pytest.raises(ValueError, match='device: the NumPy backend computes on the CPU only'): dnp.Linear(3, 2, device='cuda')


# --- the PyTorch backend checks what it is given ---------------------------------------------------------------------------

@pytest.mark.parametrize('call, error, fragment', [
    (lambda: tnn.Linear(3, 2)(np.ones((2, 3), np.float32)), TypeError, 'input: expected a torch tensor, got ndarray'),
    (lambda: tnn.MLP(3, [4, 2])(np.ones((2, 3), np.float32)), TypeError, 'input: expected a torch tensor, got ndarray'),
    (lambda: tnn.ReLU()(np.ones(3)), TypeError, 'input: expected a torch tensor'),
    (lambda: tnn.Linear(3, 2, dtype=torch.float64)(torch.ones(2, 3)), TypeError,
     "input: expected dtype float64 on cpu (the layer weight's), got Tensor of shape (2, 3) and dtype float32"),
    (lambda: tnn.Linear(3, 2, dtype=torch.int64), ValueError, 'dtype: expected one of float32, float64, got torch.int64'),
    (lambda: tnn.Linear(3, 2, dtype='float16'), ValueError, 'dtype: expected one of float32, float64'),
    (lambda: tnn.Linear(3, 2, device='bogus'), ValueError, "device: expected 'cpu', 'cuda', 'cuda:N' or 'mps', got 'bogus'"),
    (lambda: tnn.MLP(3, [2], device='bogus'), ValueError, 'device'),
    (lambda: tnn.MLP(3, [2], linear_layer='Linear'), TypeError, 'linear_layer: expected a Module class or factory'),
    (lambda: tnn.check_tensor(torch.ones(2), name=3), TypeError, 'name: expected a string'),
    (lambda: tnn.away_from_zero(np.random.default_rng(0), (2, -1)), TypeError, 'shape: expected a tuple of non-negative integers'),
    (lambda: tnn.away_from_zero(np.random.default_rng(0), (2,), gap=0.0), ValueError, 'gap: expected a value > 0'),
    (lambda: tnn.away_from_zero('rng', (2,)), TypeError, 'rng: expected an np.random.Generator'),
])
def test_torch_backend_gives_clear_errors_not_torch_internals(call, error, fragment):
    with pytest.raises(error) as info: call()
    assert fragment in str(info.value)


def test_torch_linear_accepts_what_torch_accepts_and_named_dtypes():
    assert tnn.Linear(3, 2, dtype='float64').weight.dtype == torch.float64
    assert tnn.Linear(3, 2, dtype=np.float64).weight.dtype == torch.float64
    assert tnn.Linear(3, 2, device='cpu', dtype=torch.float32).weight.device == torch.device('cpu')
    assert tnn.Linear(3, 2).weight.dtype == torch.get_default_dtype() == torch.nn.Linear(3, 2).weight.dtype
    assert tnn.MLP(3, [4, 2], dtype='float64')(torch.ones(5, 3, dtype=torch.float64)).shape == (5, 2)


# --- ReLU: NaN propagates as in PyTorch, the slope at exactly 0 is PyTorch's 0 -----------------------------------------

def _relu_value_and_grad(kind: str, x: np.ndarray):
    "ReLU of `x` and the gradient of its sum, from the NumPy module, our PyTorch module, or torch.nn.ReLU."
    if kind == 'numpy':
        relu = dnp.ReLU()
        return relu(x), relu.backward(np.ones_like(x))
    t = torch.tensor(x, requires_grad=True)
    y = (tnn.ReLU() if kind == 'ours' else torch.nn.ReLU())(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize('kind', ['numpy', 'ours'])
def test_relu_keeps_nan_and_its_slope_at_zero_is_torchs(kind):
    x = np.array([np.nan, -np.inf, -2.0, -0.0, 0.0, 1e-300, 3.0, np.inf])
    value, grad = _relu_value_and_grad(kind, x)
    ref_value, ref_grad = _relu_value_and_grad('torch', x)
    np.testing.assert_array_equal(value, ref_value)        # NaN in the same places
    np.testing.assert_array_equal(grad, ref_grad)
    assert np.isnan(value[0]) and grad[3] == grad[4] == 0.0 and ref_grad[4] == 0.0
    np.testing.assert_array_equal(dnp.relu(x), ref_value)
    np.testing.assert_array_equal(tnn.relu(torch.from_numpy(x)).numpy(), ref_value)


# --- signatures: defaults (and argument order) are PyTorch's --------------------------------------------------------------

def signature_mismatches(ours, theirs, ignore: tuple = ('size_average', 'reduce', 'inplace')) -> list[str]:
    "How the parameters `ours` shares with `theirs` differ: their defaults, and their order."
    import inspect
    a = inspect.signature(ours).parameters
    b = {k: v for k, v in inspect.signature(theirs).parameters.items() if k not in ignore}
    shared = [k for k in a if k in b]
    problems = [f"{k}: default {a[k].default!r}, PyTorch's {b[k].default!r}" for k in shared if a[k].default != b[k].default]
    if shared != [k for k in b if k in a]: problems.append(f"order {shared} differs from PyTorch's")
    return problems


@pytest.mark.parametrize('ours, theirs', [
    (dnp.Linear, torch.nn.Linear), (tnn.Linear, torch.nn.Linear), (dnp.ReLU, torch.nn.ReLU), (tnn.ReLU, torch.nn.ReLU),
    (dnp.relu, torch.nn.functional.relu), (tnn.relu, torch.nn.functional.relu),
    (dnp.Sequential.append, torch.nn.Sequential.append), (tnn.Sequential.append, torch.nn.Sequential.append),
    *[(getattr(Module, name), getattr(torch.nn.Module, name))
      for name in ('train', 'zero_grad', 'named_modules', 'modules', 'named_children', 'children', 'named_parameters',
                   'parameters', 'named_buffers', 'buffers', 'load_state_dict', 'register_buffer', 'register_forward_hook',
                   'apply', 'cpu', 'float', 'double', 'state_dict')],
], ids=lambda f: getattr(f, '__qualname__', str(f)))
def test_signature_defaults_are_pytorchs(ours, theirs):
    assert not signature_mismatches(ours, theirs)


def test_module_method_signatures_have_the_names_pytorch_uses():
    import inspect
    for name in ('train', 'zero_grad', 'named_modules', 'named_parameters', 'parameters', 'named_buffers', 'buffers', 'apply'):
        ours = list(inspect.signature(getattr(Module, name)).parameters)
        assert ours == list(inspect.signature(getattr(torch.nn.Module, name)).parameters), name
    assert list(inspect.signature(Module.register_buffer).parameters) == ['self', 'name', 'tensor']
    assert list(inspect.signature(Module.to).parameters) == ['self', 'device', 'dtype']


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_torch_layers_on_gpu_name_a_device_mismatch():
    model = tnn.MLP(3, [4, 2], device='cuda')
    assert model(torch.ones(5, 3, device='cuda')).device.type == 'cuda'
    with pytest.raises(TypeError, match=r"input: expected dtype float32 on cuda:0 \(the layer weight's\), got .* on cpu"):
        model(torch.ones(5, 3))
    x = torch.tensor([float('nan'), -1.0, 0.0, 2.0], device='cuda', requires_grad=True)
    tnn.relu(x).sum().backward()
    assert torch.isnan(tnn.relu(x)[0]) and x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_reprs_are_pytorchs():
    "A module prints as its PyTorch twin does, so a printed model reads the same in both backends."
    from dlcourse.numpy.norm import BatchNorm2d, LayerNorm
    from dlcourse.numpy.regularization import Dropout
    pairs = [(dnp.Linear(3, 2), torch.nn.Linear(3, 2)), (dnp.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False)),
             (dnp.ReLU(), torch.nn.ReLU()), (dnp.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (dnp.GELU('tanh'), torch.nn.GELU('tanh')),
             (dnp.Softmax(dim=1), torch.nn.Softmax(dim=1)), (dnp.BatchNorm1d(4), torch.nn.BatchNorm1d(4)),
             (BatchNorm2d(4, momentum=None, affine=False), torch.nn.BatchNorm2d(4, momentum=None, affine=False)),
             (LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))), (LayerNorm(5, elementwise_affine=False), torch.nn.LayerNorm(5, elementwise_affine=False)),
             (Dropout(0.3), torch.nn.Dropout(0.3)),
             (dnp.Sequential(dnp.Linear(2, 3), dnp.ReLU()), torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))]
    for ours, theirs in pairs: assert repr(ours) == repr(theirs)
    assert repr(dnp.MLP(2, [3, 1])) == repr(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))).replace('Sequential', 'MLP')


def _layers_and_inputs():
    "One instance of every NumPy layer with a hand-written backward, and an input it takes (float64)."
    from dlcourse.numpy.norm import BatchNorm2d, LayerNorm
    from dlcourse.numpy.regularization import Dropout
    from dlcourse.numpy.sharing import TiedLinear
    rng = np.random.default_rng(0)
    x2, x4 = rng.normal(size=(4, 3)), rng.normal(size=(2, 3, 2, 2))
    f64 = dict(dtype='float64')
    encoder = dnp.Linear(3, 5, **f64)
    return [(dnp.Linear(3, 2, **f64), x2), (dnp.ReLU(), x2), (dnp.Sigmoid(), x2), (dnp.Tanh(), x2), (dnp.LeakyReLU(), x2),
            (dnp.GELU(), x2), (dnp.Softmax(dim=1), x2), (dnp.BatchNorm1d(3, **f64), x2), (BatchNorm2d(3, **f64), x4),
            (LayerNorm(3, **f64), x2), (TiedLinear(encoder), rng.normal(size=(4, 5))), (Dropout(0.0), x2),
            (dnp.MLP(3, [4, 2], dtype='float64'), x2)]


@pytest.mark.parametrize('layer, x', _layers_and_inputs(), ids=lambda v: type(v).__name__ if not isinstance(v, np.ndarray) else '')
def test_a_nan_gradient_flows_back_as_in_pytorch(layer, x):
    "backward takes a gradient holding NaN or inf without an error, and passes it on (autograd does the same)."
    out = layer(x)
    grad = np.ones_like(out)
    grad.reshape(-1)[0] = np.nan
    with np.errstate(all='ignore'): grad_in = layer.backward(grad)
    assert np.isnan(grad_in).any()


# --- the array protocol, buffers walked as torch walks them, nested reprs -------------------------------------------------

def test_parameter_array_protocol_copies_only_when_asked_and_honours_dtype():
    "`np.asarray(p)` is `p.data` (float32 too); `np.array(p)` copies; a dtype given to the protocol is the dtype returned."
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    p = dnp.Parameter(data)
    assert np.asarray(p) is data and np.asarray(p, dtype=np.float32) is data     # its own dtype asks for no copy
    for copy in (np.array(p), np.array(p, copy=True), p.__array__(copy=True)):
        assert copy.dtype == np.float32 and not np.shares_memory(copy, data)
        np.testing.assert_array_equal(copy, data)
    for dtype in (np.float64, np.float16):
        for arr in (p.__array__(dtype), p.__array__(dtype, copy=True), np.asarray(p, dtype=dtype)):
            assert arr.dtype == dtype and not np.shares_memory(arr, data)
            np.testing.assert_array_equal(arr, data)


def test_parameter_ufunc_with_two_outputs_returns_both_as_numpy_does():
    p = dnp.Parameter(np.array([3.5, -1.25]))
    frac, whole = dnp.Parameter(np.zeros(2)), np.zeros(2)
    result = np.modf(p, out=(frac, whole))
    ref = np.modf(np.array([3.5, -1.25]), out=(np.zeros(2), np.zeros(2)))
    assert isinstance(result, tuple) and len(result) == 2 and result[0] is frac and result[1] is whole
    np.testing.assert_array_equal(frac.data, ref[0]); np.testing.assert_array_equal(whole, ref[1])
    np.testing.assert_array_equal(frac.data, [0.5, -0.25]); np.testing.assert_array_equal(whole, [3.0, -1.0])


def _buffered_pair(nn_module):
    "A container holding one BatchNorm twice (once nested) and a second BatchNorm, in either backend."
    bn = nn_module.BatchNorm1d(3)
    return nn_module.Sequential(nn_module.Linear(2, 3), bn, nn_module.Sequential(bn, nn_module.BatchNorm1d(3)))


def test_named_buffers_and_buffers_walk_the_model_as_torch_does():
    ours, theirs = _buffered_pair(dnp), _buffered_pair(torch.nn)
    names = lambda pairs: [name for name, _ in pairs]
    for kwargs in ({}, {'prefix': 'net'}, {'remove_duplicate': False}, {'prefix': 'net', 'remove_duplicate': False},
                   {'recurse': False}):
        assert names(ours.named_buffers(**kwargs)) == names(theirs.named_buffers(**kwargs)), kwargs
        assert names(ours[1].named_buffers(**kwargs)) == names(theirs[1].named_buffers(**kwargs)), kwargs
    assert names(ours.named_buffers())[0] == '1.running_mean' and len(names(ours.named_buffers())) == 6
    assert len(list(ours.buffers())) == len(list(theirs.buffers())) == 6
    assert list(ours.buffers(recurse=False)) == [] and len(list(ours[1].buffers(recurse=False))) == 3
    assert next(iter(ours.buffers())) is ours[1].running_mean                     # the buffers themselves, not copies


def test_nested_containers_print_indented_like_pytorch():
    make = lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Sequential(nn.Linear(3, 1))))
    assert repr(make(dnp)) == repr(make(torch.nn))
    assert repr(make(dnp)).splitlines()[5] == '      (0): Linear(in_features=3, out_features=1, bias=True)'


def test_a_parameter_holds_a_numpy_array_never_a_tensor():
    with pytest.raises(TypeError) as info: Parameter(torch.zeros(2))
    assert str(info.value).startswith('data: expected a NumPy array, got Tensor')
    with pytest.raises(TypeError) as info: Parameter([1.0, 2.0])
    assert str(info.value).startswith('data: expected a NumPy array, got list')


def test_to_takes_a_numpy_scalar_type_as_its_first_argument():
    "`m.to(np.float64)` is a dtype, as `m.to(torch.float64)` is for a torch module; a Python type is not a device either."
    model = dnp.MLP(3, [4, 2])
    assert model.to(np.float64) is model and {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert model.to(np.float32) is model and {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    with pytest.raises(TypeError, match="device: expected 'cpu' or None"): model.to(float)


def test_a_module_call_passes_keyword_arguments_to_forward_as_torch_does():
    layer = dnp.Linear(3, 2, dtype='float64', generator=0)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(layer(input=x), layer(x))
    t = torch.nn.Linear(3, 2, dtype=torch.float64)
    torch.testing.assert_close(t(input=torch.from_numpy(x)), t(torch.from_numpy(x)))


def test_named_modules_skips_what_memo_already_holds_and_fills_it_as_torch_does():
    for nn_module in (dnp, torch.nn):
        relu = nn_module.ReLU()
        model = nn_module.Sequential(nn_module.Linear(2, 3), relu, nn_module.Sequential(nn_module.Linear(3, 3), relu))
        memo = {model[2]}
        assert [name for name, _ in model.named_modules(memo=memo)] == ['', '0', '1'], nn_module
        assert memo == {model, model[0], model[1], model[2]}


def test_load_state_dict_round_trips_shared_members_partial_dicts_and_non_finite_values_as_torch():
    "A shared BatchNorm's buffers load under each of their names; strict=False loads what matches; NaN and inf load as saved."
    ours, theirs = _buffered_pair(dnp), _buffered_pair(torch.nn)
    ours.load_state_dict(ours.state_dict())
    ours.load_state_dict({k: v.detach().clone() for k, v in theirs.state_dict().items()})
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    for model in (dnp.Linear(3, 2), torch.nn.Linear(3, 2)):
        saved = {'weight': np.full((2, 3), np.nan, np.float32), 'extra': np.zeros(1, np.float32)}
        if isinstance(model, torch.nn.Module): saved = {k: torch.from_numpy(v) for k, v in saved.items()}
        bias = to_numpy(model.bias.data).copy()
        model.load_state_dict(saved, strict=False)                       # 'bias' missing, 'extra' unexpected
        assert np.isnan(to_numpy(model.weight.data)).all() and np.array_equal(to_numpy(model.bias.data), bias)
    layer = dnp.BatchNorm1d(2)
    layer.load_state_dict({**layer.state_dict(), 'running_var': np.array([np.inf, 1.0], np.float32)})
    assert layer.running_var.tolist() == [np.inf, 1.0]


def test_zero_grad_to_zeros_and_to_cast_the_gradients_as_torch_does():
    "zero_grad(set_to_none=False) leaves zero arrays of each parameter's shape and dtype; .to(dtype) casts the gradients too."
    model = dnp.MLP(3, [4, 2], dtype='float64', generator=0)
    model(np.ones((5, 3))); model.backward(np.ones((5, 2)))
    grads = {name: p.grad.copy() for name, p in model.named_parameters()}
    model.to('float32')
    for name, p in model.named_parameters():
        assert p.grad.dtype == np.float32 and p.data.dtype == np.float32
        np.testing.assert_allclose(p.grad, grads[name], rtol=1e-6)
    model.to(dtype='float64')
    assert all(p.grad.dtype == np.float64 for p in model.parameters())
    model.zero_grad(set_to_none=False)
    for p in model.parameters():
        assert isinstance(p.grad, np.ndarray) and p.grad.shape == p.data.shape and p.grad.dtype == np.float64
        assert not p.grad.any()
    t = torch.nn.Linear(3, 2, dtype=torch.float64)
    t(torch.ones(5, 3, dtype=torch.float64)).sum().backward()
    assert t.to(torch.float32).weight.grad.dtype == torch.float32      # PyTorch casts .grad with the parameter


def test_linear_bias_is_drawn_from_the_whole_interval_and_sizes_start_at_one():
    "PyTorch's default init draws the bias, like the weight, uniformly from [-1/sqrt(in), 1/sqrt(in)]."
    layer = dnp.Linear(4, 2000, generator=0)
    bias = layer.bias.data
    assert np.abs(bias).max() <= 0.5 and bias.min() < -0.45 and bias.max() > 0.45 and abs(bias.mean()) < 0.03
    assert dnp.Linear(1, 1)(np.ones((2, 1), np.float32)).shape == (2, 1)
    with pytest.raises(ValueError, match='out_features: expected a value >= 1, got 0'): dnp.Linear(3, 0)
    with pytest.raises(TypeError, match='in_features: expected an integer, got float'): dnp.Linear(2.5, 3)
    with pytest.raises(ValueError, match="device: the NumPy backend computes on the CPU only"): dnp.MLP(3, [2], device='cuda')


def test_linear_on_batches_with_extra_dimensions_matches_torch():
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    layer = dnp.Linear(3, 5, dtype='float64', generator=1)
    t = torch.nn.Linear(3, 5, dtype=torch.float64)
    t.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    xt = torch.tensor(x, requires_grad=True)
    out = t(xt); g = torch.ones_like(out); out.backward(g)
    np.testing.assert_allclose(layer(x), out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(g.numpy()), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, t.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, t.bias.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r'grad_output: expected shape \(2, 4, 5\)'): layer.backward(np.ones((8, 5)))


def test_check_input_checks_what_a_layer_is_given():
    from dlcourse.numpy.nn import check_input
    x = np.ones((2, 3))
    assert check_input(x, 'float64', 3) is x and check_input(x, np.dtype('float64')) is x
    assert check_input(x, 'float64', np.int64(3)) is x
    for features, error, message in ((0, ValueError, 'features: expected a value >= 1, got 0'),
                                     (2.5, TypeError, 'features: expected an integer, got float'),
                                     (True, TypeError, 'features: expected an integer, got bool')):
        with pytest.raises(error) as info: check_input(x, 'float64', features)
        assert str(info.value).startswith(message)
    with pytest.raises(TypeError, match=r"input: expected dtype float32 \(the layer's dtype\)"): check_input(x, 'float32', 3)
    with pytest.raises(ValueError, match=r'input: expected last dimension 2, got shape \(2, 3\)'): check_input(x, 'float64', 2)
    with pytest.raises(ValueError, match=r'input: expected last dimension 3, got shape \(3, 2\)'): check_input(x.T.copy(), 'float64', 3)
    with pytest.raises(TypeError, match='input: expected a NumPy array, got Tensor'): check_input(torch.ones(2, 3), 'float32', 3)
    nan = np.array([[np.nan, 1.0, 2.0]])
    assert check_input(nan, 'float64', 3) is nan                                # NaN passes, as in PyTorch


def test_relu_backward_checks_its_gradient():
    relu = dnp.ReLU()
    relu(np.array([[-1.0, 2.0]]))
    with pytest.raises(ValueError, match=r'grad_output: expected shape \(1, 2\), got \(2,\)'): relu.backward(np.ones(2))
    with pytest.raises(TypeError, match='grad_output: expected dtype float64'): relu.backward(np.ones((1, 2), np.float32))
    with pytest.raises(TypeError, match='grad_output: expected a NumPy array, got Tensor'): relu.backward(torch.ones(1, 2))
    with pytest.raises(TypeError, match='input: expected a NumPy array, got Tensor'): dnp.relu(torch.ones(2))


def test_to_casts_floating_buffers_both_ways_and_leaves_integer_ones():
    ours, theirs = dnp.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    for dtype, torch_dtype in (('float64', torch.float64), ('float32', torch.float32)):
        ours.to(dtype); theirs.to(torch_dtype)
        assert {n: str(b.dtype) for n, b in ours.named_buffers()} == \
               {n: str(b.dtype).replace('torch.', '') for n, b in theirs.named_buffers()}
    assert ours.running_var.dtype == np.float32 and ours.num_batches_tracked.dtype == np.int64
