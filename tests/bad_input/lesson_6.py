"""Bad-input examples for lesson 6: the adaptive optimizers (both backends), the schedules, the range test and the
two explorations (optimizers and schedules)."""
import numpy as np
import torch

from badinput import Call

from dlcourse.data import ArrayDataset, DataLoader
from dlcourse.learner import Learner
from dlcourse.numpy import adaptive as dnp
from dlcourse.numpy.losses import CrossEntropyLoss
from dlcourse.numpy.nn import Linear, Parameter
from dlcourse.numpy.optim import SGD
from dlcourse.torch import adaptive as tad

NUMPY_OPTIMIZERS = ('Adagrad', 'RMSprop', 'Adam', 'AdamW', 'Adamax')


def numpy_param() -> Parameter:
    "A NumPy parameter with a gradient, ready for a step."
    p = Parameter(np.ones(3))
    p.accumulate_grad(np.full(3, 0.5))
    return p


def torch_param() -> torch.nn.Parameter:
    "A PyTorch parameter with a gradient, ready for a step."
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 0.5)
    return p


def sgd() -> SGD:
    "A NumPy SGD with momentum over one dummy parameter: enough to drive a schedule."
    return SGD([Parameter(np.zeros(1))], lr=0.1, momentum=0.9)


def sequential() -> 'S.SequentialLR':
    "A warm-up then a step decay, on a fresh optimizer."
    from dlcourse import schedules as S
    opt = sgd()
    return S.SequentialLR(opt, [S.LinearLR(opt, 0.1, total_iters=3), S.StepLR(opt, 3)], [3])


def tiny_learner() -> Learner:
    "A NumPy Learner of a 4-3 linear classifier on 8 random examples in batches of 4: fast to fit."
    rng = np.random.default_rng(0)
    model = Linear(4, 3, generator=0)
    dl = DataLoader(ArrayDataset(rng.normal(size=(8, 4)), rng.integers(0, 3, 8)), batch_size=4)
    learn = Learner(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), dl, progress=False)
    learn.loss = 1.0
    return learn


# The float hyperparameters whose defaults PyTorch writes as integers (`weight_decay=0`): given here as floats, so that
# the suite derives the bad values of a float (a float like 2.5 is a valid decay).
FLOAT_OPTIONS = {'Adagrad': dict(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0),
                 'RMSprop': dict(weight_decay=0.0, momentum=0.0), 'Adam': dict(weight_decay=0.0), 'AdamW': {},
                 'Adamax': dict(weight_decay=0.0)}


def _optimizer_calls() -> list:
    "Each adaptive optimizer's constructor and step, in both backends, with the values only their meaning rules out."
    bad = {'lr': [-1e-3], 'lr_decay': [-0.1], 'weight_decay': [-0.01], 'eps': [-1e-8], 'initial_accumulator_value': [-1.0],
           'alpha': [-0.5, 1.5], 'momentum': [-0.9], 'betas': [(0.9, 1.0), (-0.1, 0.999), (0.9,)]}
    calls = []
    for name in NUMPY_OPTIMIZERS:
        for module, param in (('numpy', numpy_param), ('torch', torch_param)):
            cls = getattr(dnp if module == 'numpy' else tad, name)
            args = ([param()],)
            calls.append(Call(f'dlcourse.{module}.adaptive.{name}', args, FLOAT_OPTIONS[name], bad=bad))
            if name != 'AdamW':   # AdamW's step is Adam's
                calls.append(Call(f'dlcourse.{module}.adaptive.{name}.step', make=lambda cls=cls, param=param: cls([param()])))
    return calls


CALLS = [
    *_optimizer_calls(),
    # a bad hyperparameter inside `options` is named by its own key ("lr: expected a value >= 0"), which is more precise
    # than the name of the dict, so such values are in the optimizers' examples, not here
    Call('dlcourse.numpy.adaptive.check_optimizer_options', ({'lr': 0.1, 'betas': (0.9, 0.99)},)),
    Call('dlcourse.numpy.adaptive.AdaptiveOptimizer', ([Parameter(np.zeros(2))], {'lr': 0.1})),
    Call('dlcourse.numpy.adaptive.AdaptiveOptimizer.check_hyperparameters', ({'lr': 0.1},),
         make=lambda: dnp.Adam([Parameter(np.zeros(2))])),
    Call('dlcourse.numpy.adaptive.params_with_grads', ({'params': [Parameter(np.zeros(2))], 'maximize': False},),
         bad={'group': [{'params': [Parameter(np.zeros(2))]}, {'maximize': False}]}),
    Call('dlcourse.torch.adaptive.AdaptiveOptimizer', ([torch.nn.Parameter(torch.zeros(2))], {'lr': 0.1})),
    Call('dlcourse.torch.adaptive.AdaptiveOptimizer.check_hyperparameters', ({'lr': 0.1},),
         make=lambda: tad.Adam([torch.nn.Parameter(torch.zeros(2))])),
    Call('dlcourse.torch.adaptive.optimizer_trajectory', (dnp.Adam, 'numpy', {'lr': 0.01}), dict(steps=3),
         bad={'backend': ['jax'], 'problem': ['mnist'], 'steps': [-1], 'groups': [({'lr': 0.1},)], 'resume_at': [-1, 5],
              'seed': [-1], 'opt_class': [torch.optim.Adam, dict]}),
    Call('dlcourse.torch.adaptive.optimizer_runs', ('Adam',), bad={'name': ['Lion'], 'steps': [0]}),
    Call('dlcourse.torch.adaptive.check_optimizer', ('Adam',), dict(steps=2),
         bad={'name': ['Lion'], 'steps': [0], 'dtype': ['float16'], 'device': ['bogus']}),
    Call('dlcourse.torch.adaptive.mlp_shapes', ((4, 3, 2),), bad={'layer_sizes': [(4,), (4, 0, 2)]}),
    Call('dlcourse.torch.adaptive.benchmark_adam_step', ((4, 3, 2),), dict(repeats=2, warmup=1),
         bad={'layer_sizes': [(4,)], 'repeats': [0], 'warmup': [-1], 'seed': [-1], 'device': ['bogus']}),
]

from dlcourse import schedules as S                                    # noqa: E402
from dlcourse.lr_finder import LRFinder, LRFinderResult, ScheduleCase  # noqa: E402

SWEEP = LRFinderResult(np.logspace(-3, 0, 5), np.array([2.0, 1.9, 1.5, 1.2, 3.0]), np.array([2.0, 1.8, 1.4, 1.1, 3.2]))

CALLS += [
    Call('dlcourse.schedules.LRScheduler.load_state_dict', (S.StepLR(sgd(), 3).state_dict(),), make=lambda: S.StepLR(sgd(), 3),
         bad={'state_dict': [{}, S.ExponentialLR(sgd(), 0.9).state_dict()]}),
    Call('dlcourse.schedules.StepLR', (sgd(), 3), bad={'step_size': [0], 'gamma': [0.0, -0.5], 'last_epoch': [-2, 3]}),
    Call('dlcourse.schedules.MultiStepLR', (sgd(), [3, 6]), bad={'milestones': [[6, 3], [-1], 3], 'gamma': [0.0]}),
    Call('dlcourse.schedules.ExponentialLR', (sgd(), 0.9), bad={'gamma': [0.0, -0.9]}),
    Call('dlcourse.schedules.CosineAnnealingLR', (sgd(), 10), bad={'T_max': [0], 'eta_min': [-0.1]}),
    Call('dlcourse.schedules.CosineAnnealingWarmRestarts', (sgd(), 10), bad={'T_0': [0], 'T_mult': [0], 'eta_min': [-0.1]}),
    Call('dlcourse.schedules.LinearLR', (sgd(),), bad={'start_factor': [0.0, 1.5], 'end_factor': [-0.1, 1.5], 'total_iters': [0]}),
    Call('dlcourse.schedules.OneCycleLR', (sgd(), 0.1), dict(total_steps=10),
         bad={'max_lr': [0.0, [0.1, 0.2]], 'total_steps': [0], 'pct_start': [1.5, 0.1], 'anneal_strategy': ['cosine'],
              'div_factor': [0.0], 'final_div_factor': [-1.0], 'base_momentum': [-0.1], 'max_momentum': [-0.1]}),
    Call('dlcourse.schedules.OneCycleLR', (sgd(), 0.1), dict(epochs=2, steps_per_epoch=5),
         bad={'epochs': [0], 'steps_per_epoch': [0]}),
    Call('dlcourse.schedules.ReduceLROnPlateau', (sgd(),), dict(min_lr=0.0),
         bad={'mode': ['minimum'], 'factor': [1.0, -0.1], 'patience': [-1], 'threshold': [-1e-3], 'threshold_mode': ['relative'],
              'cooldown': [-1], 'min_lr': [-0.1, [0.0, 0.1]], 'eps': [-1.0]}),
    Call('dlcourse.schedules.ReduceLROnPlateau.step', (0.5,), make=lambda: S.ReduceLROnPlateau(sgd()),
         bad={'metrics': [float('inf'), np.ones(2)]}, doubtful={'metrics': [np.float32(0.5), np.array(0.5), torch.tensor(0.5)]}),
    Call('dlcourse.schedules.SequentialLR', (opt := sgd(), [S.LinearLR(opt, 0.1, total_iters=3), S.StepLR(opt, 3)], [3]),
         bad={'milestones': [[], [0], [3, 4]], 'schedulers': [[S.StepLR(sgd(), 3), S.StepLR(sgd(), 3)]]}),
    Call('dlcourse.schedules.SequentialLR.load_state_dict', (sequential().state_dict(),), make=sequential,
         bad={'state_dict': [{}, S.StepLR(sgd(), 3).state_dict()]}),
    Call('dlcourse.schedules.ChainedScheduler', ([S.LinearLR(opt := sgd(), 0.1, total_iters=3), S.ExponentialLR(opt, 0.9)],),
         bad={'schedulers': [[], [S.CosineAnnealingLR(sgd(), 10, eta_min=0.01)]], 'optimizer': [sgd()]}),
    Call('dlcourse.schedules.record_schedule', (S.StepLR(sgd(), 3), 5), bad={'steps': [-1], 'metrics': [[1.0], 'abcde']}),
    Call('dlcourse.schedules.plateau_metric', (20,), bad={'steps': [0], 'seed': [-1]}),
    Call('dlcourse.schedules.SchedulerCallback', (S.StepLR(sgd(), 3),),
         bad={'interval': ['step'], 'scheduler': [torch.optim.lr_scheduler.StepLR(
             torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), 3)]}),
    *[Call(f'dlcourse.schedules.SchedulerCallback.{hook}', (tiny_learner(),), make=lambda: S.SchedulerCallback(S.StepLR(sgd(), 3)))
      for hook in ('before_batch', 'after_batch', 'after_epoch')],
    Call('dlcourse.lr_finder.ScheduleCase', ('step_size=3', lambda m, o: m.StepLR(o, 3)),
         bad={'optimizer': ['adamw'], 'metrics': ['flat']}),
    Call('dlcourse.lr_finder.two_group_optimizer', ('numpy',), bad={'backend': ['jax'], 'kind': ['adamw'], 'device': ['bogus']}),
    Call('dlcourse.lr_finder.check_schedule', ('StepLR',), dict(steps=5),
         bad={'name': ['Step'], 'dtype': ['float16'], 'device': ['bogus'], 'steps': [0]}),
    Call('dlcourse.lr_finder.LRFinderResult', (SWEEP.lrs, SWEEP.losses, SWEEP.raw_losses),
         bad={'lrs': [np.zeros(5), np.logspace(-3, 0, 4)], 'losses': [np.ones(4)], 'raw_losses': [np.ones(6)]}),
    Call('dlcourse.lr_finder.LRFinderResult.plot', make=lambda: SWEEP, bad={'color': ['no such colour']}),
    Call('dlcourse.lr_finder.LRFinder', (1e-3, 1.0, 5), bad={'start_lr': [0.0], 'end_lr': [1e-4], 'num_it': [1], 'beta': [1.0]}),
    *[Call(f'dlcourse.lr_finder.LRFinder.{hook}', (tiny_learner(),), make=lambda: LRFinder(1e-3, 1.0, 5))
      for hook in ('before_batch', 'after_batch')],
    Call('dlcourse.lr_finder.lr_find', (tiny_learner(),), dict(start_lr=1e-3, end_lr=1.0, num_it=5),
         bad={'start_lr': [0.0], 'end_lr': [1e-4], 'num_it': [1], 'beta': [1.0, -0.1], 'learn': [(1, 2, 3)]}),
]

from dlcourse.explore import optimizers as EO  # noqa: E402
from dlcourse.explore import schedules as ES   # noqa: E402

RUNS = EO.race('saddle', steps=3)
CURVATURES = (0.01, 1.0)

CALLS += [
    Call('dlcourse.explore.optimizers.rotated_hessian', ((1.0, 25.0), 30.0), bad={'curvatures': [(0.0, 1.0), (1.0,), (1.0, 2.0, 3.0)]}),
    Call('dlcourse.explore.optimizers.run_optimizer', ('quadratic', SGD, {'lr': 0.05}, 5),
         bad={'surface': ['bowl'], 'steps': [-1], 'start': [(0.0, 0.0, 0.0)], 'opt_class': [dnp.Adam([Parameter(np.zeros(2))])]}),
    Call('dlcourse.explore.optimizers.race_options', ('quadratic',),
         bad={'surface': ['bowl'], 'names': [['Lion']], 'lr_scale': [0.0], 'momentum': [-0.1], 'betas': [(0.9, 1.0), (0.9,)]}),
    Call('dlcourse.explore.optimizers.race', ('saddle',), dict(steps=3),
         bad={'surface': ['bowl'], 'steps': [-1], 'racers': [{'SGD': SGD}], 'start': [(1.0,)]}),
    Call('dlcourse.explore.optimizers.plot_race', ('saddle', RUNS), bad={'surface': ['bowl'], 'runs': [{'SGD': 3}]}),
    Call('dlcourse.explore.optimizers.plot_race_grid', (('saddle',),), bad={'surfaces': [('bowl',), ()]}),
    Call('dlcourse.explore.optimizers.plot_race_with', ('saddle',), dict(steps=3),
         bad={'surface': ['bowl'], 'names': [('Lion',)], 'lr_scale': [0.0], 'momentum': [-0.1], 'beta1': [1.0], 'beta2': [1.0],
              'steps': [-1]}),
    Call('dlcourse.explore.optimizers.momentum_rate', (0.5, 0.9, CURVATURES),
         bad={'lr': [-0.1], 'momentum': [1.0, -0.1], 'curvatures': [(0.0, 1.0), ()]}),
    Call('dlcourse.explore.optimizers.steps_to_tolerance', (0.5,), bad={'rate': [-0.5], 'tol': [0.0, 1.0]}),
    Call('dlcourse.explore.optimizers.best_momentum', (CURVATURES,), bad={'curvatures': [(0.0, 1.0), (-1.0, 1.0)]}),
    Call('dlcourse.explore.optimizers.simulate_momentum', (0.5, 0.9, CURVATURES, 5),
         bad={'lr': [-0.1], 'momentum': [-0.1, 1.0], 'curvatures': [(0.0, 1.0)], 'steps': [0]}),
    Call('dlcourse.explore.optimizers.momentum_map', (CURVATURES, np.linspace(0.1, 2.0, 3), np.linspace(0.0, 0.9, 3)),
         bad={'lrs': [np.array([-0.1, 1.0])], 'momenta': [np.array([0.5, 1.0])], 'curvatures': [(0.0, 1.0)]}),
    Call('dlcourse.explore.optimizers.plot_momentum_map', (), dict(kappa=10.0, point=(1.0, 0.5), resolution=10),
         bad={'kappa': [0.5], 'resolution': [1], 'point': [(1.0, 0.5, 0.2)]}),
    Call('dlcourse.explore.optimizers.plot_momentum_maps', ((10.0,),), bad={'kappas': [(), (0.5,)]}),
    Call('dlcourse.explore.optimizers.plot_momentum_choice', (), dict(kappa=10.0, steps=10),
         bad={'kappa': [0.5], 'lr': [-0.1], 'momentum': [1.0], 'steps': [0]}),
    Call('dlcourse.explore.schedules.Knob', (0.5, 0.0, 1.0), free=('default',), bad={'kind': ['slider'], 'high': [-1.0]}),
    Call('dlcourse.explore.schedules.Schedule', (lambda opt, steps: S.StepLR(opt, 3),),
         bad={'knobs': [{'gamma': 0.5}, {3: ES.Knob(0.5)}]}),
    Call('dlcourse.explore.schedules.ScheduleCurve', ('StepLR', {}, np.full(4, 0.1), np.full(4, 0.9)),
         bad={'momenta': [np.full(3, 0.9)]}),
    Call('dlcourse.explore.schedules.schedule_curve', ('StepLR',), dict(steps=10),
         bad={'name': ['cosine'], 'steps': [0], 'lr': [0.0], 'momentum': [1.0]}),
    Call('dlcourse.explore.schedules.plot_schedule', (ES.schedule_curve('OneCycleLR', steps=10),)),
    Call('dlcourse.explore.schedules.schedule_gallery', (), dict(steps=10), bad={'steps': [0], 'lr': [0.0]}),
    Call('dlcourse.explore.schedules.schedule_explorer', (), dict(steps=20), bad={'steps': [5], 'lr': [2.0]}),
]

EXEMPT = {
    'dlcourse.schedules.LRScheduler': "the abstract base: building one calls get_lr, which only subclasses define; its "
                                      "optimizer and last_epoch are checked through every subclass's example",
}
