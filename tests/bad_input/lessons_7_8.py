"""Bad-input examples for lessons 7 and 8: initialization, normalization, gradient clipping, diagnostics and their
explorations (dlcourse.numpy.init/norm/clip, dlcourse.torch.init/norm/clip, dlcourse.diagnostics, dlcourse.explore.init/norm/clip)."""
import math

import numpy as np
import torch

from badinput import Call

W = np.zeros((3, 4))                       # a linear weight: fan_in 4, fan_out 3
X = np.random.default_rng(0).normal(size=(4, 3))
X32 = X.astype(np.float32)
T = torch.zeros(3, 4, dtype=torch.float64)
TX = torch.from_numpy(X32)
RNG = lambda: np.random.default_rng(0)
TGEN = lambda: torch.Generator().manual_seed(0)


def _np_params():
    "Two NumPy parameters with gradients, and one without."
    from dlcourse.numpy.nn import Parameter
    params = [Parameter(np.zeros((2, 3))), Parameter(np.zeros(3)), Parameter(np.zeros(2))]
    params[0].grad, params[1].grad = np.full((2, 3), 2.0), np.full(3, -3.0)
    return params


def _torch_params():
    "Two torch parameters with gradients, and one without."
    params = [torch.nn.Parameter(torch.zeros(2, 3)), torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))]
    params[0].grad, params[1].grad = torch.full((2, 3), 2.0), torch.full((3,), -3.0)
    return params


def _np_model():
    "A small NumPy network with a gradient in every parameter."
    from dlcourse.numpy.losses import CrossEntropyLoss
    from dlcourse.numpy.nn import MLP
    model, loss = MLP(3, [5, 2], dtype='float64', generator=np.random.default_rng(0)), CrossEntropyLoss()
    loss(model(X), np.array([0, 1, 0, 1]))
    model.backward(loss.backward())
    return model


def _learner(*cbs):
    "A Learner of a small NumPy network on four examples, with callbacks `cbs` (not fitted)."
    from dlcourse.data import ArrayDataset, DataLoader
    from dlcourse.learner import Learner
    from dlcourse.numpy.losses import CrossEntropyLoss
    from dlcourse.numpy.nn import MLP
    from dlcourse.numpy.optim import SGD
    model = MLP(3, [5, 2], dtype='float64', generator=np.random.default_rng(0))
    dl = DataLoader(ArrayDataset(X, np.array([0, 1, 0, 1])), batch_size=2)
    return Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), dl, cbs=list(cbs), progress=False)


def _fitted_stats():
    "An ActivationStats that recorded two steps of `_learner`."
    from dlcourse.diagnostics import ActivationStats
    stats = ActivationStats()
    _learner(stats).fit(1)
    return stats


def _batch_norm(module, cls, *args, **kwargs):
    "A layer `cls` of `module` ('dlcourse.numpy.norm' or 'dlcourse.torch.norm') built with args."
    import importlib
    return getattr(importlib.import_module(module), cls)(*args, **kwargs)


def _np_layer_norm_after_forward():
    "A NumPy LayerNorm(3) that has run forward on a (4, 3) float32 batch."
    from dlcourse.numpy.norm import LayerNorm
    ln = LayerNorm(3)
    ln(X32)
    return ln


def _recurrence_after_forward():
    "A TanhRecurrence(1, 4) that has run forward on a (2, 5, 1) batch."
    from dlcourse.explore.clip import TanhRecurrence
    net = TanhRecurrence(1, 4, generator=np.random.default_rng(0))
    net(np.ones((2, 5, 1), np.float32))
    return net


def _ready(callback):
    "`callback` after `before_fit` of a fresh `_learner`, as the Learner leaves it before the first batch."
    callback.before_fit(_learner())
    return callback


def _layer_statistics():
    from dlcourse.explore.init import layer_statistics
    return layer_statistics('relu', 'kaiming', depth=3, width=4, batch_size=4)


def _norm_mlp():
    from dlcourse.numpy.norm import norm_mlp
    return norm_mlp(2, 4, True, in_features=3, dtype='float64', generator=np.random.default_rng(0))


def _linear():
    from dlcourse.numpy.nn import Linear
    return Linear(4, 4, dtype='float64', generator=np.random.default_rng(0))


def _clipping_grid():
    from dlcourse.explore.clip import clipping_grid
    return clipping_grid((1.0,), (None, 1.0), (0,), steps=5, hidden_size=4, epochs=1, n_train=8, batch_size=4)


def _recurrence_run():
    from dlcourse.explore.clip import RecurrenceRun
    return RecurrenceRun(2.0, 1.0, np.array([1.0, 0.5]), np.array([3.0, 0.5]), None, 0.4)


FAN_SHAPES = {'shape': [(3,), (3, -4), (3, 4.0)]}

CALLS = [
    # dlcourse.numpy.init
    Call('dlcourse.numpy.init.constant_', (W.copy(), 0.5)),
    Call('dlcourse.numpy.init.zeros_', (W.copy(),)),
    Call('dlcourse.numpy.init.ones_', (W.copy(),)),
    Call('dlcourse.numpy.init.uniform_', (W.copy(), -1.0, 1.0, RNG()), bad={'b': [-2.0], 'a': [2.0]}),
    Call('dlcourse.numpy.init.normal_', (W.copy(), 0.0, 1.0, RNG()), bad={'std': [-1.0]}),
    Call('dlcourse.numpy.init.fan_in_and_fan_out', ((3, 4),), bad=FAN_SHAPES),
    Call('dlcourse.numpy.init.calculate_gain', ('leaky_relu', 0.2), bad={'nonlinearity': ['relu6', 'ReLU']}),
    Call('dlcourse.numpy.init.xavier_std', ((3, 4), 1.0), bad={'gain': [-1.0], **FAN_SHAPES}),
    Call('dlcourse.numpy.init.kaiming_std', ((3, 4), 0.0, 'fan_in', 'leaky_relu'),
         bad={'mode': ['fan_avg'], 'nonlinearity': ['swish'], **FAN_SHAPES}),
    Call('dlcourse.numpy.init.xavier_uniform_', (W.copy(), 1.0, RNG()), bad={'gain': [-1.0], 'tensor': [np.zeros(3)]}),
    Call('dlcourse.numpy.init.xavier_normal_', (W.copy(), 1.0, RNG()), bad={'gain': [-1.0], 'tensor': [np.zeros(3)]}),
    Call('dlcourse.numpy.init.kaiming_uniform_', (W.copy(), 0.0, 'fan_in', 'leaky_relu', RNG()),
         bad={'mode': ['fan_avg'], 'nonlinearity': ['swish'], 'tensor': [np.zeros(3)]}),
    Call('dlcourse.numpy.init.kaiming_normal_', (W.copy(), 0.0, 'fan_out', 'relu', RNG()),
         bad={'mode': ['fan_avg'], 'nonlinearity': ['swish'], 'tensor': [np.zeros(3)]}),

    # dlcourse.torch.init
    Call('dlcourse.torch.init.constant_', (T.clone(), 0.5)),
    Call('dlcourse.torch.init.zeros_', (T.clone(),)),
    Call('dlcourse.torch.init.ones_', (T.clone(),)),
    Call('dlcourse.torch.init.uniform_', (T.clone(), -1.0, 1.0, TGEN()), bad={'b': [-2.0]}),
    Call('dlcourse.torch.init.normal_', (T.clone(), 0.0, 1.0, TGEN()), bad={'std': [-1.0]}),
    Call('dlcourse.torch.init.xavier_uniform_', (T.clone(), 1.0, TGEN()), bad={'gain': [-1.0], 'tensor': [torch.zeros(3)]}),
    Call('dlcourse.torch.init.xavier_normal_', (T.clone(), 1.0, TGEN()), bad={'gain': [-1.0], 'tensor': [torch.zeros(3)]}),
    Call('dlcourse.torch.init.kaiming_uniform_', (T.clone(), 0.0, 'fan_in', 'leaky_relu', TGEN()),
         bad={'mode': ['fan_avg'], 'nonlinearity': ['swish'], 'tensor': [torch.zeros(3)]}),
    Call('dlcourse.torch.init.kaiming_normal_', (T.clone(), 0.0, 'fan_out', 'relu', TGEN()),
         bad={'mode': ['fan_avg'], 'nonlinearity': ['swish'], 'tensor': [torch.zeros(3)]}),
    Call('dlcourse.torch.init.check_init', ('float64', 'cpu'), bad={'dtype': ['float16', 'int64'], 'device': ['bogus']}),

    # dlcourse.numpy.norm
    Call('dlcourse.numpy.norm.standardize', (X, (0,), 1e-5), bad={'axes': [(2,), (0, -2), 0], 'eps': [-1.0]}),
    Call('dlcourse.numpy.norm.standardize_backward', (X, X, np.ones((1, 3)), (0,)),
         bad={'axes': [(2,), 0], 'grad_x_hat': [X[:2]], 'inv_std': [np.ones(3), np.ones((4, 1))], 'x_hat': [X[:, :2]]}),
    Call('dlcourse.numpy.norm.BatchNorm1d', (3, 1e-5, 0.1, True, True, 'float64'),
         bad={'num_features': [0], 'eps': [0.0], 'momentum': [1.5, -0.1], 'dtype': ['float16', 'int64']}),
    Call('dlcourse.numpy.norm.BatchNorm2d', (3, 1e-5, 0.1, True, True, 'float64'),
         bad={'num_features': [0], 'eps': [0.0], 'momentum': [1.5], 'dtype': ['float16']}),
    Call('dlcourse.numpy.norm.LayerNorm', ((3,), 1e-5, True, True, 'float64'),
         bad={'normalized_shape': [(0,), -1, ()], 'eps': [0.0], 'dtype': ['float16']}),
    Call('dlcourse.numpy.norm.LayerNorm.forward', (X32,), make=lambda: _batch_norm('dlcourse.numpy.norm', 'LayerNorm', 3),
         bad={'input': [X32[:, :2], np.ones(3, np.float32)[None, None, :2]]}),
    Call('dlcourse.numpy.norm.LayerNorm.backward', (X32,), make=_np_layer_norm_after_forward,
         bad={'grad_output': [X32[:2], X32.T]}),
    Call('dlcourse.numpy.norm.norm_mlp', (2, 4, False, 'default', 3, 2, 'float64', RNG()),
         bad={'depth': [0], 'width': [0], 'init': ['xavier'], 'in_features': [0], 'out_features': [0], 'dtype': ['float16']},
         doubtful={'generator': [None]}),

    # dlcourse.torch.norm
    Call('dlcourse.torch.norm.BatchNorm1d', (3, 1e-5, 0.1, True, True, 'cpu', 'float64'),
         bad={'num_features': [0], 'eps': [0.0], 'momentum': [1.5], 'dtype': ['int64', 'float16'], 'device': ['bogus']}),
    Call('dlcourse.torch.norm.BatchNorm2d', (3, 1e-5, 0.1, True, True, 'cpu', 'float64'),
         bad={'num_features': [0], 'momentum': [-0.1], 'dtype': ['int64'], 'device': ['bogus']}),
    Call('dlcourse.torch.norm.LayerNorm', ((3,), 1e-5, True, True, 'cpu', 'float64'),
         bad={'normalized_shape': [(0,), -1, ()], 'eps': [0.0], 'dtype': ['int64'], 'device': ['bogus']}),
    Call('dlcourse.torch.norm.LayerNorm.forward', (TX,), make=lambda: _batch_norm('dlcourse.torch.norm', 'LayerNorm', 3),
         bad={'input': [TX[:, :2]]}),
    Call('dlcourse.torch.norm.channel_data', (RNG(), (4, 3), 1), bad={'shape': [(4, -3)], 'dim': [2, -3]}),
    Call('dlcourse.torch.norm.norm_layers', ('BatchNorm1d', 3, RNG(), True), bad={'name': ['GroupNorm'], 'size': [0]}),
    Call('dlcourse.torch.norm.norm_training_run', ('BatchNorm1d', (4, 3), {}, 2, 0.1, 'float64', 'cpu', 0),
         bad={'name': ['GroupNorm'], 'input_shape': [(4,), (1, 3), (4, 0)], 'options': [{'momentum': 2.0}, {'colour': 1}],
              'steps': [0], 'lr': [-0.1], 'dtype': ['float16'], 'device': ['bogus'], 'seed': [-1]}),
    Call('dlcourse.torch.norm.check_norm_training', ('float64', 'cpu', 2), bad={'dtype': ['float16'], 'steps': [0], 'device': ['bogus']}),

    # dlcourse.numpy.clip
    Call('dlcourse.numpy.clip.vector_norm', (X, 2.0), bad={'ord': ['two', 'nan']}),
    Call('dlcourse.numpy.clip.get_total_norm', ([X, X[0]], 2.0, False, None), bad={'norm_type': ['two']}),
    Call('dlcourse.numpy.clip.clip_grads_with_norm_', (_np_params(), 1.0, np.array(5.0), None), bad={'max_norm': [-1.0]},
         doubtful={'total_norm': [5.0, np.float32(5.0), math.inf]}),
    Call('dlcourse.numpy.clip.clip_grad_norm_', (_np_params(), 1.0, 2.0, False, None), bad={'max_norm': [-1.0]}),
    Call('dlcourse.numpy.clip.clip_grad_value_', (_np_params(), 1.0, None), bad={'clip_value': [-1.0]}),

    # dlcourse.torch.clip
    Call('dlcourse.torch.clip.vector_norm', (TX, 2.0), bad={'ord': ['two']}),
    Call('dlcourse.torch.clip.get_total_norm', ([TX, TX[0]], 2.0, False, None), bad={'norm_type': ['two']}),
    Call('dlcourse.torch.clip.clip_grads_with_norm_', (_torch_params(), 1.0, torch.tensor(5.0), None), bad={'max_norm': [-1.0]},
         doubtful={'total_norm': [5.0, math.inf]}),
    Call('dlcourse.torch.clip.clip_grad_norm_', (_torch_params(), 1.0, 2.0, False, None), bad={'max_norm': [-1.0]}),
    Call('dlcourse.torch.clip.clip_grad_value_', (_torch_params(), 1.0, None), bad={'clip_value': [-1.0]}),
    Call('dlcourse.torch.clip.clip_problem', (0, 'inf'), bad={'seed': [-1], 'nonfinite': ['big']}),
    Call('dlcourse.torch.clip.clip_run', ('numpy', 'clip_grad_norm_', {'max_norm': 1.0}, 'float64', 'cpu', None, False, False),
         bad={'backend': ['jax'], 'function': ['clip_grad'], 'kwargs': [{'colour': 1}], 'dtype': ['float16'],
              'device': ['bogus'], 'nonfinite': ['big']}),
    Call('dlcourse.torch.clip.check_clip', ('clip_grad_value_', 'float64', 'cpu'),
         bad={'function': ['clip'], 'dtype': ['float16'], 'device': ['bogus']}),

    # dlcourse.diagnostics
    Call('dlcourse.diagnostics.GradientClipping', (1.0, None, 2.0), bad={'max_norm': [-1.0], 'norm_type': ['two']},
         doubtful={'clip_value': [1.0]}),
    Call('dlcourse.diagnostics.GradientClipping.before_fit', (_learner(),), make=lambda: __import__('dlcourse.diagnostics').diagnostics.GradientClipping(1.0)),
    Call('dlcourse.diagnostics.GradientClipping.before_step', (_learner(),), make=lambda: _ready(__import__('dlcourse.diagnostics').diagnostics.GradientClipping(1.0))),
    Call('dlcourse.diagnostics.activation_summary', (X, 10, (-3.0, 3.0)),
         bad={'bins': [0], 'hist_range': [(3.0, -3.0), (0.0,), (0.0, math.inf)]}),
    Call('dlcourse.diagnostics.layer_grad_norms', (_np_model(),)),
    Call('dlcourse.diagnostics.default_layers', (_np_model(),)),
    Call('dlcourse.diagnostics.ActivationStats', (['1', '3'], 1, 10, (-3.0, 3.0), True),
         bad={'every': [0], 'bins': [0], 'hist_range': [(1.0, 1.0)], 'modules': ['1', [1]]}),
    Call('dlcourse.diagnostics.ActivationStats.before_fit', (_learner(),), make=lambda: __import__('dlcourse.diagnostics').diagnostics.ActivationStats()),
    Call('dlcourse.diagnostics.ActivationStats.before_batch', (_learner(),), make=lambda: _ready(__import__('dlcourse.diagnostics').diagnostics.ActivationStats())),
    Call('dlcourse.diagnostics.ActivationStats.before_step', (_learner(),), make=lambda: _ready(__import__('dlcourse.diagnostics').diagnostics.ActivationStats())),
    Call('dlcourse.diagnostics.ActivationStats.after_fit', (_learner(),), make=lambda: _ready(__import__('dlcourse.diagnostics').diagnostics.ActivationStats())),
    Call('dlcourse.diagnostics.plot_activation_stats', (_fitted_stats(), None, '')),
    Call('dlcourse.diagnostics.plot_color_dim', (_fitted_stats(), 2, ''), bad={'ncols': [0]}),
    Call('dlcourse.diagnostics.plot_grad_norms', (_fitted_stats(), None, '')),

    # dlcourse.explore.init
    Call('dlcourse.explore.init.init_linear', (_linear(), 'xavier', 'relu', 2.0, RNG()),
         bad={'init': ['orthogonal'], 'activation': ['gelu'], 'gain': [-1.0]}),
    Call('dlcourse.explore.init.LayerStatistics', ([X, X], [X, X]), bad={'gradients': [[X]]}),
    Call('dlcourse.explore.init.layer_statistics', ('relu', 'kaiming', 3, 4, 4, None, 0),
         bad={'activation': ['gelu'], 'init': ['orthogonal'], 'depth': [0], 'width': [0], 'batch_size': [1], 'seed': [-1]},
         doubtful={'gain': [1.0]}),
    Call('dlcourse.explore.init.depth_experiment', ('tanh', 'xavier', 3, 4, 4, 1.5, 0),
         bad={'activation': ['gelu'], 'init': ['orthogonal'], 'depth': [0], 'gain': [-1.0]}),
    Call('dlcourse.explore.init.layer_histograms', ([X, X], (-1.0, 1.0), 5), bad={'value_range': [(1.0, -1.0), (1.0,)], 'bins': [0]}),
    Call('dlcourse.explore.init.plot_layer_statistics', (_layer_statistics(), 'title', None, 5), bad={'bins': [0]}),
    Call('dlcourse.explore.init.plot_init_grid', (('relu',), ('kaiming',), 3, 4, 4, 0),
         bad={'activations': [('gelu',), 'relu'], 'inits': [('orthogonal',), 'kaiming'], 'depth': [0]}),
    Call('dlcourse.explore.init.init_explorer', (8, 4), bad={'width': [0], 'batch_size': [1]}),

    # dlcourse.explore.norm
    Call('dlcourse.explore.norm.layer_stats', (_norm_mlp(), X), bad={'input': [X[:, :2]]}),
    Call('dlcourse.explore.norm.NormRun', (True, 'he', 0.1, np.ones(3), None, 0.9, np.ones((2, 2)), np.ones((2, 2))),
         bad={'init': ['xavier'], 'lr': [-0.1], 'stats_before': [np.ones(2)], 'valid_accuracy': [1.5]}),
    Call('dlcourse.explore.norm.norm_run', (True, 0.1, 'default', 2, 2, 4, 0),
         bad={'lr': [-0.1, 0.0], 'init': ['xavier'], 'steps': [0], 'depth': [0], 'width': [0], 'seed': [-1]}),
    Call('dlcourse.explore.norm.smooth', (np.arange(5.0), 3), bad={'window': [0], 'values': [np.ones((2, 2))]}),
    Call('dlcourse.explore.norm.plot_norm_grid', ((0.1,), ('default',), 2), bad={'inits': [('xavier',)], 'lrs': [(-0.1,)], 'steps': [0]}),
    Call('dlcourse.explore.norm.plot_layer_stats', (0.1, ('default',), 2, None), bad={'lr': [-0.1], 'inits': [('xavier',)], 'steps': [0]}),
    Call('dlcourse.explore.norm.plot_norm_run', (True, 0.1, 'default', 2), bad={'lr': [-0.1], 'init': ['xavier'], 'steps': [0]}),
    Call('dlcourse.explore.norm.norm_explorer', (2,), bad={'steps': [0]}),

    # dlcourse.explore.clip
    Call('dlcourse.explore.clip.TanhRecurrence', (1, 4, 1, 1.0, 'float32', RNG()),
         bad={'input_size': [0], 'hidden_size': [0], 'output_size': [0], 'weight_scale': [-1.0], 'dtype': ['float16']}),
    Call('dlcourse.explore.clip.TanhRecurrence.forward', (np.ones((2, 5, 1), np.float32),),
         make=lambda: __import__('dlcourse.explore.clip').explore.clip.TanhRecurrence(1, 4, generator=np.random.default_rng(0)),
         bad={'input': [np.ones((2, 5, 2), np.float32), np.ones((2, 1), np.float32)]}),
    Call('dlcourse.explore.clip.TanhRecurrence.backward', (np.ones((2, 1), np.float32),), make=_recurrence_after_forward,
         bad={'grad_output': [np.ones((3, 1), np.float32), np.ones((2, 2), np.float32)]}),
    Call('dlcourse.explore.clip.recent_sum_task', (4, 5, (1.0, 0.5), 0, 'float32'),
         bad={'n': [0], 'steps': [0, 1], 'weights': [(), (1.0,) * 6], 'seed': [-1], 'dtype': ['float16']}),
    Call('dlcourse.explore.clip.RecurrenceRun', (2.0, 1.0, np.ones(3), np.ones(3), None, 0.5),
         bad={'weight_scale': [-1.0], 'max_norm': [0.0], 'grad_norm': [np.ones((3, 2))], 'diverged_at': [-1]}),
    Call('dlcourse.explore.clip.train_recurrence', (1.0, 1.0, 0.3, 0, 5, 4, 1, 8, 4, 'float32'),
         bad={'weight_scale': [-1.0], 'max_norm': [0.0, -1.0], 'lr': [0.0], 'steps': [0], 'hidden_size': [0], 'epochs': [0],
              'n_train': [0], 'batch_size': [0], 'dtype': ['float16'], 'seed': [-1]}),
    Call('dlcourse.explore.clip.plot_run', (_recurrence_run(), None, 'C0', 'run')),
    Call('dlcourse.explore.clip.plot_clipping_run', (2.0, 1.0, 0.3, 0, None), bad={'max_norm': [0.0], 'lr': [0.0], 'seed': [-1]}),
    Call('dlcourse.explore.clip.clipping_grid', ((1.0,), (None, 1.0), (0,)),
         bad={'weight_scales': [(), (-1.0,)], 'thresholds': [(), (0.0,)], 'seeds': [(), (-1,)]}),
    Call('dlcourse.explore.clip.plot_clipping_grid', (_clipping_grid(),)),
]
