"""Bad-input examples for dlcourse.recipes and dlcourse.cli."""
from badinput import Call

SMALL = dict(epochs=1, hidden=(8,), progress=False)


def _data():
    from dlcourse.data import digits_splits
    return digits_splits(standardize=False, fraction=0.1)


def _numpy_mlp():
    from dlcourse import numpy as dnp
    return dnp.MLP(64, [8, 10])


def _optimizer():
    from dlcourse import numpy as dnp
    return dnp.SGD(_numpy_mlp().parameters(), lr=0.1)


def _state():
    from dlcourse.recipes import initial_state
    return initial_state((8,), 'relu', 'float32', 0)


CALLS = [
    Call('dlcourse.recipes.digit_loaders', (_data(), 32, 0), bad={'batch_size': [0], 'seed': [-1]}),
    Call('dlcourse.recipes.with_dropout', ('numpy', _numpy_mlp(), 0.5), bad={'backend': ['jax'], 'p': [1.0, -0.1]}),
    Call('dlcourse.recipes.initial_state', ((8,), 'relu', 'float32', 0),
         bad={'hidden': [(0,), (8.5,)], 'activation': ['swish'], 'seed': [-1], 'dropout': [1.0]}),
    Call('dlcourse.recipes.load_initial_state', (_numpy_mlp(), _state()), bad={'state': [{'0.weight': 3}]}),
    Call('dlcourse.recipes.optimizer_options', ('sgd', 0.1), bad={'optimizer': ['lbfgs'], 'lr': [-0.1, 0.0]}),
    Call('dlcourse.recipes.make_optimizer', ('numpy', 'sgd', _numpy_mlp().parameters()), kwargs={'lr': 0.1},
         bad={'backend': ['jax'], 'optimizer': ['lbfgs']}),
    Call('dlcourse.recipes.make_scheduler', ('cosine', _optimizer(), 2, 10), bad={'name': ['linear'], 'epochs': [0], 'steps_per_epoch': [0]}),
    Call('dlcourse.recipes.prepare_digits', ('numpy',), kwargs=SMALL,
         bad={'backend': ['jax'], 'epochs': [0], 'lr': [-0.1, 0.0], 'batch_size': [0], 'hidden': [(0,), ()],
              'activation': ['swish'], 'seed': [-1], 'split_seed': [-1], 'device': ['cuda:9'], 'dtype': ['float16'],
              'optimizer': ['lbfgs'], 'momentum': [-0.5], 'scheduler': ['linear'], 'dropout': [1.0, -0.1],
              'early_stopping': [-1]}),
    Call('dlcourse.recipes.prepare_digits', ('torch',), kwargs={**SMALL, 'device': 'cpu'}, bad={'device': ['bogus', 'cuda:9']}),
    Call('dlcourse.recipes.train_digits', ('numpy',), bad={'backend': ['jax']}),
    Call('dlcourse.recipes.compare_backends', (('numpy',),), kwargs=SMALL, bad={'backends': [('numpy', 'numpy'), ('jax',)]}),
    Call('dlcourse.recipes.bench_epoch', (1,), kwargs={'hidden': (8,)}, bad={'epochs': [0], 'batch_size': [0], 'threads': [0], 'hidden': [(0,)]}),
    Call('dlcourse.recipes.digits_test_scores', (1,), bad={'epochs': [0], 'seed': [-1], 'device': ['bogus']}),
    Call('dlcourse.cli.main', (['--version'],), free=('argv',)),
]

EXEMPT = {
    'dlcourse.recipes.TrainResult': 'a result record the recipes build, not an input',
    'dlcourse.recipes.DigitsRun': 'a prepared run that prepare_digits builds after checking every option',
}
