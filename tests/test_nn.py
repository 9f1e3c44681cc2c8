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
    (lambda: dnp.Linear(2, 2).load_state_dict({'weight': np.zeros((2, 2))}), KeyError, 'missing keys'),
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
