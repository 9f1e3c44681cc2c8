"""Learning-rate schedules (lesson 6, part 2): every scheduler vs torch.optim.lr_scheduler, checkpoints, bad arguments,
chaining, ReduceLROnPlateau's rules, the SchedulerCallback and the learning-rate range test."""
import copy
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as TL

from dlcourse import crosscheck as cc
from dlcourse import schedules as S
from dlcourse.core import manual_seed
from dlcourse.data import ArrayDataset, DataLoader, StandardScaler, load_digits, train_val_test_split
from dlcourse.learner import Learner
from dlcourse.lr_finder import SCHEDULE_CASES, LRFinder, LRFinderResult, _scripted_metric, check_schedule, lr_find, two_group_optimizer
from dlcourse.numpy.losses import CrossEntropyLoss
from dlcourse.numpy.nn import MLP, Parameter
from dlcourse.numpy.optim import SGD
from dlcourse.torch.losses import CrossEntropyLoss as TorchCrossEntropyLoss
from dlcourse.torch.nn import MLP as TorchMLP

STEPS = 300


def sgd(lr=0.1, momentum=0.9, groups=1):
    "A NumPy SGD over dummy parameters, `groups` parameter groups with rates lr, lr/10, ..."
    return SGD([{'params': [Parameter(np.zeros(2))], 'lr': lr / 10 ** i} for i in range(groups)], lr=lr, momentum=momentum)


def torch_sgd(lr=0.1, momentum=0.9, groups=1):
    return torch.optim.SGD([{'params': [torch.nn.Parameter(torch.zeros(2))], 'lr': lr / 10 ** i} for i in range(groups)],
                           lr=lr, momentum=momentum)


def sequences(make, steps=STEPS, metrics=None, groups=2):
    "Recorded schedule of `make(module, optimizer)`: ours on NumPy, ours on torch.optim, and torch's reference."
    ours_np = S.record_schedule(make(S, sgd(groups=groups)), steps, metrics)
    ours_t = S.record_schedule(make(S, torch_sgd(groups=groups)), steps, metrics)
    ref = S.record_schedule(make(TL, torch_sgd(groups=groups)), steps, metrics)
    return ours_np, ours_t, ref


def assert_matches_torch(make, steps=STEPS, metrics=None, rtol=1e-12):
    for ours in sequences(make, steps, metrics)[:2]:
        for key, expected in sequences(make, steps, metrics)[2].items():
            scale = np.abs(expected).max()
            assert np.abs(ours[key] - expected).max() <= rtol * scale, key


# --- every scheduler against PyTorch ---

@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', list(SCHEDULE_CASES))
def test_registered_check_passes(name, dtype):
    concept = {c.name: c for c in cc.concepts()}[name]
    assert (concept.lesson, concept.numpy, concept.torch, concept.builtin) == (
        '6e', f'dlcourse.schedules.{name}', f'dlcourse.schedules.{name}', f'torch.optim.lr_scheduler.{name}')
    results = concept.check(dtype)
    assert results and {r.dtype for r in results} == {dtype}
    failed = [r for r in results if not r.ok]
    assert not failed, cc.format_table(failed, full=True)


EXTRA = {
    'StepLR gamma>1': lambda m, o: m.StepLR(o, 50, gamma=1.5),
    'StepLR step_size longer than run': lambda m, o: m.StepLR(o, 1000),
    'MultiStepLR one milestone': lambda m, o: m.MultiStepLR(o, [299], gamma=0.5),
    'MultiStepLR no milestones': lambda m, o: m.MultiStepLR(o, []),
    'ExponentialLR gamma=1': lambda m, o: m.ExponentialLR(o, 1.0),
    'CosineAnnealingLR T_max=1': lambda m, o: m.CosineAnnealingLR(o, 1),
    'CosineAnnealingLR T_max=2, eta_min': lambda m, o: m.CosineAnnealingLR(o, 2, eta_min=0.003),
    'WarmRestarts T_0=1': lambda m, o: m.CosineAnnealingWarmRestarts(o, 1),
    'WarmRestarts T_mult=4': lambda m, o: m.CosineAnnealingWarmRestarts(o, 2, T_mult=4, eta_min=0.01),
    'LinearLR total_iters=1': lambda m, o: m.LinearLR(o, 0.5, total_iters=1),
    'LinearLR decay to 0.2': lambda m, o: m.LinearLR(o, 1.0, 0.2, 120),
    'OneCycleLR pct_start=0': lambda m, o: m.OneCycleLR(o, 0.5, total_steps=300, pct_start=0.0),
    'OneCycleLR pct_start=0.9 three phases': lambda m, o: m.OneCycleLR(o, 0.5, total_steps=300, pct_start=0.9, three_phase=True),
    'OneCycleLR per-group momenta': lambda m, o: m.OneCycleLR(o, [0.5, 0.2], total_steps=300, base_momentum=[0.8, 0.7],
                                                              max_momentum=[0.9, 0.99]),
    'OneCycleLR tiny total_steps': lambda m, o: m.OneCycleLR(o, 0.5, total_steps=2),
    'SequentialLR three segments': lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=10), m.ExponentialLR(o, 0.95), m.CosineAnnealingLR(o, 50, eta_min=0.001)], [10, 40]),
    'SequentialLR of one': lambda m, o: m.SequentialLR(o, [m.StepLR(o, 20)], []),
    'ChainedScheduler multistep x linear decay': lambda m, o: m.ChainedScheduler(
        [m.MultiStepLR(o, [30, 90]), m.LinearLR(o, 1.0, 0.5, 200)]),
}


@pytest.mark.parametrize('label', EXTRA)
def test_more_argument_sets_match_torch(label):
    steps = 2 if 'tiny' in label else STEPS
    assert_matches_torch(EXTRA[label], steps)


def test_sequences_are_not_trivial():
    "The registered cases really move the rate (a check of constants would prove little)."
    for name, cases in SCHEDULE_CASES.items():
        for case in cases:
            metrics = _scripted_metric(case.metrics, STEPS) if case.metrics else None
            lrs = S.record_schedule(case.make(S, two_group_optimizer('numpy', case.optimizer)), STEPS, metrics)['lr']
            assert np.ptp(lrs[:, 0]) > 0, (name, case.label)


def test_check_schedule_catches_a_wrong_schedule(monkeypatch):
    class LateCosine(S.CosineAnnealingLR):
        def get_lr(self):
            return [S._cosine(self.eta_min, b, (self.last_epoch - 1) / self.T_max) for b in self.base_lrs]
    monkeypatch.setattr(S, 'CosineAnnealingLR', LateCosine)
    results = check_schedule('CosineAnnealingLR')
    assert any(not r.ok for r in results)


def test_closed_forms():
    o = sgd(lr=0.2)
    rec = S.record_schedule(S.ExponentialLR(o, 0.9), 50)['lr'][:, 0]
    np.testing.assert_allclose(rec, 0.2 * 0.9 ** np.arange(51), rtol=1e-15)
    rec = S.record_schedule(S.CosineAnnealingWarmRestarts(sgd(), 10, 2), 70)['lr'][:, 0]
    assert rec[0] == rec[10] == rec[30] == 0.1 and rec[70] == 0.1
    np.testing.assert_allclose(rec[20], 0.05, rtol=1e-14)   # halfway through the 20-step cycle that starts at 10
    rec = S.record_schedule(S.LinearLR(sgd(), 0.25, 1.0, 4), 6)['lr'][:, 0]
    np.testing.assert_allclose(rec, [0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1], rtol=1e-14)


def test_initial_lr_and_base_lrs_per_group():
    o = sgd(groups=3)
    s = S.StepLR(o, 10)
    assert s.base_lrs == [0.1, 0.01, 0.001]
    assert [g['initial_lr'] for g in o.param_groups] == [0.1, 0.01, 0.001]
    assert s.get_last_lr() == [0.1, 0.01, 0.001]
    s.get_last_lr().append(5)                      # a copy: the scheduler's record is unchanged
    assert len(s.get_last_lr()) == 3
    S.ExponentialLR(o, 0.5)                        # a second scheduler keeps the first's initial_lr
    assert [g['initial_lr'] for g in o.param_groups] == [0.1, 0.01, 0.001]


def test_onecycle_sets_group_entries_and_cycles_momentum_or_beta1():
    o = sgd(momentum=0.0)
    S.OneCycleLR(o, max_lr=0.4, total_steps=100)
    g = o.param_groups[0]
    assert (g['initial_lr'], g['max_lr'], g['min_lr']) == (0.4 / 25, 0.4, 0.4 / 25 / 1e4)
    assert g['momentum'] == 0.95 and (g['max_momentum'], g['base_momentum']) == (0.95, 0.85)
    adam = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], betas=(0.9, 0.99))
    s = S.OneCycleLR(adam, max_lr=0.01, total_steps=10)
    for _ in range(3): s.step()
    assert adam.param_groups[0]['betas'][1] == 0.99 and adam.param_groups[0]['betas'][0] < 0.95
    o = sgd(momentum=0.5)
    S.OneCycleLR(o, max_lr=0.4, total_steps=100, cycle_momentum=False)
    assert o.param_groups[0]['momentum'] == 0.5


def test_onecycle_steps_past_the_end():
    s = S.OneCycleLR(sgd(), max_lr=0.1, total_steps=5)
    for _ in range(5): s.step()
    with pytest.raises(ValueError, match='tried to step 6 times, but total_steps is 5'):
        s.step()


def test_schedules_drive_torch_optimizers_from_dlcourse_torch():
    from dlcourse.torch.optim import SGD as OurTorchSGD
    o = OurTorchSGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
    rec = S.record_schedule(S.CosineAnnealingLR(o, 10), 10)['lr'][:, 0]
    np.testing.assert_allclose(rec[[0, 5, 10]], [0.1, 0.05, 0.0], atol=1e-16)


def test_schedules_module_does_not_import_torch():
    code = "import sys, dlcourse.schedules, dlcourse.explore.schedules; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, '-c', code], check=True)


# --- SequentialLR and ChainedScheduler ---

def test_sequential_warmup_then_cosine_values():
    o = sgd(lr=0.2)
    s = S.SequentialLR(o, [S.LinearLR(o, 0.01, total_iters=20), S.CosineAnnealingLR(o, 180)], milestones=[20])
    rec = S.record_schedule(s, 200)['lr'][:, 0]
    np.testing.assert_allclose(rec[:20], 0.2 * (0.01 + 0.99 * np.arange(20) / 20), rtol=1e-14)
    np.testing.assert_allclose(rec[20:], 0.2 * (1 + np.cos(np.pi * np.arange(181) / 180)) / 2, rtol=1e-12, atol=1e-17)
    assert s.get_last_lr() == [o.param_groups[0]['lr']]
    assert s._schedulers[1].last_epoch == 180 and s._schedulers[0].last_epoch == 19


def test_chained_multiplies_factors():
    o = sgd(lr=1.0)
    s = S.ChainedScheduler([S.StepLR(o, 3, 0.5), S.ExponentialLR(o, 0.9)])
    rec = S.record_schedule(s, 7)['lr'][:, 0]
    t = np.arange(8)
    np.testing.assert_allclose(rec, 0.5 ** (t // 3) * 0.9 ** t, rtol=1e-14)


def test_sequential_warmup_before_onecycle_warms_up_to_its_start_as_pytorch():
    "OneCycleLR writes max_lr / div_factor into initial_lr; PyTorch's recursive warm-up starts from there, and so does ours."
    make = lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=20), m.OneCycleLR(o, [0.5, 0.2], total_steps=100)], [20])
    ours_np, ours_t, ref = sequences(make, 120)
    for ours in (ours_np, ours_t):
        for key in ref: np.testing.assert_allclose(ours[key], ref[key], rtol=1e-13, atol=1e-18)
    np.testing.assert_allclose(ref['lr'][[0, 20], 0], [0.5 / 25 * 0.1, 0.5 / 25], rtol=1e-13)   # no jump at the milestone
    assert make(S, sgd(groups=2))._schedulers[0].base_lrs == [0.5 / 25, 0.2 / 25]


@pytest.mark.parametrize('route', ['ours->ours', 'torch->ours', 'ours->torch'])
def test_sequential_rebased_warmup_survives_a_checkpoint_inside_the_warmup(route):
    make = lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=20), m.OneCycleLR(o, 0.5, total_steps=100)], [20])
    mods = {'ours': (S, lambda: sgd(groups=2)), 'torch': (TL, lambda: torch_sgd(groups=2))}
    src, dst = route.split('->')
    got = resume(make, 10, 110, mods[src], mods[dst])
    want = S.record_schedule(make(TL, torch_sgd(groups=2)), 110)
    for key in want: np.testing.assert_allclose(got[key], want[key], rtol=1e-13, atol=1e-18)


def test_sequential_first_cosine_turning_up_keeps_its_rebased_closed_form():
    "PyTorch's cosine climbs back towards its own base rate after its minimum; ours stays the rebased cosine (lesson 6d)."
    make = lambda m, o: m.SequentialLR(o, [m.CosineAnnealingLR(o, 7, eta_min=0.01), m.OneCycleLR(o, 1.0, total_steps=40)], [15])
    ours, ref = S.record_schedule(make(S, sgd()), 30)['lr'][:, 0], S.record_schedule(make(TL, torch_sgd()), 30)['lr'][:, 0]
    np.testing.assert_allclose(ours[:8], ref[:8], rtol=1e-13)                  # down to eta_min: the same
    np.testing.assert_allclose(ours[:15], [S._cosine(0.01, 0.04, t / 7) for t in range(15)], rtol=1e-13)
    assert ref[14] > 0.05 > ours[14]                                            # PyTorch: back towards 0.1, the cosine's own base
    np.testing.assert_allclose(ours[15:], ref[15:], rtol=1e-13)                 # the one-cycle: the same


CHAIN_PARTS = {'cosine': lambda m, o: m.CosineAnnealingLR(o, T_max=10), 'exponential': lambda m, o: m.ExponentialLR(o, 0.9),
               'warm-up': lambda m, o: m.LinearLR(o, 0.5, total_iters=15)}


def product_of_torch_alone(names, steps):
    "Each group's base rate times the product of the factors of torch's schedules `names`, each run on its own optimizer."
    base = np.array([0.1, 0.01])
    return base * np.prod([S.record_schedule(CHAIN_PARTS[n](TL, torch_sgd(groups=2)), steps)['lr'] / base for n in names], axis=0)


@pytest.mark.parametrize('order', [('cosine', 'exponential'), ('exponential', 'cosine'), ('warm-up', 'cosine', 'exponential')])
def test_chained_cosine_through_zero_keeps_the_product_that_pytorchs_chain_loses(order):
    make = lambda m, o: m.ChainedScheduler([CHAIN_PARTS[n](m, o) for n in order])
    ours_np, ours_t, ref = sequences(make, 60)
    product = product_of_torch_alone(order, 60)
    for ours in (ours_np, ours_t): np.testing.assert_allclose(ours['lr'], product, rtol=1e-13, atol=1e-18)
    np.testing.assert_allclose(ref['lr'][:11], product[:11], rtol=1e-12, atol=1e-18)   # until the cosine's zero: the same
    assert (ref['lr'][15:26] > 1.2 * product[15:26]).all()     # after it, around the next peak, PyTorch has lost factors


def test_pytorchs_chain_through_zero_depends_on_the_order_and_ours_does_not():
    rates = {o: {m.__name__: S.record_schedule(m.ChainedScheduler([CHAIN_PARTS[n](m, opt) for n in o]), 40)['lr']
                 for m, opt in ((S, sgd(groups=2)), (TL, torch_sgd(groups=2)))}
             for o in (('cosine', 'exponential'), ('exponential', 'cosine'))}
    a, b = rates.values()
    np.testing.assert_allclose(a['dlcourse.schedules'], b['dlcourse.schedules'], rtol=1e-14, atol=1e-18)
    assert np.abs(a['torch.optim.lr_scheduler'] - b['torch.optim.lr_scheduler']).max() > 1e-4


def test_the_registered_product_case_is_checked_against_the_product():
    case = next(c for c in SCHEDULE_CASES['ChainedScheduler'] if c.factors)
    ours = S.record_schedule(case.make(S, two_group_optimizer('numpy')), STEPS)['lr']
    torchs = S.record_schedule(case.make(TL, two_group_optimizer('torch')), STEPS)['lr']
    assert not np.allclose(ours, torchs)                                    # the case is one where PyTorch's chain differs
    assert all(r.ok for r in check_schedule('ChainedScheduler'))


def test_chained_with_zero_base_rate():
    o = sgd(lr=0.0)
    rec = S.record_schedule(S.ChainedScheduler([S.StepLR(o, 2), S.ExponentialLR(o, 0.9)]), 5)['lr']
    assert (rec == 0).all()


# --- ReduceLROnPlateau ---

def plateau_lrs(metrics, **kwargs):
    return S.record_schedule(S.ReduceLROnPlateau(sgd(lr=1.0), **kwargs), len(metrics), list(metrics))['lr'][:, 0]


def test_plateau_patience_and_cooldown_by_hand():
    flat = [1.0] + [1.0] * 12
    # best=1 at epoch 1, then bad epochs 2, 3, 4: more than patience=2 at epoch 4 -> cut; count restarts
    np.testing.assert_allclose(plateau_lrs(flat, patience=2, factor=0.5)[:9],
                               [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    # cooldown=2: the two epochs after a cut do not count
    np.testing.assert_allclose(plateau_lrs(flat, patience=1, factor=0.5, cooldown=2)[:10],
                               [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])


def test_plateau_thresholds_and_modes_by_hand():
    # rel: 0.99 is not below 1 * (1 - 0.05), so it is a bad epoch
    assert plateau_lrs([1.0, 0.99, 0.99], patience=1, threshold=0.05)[-1] == 0.1
    assert plateau_lrs([1.0, 0.9, 0.8], patience=1, threshold=0.05)[-1] == 1.0
    # abs: must fall by more than 0.02
    assert plateau_lrs([1.0, 0.985, 0.99], patience=1, threshold=0.02, threshold_mode='abs')[-1] == 0.1
    assert plateau_lrs([1.0, 0.97, 0.94], patience=1, threshold=0.02, threshold_mode='abs')[-1] == 1.0
    # max mode: rising is good
    assert plateau_lrs([0.5, 0.6, 0.7], mode='max', patience=0)[-1] == 1.0
    assert plateau_lrs([0.5, 0.4, 0.3], mode='max', patience=0)[-1] == pytest.approx(0.01)
    # min_lr floor and eps
    assert plateau_lrs([1.0] * 10, patience=0, min_lr=0.05)[-1] == 0.05
    assert plateau_lrs([1.0] * 5, patience=0, factor=0.9, eps=0.2)[-1] == 1.0


@pytest.mark.parametrize('mode', ['min', 'max'])
@pytest.mark.parametrize('threshold_mode, threshold', [('rel', 1e-4), ('rel', 1e-2), ('abs', 1e-3), ('abs', 0.02)])
@pytest.mark.parametrize('cooldown', [0, 4])
def test_plateau_matches_torch_over_scripted_metrics(mode, threshold_mode, threshold, cooldown):
    metric = S.plateau_metric(STEPS, seed=3)
    metrics = list(metric if mode == 'min' else 1 - metric)
    make = lambda m, o: m.ReduceLROnPlateau(o, mode=mode, factor=0.6, patience=4, threshold=threshold,
                                            threshold_mode=threshold_mode, cooldown=cooldown, min_lr=[1e-4, 1e-6])
    ours_np, ours_t, ref = sequences(make, STEPS, metrics)
    assert np.ptp(ref['lr'][:, 0]) > 0
    np.testing.assert_array_equal(ours_np['lr'], ref['lr'])
    np.testing.assert_array_equal(ours_t['lr'], ref['lr'])


def test_plateau_accepts_zero_d_tensors_and_arrays():
    s = S.ReduceLROnPlateau(sgd())
    s.step(torch.tensor(0.5)); s.step(np.float32(0.4)); s.step(np.array(0.3)); s.step(torch.tensor([0.2]))
    assert s.best == pytest.approx(0.2) and s.last_epoch == 4


@pytest.mark.parametrize('metric, error, fragment', [
    (float('nan'), ValueError, 'metrics: expected a finite number, got nan'),
    (float('inf'), ValueError, 'metrics: expected a finite number, got inf'),
    (torch.tensor(float('nan')), ValueError, 'metrics: expected a finite number, got nan'),
    (True, TypeError, 'metrics: expected a number'),
    (np.ones(2), ValueError, 'metrics: expected one number, got an array of shape (2,)'),
])
def test_plateau_refuses_a_diverged_or_malformed_metric_where_pytorch_cuts_the_rate(metric, error, fragment):
    ours = S.ReduceLROnPlateau(sgd(), patience=0)
    ours.step(1.0)
    with pytest.raises(error) as info:
        ours.step(metric)
    assert fragment in str(info.value) and ours.last_epoch == 1 and ours.num_bad_epochs == 0
    if error is ValueError and 'finite' in fragment:          # PyTorch counts it as a bad epoch and lowers the rate
        theirs = TL.ReduceLROnPlateau(torch_sgd(), patience=0)
        theirs.step(1.0); theirs.step(metric)
        assert theirs.optimizer.param_groups[0]['lr'] == pytest.approx(0.01)


# --- checkpoints ---

CHECKPOINT_CASES = {
    'StepLR': lambda m, o: m.StepLR(o, 7, 0.5),
    'MultiStepLR': lambda m, o: m.MultiStepLR(o, [10, 50, 100]),
    'ExponentialLR': lambda m, o: m.ExponentialLR(o, 0.97),
    'CosineAnnealingLR': lambda m, o: m.CosineAnnealingLR(o, 60, 0.001),
    'CosineAnnealingWarmRestarts': lambda m, o: m.CosineAnnealingWarmRestarts(o, 10, 2),
    'LinearLR': lambda m, o: m.LinearLR(o, 0.1, total_iters=80),
    'OneCycleLR': lambda m, o: m.OneCycleLR(o, 0.5, total_steps=150),
    'ReduceLROnPlateau': lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=3, cooldown=2),
    'SequentialLR': lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=20), m.CosineAnnealingLR(o, 130)], [20]),
    'ChainedScheduler': lambda m, o: m.ChainedScheduler([m.LinearLR(o, 0.1, total_iters=20), m.ExponentialLR(o, 0.98)]),
}


def resume(make, k, total, source, target, metrics=None):
    "Run `source` (module, optimizer factory) for k steps, move both states into `target`, finish; return all rates."
    (ms, mk_opt_s), (mt, mk_opt_t) = source, target
    opt = mk_opt_s(); sched = make(ms, opt)
    first = S.record_schedule(sched, k, None if metrics is None else metrics[:k])
    opt2 = mk_opt_t(); sched2 = make(mt, opt2)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    sched2.load_state_dict(sched.state_dict())
    rest = S.record_schedule(sched2, total - k, None if metrics is None else metrics[k:])
    return {key: np.concatenate([first[key], rest[key][1:]]) for key in first}


@pytest.mark.parametrize('name', CHECKPOINT_CASES)
@pytest.mark.parametrize('route', ['ours->ours', 'torch->ours', 'ours->torch'])
def test_state_dict_round_trip_mid_schedule(name, route):
    make, total, k = CHECKPOINT_CASES[name], 150, 67
    metrics = list(S.plateau_metric(total)) if name == 'ReduceLROnPlateau' else None
    mods = {'ours': (S, lambda: sgd(groups=2)), 'torch': (TL, lambda: torch_sgd(groups=2))}
    src, dst = route.split('->')
    got = resume(make, k, total, mods[src], mods[dst], metrics)
    want = S.record_schedule(make(S, sgd(groups=2)), total, metrics)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-18)


def test_state_dict_is_a_copy_and_load_checks_the_kind():
    s = S.MultiStepLR(sgd(), [5, 10])
    state = s.state_dict()
    state['milestones'][99] = 1
    assert 99 not in s.milestones
    with pytest.raises(ValueError, match='missing'):
        S.CosineAnnealingLR(sgd(), 10).load_state_dict(S.StepLR(sgd(), 3).state_dict())
    with pytest.raises(TypeError, match='state_dict: expected a dict'):
        s.load_state_dict([1, 2])
    seq = S.SequentialLR(o := sgd(), [S.LinearLR(o), S.ExponentialLR(o, 0.9)], [5])
    with pytest.raises(ValueError, match='state of 2 schedulers'):
        seq.load_state_dict({'_schedulers': [{}]})


RESUMABLE = {
    'StepLR': lambda o, **kw: S.StepLR(o, 7, 0.5, **kw),
    'MultiStepLR': lambda o, **kw: S.MultiStepLR(o, [10, 50], **kw),
    'ExponentialLR': lambda o, **kw: S.ExponentialLR(o, 0.97, **kw),
    'CosineAnnealingLR': lambda o, **kw: S.CosineAnnealingLR(o, 60, 0.001, **kw),
    'CosineAnnealingWarmRestarts': lambda o, **kw: S.CosineAnnealingWarmRestarts(o, 10, 2, **kw),
    'LinearLR': lambda o, **kw: S.LinearLR(o, 0.1, total_iters=80, **kw),
    'OneCycleLR': lambda o, **kw: S.OneCycleLR(o, 0.5, total_steps=100, **kw),
    'SequentialLR': lambda o, **kw: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=20), S.ExponentialLR(o, 0.9)], [20], **kw),
}


@pytest.mark.parametrize('name', RESUMABLE)
def test_last_epoch_resumes_like_an_uninterrupted_run(name):
    make = RESUMABLE[name]
    full = S.record_schedule(make(sgd()), 100)['lr']
    opt = sgd()
    S.record_schedule(make(opt), 40)
    resumed_opt = sgd()
    resumed_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    resumed = S.record_schedule(make(resumed_opt, last_epoch=40), 60)['lr']
    np.testing.assert_array_equal(resumed, full[40:])


# --- bad arguments ---

def two_scheds():
    o = sgd()
    return o, S.LinearLR(o), S.ExponentialLR(o, 0.9)


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: S.StepLR(sgd(), 0), ValueError, 'step_size: expected a value >= 1'),
    (lambda: S.StepLR(sgd(), 2.5), TypeError, 'step_size: expected an integer'),
    (lambda: S.StepLR(sgd(), 5, gamma=0), ValueError, 'gamma: expected a value > 0'),
    (lambda: S.StepLR(sgd(), 5, gamma=float('nan')), ValueError, 'gamma'),
    (lambda: S.StepLR(sgd(), 5, last_epoch=-2), ValueError, 'last_epoch'),
    (lambda: S.StepLR([0.1], 5), TypeError, 'optimizer: expected an optimizer with param_groups'),
    (lambda: S.StepLR(type('O', (), {'param_groups': []})(), 5), TypeError, 'optimizer'),
    (lambda: S.StepLR(type('O', (), {'param_groups': [{'lr': -1.0}]})(), 5), ValueError, "param_groups[0]['lr']"),
    (lambda: S.StepLR(type('O', (), {'param_groups': [{}]})(), 5), TypeError, "param_groups[0]['lr']"),
    (lambda: S.MultiStepLR(sgd(), [10, 10]), ValueError, 'milestones: expected increasing'),
    (lambda: S.MultiStepLR(sgd(), [20, 10]), ValueError, 'milestones: expected increasing'),
    (lambda: S.MultiStepLR(sgd(), [-1, 10]), ValueError, 'milestones[0]'),
    (lambda: S.MultiStepLR(sgd(), 10), TypeError, 'milestones: expected a list'),
    (lambda: S.MultiStepLR(sgd(), [1.5]), TypeError, 'milestones[0]'),
    (lambda: S.ExponentialLR(sgd(), -0.5), ValueError, 'gamma'),
    (lambda: S.CosineAnnealingLR(sgd(), 0), ValueError, 'T_max: expected a value >= 1'),
    (lambda: S.CosineAnnealingLR(sgd(), 10, eta_min=-0.1), ValueError, 'eta_min'),
    (lambda: S.CosineAnnealingWarmRestarts(sgd(), 0), ValueError, 'T_0'),
    (lambda: S.CosineAnnealingWarmRestarts(sgd(), 10, T_mult=0), ValueError, 'T_mult'),
    (lambda: S.CosineAnnealingWarmRestarts(sgd(), 10, T_mult=1.5), TypeError, 'T_mult'),
    (lambda: S.LinearLR(sgd(), start_factor=0), ValueError, 'start_factor'),
    (lambda: S.LinearLR(sgd(), start_factor=1.5), ValueError, 'start_factor'),
    (lambda: S.LinearLR(sgd(), end_factor=-0.1), ValueError, 'end_factor'),
    (lambda: S.LinearLR(sgd(), total_iters=0), ValueError, 'total_iters'),
    (lambda: S.OneCycleLR(sgd(), 0.1), ValueError, 'give total_steps, or both epochs and steps_per_epoch'),
    (lambda: S.OneCycleLR(sgd(), 0.1, epochs=5), ValueError, 'give total_steps'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=0), ValueError, 'total_steps'),
    (lambda: S.OneCycleLR(sgd(), 0.1, epochs=0, steps_per_epoch=5), ValueError, 'epochs'),
    (lambda: S.OneCycleLR(sgd(), 0.1, epochs=2, steps_per_epoch=-1), ValueError, 'steps_per_epoch'),
    (lambda: S.OneCycleLR(sgd(), 0.0, total_steps=10), ValueError, 'max_lr'),
    (lambda: S.OneCycleLR(sgd(), [0.1, 0.2], total_steps=10), ValueError, 'max_lr: expected one value per parameter group'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, pct_start=1.5), ValueError, 'pct_start'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, pct_start=0.1), ValueError, 'zero steps'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, pct_start=1.0), ValueError, 'zero steps'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, anneal_strategy='cosine'), ValueError, 'anneal_strategy'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, div_factor=0), ValueError, 'div_factor'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, final_div_factor=-1), ValueError, 'final_div_factor'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, three_phase=1), TypeError, 'three_phase'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, base_momentum=-0.1), ValueError, 'base_momentum'),
    (lambda: S.OneCycleLR(type('O', (), {'param_groups': [{'lr': 0.1}]})(), 0.1, total_steps=10), ValueError,
     "no 'momentum' or 'betas'"),
    (lambda: S.ReduceLROnPlateau(sgd(), mode='minimum'), ValueError, "mode: expected one of 'min', 'max'"),
    (lambda: S.ReduceLROnPlateau(sgd(), factor=1.0), ValueError, 'factor'),
    (lambda: S.ReduceLROnPlateau(sgd(), patience=-1), ValueError, 'patience'),
    (lambda: S.ReduceLROnPlateau(sgd(), threshold=-1e-3), ValueError, 'threshold'),
    (lambda: S.ReduceLROnPlateau(sgd(), threshold_mode='relative'), ValueError, 'threshold_mode'),
    (lambda: S.ReduceLROnPlateau(sgd(), cooldown=0.5), TypeError, 'cooldown'),
    (lambda: S.ReduceLROnPlateau(sgd(), min_lr=[0.0, 0.1]), ValueError, 'min_lr: expected one value per parameter group'),
    (lambda: S.ReduceLROnPlateau(sgd(), min_lr=-1), ValueError, 'min_lr'),
    (lambda: S.ReduceLROnPlateau(sgd(), eps=-1), ValueError, 'eps'),
    (lambda: S.ReduceLROnPlateau(sgd()).step('low'), TypeError, 'metrics: expected a number'),
    (lambda: S.ReduceLROnPlateau(sgd()).step(None), TypeError, 'metrics'),
    (lambda: S.CosineAnnealingLR(sgd(), 10, last_epoch=3), ValueError, "needs 'initial_lr'"),
    (lambda: S.SequentialLR(*two_scheds()[:1], list(two_scheds()[1:]), [5]), ValueError, 'another optimizer'),
    (lambda: S.SequentialLR(two_scheds()[0], [], []), ValueError, 'non-empty list'),
    (lambda: (lambda o, a, b: S.SequentialLR(o, [a, b], []))(*two_scheds()), ValueError, 'milestones: expected 1 step counts'),
    (lambda: (lambda o, a, b: S.SequentialLR(o, [a, b], [0]))(*two_scheds()), ValueError, 'milestones[0]'),
    (lambda: (lambda o, a, b: S.SequentialLR(o, [a, b, a], [5, 5]))(*two_scheds()), ValueError, 'milestones: expected increasing'),
    (lambda: (lambda o, a, b: S.SequentialLR(o, [a, 'b'], [5]))(*two_scheds()), TypeError, 'schedulers[1]'),
    (lambda: (lambda o, a, b: S.SequentialLR(o, [a, S.ReduceLROnPlateau(o)], [5]))(*two_scheds()), ValueError,
     'cannot hold ReduceLROnPlateau'),
    (lambda: (lambda o, a, b: S.SequentialLR(o, [a, S.ChainedScheduler([b])], [5]))(*two_scheds()), TypeError,
     'single dlcourse.schedules scheduler'),
    (lambda: (lambda o, a, b: S.SequentialLR(o, [a, TL.StepLR(torch_sgd(), 3)], [5]))(*two_scheds()), TypeError, 'schedulers[1]'),
    (lambda: S.ChainedScheduler([]), ValueError, 'non-empty list'),
    (lambda: (lambda o, a, b: S.ChainedScheduler([a, S.CosineAnnealingLR(o, 10, eta_min=0.1)]))(*two_scheds()), ValueError,
     'does not multiply'),
    (lambda: (lambda o, a, b: S.ChainedScheduler([a, S.OneCycleLR(o, 0.1, total_steps=10)]))(*two_scheds()), ValueError,
     'does not multiply'),
    (lambda: (lambda o, a, b: S.ChainedScheduler([a, b], optimizer=sgd()))(*two_scheds()), ValueError, 'another optimizer'),
    (lambda: S.record_schedule(S.StepLR(sgd(), 3), -1), ValueError, 'steps'),
    (lambda: S.record_schedule(S.ReduceLROnPlateau(sgd()), 3, [1.0]), ValueError, 'metrics: expected one value per step (3)'),
    (lambda: S.plateau_metric(0), ValueError, 'steps'),
    (lambda: S.SchedulerCallback('cosine'), TypeError, 'scheduler: expected a dlcourse.schedules scheduler'),
    (lambda: S.SchedulerCallback(S.StepLR(sgd(), 3), interval='step'), ValueError, 'interval'),
    (lambda: S.SchedulerCallback(S.ReduceLROnPlateau(sgd())), ValueError, "interval='epoch'"),
    (lambda: S.SchedulerCallback(S.StepLR(sgd(), 3), interval='epoch', monitor=3), TypeError, 'monitor'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, epochs='2'), TypeError, 'epochs: expected an integer'),
    (lambda: S.OneCycleLR(sgd(), 0.1, total_steps=10, steps_per_epoch=0), ValueError, 'steps_per_epoch'),
    (lambda: S.record_schedule('cosine', 3), TypeError, 'scheduler: expected a learning-rate scheduler'),
    (lambda: S.record_schedule(S.StepLR(sgd(), 3), 2, [0.5, 0.4]), ValueError, 'metrics: StepLR takes no metric'),
    (lambda: S.record_schedule(S.ReduceLROnPlateau(sgd()), 2), ValueError, 'metrics: ReduceLROnPlateau is stepped with one metric'),
    (lambda: S.record_schedule(S.ReduceLROnPlateau(sgd()), 2, 'ab'), TypeError, 'metrics: expected one number per step'),
    (lambda: S.record_schedule(S.ReduceLROnPlateau(sgd()), 2, [0.5, float('nan')]), ValueError, 'metrics: expected a finite'),
    (lambda: S.plateau_metric(10, seed=-1), ValueError, 'seed: expected a value >= 0'),
    (lambda: S.plateau_metric(10, seed=None), TypeError, 'seed: expected an integer'),
])
def test_bad_arguments(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


def test_record_schedule_checks_the_metrics_before_stepping():
    plateau = S.ReduceLROnPlateau(o := sgd(), patience=0)
    with pytest.raises(ValueError, match='metrics: expected a finite number'):
        S.record_schedule(plateau, 3, [0.5, 0.6, float('inf')])
    assert plateau.last_epoch == 0 and o.param_groups[0]['lr'] == 0.1


@pytest.mark.parametrize('hook', ['before_batch', 'after_batch', 'after_epoch'])
def test_callback_hooks_need_the_learner(hook):
    cb = S.SchedulerCallback(S.StepLR(sgd(), 3))
    with pytest.raises(TypeError, match='learn: expected the Learner that runs the fit'):
        getattr(cb, hook)(sgd())
    assert cb.lrs == [] and cb.scheduler.last_epoch == 0


def test_base_class_needs_get_lr_and_group_count_cannot_change():
    with pytest.raises(NotImplementedError, match='must implement get_lr'):
        S.LRScheduler(sgd())
    o = sgd()
    s = S.StepLR(o, 3)
    o.add_param_group({'params': [Parameter(np.zeros(1))]})
    with pytest.raises(ValueError, match='has 2 parameter groups, but the scheduler was built for 1'):
        s.step()


def test_a_failed_group_check_does_not_half_configure_the_optimizer():
    o = sgd(groups=2)
    with pytest.raises(ValueError):
        S.OneCycleLR(o, [0.1, -0.1], total_steps=10)
    assert 'max_lr' not in o.param_groups[0]


# --- SchedulerCallback inside the Learner ---

@pytest.fixture(scope='module')
def digits():
    d = load_digits()
    X_tr, y_tr, X_va, y_va, _, _ = train_val_test_split(d.X, d.y, seed=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr)[:320], y_tr[:320], scaler.transform(X_va), y_va


def numpy_parts(digits, lr=0.1, momentum=0.0, seed=0):
    X, y = digits[:2]
    manual_seed(seed)
    model = MLP(64, [32, 10])
    return model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr, momentum=momentum), \
        DataLoader(ArrayDataset(X, y), batch_size=32, shuffle=True, generator=seed)


def torch_parts(digits, lr=0.1, momentum=0.0, seed=0):
    model, _, _, dl = numpy_parts(digits, lr, momentum, seed)
    weights = {k: torch.from_numpy(v) for k, v in model.state_dict().items()}
    tmodel = TorchMLP(64, [32, 10]); tmodel.load_state_dict(weights)
    return tmodel, TorchCrossEntropyLoss(), torch.optim.SGD(tmodel.parameters(), lr=lr, momentum=momentum), dl


def test_callback_steps_per_batch_and_records_rates(digits):
    model, loss, opt, dl = numpy_parts(digits)
    cb = S.SchedulerCallback(S.OneCycleLR(opt, max_lr=0.2, epochs=2, steps_per_epoch=len(dl)))
    Learner(model, loss, opt, dl, cbs=[cb], progress=False).fit(2)
    want = S.record_schedule(S.OneCycleLR(sgd(), max_lr=0.2, total_steps=2 * len(dl)), 2 * len(dl) - 1)['lr'][:, 0]
    np.testing.assert_allclose(cb.lrs, want, rtol=1e-15)


def test_callback_steps_per_epoch_and_plateau_reads_the_monitor(digits):
    model, loss, opt, dl = numpy_parts(digits)
    cb = S.SchedulerCallback(S.StepLR(opt, 1, 0.5), interval='epoch')
    Learner(model, loss, opt, dl, cbs=[cb], progress=False).fit(3)
    assert sorted(set(cb.lrs), reverse=True) == [0.1, 0.05, 0.025]
    model, loss, opt, dl = numpy_parts(digits)
    plateau = S.ReduceLROnPlateau(opt, patience=0)
    learn = Learner(model, loss, opt, dl, [(digits[2], digits[3])], cbs=[S.SchedulerCallback(plateau, 'epoch')], progress=False)
    learn.fit(2)
    assert plateau.best == min(learn.history.column('valid_loss'))
    model, loss, opt, dl = numpy_parts(digits)
    cb = S.SchedulerCallback(S.ReduceLROnPlateau(opt), 'epoch')
    with pytest.raises(ValueError, match="monitor: 'valid_loss' is not in the epoch record"):
        Learner(model, loss, opt, dl, cbs=[cb], progress=False).fit(1)
    model, loss, opt, dl = numpy_parts(digits)
    cb = S.SchedulerCallback(S.ReduceLROnPlateau(opt), 'epoch', monitor='train_loss')
    Learner(model, loss, opt, dl, cbs=[cb], progress=False).fit(1)
    assert cb.scheduler.last_epoch == 1


# --- the learning-rate range test ---

@pytest.mark.parametrize('parts', [numpy_parts, torch_parts], ids=['numpy', 'torch'])
def test_lr_find_stops_on_divergence_and_restores_exactly(digits, parts):
    model, loss, opt, dl = parts(digits, momentum=0.9)
    learn = Learner(model, loss, opt, dl, progress=False)
    learn.fit(1)                                    # momentum buffers exist: there is optimizer state to restore
    model_before, opt_before = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    res = lr_find(learn, end_lr=1e3, num_it=100)
    assert res.stopped_early and len(res.lrs) < 100
    assert res.losses[-1] > 4 * res.losses.min()
    for k, v in model_before.items():
        np.testing.assert_array_equal(np.asarray(model.state_dict()[k]), np.asarray(v))
    after = opt.state_dict()
    assert after['param_groups'][0]['lr'] == opt_before['param_groups'][0]['lr'] == 0.1
    for i, st in opt_before['state'].items():
        np.testing.assert_array_equal(np.asarray(after['state'][i]['momentum_buffer']), np.asarray(st['momentum_buffer']))
    assert len(learn.history.step_loss) == len(dl) and learn.step == len(dl)


def test_lr_find_restores_even_after_nan(digits):
    model, loss, opt, dl = numpy_parts(digits)
    before = copy.deepcopy(model.state_dict())
    res = lr_find((model, loss, opt, dl), start_lr=1e-3, end_lr=1e12, num_it=60, stop_div=False)
    assert res.stopped_early and np.isfinite(res.raw_losses).all()
    for k, v in before.items(): np.testing.assert_array_equal(model.state_dict()[k], v)


def test_lr_find_sweep_and_suggestions(digits):
    res = lr_find(numpy_parts(digits), start_lr=1e-5, end_lr=1e-1, num_it=30, stop_div=True)
    assert not res.stopped_early and len(res.lrs) == 30
    np.testing.assert_allclose(res.lrs, 1e-5 * (1e4) ** (np.arange(30) / 29), rtol=1e-12)
    for lr in (res.steep, res.minimum * 10, res.suggestion):
        assert res.lrs[0] <= lr <= res.lrs[-1]
    assert res.minimum * 10 == pytest.approx(res.lrs[np.argmin(res.losses)], rel=1e-14)
    assert min(res.steep, res.minimum) <= res.suggestion <= max(res.steep, res.minimum)
    # the smoothed loss is the bias-corrected moving average of the raw losses
    avg, smooth = 0.0, []
    for i, l in enumerate(res.raw_losses):
        avg = 0.98 * avg + 0.02 * l
        smooth.append(avg / (1 - 0.98 ** (i + 1)))
    np.testing.assert_allclose(res.losses, smooth, rtol=1e-12)


def test_lr_find_on_both_backends_agrees(digits):
    a, b = (lr_find(parts(digits), start_lr=1e-4, end_lr=1.0, num_it=60) for parts in (numpy_parts, torch_parts))
    assert len(a.lrs) == len(b.lrs) == 60
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-4)
    assert a.suggestion == pytest.approx(b.suggestion, rel=0.3)


def test_lr_finder_result_properties_and_plot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    lrs = np.logspace(-4, 0, 9)
    res = LRFinderResult(lrs, np.array([2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.7, 0.9, 3.0]), np.ones(9))
    assert res.minimum == pytest.approx(lrs[6] / 10)
    assert res.steep == pytest.approx(lrs[3])                 # steepest fall, left of the minimum
    assert res.suggestion == pytest.approx(np.sqrt(lrs[3] * lrs[6] / 10))
    assert LRFinderResult(lrs[:3], np.array([1.0, 2.0, 3.0]), np.ones(3)).steep == lrs[0]
    ax = res.plot()
    assert ax.get_xscale() == 'log'
    plt.close('all')


SWEEP = np.logspace(-5, 1, 61)                      # 61 rates, 10 per decade: lrs[i] = 10 ** (-5 + i / 10)


def range_test_curve(center: float = -2.0) -> np.ndarray:
    "A noiseless range-test loss: a plateau, a fall steepest at rate 10**center, a minimum, an explosion past 10**-0.8."
    x = np.log10(SWEEP)
    return 2.3 - 2.0 / (1 + np.exp(-(x - center) / 0.25)) + 3.0 * np.clip(x + 0.8, 0, None) ** 2


def smoothed(raw: np.ndarray, beta: float = 0.98) -> np.ndarray:
    "The range test's bias-corrected moving average of `raw`."
    avg, out = 0.0, []
    for i, value in enumerate(raw):
        avg = beta * avg + (1 - beta) * value
        out.append(avg / (1 - beta ** (i + 1)))
    return np.array(out)


def test_suggestion_on_a_clean_u():
    res = LRFinderResult(SWEEP, range_test_curve(), range_test_curve())
    assert np.argmin(res.losses) == 42
    assert res.steep == pytest.approx(1e-2) and res.minimum == pytest.approx(SWEEP[42] / 10)
    assert res.suggestion == pytest.approx(np.sqrt(1e-2 * SWEEP[42] / 10))
    assert SWEEP[0] < res.suggestion < SWEEP[42]


def test_suggestion_when_the_loss_falls_from_step_one():
    # the loss falls from the first rate on, and the first batch happened to be high: the moving average
    # then falls fastest at step one (the old rule picked 1e-5); the real fall is still the one at 1e-2
    x = np.log10(SWEEP)
    losses = range_test_curve() - 0.1 * (x + 5) + 0.5 / np.arange(1, 62)
    assert np.argmin(np.gradient(losses, np.log(SWEEP))) == 0
    res = LRFinderResult(SWEEP, losses, losses)
    assert res.steep == pytest.approx(1e-2)
    assert res.suggestion == pytest.approx(np.sqrt(1e-2 * res.minimum))
    assert SWEEP[0] < res.suggestion < SWEEP[np.argmin(losses)]


@pytest.mark.parametrize('seed', range(10))
def test_suggestion_on_a_noisy_curve(seed):
    clean = range_test_curve()
    raw = clean + np.random.default_rng(seed).normal(0, 0.05, len(SWEEP))
    res, reference = LRFinderResult(SWEEP, smoothed(raw), raw), LRFinderResult(SWEEP, smoothed(clean), clean)
    assert reference.steep == pytest.approx(10 ** -1.5)   # the average lags: its steepest fall is half a decade late
    assert abs(np.log10(res.steep / reference.steep)) < 0.25     # within two rates of the sweep
    assert abs(np.log10(res.suggestion / reference.suggestion)) < 0.25
    assert SWEEP[0] < res.suggestion < SWEEP[np.argmin(res.losses)]


def test_steep_when_the_minimum_comes_first():
    rising = np.linspace(1.0, 3.0, 20)
    res = LRFinderResult(SWEEP[:20], rising, rising)
    assert res.steep == SWEEP[0] and res.suggestion == pytest.approx(SWEEP[0] / np.sqrt(10))
    dip = np.r_[2.0, 1.0, np.linspace(1.5, 3.0, 18)]        # the minimum inside the skipped first tenth
    assert LRFinderResult(SWEEP[:20], dip, dip).steep == SWEEP[1]


@pytest.mark.parametrize('kwargs, error, fragment', [
    (dict(start_lr=0), ValueError, 'start_lr'),
    (dict(start_lr=1.0, end_lr=1.0), ValueError, 'end_lr'),
    (dict(num_it=1), ValueError, 'num_it'),
    (dict(num_it=10.0), TypeError, 'num_it'),
    (dict(stop_div='yes'), TypeError, 'stop_div'),
    (dict(beta=1.0), ValueError, 'beta'),
    (dict(beta=-0.1), ValueError, 'beta'),
])
def test_lr_find_bad_arguments(digits, kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        lr_find(numpy_parts(digits), **kwargs)


def test_lr_find_bad_learner(digits):
    with pytest.raises(TypeError, match='learn: expected a Learner'):
        lr_find(numpy_parts(digits)[:3])
    with pytest.raises(TypeError, match='learn: expected a Learner'):
        lr_find(object())
    model, loss, opt, _ = numpy_parts(digits)
    with pytest.raises(ValueError, match='train_dl: expected at least one batch'):
        lr_find((model, loss, opt, []))


def test_lr_find_that_diverges_at_once_says_so(digits):
    X, y = digits[:2]
    X = X[:64].copy()
    X[32:] = np.nan                                   # the second batch makes the loss NaN
    model, loss, opt, _ = numpy_parts(digits)
    with pytest.raises(ValueError, match='start_lr: the loss became NaN or inf after 1 of 100 batches'):
        lr_find((model, loss, opt, DataLoader(ArrayDataset(X, y[:64]), batch_size=32)))


@pytest.mark.parametrize('kwargs, error, fragment', [
    (dict(num_it=1), ValueError, 'num_it: expected a value >= 2'),
    (dict(num_it=5.0), TypeError, 'num_it: expected an integer'),
    (dict(start_lr=0.0), ValueError, 'start_lr: expected a value > 0'),
    (dict(end_lr=1e-4), ValueError, 'end_lr: expected a value > 0.001'),
    (dict(stop_div=None), TypeError, 'stop_div: expected True or False'),
    (dict(beta=float('nan')), ValueError, 'beta'),
])
def test_the_lr_finder_callback_checks_its_own_arguments(kwargs, error, fragment):
    "LRFinder used directly, without lr_find: num_it=1 used to divide by zero in the middle of a fit."
    with pytest.raises(error, match=fragment.replace('(', r'\(')):
        LRFinder(**{'start_lr': 1e-3, 'end_lr': 1.0, 'num_it': 10, **kwargs})


def test_lr_find_checks_before_it_trains(digits):
    learn = Learner(*numpy_parts(digits), progress=False)
    before = copy.deepcopy(learn.model.state_dict())
    with pytest.raises(ValueError, match='num_it'):
        lr_find(learn, num_it=1)
    assert learn.step == 0 and not learn.history.step_loss
    for k, v in before.items(): np.testing.assert_array_equal(learn.model.state_dict()[k], v)


@pytest.mark.parametrize('hook', ['before_batch', 'after_batch'])
def test_lr_finder_hooks_need_the_learner(hook):
    with pytest.raises(TypeError, match='learn: expected the Learner that runs the fit'):
        getattr(LRFinder(1e-3, 1.0, 10), hook)(None)


def test_lr_finder_result_checks_its_record():
    lrs, losses = np.logspace(-3, 0, 5), np.linspace(2.0, 1.0, 5)
    with pytest.raises(ValueError, match='lrs: expected positive rates in increasing order'):
        LRFinderResult(lrs[::-1], losses, losses)
    with pytest.raises(ValueError, match='lrs, raw_losses: expected one value of raw_losses per rate, got 5 rates and 4'):
        LRFinderResult(lrs, losses, losses[:4])
    with pytest.raises(TypeError, match='losses: expected a NumPy array'):
        LRFinderResult(lrs, list(losses), losses)
    with pytest.raises(ValueError, match='raw_losses: contains NaN'):
        LRFinderResult(lrs, losses, np.r_[losses[:4], np.nan])
    with pytest.raises(TypeError, match='stopped_early: expected True or False'):
        LRFinderResult(lrs, losses, losses, stopped_early='no')
    res = LRFinderResult(lrs, losses, losses)
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): res.plot(ax='left')
    with pytest.raises(TypeError, match='title: expected a string'): res.plot(title=None)
    with pytest.raises(ValueError, match='color: expected a matplotlib colour'): res.plot(color='no such colour')


def test_the_cross_check_helpers_check_their_arguments():
    from dlcourse.lr_finder import ScheduleCase
    with pytest.raises(ValueError, match="name: expected one of 'StepLR'"): check_schedule('Step')
    with pytest.raises(ValueError, match="dtype: expected one of 'float32', 'float64'"): check_schedule('StepLR', 'float16')
    with pytest.raises(ValueError, match='steps: expected a value >= 1'): check_schedule('StepLR', steps=0)
    with pytest.raises(ValueError, match="backend: expected one of 'numpy', 'torch'"): two_group_optimizer('jax')
    with pytest.raises(ValueError, match="kind: expected one of 'sgd', 'adam'"): two_group_optimizer('numpy', 'adamw')
    with pytest.raises(ValueError, match='device: '): two_group_optimizer('numpy', device='bogus')
    with pytest.raises(ValueError, match="optimizer: expected one of 'sgd', 'adam'"): ScheduleCase('x', lambda m, o: None, 'adamw')
    with pytest.raises(TypeError, match='make: expected a function'): ScheduleCase('x', 'StepLR')
    with pytest.raises(TypeError, match='factors: expected a tuple of functions'): ScheduleCase('x', lambda m, o: None, factors=['cos'])
