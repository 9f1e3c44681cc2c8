"""Bad-input examples for lesson 9's second half: augmentation and metrics (both backends) and their explorations."""
import math

import numpy as np
import torch

from badinput import Call
from dlcourse.explore.generalization import GeneralizationResult
from dlcourse.numpy import augment as npa
from dlcourse.torch import augment as tha

IMAGES = np.random.default_rng(0).random((2, 5, 5))
T_IMAGES = torch.from_numpy(IMAGES.copy())
FLIP = np.array([True, False])
SHIFTS = np.array([[1, 0], [0, -1]])
OFFSETS = np.array([[0, 2], [1, 1]])
ANGLES = np.array([10.0, -30.0])
NOISE = np.full((2, 5, 5), 0.01)
ROWS = np.full((2, 5, 5), 2.0)
COLS = np.full((2, 5, 5), 1.5)

# per-image parameters that must fail: strings, NaN flags, one value broadcast over the batch, wrong shapes
BAD_FLIP = [np.array(['yes', 'no']), np.array([np.nan, 1.0]), np.array([True]), np.array([1.0, 0.0]), [True]]
BAD_SHIFTS = [np.array([[1, 0]]), np.array([1, 0]), np.array([[0.5, 0], [0, 0]]), np.array([[1, 0, 0], [0, 0, 0]]),
              np.array([['a', 'b'], ['c', 'd']])]
BAD_OFFSETS = BAD_SHIFTS + [np.array([[0, 5], [0, 0]]), np.array([[-1, 0], [0, 0]])]
BAD_ANGLES = [np.array([10.0]), np.array([np.nan, 0.0]), np.array([np.inf, 0.0]), np.array(['a', 'b']),
              np.array([[1.0, 2.0]])]
BAD_NOISE = [np.full((1, 5, 5), 0.1), np.full((2, 5), 0.1), np.full((2, 5, 5), np.nan), np.zeros((2, 5, 5), dtype=bool)]
BAD_SHAPE = [(2, 5), (0, 5, 5), (2, -1, 5), (2, 5.0, 5), 'x']

Y_TRUE = np.array([0, 1, 2, 1])
Y_PRED = np.array([0, 2, 2, 1])
Y2_TRUE, Y2_PRED = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
T_TRUE, T_PRED = torch.as_tensor(Y_TRUE), torch.as_tensor(Y_PRED)
T2_TRUE, T2_PRED = torch.as_tensor(Y2_TRUE), torch.as_tensor(Y2_PRED)
CM = np.array([[3, 1], [0, 2]])
SCORES = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
BAD_LABEL_ARRAYS = [np.array([0, -1, 2, 1]), np.array([0, 1, 2]), np.array([0.0, 1.0, 2.0, 1.0])]
BAD_OPTIONS = dict(average=['mean', 3], zero_division=['ignore', 0.5, -1], labels=[[1, 1], [1.5], [-1], []],
                   pos_label=[-1])
PROBS = np.array([0.1, 0.6, 0.8, 0.3])
IS_POS = np.array([0, 1, 1, 0])
RUN = GeneralizationResult('none', 0, 0.9, 0.85, np.array([0.8, 0.9]), np.array([1.0, 0.5]), 2)
TABLE = {'none': dict(runs=[RUN], valid_mean=0.9, valid_std=0.0, test_mean=0.85, test_std=0.0, epochs=2.0)}
SWEEP = dict(threshold=np.array([0.0, 0.5, 1.0]), precision=np.array([0.5, 1.0, 1.0]), recall=np.array([1.0, 1.0, 0.0]),
             f1=np.array([0.67, 1.0, 0.0]))


def augmentation_calls(module, images, backend):
    "Calls of one backend's augmentation functions and constructors."
    p = f"dlcourse.{backend}.augment"
    return [
        Call(f"{p}.hflip", (images, FLIP), bad={'flip': BAD_FLIP}),
        Call(f"{p}.vflip", (images, FLIP), bad={'flip': BAD_FLIP}),
        Call(f"{p}.translate", (images, SHIFTS), bad={'shifts': BAD_SHIFTS}),
        Call(f"{p}.crop", (images, OFFSETS, 1), bad={'offsets': BAD_OFFSETS, 'padding': [-1]}),
        Call(f"{p}.rotate", (images, ANGLES), bad={'angles': BAD_ANGLES}),
        Call(f"{p}.add_noise", (images, NOISE), bad={'noise': BAD_NOISE}),
        Call(f"{p}.crop_window", (module._pad(images, 1) if backend == 'numpy' else torch.nn.functional.pad(images, (1,) * 4),
                                  OFFSETS, 5, 5), bad={'offsets': BAD_OFFSETS, 'height': [0, 8], 'width': [0, 8]}),
        Call(f"{p}.rotation_sources", (ANGLES, 5, 5, 'float64'),
             bad={'angles': BAD_ANGLES[1:], 'height': [0], 'width': [0], 'dtype': ['float16', 'int64']}),
        Call(f"{p}.bilinear_sample", (images, ROWS, COLS),
             bad={'rows': [ROWS[:1], np.full((2, 5, 5), np.nan), ROWS.astype(int)], 'cols': [COLS[:1], COLS[..., :3]]}),
        Call(f"{p}.RandomHorizontalFlip", (0.5,), bad={'p': [-0.1, 1.5]}),
        Call(f"{p}.RandomVerticalFlip", (0.5,), bad={'p': [-0.1, 1.5]}),
        Call(f"{p}.RandomTranslation", (1,), bad={'max_shift': [-1]}),
        Call(f"{p}.RandomCrop", (1,), bad={'padding': [-1]}),
        Call(f"{p}.RandomRotation", (10.0,), bad={'degrees': [-1.0, math.inf]}),
        Call(f"{p}.GaussianNoise", (0.1,), bad={'std': [-0.1, math.inf]}),
    ]


def params_of(**params):
    "Bad parameter dicts: each value of `params` ({key: bad values}) alone in a dict, and an empty dict."
    return [{}] + [{key: v} for key, values in params.items() for v in values]


CALLS = [
    # --- dlcourse.numpy.augment
    *augmentation_calls(npa, IMAGES, 'numpy'),
    Call('dlcourse.numpy.augment.Augmentation.apply', (IMAGES, {'angles': ANGLES}), make=lambda: npa.RandomRotation(30.0),
         bad={'params': params_of(angles=BAD_ANGLES)}),
    Call('dlcourse.numpy.augment.Augmentation.__call__', (IMAGES, 0), make=lambda: npa.RandomRotation(10.0)),
    Call('dlcourse.numpy.augment.RandomHorizontalFlip.sample_params', ((2, 5, 5), 0), make=lambda: npa.RandomHorizontalFlip(0.5),
         bad={'shape': BAD_SHAPE}),
    Call('dlcourse.numpy.augment.RandomTranslation.sample_params', ((2, 5, 5), 0), make=lambda: npa.RandomTranslation(1),
         bad={'shape': BAD_SHAPE}),
    Call('dlcourse.numpy.augment.RandomCrop.sample_params', ((2, 5, 5), 0), make=lambda: npa.RandomCrop(1),
         bad={'shape': BAD_SHAPE}),
    Call('dlcourse.numpy.augment.RandomRotation.sample_params', ((2, 5, 5), 0), make=lambda: npa.RandomRotation(10.0),
         bad={'shape': BAD_SHAPE}),
    Call('dlcourse.numpy.augment.GaussianNoise.sample_params', ((2, 5, 5), 0), make=lambda: npa.GaussianNoise(0.1),
         bad={'shape': BAD_SHAPE}),
    Call('dlcourse.numpy.augment.Compose', ([npa.RandomRotation(10.0), npa.GaussianNoise(0.1)],),
         bad={'transforms': [[npa.RandomRotation(10.0), 'flip'], 3, npa.RandomRotation(10.0)]}),
    Call('dlcourse.numpy.augment.Compose.sample_params', ((2, 5, 5), 0),
         make=lambda: npa.Compose([npa.RandomRotation(10.0), npa.GaussianNoise(0.1)]), bad={'shape': BAD_SHAPE}),
    Call('dlcourse.numpy.augment.Augment', ([(IMAGES.reshape(2, 25), np.array([0, 1]))], npa.RandomRotation(10.0), (5, 5), 0),
         bad={'image_shape': [(5, 0), (5.0, 5)]}),
    Call('dlcourse.numpy.augment.digit_augmentation', (10.0, 0.02), bad={'degrees': [-1.0], 'noise': [-0.1]}),
    Call('dlcourse.numpy.augment.augmented_scaler', (IMAGES.reshape(2, 25), npa.RandomRotation(10.0), (5, 5), 2, 0),
         bad={'image_shape': [(4, 4)], 'copies': [-1]}),
    # --- dlcourse.torch.augment
    *augmentation_calls(tha, T_IMAGES, 'torch'),
    Call('dlcourse.torch.augment.digit_batches', ('float64', 4, 0), bad={'dtype': ['float16'], 'n': [0, 10**6], 'seed': [-1]}),
    Call('dlcourse.torch.augment.grid_sample_rotate', (T_IMAGES[:, None], ANGLES), bad={'angles': BAD_ANGLES}),
    Call('dlcourse.torch.augment.check_augmentation', ('float64', 'cpu', 0), bad={'dtype': ['float16'], 'device': ['bogus'],
                                                                              'seed': [-1]}),
    Call('dlcourse.torch.augment.augmentation_experiment', ({'none': None, 'flip': npa.RandomHorizontalFlip(0.5)}, 0.05, (0,), 1),
         bad={'transforms': [{'bad': 'flip'}, {3: None}], 'fraction': [0.0, 1.5], 'seeds': [(-1,), (0.5,)], 'epochs': [0],
              'device': ['bogus']}),
    # --- dlcourse.numpy.metrics
    *[Call(f"dlcourse.{b}.metrics.{name}", (yt, yp), kwargs, bad={'y_true': bad, 'y_pred': bad, **BAD_OPTIONS},
           doubtful={'pos_label': [7]})
      for b, conv in (('numpy', np.asarray), ('torch', torch.as_tensor))
      for bad in [[conv(a) for a in BAD_LABEL_ARRAYS]]
      for name, (yt, yp), kwargs in (
          ('precision_recall_fscore_support', (conv(Y_TRUE), conv(Y_PRED)), {}),
          ('precision_score', (conv(Y2_TRUE), conv(Y2_PRED)), {}),
          ('recall_score', (conv(Y2_TRUE), conv(Y2_PRED)), {}),
          ('fbeta_score', (conv(Y_TRUE), conv(Y_PRED)), dict(beta=2.0, average='macro')),
          ('f1_score', (conv(Y_TRUE), conv(Y_PRED)), dict(average='weighted')))],
    *[Call(f"dlcourse.{b}.metrics.{name}", (conv(Y_TRUE), conv(Y_PRED)), kwargs,
           bad={'y_true': [conv(a) for a in BAD_LABEL_ARRAYS], 'y_pred': [conv(a) for a in BAD_LABEL_ARRAYS], **extra})
      for b, conv in (('numpy', np.asarray), ('torch', torch.as_tensor))
      for name, kwargs, extra in (
          ('accuracy', {}, {}),
          ('confusion_matrix', dict(labels=[0, 1, 2], normalize='true'),
           dict(labels=[[1, 1], [1.5], [-1], [], [7]], normalize=['rows', 3])),
          ('classification_report', dict(target_names=['a', 'b', 'c']),
           dict(target_names=[['a'], 'abc', [1, 2, 3]], digits=[-1], labels=[[1, 1], [-1]])))],
    Call('dlcourse.numpy.metrics.confusion_matrix', (Y_TRUE, Y_PRED), dict(num_classes=4), bad={'num_classes': [0, 2]}),
    Call('dlcourse.torch.metrics.confusion_matrix', (T_TRUE, T_PRED), dict(num_classes=4), bad={'num_classes': [0, 2]}),
    Call('dlcourse.numpy.metrics.predictions', (SCORES,), bad={'scores': [np.zeros((2, 0)), np.zeros(3)]}),
    Call('dlcourse.torch.metrics.predictions', (torch.as_tensor(SCORES),), bad={'scores': [torch.zeros(2, 0), torch.zeros(3)]}),
    Call('dlcourse.numpy.metrics.normalize_confusion_matrix', (CM, 'true'),
         bad={'cm': [-CM, np.ones((2, 3)), np.array([[np.nan, 1.0], [0.0, 1.0]])], 'normalize': ['rows', None]}),
    Call('dlcourse.numpy.metrics.plot_confusion_matrix', (CM,), dict(display_labels=['no', 'yes'], normalize='true', title='t'),
         bad={'cm': [-CM, np.ones((2, 3))], 'display_labels': [['x']], 'normalize': ['rows'], 'cmap': ['no-such-map']}),
    Call('dlcourse.numpy.metrics.most_confused', (CM, ['a', 'b'], 2), bad={'cm': [-CM], 'labels': [['a']], 'k': [0]}),
    # --- dlcourse.torch.metrics
    Call('dlcourse.torch.metrics.normalize_confusion_matrix', (torch.as_tensor(CM), 'true'),
         bad={'cm': [torch.as_tensor(-CM), torch.ones(2, 3)], 'normalize': ['rows', None]}),
    Call('dlcourse.torch.metrics.metric_cases', ('float64', 0), bad={'dtype': ['float16'], 'seed': [-1]}),
    Call('dlcourse.torch.metrics.check_metrics', ('float64', 'cpu'), bad={'dtype': ['float16'], 'device': ['bogus']}),
    # --- dlcourse.explore.augment
    Call('dlcourse.explore.augment.make_transform', (10.0, 1, 1, 0.5, 0.1),
         bad={'rotation': [-1.0], 'shift': [-1], 'padding': [-1], 'flip_p': [1.5], 'noise': [-0.1]}),
    Call('dlcourse.explore.augment.augmentation_grid', (IMAGES, npa.Compose([npa.RandomRotation(10.0)]), 2, 0),
         bad={'transform': ['rotate'], 'versions': [0, 101], 'seed': [-1]}),
    Call('dlcourse.explore.augment.plot_gallery', (IMAGES, 10.0, 1, 1, 0.5, 0.1, 2, 0),
         bad={'rotation': [-1.0], 'versions': [0], 'seed': [-1], 'flip_p': [2.0]}),
    Call('dlcourse.explore.augment.plot_augmentation_sweep', (IMAGES[0], 1, 0), bad={'image': [IMAGES], 'versions': [0],
                                                                                    'seed': [-1]}),
    Call('dlcourse.explore.augment.augment_explorer', (IMAGES, 2), bad={'versions': [0]}),
    # --- dlcourse.explore.metrics
    Call('dlcourse.explore.metrics.one_vs_rest', (SCORES, np.array([1, 0]), 1), bad={'positive': [-1, 3], 'y': [np.array([1])]}),
    Call('dlcourse.explore.metrics.decide', (PROBS, 0.5), bad={'threshold': [-0.1, 1.5], 'probs': [PROBS + 1]}),
    Call('dlcourse.explore.metrics.threshold_metrics', (PROBS, IS_POS, 0.5, 1.0),
         bad={'probs': [PROBS + 1, PROBS[:2]], 'y': [IS_POS * 2, IS_POS[:2]], 'threshold': [1.5], 'zero_division': ['x', 0.5]}),
    Call('dlcourse.explore.metrics.threshold_sweep', (PROBS, IS_POS, [0.2, 0.5], 1.0),
         bad={'thresholds': [[], [1.5], [[0.5]], [math.nan]], 'zero_division': ['x']}),
    Call('dlcourse.explore.metrics.best_threshold', (SWEEP,), bad={'sweep': [{}, {'threshold': np.zeros(2)}]}),
    Call('dlcourse.explore.metrics.plot_threshold', (PROBS, IS_POS, 0.5, 'pos'), bad={'threshold': [1.5], 'sweep': [{}]}),
    Call('dlcourse.explore.metrics.plot_threshold_gallery', (PROBS, IS_POS, (0.2, 0.8), 'pos'),
         bad={'thresholds': [(), (1.5,), (0.1,) * 7]}),
    Call('dlcourse.explore.metrics.threshold_explorer', (np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 3, 1),
         bad={'positive': [3, -1], 'y': [np.arange(5)]}),
    # --- dlcourse.explore.generalization
    Call('dlcourse.explore.generalization.generalization_table', ((0,), 1, 0.05, ('none',)),
         bad={'seeds': [(), (-1,), ('a',)], 'epochs': [0], 'fraction': [0.0, 1.5], 'settings': [('batchnorm',), 'none']}),
    Call('dlcourse.explore.generalization.format_generalization', (TABLE,), bad={'table': [{'none': 3}, {'none': {}}]}),
    Call('dlcourse.explore.generalization.plot_generalization', (TABLE, None, 0.05),
         bad={'table': [{'none': 3}, {}], 'fraction': [0.0, 1.5]}),
    Call('dlcourse.explore.generalization.draw_generalization', (0.05, 1), dict(none=True), bad={'seeds': [0],
                                                                                             'fraction': [0.0, 1.5]}),
    Call('dlcourse.explore.generalization.generalization_explorer', (0.05, 1), bad={'fraction': [0.15], 'seeds': [0, 4]}),
]

EXEMPT = {
    'dlcourse.numpy.augment.Augmentation.sample_params': 'abstract: raises NotImplementedError; every subclass has an example',
}
