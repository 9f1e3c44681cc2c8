"""Bad-input examples for lessons 1-3: layers, activations and losses in both backends, and their explorations."""
import numpy as np
import torch

from badinput import Call

from dlcourse.numpy import activations as na, losses as nl, nn as nnn
from dlcourse.torch import activations as ta, losses as tl, nn as tnn

X32 = np.ones((4, 3), dtype=np.float32)                     # a batch for a float32 layer with 3 inputs
X = np.array([[-1.5, 0.5, 2.0], [0.3, -0.2, 1.0]])         # float64 activations input
T = torch.tensor([[-1.5, 0.5, 2.0], [0.3, -0.2, 1.0]])     # float32 tensor
P = np.array([[0.2, 0.7, 0.5], [0.9, 0.1, 0.4]])           # probabilities
Y = np.array([0, 2])                                        # class indices for X
PT, YT = torch.tensor(P), torch.tensor(Y)
XT64 = torch.tensor(X)


def forwarded(module, *inputs):
    "`module` after one forward pass, so that `backward` can run."
    module(*inputs)
    return module


def mlp():
    "A small NumPy MLP with a buffer-free state."
    return nnn.MLP(3, [4, 2])


def with_buffer():
    "A NumPy Module with one registered buffer."
    m = nnn.Module()
    m.register_buffer('running_mean', np.zeros(3))
    return m


NN = [
    Call('dlcourse.numpy.nn.Parameter', (np.ones((2, 3)),)),
    Call('dlcourse.numpy.nn.Parameter.accumulate_grad', (np.ones((2, 3)),), make=lambda: nnn.Parameter(np.ones((2, 3))),
         bad={'grad': [np.ones((3, 2))]}),
    Call('dlcourse.numpy.nn.RemovableHandle', ({},)),
    Call('dlcourse.numpy.nn.Module.register_buffer', ('running_var', np.ones(3)), make=nnn.Module,
         bad={'name': ['', 'a.b']}),
    Call('dlcourse.numpy.nn.Module.register_forward_hook', (lambda module, args, output: None,), make=nnn.ReLU),
    Call('dlcourse.numpy.nn.Module.named_modules', (), make=mlp),
    Call('dlcourse.numpy.nn.Module.named_parameters', (), make=mlp),
    Call('dlcourse.numpy.nn.Module.parameters', (), make=mlp),
    Call('dlcourse.numpy.nn.Module.named_buffers', (), make=with_buffer),
    Call('dlcourse.numpy.nn.Module.buffers', (), make=with_buffer),
    Call('dlcourse.numpy.nn.Module.load_state_dict', (nnn.Linear(3, 2).state_dict(),), make=lambda: nnn.Linear(3, 2),
         bad={'state_dict': [{'weight': np.zeros((3, 3)), 'bias': np.zeros(2)}]}),
    Call('dlcourse.numpy.nn.Module.train', (), make=mlp),
    Call('dlcourse.numpy.nn.Module.zero_grad', (), make=mlp),
    Call('dlcourse.numpy.nn.Module.to', (), {'dtype': 'float64'}, make=mlp,
         bad={'dtype': ['int32', 'float16'], 'device': ['cuda', 'mps:0', 'bogus']}, doubtful={'device': ['cpu']}),
    Call('dlcourse.numpy.nn.Module.apply', (lambda module: None,), make=mlp),
    Call('dlcourse.numpy.nn.check_cpu', ('cpu',), bad={'device': ['cuda', 'bogus']}),
    Call('dlcourse.numpy.nn.check_input', (X32, np.dtype('float32'), 3),
         bad={'features': [0], 'input': [np.ones((4, 2), np.float32), np.ones((4, 3))], 'dtype': ['int32']}),
    Call('dlcourse.numpy.nn.Linear', (3, 2), bad={'in_features': [0], 'out_features': [-1], 'dtype': ['int32', 'float16'],
                                               'generator': [-1], 'device': ['cuda']}, doubtful={'generator': [0, 42], 'device': ['cpu']}),
    Call('dlcourse.numpy.nn.Linear.forward', (X32,), make=lambda: nnn.Linear(3, 2),
         bad={'input': [np.ones((4, 2), np.float32), np.float32(1.0)]}),
    Call('dlcourse.numpy.nn.Linear.backward', (np.ones((4, 2), np.float32),), make=lambda: forwarded(nnn.Linear(3, 2), X32),
         bad={'grad_output': [np.ones((4, 3), np.float32)]}),
    Call('dlcourse.numpy.nn.check_activation_input', (X,), bad={'input': [np.ones(3, np.float16)]}),
    Call('dlcourse.numpy.nn.relu', (X,)),
    Call('dlcourse.numpy.nn.ReLU.forward', (X,), make=nnn.ReLU),
    Call('dlcourse.numpy.nn.ReLU.backward', (np.ones_like(X),), make=lambda: forwarded(nnn.ReLU(), X),
         bad={'grad_output': [np.ones((3, 2))]}),
    Call('dlcourse.numpy.nn.Sequential', (nnn.ReLU(), nnn.ReLU())),
    Call('dlcourse.numpy.nn.Sequential.append', (nnn.ReLU(),), make=nnn.Sequential),
    Call('dlcourse.numpy.nn.Sequential.forward', (X32,), make=lambda: nnn.Sequential(nnn.Linear(3, 2), nnn.ReLU())),
    Call('dlcourse.numpy.nn.Sequential.backward', (np.ones((4, 2), np.float32),),
         make=lambda: forwarded(nnn.Sequential(nnn.Linear(3, 2), nnn.ReLU()), X32), bad={'grad_output': [np.ones((4, 3), np.float32)]}),
    Call('dlcourse.numpy.nn.mlp_layer_sizes', (3, [4, 2], nnn.ReLU), bad={'in_channels': [0], 'hidden_channels': [[4, 0]]}),
    Call('dlcourse.numpy.nn.MLP', (3, [4, 2]), bad={'in_channels': [0], 'hidden_channels': [[4, 0]], 'dtype': ['int32'],
                                                 'generator': [-1]}, doubtful={'generator': [0, 42]}),
]

NUMPY_ACTIVATIONS = [
    Call('dlcourse.numpy.activations.Activation.forward', (X,), make=na.Sigmoid),
    Call('dlcourse.numpy.activations.Activation.backward', (np.ones_like(X),), make=lambda: forwarded(na.Tanh(), X),
         bad={'grad_output': [np.ones((3, 2)), np.ones((2, 3), np.float32)]}),
    Call('dlcourse.numpy.activations.sigmoid', (X,)),
    Call('dlcourse.numpy.activations.Sigmoid.function', (X,), make=na.Sigmoid),
    Call('dlcourse.numpy.activations.Sigmoid.derivative', (X, na.sigmoid(X)), make=na.Sigmoid, bad={'output': [np.ones((3, 2))]}),
    Call('dlcourse.numpy.activations.tanh', (X,)),
    Call('dlcourse.numpy.activations.Tanh.function', (X,), make=na.Tanh),
    Call('dlcourse.numpy.activations.Tanh.derivative', (X, na.tanh(X)), make=na.Tanh, bad={'output': [np.ones((3, 2))]}),
    Call('dlcourse.numpy.activations.leaky_relu', (X, 0.1)),
    Call('dlcourse.numpy.activations.LeakyReLU', (0.1,)),
    Call('dlcourse.numpy.activations.LeakyReLU.function', (X,), make=na.LeakyReLU),
    Call('dlcourse.numpy.activations.LeakyReLU.derivative', (X, na.leaky_relu(X)), make=na.LeakyReLU,
         bad={'output': [np.ones((3, 2))]}),
    Call('dlcourse.numpy.activations.erf', (X,)),
    Call('dlcourse.numpy.activations.gelu', (X, 'tanh'), bad={'approximate': ['exact']}),
    Call('dlcourse.numpy.activations.GELU', ('tanh',), bad={'approximate': ['exact']}),
    Call('dlcourse.numpy.activations.GELU.function', (X,), make=na.GELU),
    Call('dlcourse.numpy.activations.GELU.derivative', (X, na.gelu(X)), make=na.GELU, bad={'output': [np.ones((3, 2))]}),
    Call('dlcourse.numpy.activations.check_dim', (1, 2), bad={'dim': [2, -3], 'ndim': [-1]}),
    Call('dlcourse.numpy.activations.softmax', (X, 1), bad={'dim': [2, -3]}),
    Call('dlcourse.numpy.activations.Softmax', (1,)),
    Call('dlcourse.numpy.activations.Softmax.forward', (X,), make=lambda: na.Softmax(1), bad={'input': [np.ones(3)]}),
    Call('dlcourse.numpy.activations.Softmax.backward', (np.ones_like(X),), make=lambda: forwarded(na.Softmax(1), X),
         bad={'grad_output': [np.ones((3, 2)), np.ones((2, 3), np.float32)]}),
]


def numpy_loss_calls():
    "Constructor and forward of each NumPy loss, and its functional form."
    F = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    return [
        Call('dlcourse.numpy.losses.check_reduction', ('mean',), bad={'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.MSELoss', ('sum',), bad={'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.MSELoss.forward', (F, P), make=nl.MSELoss, bad={'target': [np.ones((3, 2))]}),
        Call('dlcourse.numpy.losses.L1Loss', ('sum',), bad={'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.L1Loss.forward', (F, P), make=nl.L1Loss, bad={'target': [np.ones((3, 2))]}),
        Call('dlcourse.numpy.losses.logsumexp', (F, 1), bad={'dim': [2]}),
        Call('dlcourse.numpy.losses.log_softmax', (F, 1), bad={'dim': [2]}),
        Call('dlcourse.numpy.losses.CrossEntropyLoss', (np.ones(3), -100, 'mean', 0.1),
             bad={'weight': [np.ones((3, 3))], 'label_smoothing': [-0.1, 1.5], 'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.CrossEntropyLoss.forward', (F, Y), make=nl.CrossEntropyLoss,
             bad={'target': [np.array([0, 3]), np.array([0.0, 1.0]), np.array([0, 1, 2])]}),
        Call('dlcourse.numpy.losses.BCELoss', (np.ones(3), 'sum'), bad={'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.BCELoss.forward', (P, P), make=nl.BCELoss, bad={'input': [P + 1], 'target': [P - 1]}),
        Call('dlcourse.numpy.losses.BCEWithLogitsLoss', (np.ones(3), 'sum', np.ones(3)), bad={'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.BCEWithLogitsLoss.forward', (F, P), make=nl.BCEWithLogitsLoss, bad={'target': [P + 1]}),
        Call('dlcourse.numpy.losses.MultiMarginLoss', (2, 0.5, np.ones(3), 'sum'), bad={'p': [3, 0]}),
        Call('dlcourse.numpy.losses.MultiMarginLoss.forward', (F, Y), make=nl.MultiMarginLoss,
             bad={'target': [np.array([0, 3])], 'input': [np.ones((2, 3, 1))]}),
        Call('dlcourse.numpy.losses.mse_loss', (F, P, 'sum'), bad={'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.l1_loss', (F, P, 'sum'), bad={'reduction': ['avg']}),
        Call('dlcourse.numpy.losses.cross_entropy', (F, Y, np.ones(3), -100, 'mean', 0.1), bad={'label_smoothing': [2.0]}),
        Call('dlcourse.numpy.losses.binary_cross_entropy', (P, P, np.ones(3), 'sum'), bad={'input': [P + 1]}),
        Call('dlcourse.numpy.losses.binary_cross_entropy_with_logits', (F, P, np.ones(3), 'sum', np.ones(3)),
             bad={'pos_weight': [np.ones(2)]}),
        Call('dlcourse.numpy.losses.multi_margin_loss', (F, Y, 2, 0.5, np.ones(3), 'sum'), bad={'p': [3]}),
    ]


TORCH_NN = [
    Call('dlcourse.torch.nn.check_tensor', (T, 'x'), bad={'x': [torch.ones(3, dtype=torch.long), [1.0, 2.0]]}),
    Call('dlcourse.torch.nn.check_tensor', (T, 'x'), dict(ndim=2, kind='float', finite=False),
         bad={'x': [torch.ones(3), np.ones((2, 3))]}),
    Call('dlcourse.torch.nn.check_features', (T, 3, torch.ones(2, 3)), bad={'features': [0], 'input': [torch.ones(2, 4)],
                                                                        'weight': [torch.ones(2, 3, dtype=torch.float64)]}),
    Call('dlcourse.torch.nn.Linear', (3, 2), bad={'in_features': [0], 'out_features': [-1],
                                               'device': ['bogus'], 'dtype': ['int64', 'float16']},
         doubtful={'dtype': ['float64', np.float64], 'device': ['cpu']}),
    Call('dlcourse.torch.nn.Linear.forward', (T,), make=lambda: tnn.Linear(3, 2), bad={'input': [torch.ones(2, 4)]}),
    Call('dlcourse.torch.nn.ReLU'),
    Call('dlcourse.torch.nn.relu', (T,)),
    Call('dlcourse.torch.nn.ReLU.forward', (T,), make=tnn.ReLU),
    Call('dlcourse.torch.nn.Sequential', (tnn.ReLU(), tnn.ReLU())),
    Call('dlcourse.torch.nn.Sequential.append', (tnn.ReLU(),), make=tnn.Sequential),
    Call('dlcourse.torch.nn.Sequential.forward', (T,), make=lambda: tnn.Sequential(tnn.Linear(3, 2), tnn.ReLU())),
    Call('dlcourse.torch.nn.MLP', (3, [4, 2]), bad={'in_channels': [0], 'hidden_channels': [[4, 0]], 'device': ['bogus'],
                                                 'dtype': ['int64']}),
    Call('dlcourse.torch.nn.away_from_zero', (np.random.default_rng(0), (2, 3)), bad={'gap': [-1.0], 'shape': [(2, -3)]}),
]

TORCH_ACTIVATIONS = [
    Call('dlcourse.torch.activations.sigmoid', (T,)),
    Call('dlcourse.torch.activations.tanh', (T,)),
    Call('dlcourse.torch.activations.leaky_relu', (T, 0.1)),
    Call('dlcourse.torch.activations.gelu', (T, 'tanh'), bad={'approximate': ['exact']}),
    Call('dlcourse.torch.activations.softmax', (T, 1), bad={'dim': [2]}),
    Call('dlcourse.torch.activations.Sigmoid'),
    Call('dlcourse.torch.activations.Sigmoid.forward', (T,), make=ta.Sigmoid),
    Call('dlcourse.torch.activations.Tanh'),
    Call('dlcourse.torch.activations.Tanh.forward', (T,), make=ta.Tanh),
    Call('dlcourse.torch.activations.LeakyReLU', (0.1,)),
    Call('dlcourse.torch.activations.LeakyReLU.forward', (T,), make=ta.LeakyReLU),
    Call('dlcourse.torch.activations.GELU', ('tanh',), bad={'approximate': ['exact']}),
    Call('dlcourse.torch.activations.GELU.forward', (T,), make=ta.GELU),
    Call('dlcourse.torch.activations.Softmax', (1,)),
    Call('dlcourse.torch.activations.Softmax.forward', (T,), make=lambda: ta.Softmax(1), bad={'input': [torch.ones(3)]}),
]


def torch_loss_calls():
    "Constructor and forward of each PyTorch loss, and its functional form."
    F = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], dtype=torch.float64)
    W = torch.ones(3, dtype=torch.float64)
    return [
        Call('dlcourse.torch.losses.logsumexp', (F, 1), bad={'dim': [2]}),
        Call('dlcourse.torch.losses.log_softmax', (F, 1), bad={'dim': [2]}),
        Call('dlcourse.torch.losses.mse_loss', (F, PT, 'sum'), bad={'reduction': ['avg'], 'target': [torch.ones(3, 2)]}),
        Call('dlcourse.torch.losses.l1_loss', (F, PT, 'sum'), bad={'reduction': ['avg']}),
        Call('dlcourse.torch.losses.cross_entropy', (F, YT, W, -100, 'mean', 0.1),
             bad={'label_smoothing': [2.0], 'target': [torch.tensor([0, 3])], 'weight': [torch.ones(2, dtype=torch.float64)]}),
        Call('dlcourse.torch.losses.BinaryCrossEntropyFunction'),
        Call('dlcourse.torch.losses.binary_cross_entropy', (PT, PT, W, 'sum'), bad={'input': [PT + 1]}),
        Call('dlcourse.torch.losses.binary_cross_entropy_with_logits', (F, PT, W, 'sum', W), bad={'target': [PT + 1]}),
        Call('dlcourse.torch.losses.multi_margin_loss', (F, YT, 2, 0.5, W, 'sum'), bad={'p': [3]}),
        Call('dlcourse.torch.losses.MSELoss', ('sum',), bad={'reduction': ['avg']}),
        Call('dlcourse.torch.losses.MSELoss.forward', (F, PT), make=tl.MSELoss),
        Call('dlcourse.torch.losses.L1Loss', ('sum',), bad={'reduction': ['avg']}),
        Call('dlcourse.torch.losses.L1Loss.forward', (F, PT), make=tl.L1Loss),
        Call('dlcourse.torch.losses.CrossEntropyLoss', (W, -100, 'mean', 0.1), bad={'label_smoothing': [-0.1]}),
        Call('dlcourse.torch.losses.CrossEntropyLoss.forward', (F, YT), make=tl.CrossEntropyLoss, bad={'target': [torch.tensor([0, 3])]}),
        Call('dlcourse.torch.losses.BCELoss', (W, 'sum'), bad={'reduction': ['avg']}),
        Call('dlcourse.torch.losses.BCELoss.forward', (PT, PT), make=tl.BCELoss, bad={'input': [PT + 1]}),
        Call('dlcourse.torch.losses.BCEWithLogitsLoss', (W, 'sum', W), bad={'reduction': ['avg']}),
        Call('dlcourse.torch.losses.BCEWithLogitsLoss.forward', (F, PT), make=tl.BCEWithLogitsLoss, bad={'target': [PT + 1]}),
        Call('dlcourse.torch.losses.MultiMarginLoss', (2, 0.5, W, 'sum'), bad={'p': [3]}),
        Call('dlcourse.torch.losses.MultiMarginLoss.forward', (F, YT), make=tl.MultiMarginLoss, bad={'target': [torch.tensor([0, 3])]}),
    ]


EXPLORE = [
    Call('dlcourse.explore.layers.random_mlp', (4, 2, 0, 1.0), bad={'width': [0], 'depth': [0], 'seed': [-1], 'weight_scale': [-1.0]}),
    Call('dlcourse.explore.layers.activation_patterns', (nnn.MLP(2, [3, 1], dtype='float64'), np.zeros((4, 2))),
         bad={'points': [np.zeros((4, 3))], 'model': [nnn.MLP(3, [3, 1], dtype='float64')]}),
    Call('dlcourse.explore.layers.count_patterns', (np.array([[True, False], [True, False]]),)),
    Call('dlcourse.explore.layers.count_linear_regions', (3, 1, 0, 5), bad={'width': [0], 'resolution': [1]}),
    Call('dlcourse.explore.layers.plot_regions', (nnn.MLP(2, [3, 1], dtype='float64'), 2.0, 5), bad={'resolution': [1]}),
    Call('dlcourse.explore.layers.plot_network', (3, 1, 0, 1.0, 2.0, 5), bad={'width': [0], 'resolution': [1]}),
    Call('dlcourse.explore.layers.plot_width_depth_grid', ((2,), (1,), 0, 1.0, 2.0, 5), bad={'widths': [(0,)]}),
    Call('dlcourse.explore.layers.region_count_sweep', ((4,), (1, 2), (0,), 1.0, 5), bad={'budgets': [(3,)], 'depths': [(0,)]}),
    Call('dlcourse.explore.layers.sawtooth_mlp', (3,), bad={'depth': [0]}),
    Call('dlcourse.explore.layers.plot_depth_vs_width', ((4,), (1,), (0,), 5, (1, 2)), bad={'saw_depths': [(0,)]}),
    Call('dlcourse.explore.layers.layers_explorer', (5,), bad={'resolution': [1]}),
    Call('dlcourse.explore.activations.activation_curves', ('tanh', np.linspace(-1, 1, 5)), bad={'name': ['softplus']}),
    Call('dlcourse.explore.activations.deep_mlp', ('relu', 2, 4, 1.0, 0), bad={'name': ['softplus'], 'depth': [0], 'gain': [0.0]}),
    Call('dlcourse.explore.activations.gradient_norms_through_depth', ('relu', 2, 4, 1.0, 8, 0),
         bad={'depth': [0], 'batch_size': [0, 5000]}),
    Call('dlcourse.explore.activations.plot_activation_explorer', ('tanh', 2, 1.0, 4), bad={'name': ['softplus'], 'depth': [0]}),
    Call('dlcourse.explore.activations.plot_depth_sweep', ((2,), (1.0,), 4), bad={'depths': [(0,)], 'gains': [(-1.0,)]}),
    Call('dlcourse.explore.losses.LossSweep', (np.linspace(-1, 1, 3),)),
    Call('dlcourse.explore.losses.loss_sweep', (np.linspace(-1, 1, 5), 1.0, 0, 3, 0.0, 1.0, 0.0, ('mse', 'cross_entropy')),
         bad={'target': [1.5], 'true_class': [3], 'num_classes': [1], 'label_smoothing': [2.0], 'losses': [('hinge',)]}),
    Call('dlcourse.explore.losses.plot_loss_sweep', (__import__('dlcourse.explore.losses', fromlist=['x']).loss_sweep(),)),
    Call('dlcourse.explore.losses.plot_loss_small_multiples', ((('one', {}),), ('mse',)), bad={'losses': [('hinge',)]}),
    Call('dlcourse.explore.losses.plot_loss_explorer', (1.0, 0, 0.0, 1.0, 0.0, ('mse',)), bad={'losses': [()], 'target': [2.0]}),
]

CALLS = NN + NUMPY_ACTIVATIONS + numpy_loss_calls() + TORCH_NN + TORCH_ACTIVATIONS + torch_loss_calls() + EXPLORE

EXEMPT = {
    'dlcourse.numpy.nn.Module.forward': 'abstract: only raises NotImplementedError',
    'dlcourse.numpy.nn.Module.backward': 'abstract: only raises NotImplementedError',
    'dlcourse.numpy.nn.Module.__call__': "passes its arguments unchanged to forward, whose examples cover them",
    'dlcourse.numpy.activations.Activation.function': 'abstract: only raises NotImplementedError',
    'dlcourse.numpy.activations.Activation.derivative': 'abstract: only raises NotImplementedError',
    'dlcourse.torch.losses.BinaryCrossEntropyFunction.forward': 'autograd calls it through .apply, after binary_cross_entropy checked the arguments',
    'dlcourse.torch.losses.BinaryCrossEntropyFunction.backward': 'autograd calls it with the gradient of the forward output',
}
