"""Bad-input examples for lessons 4 and 5: the scalar autograd engine, the hand-written autograd.Functions, the
NumPy and PyTorch optimizers, and the backpropagation and gradient-descent explorations."""
import numpy as np
import torch

from badinput import Call

F64 = dict(dtype=torch.float64)
X, W, B = torch.ones(4, 3, **F64), torch.ones(2, 3, **F64), torch.ones(2, **F64)
LOGITS, CLASSES = torch.zeros(4, 3, **F64), torch.tensor([0, 1, 2, 0])
GRAPH = {'a': [], 'b': ['a'], 'c': ['a', 'b']}
NODES = ['a', 'b', 'c']
TOPO_BAD = ['c', 'b', 'a']


def _inputs(node): return GRAPH[node]


def _text(node): return str(node)


def _expression():
    from dlcourse.engine import Value
    return Value(2.0) * Value(3.0) + 1


def _neuron_root():
    from dlcourse.explore.backprop import neuron
    return neuron([1.0, 2.0], [0.5, -0.5], 0.1)


def _autograd_output():
    from dlcourse.torch.functions import ManualMLP, cross_entropy
    return cross_entropy(ManualMLP(3, [4, 3], dtype=torch.float64)(X), CLASSES)


def _numpy_sgd(**options):
    "A NumPy SGD over two parameters that both hold a gradient."
    from dlcourse.numpy.nn import Parameter
    from dlcourse.numpy.optim import SGD
    w, b = Parameter(np.ones((2, 3))), Parameter(np.ones(2))
    w.accumulate_grad(np.ones((2, 3))); b.accumulate_grad(np.ones(2))
    return SGD([w, b], lr=0.1, **options)


def _numpy_base():
    from dlcourse.numpy.nn import Parameter
    from dlcourse.numpy.optim import Optimizer
    return Optimizer([Parameter(np.ones(2))], {'lr': 0.1})


def _numpy_params():
    from dlcourse.numpy.nn import Parameter
    return [Parameter(np.ones((2, 3))), Parameter(np.ones(2))]


def _torch_params():
    return [torch.nn.Parameter(torch.ones(2, 3)), torch.nn.Parameter(torch.ones(2))]


def _torch_sgd(**options):
    "Our PyTorch SGD over two parameters that both hold a gradient."
    from dlcourse.torch.optim import SGD
    w, b = _torch_params()
    w.grad, b.grad = torch.ones(2, 3), torch.ones(2)
    return SGD([w, b], lr=0.1, **options)


def _checked():
    from dlcourse.torch.optim import CheckedOptimizer
    return CheckedOptimizer(_torch_params(), {'lr': 0.1})


def _numpy_state_dict():
    return _numpy_sgd(momentum=0.9).state_dict()


def _torch_state_dict():
    return _torch_sgd(momentum=0.9).state_dict()


def _trajectory(): return {'weight': np.ones(3), 'momentum_buffer of weight': np.ones(3)}


def _least_squares_params(kind):
    if kind == 'numpy':
        from dlcourse.numpy.nn import Parameter
        return {'weight': Parameter(np.ones((3, 5))), 'bias': Parameter(np.ones(3))}
    return {'weight': torch.ones(3, 5, **F64, requires_grad=True), 'bias': torch.ones(3, **F64, requires_grad=True)}


def _surface_args():
    from dlcourse.explore.descent import bowl
    return ('custom bowl', bowl, lambda p: 2 * p, (-1.0, 1.0), (-1.0, 1.0), (0.5, 0.5), 0.0)


NUMPY_PARAM_BAD = {'params': [3, None, np.ones(3), 'x', {'params': []}]}
TORCH_PARAM_BAD = {'params': [3, None, torch.ones(3), 'x', torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.Linear(2, 2)),
                              [torch.ones(2, requires_grad=True) * 2], [{'lr': 0.1}], {'params': []}]}
SGD_OPTIONS = dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0)   # floats: the type the harness mutates from
SGD_BAD = {'lr': [-0.1, float('inf')], 'momentum': [-0.5], 'weight_decay': [-1e-4], 'dampening': [float('inf')]}

CALLS = [
    # ---- dlcourse.engine
    Call('dlcourse.engine.Value', (2.0,), {'label': 'x'}, bad={'data': [float('inf')]}),
    Call('dlcourse.engine.Value.backward', (), make=_expression, bad={'grad': [float('inf')]}),
    Call('dlcourse.engine.topological_order', (), {'root': _expression()}, bad={'root': [None]}),
    Call('dlcourse.engine.graph_depths', (NODES, _inputs), bad={'nodes': [TOPO_BAD, ['a', 'a']], 'inputs': [len]}),
    Call('dlcourse.engine.graph_layout', (NODES, _inputs), bad={'nodes': [TOPO_BAD]}),
    Call('dlcourse.engine.draw_dag', (NODES, _inputs, _text), bad={'fontsize': [0, -1.0]}),
    Call('dlcourse.engine.draw_graph', (_expression(),), bad={'fmt': ['%z', '.4q'], 'fontsize': [0]}),
    Call('dlcourse.engine.compare_with_torch', (lambda a, b: a * b, [1.0, 2.0]),
         bad={'inputs': [[1.0], [1.0, 'x', 2.0], [], [float('nan'), 1.0]], 'expression': [lambda a, b: 3],
              'device': ['bogus']}),
    Call('dlcourse.engine.as_values', (np.ones((2, 2)),)),
    Call('dlcourse.engine.data_of', ([_expression()],), bad={'values': [[1.0, 2.0]]}),
    Call('dlcourse.engine.grad_of', ([_expression()],), bad={'values': [[1.0, 2.0]]}),

    # ---- dlcourse.torch.functions
    Call('dlcourse.torch.functions.linear', (X, W, B), bad={'input': [torch.ones(4, 2, **F64)], 'bias': [torch.ones(3, **F64)]}),
    Call('dlcourse.torch.functions.relu', (X,)),
    Call('dlcourse.torch.functions.cross_entropy', (LOGITS, CLASSES),
         bad={'target': [torch.tensor([0, 1, 2, 3]), torch.zeros(4), torch.tensor([0, 1])], 'reduction': ['avg']}),
    Call('dlcourse.torch.functions.mse_loss', (X, X.clone()), bad={'target': [torch.ones(4, 1, **F64)], 'reduction': ['avg']}),
    Call('dlcourse.torch.functions.ManualLinear', (3, 2), bad={'in_features': [0], 'out_features': [-1]}),
    Call('dlcourse.torch.functions.ManualLinear.forward', (torch.ones(4, 3),), make=lambda: __import__(
         'dlcourse.torch.functions', fromlist=['x']).ManualLinear(3, 2), bad={'input': [torch.ones(4, 2)]}),
    Call('dlcourse.torch.functions.ManualReLU.forward', (X,), make=lambda: __import__(
         'dlcourse.torch.functions', fromlist=['x']).ManualReLU()),
    Call('dlcourse.torch.functions.ManualCrossEntropyLoss', ('mean',), bad={'reduction': ['avg']}),
    Call('dlcourse.torch.functions.ManualCrossEntropyLoss.forward', (LOGITS, CLASSES), make=lambda: __import__(
         'dlcourse.torch.functions', fromlist=['x']).ManualCrossEntropyLoss(), bad={'target': [torch.tensor([0, 1, 2, 3])]}),
    Call('dlcourse.torch.functions.ManualMSELoss', ('mean',), bad={'reduction': ['avg']}),
    Call('dlcourse.torch.functions.ManualMSELoss.forward', (X, X.clone()), make=lambda: __import__(
         'dlcourse.torch.functions', fromlist=['x']).ManualMSELoss(), bad={'target': [torch.ones(4, 1, **F64)]}),
    Call('dlcourse.torch.functions.ManualMLP', (3, [4, 2]), bad={'in_channels': [0], 'hidden_channels': [[4, 0], []]}),
    Call('dlcourse.torch.functions.numerical_jacobians', (torch.relu, (X.clone().requires_grad_(),)),
         bad={'h': [0.0, -1e-6], 'fn': [lambda x: 'x']}),
    Call('dlcourse.torch.functions.analytical_jacobians', (torch.relu, (X.clone().requires_grad_(),)),
         bad={'fn': [lambda x: 'x'], 'inputs': [(X,)]}),
    Call('dlcourse.torch.functions.gradcheck_comparison', ('relu', 'x', torch.relu, (X.clone().requires_grad_(),)),
         bad={'inputs': [(X,), (torch.ones(3, requires_grad=True),)]}),
    Call('dlcourse.torch.functions.gradcheck_cases', (np.random.default_rng(0),), bad={'device': ['bogus']}),
    Call('dlcourse.torch.functions.autograd_nodes', (_autograd_output(),), bad={'output': [X]}),
    Call('dlcourse.torch.functions.draw_autograd_graph', (_autograd_output(),), bad={'params': [{'w': 3}], 'fontsize': [0]}),

    # ---- dlcourse.numpy.optim
    Call('dlcourse.numpy.optim.check_known_options', ({'lr': 0.1}, {'lr': 0.1}, 'SGD', 'param_groups[0]'),
         bad={'options': [{'learning_rate': 0.1}]}),
    Call('dlcourse.numpy.optim.Optimizer', (_numpy_params(), {'lr': 0.1}), bad=NUMPY_PARAM_BAD),
    Call('dlcourse.numpy.optim.Optimizer.check_hyperparameters', ({'lr': 0.1},), make=_numpy_base),
    Call('dlcourse.numpy.optim.Optimizer.add_param_group', ({'params': _numpy_params()},), make=_numpy_base,
         bad={'param_group': [{'lr': 0.1}]}),
    Call('dlcourse.numpy.optim.Optimizer.zero_grad', (), make=_numpy_sgd),
    Call('dlcourse.numpy.optim.Optimizer.load_state_dict', (_numpy_state_dict(),), make=lambda: _numpy_sgd(momentum=0.9),
         bad={'state_dict': [{'state': {}}, {'state': {}, 'param_groups': 3}]}),
    Call('dlcourse.numpy.optim.check_sgd_hyperparameters', (0.1, 0.0, 0.0, 0.0, False, False), bad=SGD_BAD),
    Call('dlcourse.numpy.optim.SGD', (_numpy_params(),), SGD_OPTIONS, bad={**SGD_BAD, **NUMPY_PARAM_BAD}),
    Call('dlcourse.numpy.optim.SGD.check_hyperparameters', (dict(lr=0.1, momentum=0, dampening=0, weight_decay=0,
         nesterov=False, maximize=False),), make=_numpy_sgd, bad={'options': [{'lr': 0.1}]}),
    Call('dlcourse.numpy.optim.SGD.step', (), make=_numpy_sgd, bad={'closure': [3]}),

    # ---- dlcourse.torch.optim
    Call('dlcourse.torch.optim.CheckedOptimizer', (_torch_params(), {'lr': 0.1}), bad=TORCH_PARAM_BAD),
    Call('dlcourse.torch.optim.CheckedOptimizer.check_hyperparameters', ({'lr': 0.1},), make=_checked),
    Call('dlcourse.torch.optim.CheckedOptimizer.add_param_group', ({'params': _torch_params()},), make=_checked,
         bad={'param_group': [{'lr': 0.1}]}),
    Call('dlcourse.torch.optim.CheckedOptimizer.load_state_dict', (_torch_state_dict(),), make=lambda: _torch_sgd(momentum=0.9),
         bad={'state_dict': [{'state': {}}, {'state': {}, 'param_groups': 3}]}),
    Call('dlcourse.torch.optim.SGD', (_torch_params(),), SGD_OPTIONS, bad={**SGD_BAD, **TORCH_PARAM_BAD}),
    Call('dlcourse.torch.optim.SGD.check_hyperparameters', (dict(lr=0.1, momentum=0, dampening=0, weight_decay=0,
         nesterov=False, maximize=False),), make=_torch_sgd, bad={'options': [{'lr': 0.1}]}),
    Call('dlcourse.torch.optim.SGD.step', (), make=_torch_sgd, bad={'closure': [3]}),
    Call('dlcourse.torch.optim.least_squares_problem', (0, 5, 16, 4),
         bad={'steps': [-1], 'n': [0], 'batch': [0, 17], 'seed': [-1]}),
    Call('dlcourse.torch.optim.least_squares_grad_numpy', (_least_squares_params('numpy'), np.ones((4, 5)), np.ones((4, 3)), 1.0),
         bad={'X': [np.ones((4, 6))], 'Y': [np.ones((5, 3))], 'params': [{'weight': 3}, {}]}),
    Call('dlcourse.torch.optim.least_squares_grad_torch', (_least_squares_params('torch'), torch.ones(4, 5, **F64),
         torch.ones(4, 3, **F64), 1.0), bad={'X': [torch.ones(4, 6, **F64)], 'Y': [torch.ones(5, 3, **F64)],
                                             'params': [{'weight': 3}, {}]}),
    Call('dlcourse.torch.optim.sgd_trajectory', ('numpy', {'lr': 0.05}), {'steps': 3},
         bad={'backend': ['jax'], 'options': [{'lr': -1.0}, {'learning_rate': 0.1}], 'steps': [-1], 'resume_at': [-1, 5],
              'groups': [({'lr': 0.1},)], 'opt_class': [int], 'device': ['bogus']}),
    Call('dlcourse.torch.optim.compare_trajectories', ('SGD', 'numpy', _trajectory(), _trajectory(), 'float64'),
         bad={'dtype': ['float16'], 'run': [{'weight': 'x'}]}),
    Call('dlcourse.torch.optim.check_sgd', ('float64',), {'steps': 2}, bad={'dtype': ['float16'], 'steps': [0, -1],
                                                                          'device': ['bogus']}),

    # ---- dlcourse.explore.backprop
    Call('dlcourse.explore.backprop.neuron', ([1.0, 2.0], [0.5, -0.5], 0.1),
         bad={'x': [[1.0, 'x'], [float('nan'), 1.0]], 'w': [[0.5], [0.5, None]], 'activation': ['softplus']}),
    Call('dlcourse.explore.backprop.leaf_gradients', (_neuron_root(),), bad={'root': [None]}),
    Call('dlcourse.explore.backprop.activation_slope', (0.3, 'tanh'), bad={'activation': ['softplus']}),
    Call('dlcourse.explore.backprop.plot_neuron', (), bad={'activation': ['softplus'], 'axes': [[1, 2]]}),
    Call('dlcourse.explore.backprop.plot_neuron_grid', (),
         bad={'settings': [[{'x1': 'x'}], [3], [{'bogus': 1.0}]]}),
    Call('dlcourse.explore.backprop.bias_sweep', (), {'biases': np.linspace(-1, 1, 3)},
         bad={'x': [(1.0,), ('a', 1.0)], 'activation': ['softplus'], 'biases': [np.ones((2, 2))]}),
    Call('dlcourse.explore.backprop.plot_bias_sweep', (), bad={'x': [(1.0,), ('a', 1.0)], 'w': [(1.0, 2.0, 3.0)]}),
    Call('dlcourse.explore.backprop.gradient_cost', (2,), {'batch_size': 4, 'repeats': 1},
         bad={'width': [0], 'batch_size': [0, 5000], 'repeats': [0], 'seed': [-1]}),
    Call('dlcourse.explore.backprop.plot_gradient_cost', ((1, 2),), {'batch_size': 4},
         bad={'widths': [(0, 2)], 'batch_size': [0]}),

    # ---- dlcourse.explore.descent
    Call('dlcourse.explore.descent.bowl', (np.ones(2),), bad={'p': [np.ones(3)], 'curvatures': [(1.0,), (1.0, -2.0)]}),
    Call('dlcourse.explore.descent.wells', (np.ones(2),), bad={'p': [np.ones(3)]}),
    Call('dlcourse.explore.descent.Surface', _surface_args(),
         bad={'xlim': [(1.0, -1.0), (1.0,)], 'ylim': [(1.0, -1.0)], 'start': [(0.5,)], 'max_curvature': [0.0, -1.0]}),
    Call('dlcourse.explore.descent.Descent', (np.ones((3, 2)), np.ones(3), False),
         bad={'points': [np.ones((3, 3))], 'values': [np.ones(2)]}),
    Call('dlcourse.explore.descent.descend', ('bowl', (1.0, 1.0), 0.1, 3), bad={'surface': ['saddle'], 'start': [(1.0,)]}),
    Call('dlcourse.explore.descent.plot_descent', (), {'steps': 3}, bad={'surface': ['saddle'], 'lr': [-0.1], 'start': [(1.0,)]}),
    Call('dlcourse.explore.descent.plot_descent_grid', ('bowl', (0.05, 0.1), (0.0,)), {'steps': 3},
         bad={'lrs': [(-0.1,), ('x',)], 'noises': [(-1.0,)], 'surface': ['saddle']}),
    Call('dlcourse.explore.descent.well_shares', (0.1, 1.0), {'steps': 3, 'seeds': 2},
         bad={'lr': [-0.1], 'noise': [-1.0], 'seeds': [0], 'steps': [-1]}),
]

EXEMPT = {
    'dlcourse.torch.functions.LinearFunction': 'an autograd.Function is used through `.apply`, never instantiated (see `linear`)',
    'dlcourse.torch.functions.ReLUFunction': 'an autograd.Function is used through `.apply`, never instantiated (see `relu`)',
    'dlcourse.torch.functions.CrossEntropyFunction': 'an autograd.Function is used through `.apply` (see `cross_entropy`)',
    'dlcourse.torch.functions.MSEFunction': 'an autograd.Function is used through `.apply` (see `mse_loss`)',
    'dlcourse.torch.functions.LinearFunction.forward': 'autograd calls it with its own ctx through `.apply`; `linear` is its example',
    'dlcourse.torch.functions.ReLUFunction.forward': 'autograd calls it with its own ctx through `.apply`; `relu` is its example',
    'dlcourse.torch.functions.CrossEntropyFunction.forward': 'autograd calls it through `.apply`; `cross_entropy` is its example',
    'dlcourse.torch.functions.MSEFunction.forward': 'autograd calls it through `.apply`; `mse_loss` is its example',
    'dlcourse.torch.functions.LinearFunction.backward': 'only autograd calls it, with a grad_output it has checked against the output',
    'dlcourse.torch.functions.ReLUFunction.backward': 'only autograd calls it, with a grad_output it has checked against the output',
    'dlcourse.torch.functions.CrossEntropyFunction.backward': 'only autograd calls it, with a grad_output it has checked',
    'dlcourse.torch.functions.MSEFunction.backward': 'only autograd calls it, with a grad_output it has checked',
    'dlcourse.torch.functions.ManualReLU': "takes no arguments (nn.Module's *args, **kwargs pass nothing)",
    'dlcourse.numpy.optim.Optimizer.step': 'abstract: raises NotImplementedError; SGD.step is its example',
}
