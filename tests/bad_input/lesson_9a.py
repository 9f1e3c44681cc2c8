"""Bad-input examples for lesson 9, first half: regularization, parameter sharing, early stopping, data preparation and
their explorations (dlcourse.numpy/torch.regularization, .sharing, dlcourse.callbacks, dlcourse.prep,
dlcourse.explore.overfitting, dlcourse.explore.prep)."""
from types import SimpleNamespace

import numpy as np
import torch

from badinput import Call

from dlcourse.learner import History
from dlcourse.numpy.nn import Linear, Parameter
from dlcourse.numpy import regularization as npreg
from dlcourse.numpy.sharing import TiedLinear
from dlcourse.torch import regularization as treg
from dlcourse.torch import sharing as tsharing
from dlcourse.torch.nn import Linear as TorchLinear
from dlcourse.callbacks import EarlyStopping
from dlcourse import prep
from dlcourse.explore import overfitting as ov
from dlcourse.explore import prep as eprep

X = np.random.default_rng(0).normal(size=(4, 3))
MASK = np.array([[True, False, True]] * 4)
T = torch.as_tensor(X)
TMASK = torch.as_tensor(MASK)
P = 'dlcourse.numpy.regularization.'
TP = 'dlcourse.torch.regularization.'
SH, TSH = 'dlcourse.numpy.sharing.', 'dlcourse.torch.sharing.'
CB, PR, OV, EP = 'dlcourse.callbacks.', 'dlcourse.prep.', 'dlcourse.explore.overfitting.', 'dlcourse.explore.prep.'
PROBS = {'p': [-0.1, 1.5]}


def _trained(module, x):
    "`module` after one forward pass of `x`, ready for backward."
    module(x)
    return module


def _tied():
    return TiedLinear(Linear(3, 2, dtype='float64', generator=np.random.default_rng(0)))


def _learner(epochs=({'epoch': 0, 'valid_loss': 1.0},)):
    "A stand-in for a Learner: all a callback reads is `history` and `model`."
    return SimpleNamespace(history=History(epochs=list(epochs)), model=Linear(2, 1))


# patients: a small table with missing values; categories as a list (see the note on string arrays below)
TABLE_X = np.array([[1.0, 2.0], [1.0, 2.0], [np.nan, 3.0], [4.0, 50.0], [2.0, 2.5], [3.0, 2.0]])
CITIES = ['Boston', 'boston ', 'NY', 'Chicago', 'Boston', 'NY']
LABELS = np.array([0, 0, 1, 1, 0, 1])
BOUNDS = lambda: prep.OutlierBounds('iqr').fit(TABLE_X)
IMPUTER = lambda: prep.Imputer('median').fit(TABLE_X)
ENCODER = lambda: prep.OneHotEncoder(handle_unknown='ignore').fit(np.array(['a', 'b', 'c'], dtype=object))
DIGITS_X = np.random.default_rng(0).normal(size=(40, 3))
DIGITS_Y = np.repeat(np.arange(4), 10)

# The training runs behind the explorations, as small as they go (one epoch, a tenth of the data).
RUN = dict(width=4, fraction=0.1, epochs=1)
CURVES = ov.Curves(tuple(RUN.values()), *np.full((4, 3), 0.5))
RESULT = eprep.train_imbalanced(5.0, 'none', 3, 5, 0)

CALLS = [
    # ---- dlcourse.numpy.regularization
    Call(P + 'l1_penalty', ([Parameter(X.copy())], 0.1), bad={'weight': [-1.0]}),
    Call(P + 'l2_penalty', ([Parameter(X.copy())], 0.1), bad={'weight': [-1.0]}),
    Call(P + 'penalty_parameters', ([Parameter(X.copy())], 0.1), dict(kind=Parameter), bad={'weight': [-1.0]}),
    Call(P + 'check_dropout_p', (0.5,), bad=PROBS),
    Call(P + 'check_mask', (MASK,), dict(input=X, allow_tensor=False),
         bad={'mask': [np.full(X.shape, 0.5), MASK[:, :2]], 'input': [X[:, :2]]}),
    Call(P + 'dropout_with_mask', (X, MASK, 0.5), bad={**PROBS, 'mask': [MASK[:, :2], np.full(X.shape, 0.5)]}),
    Call(P + 'Dropout', (0.5,), {'generator': np.random.default_rng(0)}, bad={**PROBS, 'generator': [-1]}),
    Call(P + 'Dropout.draw_mask', ((4, 3),), make=lambda: npreg.Dropout(0.5, generator=np.random.default_rng(0)),
         bad={'shape': [(-1, 3)]}),
    Call(P + 'Dropout.forward', (X,), make=lambda: npreg.Dropout(0.5, generator=np.random.default_rng(0))),
    Call(P + 'Dropout.backward', (X,), make=lambda: _trained(npreg.Dropout(0.5, generator=np.random.default_rng(0)), X),
         bad={'grad_output': [X[:, :2]]}),
    Call(P + 'FixedMaskDropout', (MASK, 0.5), bad={**PROBS, 'mask': [np.full(X.shape, 0.5)]}),
    Call(P + 'FixedMaskDropout.forward', (X,), make=lambda: npreg.FixedMaskDropout(MASK, 0.5), bad={'input': [X[:, :2]]}),
    Call(P + 'FixedMaskDropout.backward', (X,), make=lambda: _trained(npreg.FixedMaskDropout(MASK, 0.5), X),
         bad={'grad_output': [X[:, :2]]}),

    # ---- dlcourse.torch.regularization
    Call(TP + 'l1_penalty', ([T.clone().requires_grad_()], 0.1), bad={'weight': [-1.0]}),
    Call(TP + 'l2_penalty', ([T.clone().requires_grad_()], 0.1), bad={'weight': [-1.0]}),
    Call(TP + 'dropout_with_mask', (T, TMASK, 0.5), bad={**PROBS, 'mask': [TMASK[:, :2], torch.full(X.shape, 0.5)]}),
    Call(TP + 'Dropout', (0.5,), {'generator': torch.Generator().manual_seed(0)}, bad=PROBS),
    Call(TP + 'Dropout.forward', (T,), make=lambda: treg.Dropout(0.5, generator=torch.Generator().manual_seed(0))),
    Call(TP + 'FixedMaskDropout', (TMASK, 0.5), bad={**PROBS, 'mask': [torch.full(X.shape, 0.5)]}),
    Call(TP + 'FixedMaskDropout.forward', (T,), make=lambda: treg.FixedMaskDropout(TMASK, 0.5), bad={'input': [T[:, :2]]}),
    Call(TP + 'check_dropout', ('float64', 'cpu'), bad={'dtype': ['float16'], 'device': ['bogus']}),
    Call(TP + 'check_l1_penalty', ('float64', 'cpu'), bad={'dtype': ['float16'], 'device': ['bogus']}),
    Call(TP + 'numpy_l2_run', ('SGD', 'float64'), {'steps': 2},
         bad={'optimizer': ['Nadam'], 'dtype': ['float16'], 'penalty': [-0.1], 'weight_decay': [-0.1], 'steps': [0]}),
    Call(TP + 'torch_l2_run', ('SGD', 'float64'), {'steps': 2, 'device': 'cpu'},
         bad={'optimizer': ['Nadam'], 'dtype': ['float16'], 'penalty': [-0.1], 'weight_decay': [-0.1], 'steps': [0],
              'device': ['bogus']}),
    Call(TP + 'check_l2_weight_decay', ('float64', 'cpu', 0.1), bad={'dtype': ['float16'], 'device': ['bogus'], 'lam': [0.0, -1.0]}),
    Call(TP + 'digits_small_experiment', (), dict(fraction=0.1, epochs=1, seeds=(0,), hidden=8),
         bad={'fraction': [0.0, 1.5], 'epochs': [0], 'seeds': [(-1,)], 'dropout': [1.5], 'weight_decay': [-0.1], 'hidden': [0]}),

    # ---- dlcourse.numpy.sharing
    Call(SH + 'TiedLinear', (Linear(3, 2, dtype='float64'),), {'dtype': 'float64', 'generator': np.random.default_rng(0)},
         bad={'dtype': ['float32'], 'generator': [-1]}, doubtful={'source': [torch.nn.Linear(3, 2)]}),
    Call(SH + 'TiedLinear.forward', (np.ones((4, 2)),), make=_tied, bad={'input': [np.ones((4, 3))]}),
    Call(SH + 'TiedLinear.backward', (np.ones((4, 3)),), make=lambda: _trained(_tied(), np.ones((4, 2))),
         bad={'grad_output': [np.ones((4, 2))]}),

    # ---- dlcourse.torch.sharing
    Call(TSH + 'TiedLinear', (TorchLinear(3, 2, dtype=torch.float64),), {'dtype': 'float64', 'device': 'cpu'},
         bad={'dtype': ['float32'], 'device': ['bogus']}),
    Call(TSH + 'TiedLinear.forward', (torch.ones(4, 2, dtype=torch.float64),),
         make=lambda: tsharing.TiedLinear(TorchLinear(3, 2, dtype=torch.float64)), bad={'input': [torch.ones(4, 3)]}),
    Call(TSH + 'tied_autoencoder', ('numpy',), bad={'backend': ['jax'], 'in_features': [0], 'hidden': [0]}),
    Call(TSH + 'train_autoencoder', (True,), dict(hidden=2, epochs=1, examples=2, device='cpu'),
         bad={'hidden': [0], 'epochs': [0], 'batch_size': [0], 'lr': [0.0, -1.0], 'seed': [-1], 'examples': [-1],
              'device': ['bogus']}),
    Call(TSH + 'compare_autoencoders', (), dict(hidden=2, epochs=1, device='cpu'),
         bad={'hidden': [0], 'lr': [0.0], 'seed': [-1], 'epochs': [0], 'device': ['bogus']}),
    Call(TSH + 'plot_autoencoder_comparison', (), dict(hidden=2, epochs=1, device='cpu'),
         bad={'hidden': [0], 'lr': [0.0], 'seed': [-1], 'epochs': [0], 'device': ['bogus']}),
    Call(TSH + 'autoencoder_explorer', (), dict(epochs=1, device='cpu'), bad={'epochs': [0], 'device': ['bogus']}),

    # ---- dlcourse.callbacks
    Call(CB + 'snapshot_state', (Linear(2, 1),)),
    Call(CB + 'EarlyStopping', (), dict(monitor='valid_loss', patience=3, min_delta=0.0, mode='min'),
         bad={'patience': [-1], 'min_delta': [-0.1], 'mode': ['maximum']}),
    Call(CB + 'EarlyStopping.improved', (0.5,), make=EarlyStopping),
    Call(CB + 'EarlyStopping.before_fit', (_learner(),), make=EarlyStopping),
    Call(CB + 'EarlyStopping.after_epoch', (_learner(),), make=EarlyStopping,
         bad={'learn': [_learner(()), _learner(({'epoch': 0},))]}),
    Call(CB + 'EarlyStopping.after_fit', (_learner(),), make=EarlyStopping),

    # ---- dlcourse.prep
    Call(PR + 'Table', (TABLE_X, ('a', 'b'), CITIES, LABELS), bad={'columns': [('a',)], 'y': [LABELS[:3]]}),
    Call(PR + 'make_patients', (20,), dict(duplicate_rate=0.1, seed=0),
         bad={'n_samples': [5], 'duplicate_rate': [-0.1, 1.0], 'seed': [-1]}),
    Call(PR + 'drop_duplicates', (TABLE_X, LABELS), dict(return_index=True), bad={'y': [LABELS[:3]]}),
    Call(PR + 'unify_categories', (CITIES,), dict(mapping={'ny': 'New York'}, case=True, strip=True),
         bad={'mapping': [{'ny': 3}, {'ny': 'New York', 'NY': 'NYC'}]}),
    Call(PR + 'OutlierBounds', ('iqr', 1.5), bad={'method': ['mad'], 'k': [0.0, -1.0]}),
    Call(PR + 'OutlierBounds.fit', (TABLE_X,), make=prep.OutlierBounds, bad={'X': [np.full((3, 2), np.nan)]}),
    Call(PR + 'OutlierBounds.mask', (TABLE_X,), make=BOUNDS, bad={'X': [np.ones((2, 3))]}),
    Call(PR + 'zscore_outliers', (TABLE_X, 3.0), bad={'threshold': [0.0, -1.0]}),
    Call(PR + 'iqr_outliers', (TABLE_X, 1.5), bad={'k': [0.0, -1.0]}),
    Call(PR + 'clip_outliers', (TABLE_X, BOUNDS()), bad={'X': [np.ones((2, 3))], 'bounds': [prep.OutlierBounds()]}),
    Call(PR + 'drop_outliers', (TABLE_X, BOUNDS(), LABELS), dict(return_index=True),
         bad={'X': [np.ones((2, 3))], 'bounds': [prep.OutlierBounds()], 'y': [LABELS[:3]]}),
    Call(PR + 'Imputer', ('constant', 0.0), bad={'strategy': ['mode']}),
    Call(PR + 'Imputer.fit', (TABLE_X,), make=prep.Imputer, bad={'X': [np.full((3, 2), np.nan)]}),
    Call(PR + 'Imputer.transform', (TABLE_X,), make=IMPUTER, bad={'X': [np.ones((2, 3))]}),
    Call(PR + 'Imputer.fit_transform', (TABLE_X,), make=prep.Imputer, bad={'X': [np.full((3, 2), np.nan)]}),
    Call(PR + 'OneHotEncoder', ('ignore', 'float64'), bad={'handle_unknown': ['skip'], 'dtype': ['text']}),
    Call(PR + 'OneHotEncoder.fit', (CITIES,), make=prep.OneHotEncoder, bad={'values': [['a', None]]}),
    Call(PR + 'OneHotEncoder.transform', (['a', 'c'],), make=ENCODER, bad={'values': [['a', None]]}),
    Call(PR + 'OneHotEncoder.fit_transform', (CITIES,), make=prep.OneHotEncoder, bad={'values': [['a', None]]}),
    Call(PR + 'OneHotEncoder.inverse_transform', (np.eye(3),), make=ENCODER,
         bad={'encoded': [np.eye(3) * 2, np.ones((3, 2))]}),
    Call(PR + 'OneHotEncoder.feature_names', ('city',), make=ENCODER),
    Call(PR + 'stratified_kfold', (DIGITS_Y, 3), dict(shuffle=True, seed=0),
         bad={'y': [-DIGITS_Y], 'n_splits': [1, 11]}),
    Call(PR + 'check_labelled', (DIGITS_X, DIGITS_Y), bad={'X': [DIGITS_X[:5]], 'y': [DIGITS_Y[:5], -DIGITS_Y]}),
    Call(PR + 'make_imbalanced', (DIGITS_X, DIGITS_Y, 1), dict(factor=5.0, seed=0),
         bad={'y': [DIGITS_Y[:5]], 'cls': [7], 'factor': [0.5]}),
    Call(PR + 'random_oversample', (DIGITS_X, DIGITS_Y), dict(seed=0, ratio=1.0),
         bad={'y': [DIGITS_Y[:5]], 'ratio': [0.0, 1.5], 'seed': [-1]}),
    Call(PR + 'random_undersample', (DIGITS_X, DIGITS_Y), dict(seed=0), bad={'y': [DIGITS_Y[:5]], 'seed': [-1]}),
    Call(PR + 'class_weights', (DIGITS_Y,), dict(num_classes=4, scheme='balanced'),
         bad={'y': [np.array([0, 2])], 'num_classes': [0, 3], 'scheme': ['log']}),

    # ---- dlcourse.explore.overfitting
    Call(OV + 'add_label_noise', (np.arange(10), 0.5), dict(num_classes=10, seed=0),
         bad={'noise': [-0.1, 1.5], 'num_classes': [0, 5], 'seed': [-1]}),
    Call(OV + 'training_subset', (0.1, 0.2, 0), bad={'fraction': [0.0, 1.5], 'noise': [-0.1, 1.5], 'seed': [-1]}),
    Call(OV + 'Curves', (tuple(RUN.values()), *np.full((4, 3), 0.5)), bad={'valid_error': [np.ones(2)]}),
    Call(OV + 'plot_curves', (CURVES,), dict(legend=True)),
    Call(OV + 'train_curves', (), {**RUN},
         bad={'width': [0], 'depth': [0], 'fraction': [0.0, 1.5], 'noise': [-0.1, 1.0], 'epochs': [0], 'lr': [0.0],
              'seed': [-1], 'weight_decay': [-0.1]}),
    Call(OV + 'sweep', ('depth', [1]), {**RUN}, bad={'knob': ['height'], 'values': [[0]]}),
    Call(OV + 'plot_sweep', (dict(knob='width', values=[2, 4], train_error=np.array([0.5, 0.2]),
                                  valid_error=np.array([0.6, 0.4])),), dict(log=True),
         bad={'result': [{'knob': 'width'}]}),
    Call(OV + 'plot_grid', (), dict(widths=(4,), fractions=(0.1,), noise=0.2, epochs=1),
         bad={'widths': [(0,)], 'fractions': [(0.0,)], 'noise': [1.0]}),
    Call(OV + 'precompute_grid', (), dict(widths=(4,), fractions=(0.1,), noises=(0.0,), weight_decays=(0.0,), epochs=1),
         bad={'widths': [(0,)], 'fractions': [(0.0,)], 'noises': [(1.0,)], 'weight_decays': [(-1.0,)]}),
    Call(OV + 'draw_run', (), {**RUN}),
    Call(OV + 'overfitting_explorer', (False,)),

    # ---- dlcourse.explore.prep
    Call(EP + 'per_class_recall', (np.array([0, 1, 1]), np.array([0, 1, 0]), 2),
         bad={'y_true': [np.array([0, 5, 1])], 'y_pred': [np.array([0, 1]), np.array([0, 1, 5])], 'num_classes': [0]}),
    Call(EP + 'ImbalanceResult', (5.0, 'none', 3, 0, 5, 2, np.full(10, 0.5), 0.5, np.full(10, 4)),
         bad={'factor': [0.5], 'remedy': ['smote'], 'cls': [10], 'steps': [0], 'recall': [np.full(10, 2.0)],
              'accuracy': [1.5], 'train_counts': [np.full(10, -1)]}),
    Call(EP + 'plot_recall_bars', (RESULT,), dict(title='a title')),
    Call(EP + 'train_imbalanced', (5.0, 'none', 3, 5, 0),
         bad={'factor': [0.5], 'remedy': ['smote'], 'cls': [-1, 10], 'steps': [0], 'seed': [-1]}),
    Call(EP + 'imbalance_table', (5.0, 3, ('none',), 5, 0),
         bad={'factor': [0.5], 'cls': [10], 'remedies': [('smote',)], 'steps': [0], 'seed': [-1]}),
    Call(EP + 'plot_imbalance_grid', ((5.0,), ('none',), 3, 5, 0),
         bad={'factors': [(0.5,)], 'remedies': [('smote',)], 'cls': [10], 'steps': [0], 'seed': [-1]}),
    Call(EP + 'imbalance_explorer', (3, 5), bad={'cls': [10], 'steps': [0]}),
]
