import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlcourse.crosscheck import gradient_check
from dlcourse.numpy.nn import Linear, ReLU, Sequential
from dlcourse.numpy.sharing import TiedLinear
from dlcourse.torch import nn as tnn
from dlcourse.torch.sharing import (TiedLinear as TorchTiedLinear, compare_autoencoders, plot_autoencoder_comparison,
                                    tied_autoencoder, train_autoencoder)


def _tied(seed=0, dtype='float64'):
    enc = Linear(6, 3, dtype=dtype, generator=np.random.default_rng(seed))
    return enc, Sequential(enc, ReLU(), TiedLinear(enc, generator=np.random.default_rng(seed + 1)))


def test_shared_grad_is_sum_of_untied_uses():
    enc, model = _tied()
    x, g = np.random.default_rng(1).normal(size=(2, 5, 6)), np.random.default_rng(2).normal(size=(2, 5, 6))
    model(x); grad_in = model.backward(g)
    u_enc, u_dec = Linear(6, 3, dtype='float64'), Linear(3, 6, dtype='float64')
    u_enc.weight.data, u_enc.bias.data = enc.weight.data.copy(), enc.bias.data.copy()
    u_dec.weight.data, u_dec.bias.data = enc.weight.data.T.copy(), model[2].bias.data.copy()
    untied = Sequential(u_enc, ReLU(), u_dec)
    np.testing.assert_allclose(model(x), untied(x), rtol=1e-13)
    u_grad_in = untied.backward(g)
    np.testing.assert_allclose(enc.weight.grad, u_enc.weight.grad + u_dec.weight.grad.T, rtol=1e-13)
    np.testing.assert_allclose(model[2].bias.grad, u_dec.bias.grad, rtol=1e-13)
    np.testing.assert_allclose(grad_in, u_grad_in, rtol=1e-13)
    assert max(gradient_check(model, (x[0],)).values()) < 1e-6


def test_torch_shared_grad_is_sum_of_untied_uses():
    torch.manual_seed(0)
    enc = tnn.Linear(6, 3, dtype=torch.float64)
    dec = TorchTiedLinear(enc)
    x = torch.randn(5, 6, dtype=torch.float64)
    (dec(torch.relu(enc(x))) ** 2).sum().backward()
    w1 = enc.weight.detach().clone().requires_grad_(); w2 = enc.weight.detach().clone().requires_grad_()
    (((torch.relu(x @ w1.T + enc.bias) @ w2) + dec.bias) ** 2).sum().backward()
    torch.testing.assert_close(enc.weight.grad, w1.grad + w2.grad, rtol=1e-13, atol=0)


def test_parameters_once_state_dict_every_name():
    enc, model = _tied()
    params = list(model.parameters())
    assert len(params) == 3 and sum(p is enc.weight for p in params) == 1
    assert [n for n, _ in model.named_parameters()] == ['0.weight', '0.bias', '2.bias']
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert list(model.state_dict()) == ['0.weight', '0.bias', '2.weight', '2.bias']
    torch_model = tied_autoencoder('torch').double()
    assert list(model.state_dict()) == list(torch_model.state_dict())
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in torch_model.named_parameters()]


def test_state_dict_round_trip_keeps_tie():
    _, src = _tied(seed=0)
    enc, dst = _tied(seed=5)
    dst.load_state_dict(src.state_dict())
    assert dst[2].weight is enc.weight
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()): np.testing.assert_array_equal(a, b, k)
    torch_model = tied_autoencoder('torch').double()
    torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in src.state_dict().items()})
    assert torch_model[2].weight is torch_model[0].weight
    dst.load_state_dict(torch_model.state_dict())
    np.testing.assert_array_equal(dst[0].weight.data, src[0].weight.data)
    with pytest.raises(ValueError, match='state_dict: missing keys .*2.weight'):
        dst.load_state_dict({k: v for k, v in src.state_dict().items() if k != '2.weight'})


def test_to_and_zero_grad_keep_the_tie():
    enc, model = _tied(dtype='float32')
    model.to('float64')
    assert model[2].weight is enc.weight and enc.weight.dtype == np.float64 and model[2].bias.dtype == np.float64
    x = np.ones((2, 6)); model(x); model.backward(np.ones((2, 6)))
    model.zero_grad()
    assert enc.weight.grad is None


def test_bias_false_and_shapes():
    enc = Linear(4, 2)
    dec = TiedLinear(enc, bias=False)
    assert dec.bias is None and (dec.in_features, dec.out_features) == (2, 4)
    x = np.ones((3, 2), dtype=np.float32)
    assert dec(x).shape == (3, 4) and dec.backward(np.ones((3, 4), dtype=np.float32)).shape == (3, 2)
    t = TorchTiedLinear(tnn.Linear(4, 2), bias=False)
    assert t.bias is None and t(torch.ones(3, 2)).shape == (3, 4)


def test_bad_inputs():
    for bad in (ReLU(), np.ones((3, 2)), None):
        with pytest.raises(TypeError, match='source'): TiedLinear(bad)
    with pytest.raises(TypeError, match='source'): TorchTiedLinear(tnn.ReLU())
    with pytest.raises(TypeError, match='source'): TorchTiedLinear(Linear(4, 2))
    with pytest.raises(ValueError, match='dtype'): TiedLinear(Linear(4, 2), dtype='float64')
    with pytest.raises(ValueError, match='dtype'): TorchTiedLinear(tnn.Linear(4, 2), dtype=torch.float64)
    with pytest.raises(ValueError, match='dtype'): TorchTiedLinear(tnn.Linear(4, 2), dtype='float64')
    dec = TiedLinear(Linear(4, 2))
    with pytest.raises(RuntimeError, match='before forward'): dec.backward(np.ones((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match='input'): dec(np.ones((3, 4), dtype=np.float32))
    with pytest.raises(TypeError, match='input'): dec(np.ones((3, 2), dtype=np.float64))
    dec(np.ones((3, 2), dtype=np.float32))
    with pytest.raises(ValueError, match='grad_output'): dec.backward(np.ones((3, 2), dtype=np.float32))
    with pytest.raises(ValueError, match='input'): TorchTiedLinear(tnn.Linear(4, 2))(torch.ones(3, 4))
    with pytest.raises(ValueError, match='backend'): tied_autoencoder('jax')
    with pytest.raises(ValueError, match='hidden'): train_autoencoder(True, hidden=0)
    with pytest.raises(ValueError, match='lr'): train_autoencoder(True, lr=0)


def test_numpy_tied_linear_takes_generator_like_linear():
    enc = Linear(4, 2)
    np.testing.assert_array_equal(TiedLinear(enc, generator=3).bias.data,
                                  TiedLinear(enc, generator=np.random.default_rng(3)).bias.data)
    with pytest.raises(TypeError, match='generator'): TiedLinear(enc, generator='3')
    with pytest.raises(ValueError, match='generator'): TiedLinear(enc, generator=-1)


@pytest.mark.parametrize('flag', ['no', None, 1])
def test_bias_must_be_a_bool(flag):
    with pytest.raises(TypeError, match='bias'): TiedLinear(Linear(4, 2), bias=flag)
    with pytest.raises(TypeError, match='bias'): TorchTiedLinear(tnn.Linear(4, 2), bias=flag)


def test_numpy_backward_refuses_a_tensor_gradient():
    dec = TiedLinear(Linear(4, 2, dtype='float64'))
    dec(np.ones((3, 2)))
    with pytest.raises(TypeError, match='grad_output'): dec.backward(torch.ones(3, 4, dtype=torch.float64))


def test_torch_tied_linear_dtype_device_and_input():
    enc = tnn.Linear(4, 2, dtype=torch.float64)
    for dtype in ('float64', torch.float64, np.float64):
        assert TorchTiedLinear(enc, dtype=dtype, device='cpu').weight is enc.weight
    with pytest.raises(ValueError, match='device'): TorchTiedLinear(enc, device='bogus')
    dec = TorchTiedLinear(enc)
    with pytest.raises(TypeError, match='input: expected a torch tensor'): dec(np.ones((3, 2)))
    with pytest.raises(TypeError, match='input: expected dtype float64'): dec(torch.ones(3, 2))
    with pytest.raises(TypeError, match='input'): dec(torch.ones(3, 2, dtype=torch.int64))


@pytest.mark.parametrize('call, message', [
    (lambda: tied_autoencoder('numpy', hidden=0), 'hidden'),
    (lambda: tied_autoencoder('numpy', in_features=2.5), 'in_features'),
    (lambda: train_autoencoder('yes'), 'tied'),
    (lambda: train_autoencoder(True, seed=-1), 'seed'),
    (lambda: train_autoencoder(True, device='bogus'), 'device'),
    (lambda: compare_autoencoders(16, lr=0), 'lr'),
    (lambda: compare_autoencoders(16, device=['cpu']), 'device'),
    (lambda: plot_autoencoder_comparison(seed=None), 'seed'),
])
def test_arguments_are_checked_before_training(call, message):
    with pytest.raises((TypeError, ValueError), match=message): call()


def test_reusing_one_numpy_module_breaks_its_weight_gradient():
    lin = Linear(4, 4, dtype='float64', generator=np.random.default_rng(0))
    errors = gradient_check(Sequential(lin, ReLU(), lin), (np.random.default_rng(3).normal(size=(5, 4)),))
    assert errors['input'] < 1e-6 and errors['0.weight'] > 1e-2


def test_tied_autoencoder_beats_untied_with_half_the_parameters():
    tied, untied = train_autoencoder(True, 16, epochs=5), train_autoencoder(False, 16, epochs=5)
    assert tied['parameters'] == 64 * 16 + 16 + 64 and untied['parameters'] == 2 * 64 * 16 + 16 + 64
    assert tied['valid_mse'] < untied['valid_mse']


def test_compare_autoencoders_is_cached_and_plots_both_models():
    untied, tied = runs = compare_autoencoders(4, 1e-2, seed=1, epochs=2, device='cpu')
    assert compare_autoencoders(4, 1e-2, seed=1, epochs=2, device='cpu') is runs
    assert (untied['tied'], tied['tied']) == (False, True) and tied['parameters'] == 64 * 4 + 4 + 64
    for run in runs:
        assert run['valid_curve'].shape == (2,) and run['valid_curve'][-1] == run['valid_mse']
        assert run['images'].shape == run['reconstructions'].shape == (8, 64)
        assert not run['valid_curve'].flags.writeable
    np.testing.assert_array_equal(untied['images'], tied['images'])
    fig = plot_autoencoder_comparison(4, 1e-2, seed=1, epochs=2, device='cpu')
    assert len(fig.axes) == 3 * 8 + 1
    assert [t.get_text().split(':')[0] for t in fig.axes[-1].get_legend().get_texts()] == ['untied', 'tied']
    plt.close(fig)
    with pytest.raises(ValueError, match='examples'): train_autoencoder(True, examples=-1)


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_bias_init_is_uniform_in_one_over_sqrt_in_features_like_linear(backend):
    "The decoder's own bias starts as nn.Linear's does: U(-1/sqrt(in), 1/sqrt(in)) with in = the encoder's out_features, in the weight's dtype."
    if backend == 'numpy':
        dec = TiedLinear(Linear(2000, 4), generator=np.random.default_rng(0))
        bias, dtype = dec.bias.data, dec.bias.dtype
    else:
        torch.manual_seed(0)
        dec = TorchTiedLinear(tnn.Linear(2000, 4))
        bias, dtype = dec.bias.detach().numpy(), dec.bias.detach().numpy().dtype
    bound = np.float32(1 / np.sqrt(4))
    assert dtype == np.float32 and bias.shape == (2000,)
    assert bias.min() >= -bound and bias.max() <= bound
    assert bias.min() < -0.99 * bound and bias.max() > 0.99 * bound      # 2000 draws reach both ends


def test_repr_names_the_decoder_shape_bias_and_tie_like_torch():
    assert repr(TiedLinear(Linear(6, 3))) == repr(TorchTiedLinear(tnn.Linear(6, 3))) == \
        'TiedLinear(in_features=3, out_features=6, bias=True (weight tied))'
    assert repr(TiedLinear(Linear(6, 3), bias=False)) == 'TiedLinear(in_features=3, out_features=6, bias=False (weight tied))'
