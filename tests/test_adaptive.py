"""Lesson 6: momentum and adaptive optimizers (Adagrad, RMSprop, Adam, AdamW, Adamax) in NumPy and PyTorch.

The registry (tests/test_crosscheck.py) runs 50-step checks; here are issue 3's "Must show" numbers: 200 steps on a
least-squares problem and one digits epoch for every option combination to relative 1e-9, checkpoint round trips in
both backends, bad hyperparameters, and the traps of DESIGN.md in closed form."""
import copy

import numpy as np
import pytest
import torch

from dlcourse.crosscheck import compare
from dlcourse.numpy import adaptive as dnp
from dlcourse.numpy.adaptive import check_optimizer_options, params_with_grads
from dlcourse.numpy.nn import Parameter
from dlcourse.torch import adaptive as tad
from dlcourse.torch.optim import SGD_CHECKS
from dlcourse.torch.adaptive import (BACKENDS, GROUP_CHECKS, OPTIMIZERS, OPTION_CHECKS, benchmark_adam_step, digits_problem,
                                     mlp_shapes, optimizer_runs, optimizer_trajectory)

NAMES = list(OPTION_CHECKS)
# The trajectory tests cover SGD (lesson 5) too, with its registered option sets.
TRAJECTORY_OPTIONS = {**OPTION_CHECKS, 'SGD': SGD_CHECKS}
COMBOS = [(name, label) for name in TRAJECTORY_OPTIONS for label in TRAJECTORY_OPTIONS[name]]
RTOL = 1e-9


def assert_same(run: dict, ref: dict, rtol: float = RTOL):
    "Every quantity of `run` equals `ref`'s to `rtol` (normwise relative), and both have the same quantities."
    assert run.keys() == ref.keys()
    for key in ref:
        c = compare('optimizer', key, run[key], ref[key], 'float64', rtol)
        assert c.ok, f"{key}: {c.max_abs_diff:.2e} > {c.tolerance:.2e}"


def assert_identical(run: dict, ref: dict):
    assert run.keys() == ref.keys()
    for key in ref: np.testing.assert_array_equal(run[key], ref[key], err_msg=key)


# ---------------------------------------------------------------- trajectories: NumPy ≡ PyTorch from ops ≡ torch.optim

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('name,label', COMBOS, ids=[f"{n}-{l}" for n, l in COMBOS])
def test_200_least_squares_steps_match_torch_optim(name, label, backend):
    options = TRAJECTORY_OPTIONS[name][label]
    ref = optimizer_trajectory(OPTIMIZERS[name]['builtin'], 'builtin', options, steps=200)
    run = optimizer_trajectory(OPTIMIZERS[name][backend], backend, options, steps=200)
    assert_same(run, ref)
    if name != 'SGD':  # SGD keeps no step count
        assert float(ref['step of weight']) == 200


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('name,label', COMBOS, ids=[f"{n}-{l}" for n, l in COMBOS])
def test_one_digits_epoch_matches_torch_optim(name, label, backend):
    options = TRAJECTORY_OPTIONS[name][label]
    ref = optimizer_trajectory(OPTIMIZERS[name]['builtin'], 'builtin', options, problem='digits')
    run = optimizer_trajectory(OPTIMIZERS[name][backend], backend, options, problem='digits')
    assert_same(run, ref)
    assert {'0.weight', '0.bias', '2.weight', '2.bias'} <= ref.keys()
    if name != 'SGD':  # SGD keeps no step count
        assert float(ref['step of 0.weight']) == len(digits_problem()['batches']) == 40


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('problem', ['least_squares', 'digits'])
@pytest.mark.parametrize('name', NAMES)
def test_param_groups_with_different_options(name, problem, backend):
    base = {'lr': 0.01} if name != 'Adagrad' else {'lr': 0.1}
    ref = optimizer_trajectory(OPTIMIZERS[name]['builtin'], 'builtin', base, problem, groups=GROUP_CHECKS[name])
    run = optimizer_trajectory(OPTIMIZERS[name][backend], backend, base, problem, groups=GROUP_CHECKS[name])
    assert_same(run, ref)


def test_param_groups_really_differ():
    "The group options change the trajectory: a check of groups that could not fail would prove nothing."
    grouped = optimizer_trajectory(dnp.Adam, 'numpy', {'lr': 0.01}, groups=GROUP_CHECKS['Adam'])
    plain = optimizer_trajectory(dnp.Adam, 'numpy', {'lr': 0.01})
    assert 'max_exp_avg_sq of weight' in grouped and 'max_exp_avg_sq of bias' not in grouped
    assert not np.allclose(grouped['bias'], plain['bias'])


def test_maximize_and_eps_options_change_the_trajectory():
    runs = {label: optimizer_trajectory(dnp.Adam, 'numpy', opts, steps=50) for label, opts in OPTION_CHECKS['Adam'].items()}
    for label in ('eps', 'weight_decay', 'betas', 'decoupled_weight_decay'):
        assert not np.allclose(runs[label]['weight'], runs['default']['weight']), label
    np.testing.assert_allclose(runs['maximize']['weight'], runs['default']['weight'], rtol=1e-12)   # -(-L): same descent


# ---------------------------------------------------------------- checkpoints

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('problem', ['least_squares', 'digits'])
@pytest.mark.parametrize('name', NAMES)
def test_state_dict_round_trip_is_identical_to_an_uninterrupted_run(name, problem, backend):
    options = OPTION_CHECKS[name]['everything']
    cls = OPTIMIZERS[name][backend]
    steps = 60 if problem == 'least_squares' else None
    whole = optimizer_trajectory(cls, backend, options, problem, steps=steps)
    for k in (1, 17):
        assert_identical(optimizer_trajectory(cls, backend, options, problem, steps=steps, resume_at=k), whole)


@pytest.mark.parametrize('name', NAMES)
def test_resumed_runs_match_torch_optim_with_groups(name):
    ref = optimizer_trajectory(OPTIMIZERS[name]['builtin'], 'builtin', {'lr': 0.02}, groups=GROUP_CHECKS[name])
    for backend in ('numpy', 'torch'):
        run = optimizer_trajectory(OPTIMIZERS[name][backend], backend, {'lr': 0.02}, groups=GROUP_CHECKS[name], resume_at=100)
        assert_same(run, ref)


@pytest.mark.parametrize('name', NAMES)
def test_numpy_state_dict_is_a_copy(name):
    p = Parameter(np.ones(3))
    opt = OPTIMIZERS[name]['numpy']([p], lr=0.1)
    p.accumulate_grad(np.ones(3)); opt.step()
    saved = opt.state_dict()
    before = copy.deepcopy(saved)
    p.accumulate_grad(np.ones(3)); opt.step()
    for key, value in before['state'][0].items(): np.testing.assert_array_equal(saved['state'][0][key], value)


@pytest.mark.parametrize('name', NAMES)
def test_torch_optim_checkpoint_loads_into_numpy_and_ours(name):
    "A torch.optim checkpoint continues in NumPy and in our PyTorch optimizer on torch.optim's path."
    options = dict(OPTION_CHECKS[name]['everything'], maximize=False)
    w0 = np.random.default_rng(0).normal(size=(4, 3))
    grads = [np.random.default_rng(i + 1).normal(size=(4, 3)) for i in range(30)]
    ref_p = torch.nn.Parameter(torch.tensor(w0))
    ref = OPTIMIZERS[name]['builtin']([ref_p], **options)
    for g in grads[:10]:
        ref_p.grad = torch.tensor(g); ref.step()
    checkpoint = ref.state_dict()
    np_p = Parameter(ref_p.detach().numpy().copy())
    np_opt = OPTIMIZERS[name]['numpy']([np_p], **options)
    np_opt.load_state_dict(copy.deepcopy(checkpoint))
    t_p = torch.nn.Parameter(ref_p.detach().clone())
    t_opt = OPTIMIZERS[name]['torch']([t_p], **options)
    t_opt.load_state_dict(copy.deepcopy(checkpoint))
    for g in grads[10:]:
        ref_p.grad = torch.tensor(g); ref.step()
        np_p.grad = g.copy(); np_opt.step()
        t_p.grad = torch.tensor(g); t_opt.step()
    np.testing.assert_allclose(np_p.data, ref_p.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(t_p.detach().numpy(), ref_p.detach().numpy())
    assert float(np_opt.state[np_p]['step']) == 30 and isinstance(np_opt.state[np_p]['step'], float)


def test_numpy_checkpoint_loads_into_torch_optim():
    p = Parameter(np.array([1.0, -2.0]))
    opt = dnp.Adam([p], lr=0.1, amsgrad=True)
    for g in ([0.5, 1.0], [-0.3, 2.0]):
        p.grad = np.array(g); opt.step()
    sd = opt.state_dict()
    tp = torch.nn.Parameter(torch.tensor(p.data.copy()))
    topt = torch.optim.Adam([tp], lr=0.1, amsgrad=True)
    topt.load_state_dict({'state': {0: {k: torch.tensor(v) for k, v in sd['state'][0].items()}},
                          'param_groups': sd['param_groups']})
    p.grad = np.array([1.0, 1.0]); opt.step()
    tp.grad = torch.tensor([1.0, 1.0], dtype=torch.float64); topt.step()
    np.testing.assert_allclose(tp.detach().numpy(), p.data, rtol=1e-14)


def test_load_state_dict_rejects_a_mismatch():
    p, q = Parameter(np.ones(3)), Parameter(np.ones(2))
    opt = dnp.Adam([p], lr=0.1)
    p.grad = np.ones(3); opt.step()
    with pytest.raises(ValueError, match='expected shape'):
        dnp.Adam([q], lr=0.1).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match='parameter groups'):
        dnp.Adam([{'params': [p]}, {'params': [q]}]).load_state_dict(opt.state_dict())
    bad = opt.state_dict(); bad['param_groups'][0]['betas'] = (0.9, 1.5)
    with pytest.raises(ValueError, match=r"state_dict\['param_groups'\]\[0\]\['betas'\]\[1\]"):
        dnp.Adam([p]).load_state_dict(bad)


# ---------------------------------------------------------------- bad hyperparameters, as PyTorch's

BAD = [
    ('Adagrad', dict(lr=-0.1), 'lr: expected a value >= 0'),
    ('Adagrad', dict(lr_decay=-0.1), 'lr_decay: expected a value >= 0'),
    ('Adagrad', dict(weight_decay=-0.1), 'weight_decay: expected a value >= 0'),
    ('Adagrad', dict(initial_accumulator_value=-0.1), 'initial_accumulator_value: expected a value >= 0'),
    ('Adagrad', dict(eps=-1e-10), 'eps: expected a value >= 0'),
    ('RMSprop', dict(lr=-0.1), 'lr: expected a value >= 0'),
    ('RMSprop', dict(alpha=-0.1), 'alpha: expected a value in [0, 1]'),
    ('RMSprop', dict(eps=-1e-8), 'eps: expected a value >= 0'),
    ('RMSprop', dict(momentum=-0.5), 'momentum: expected a value >= 0'),
    ('RMSprop', dict(weight_decay=-0.5), 'weight_decay: expected a value >= 0'),
    ('Adam', dict(lr=-1e-3), 'lr: expected a value >= 0'),
    ('Adam', dict(betas=(1.0, 0.999)), 'betas[0]: expected a value in [0, 1)'),
    ('Adam', dict(betas=(0.9, -0.1)), 'betas[1]: expected a value in [0, 1)'),
    ('Adam', dict(eps=-1e-8), 'eps: expected a value >= 0'),
    ('Adam', dict(weight_decay=-1e-2), 'weight_decay: expected a value >= 0'),
    ('AdamW', dict(lr=-1e-3), 'lr: expected a value >= 0'),
    ('AdamW', dict(betas=(0.9, 1.0)), 'betas[1]: expected a value in [0, 1)'),
    ('AdamW', dict(weight_decay=-1.0), 'weight_decay: expected a value >= 0'),
    ('Adamax', dict(lr=-2e-3), 'lr: expected a value >= 0'),
    ('Adamax', dict(betas=(-0.5, 0.999)), 'betas[0]: expected a value in [0, 1)'),
    ('Adamax', dict(eps=-1.0), 'eps: expected a value >= 0'),
    ('Adamax', dict(weight_decay=-1.0), 'weight_decay: expected a value >= 0'),
]


@pytest.mark.parametrize('name,options,message', BAD, ids=[f"{n}-{list(o)[0]}" for n, o, _ in BAD])
def test_bad_hyperparameters_raise_like_pytorch(name, options, message):
    w = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError):
        OPTIMIZERS[name]['builtin']([w], **options)                 # PyTorch rejects it too
    with pytest.raises(ValueError, match=message.replace('[', r'\[').replace(']', r'\]').replace('(', r'\(').replace(')', r'\)')):
        OPTIMIZERS[name]['numpy']([Parameter(np.zeros(2))], **options)
    with pytest.raises(ValueError, match=message.replace('[', r'\[').replace(']', r'\]').replace('(', r'\(').replace(')', r'\)')):
        OPTIMIZERS[name]['torch']([w], **options)
    key, value = next(iter(options.items()))                         # the same option in a parameter group
    with pytest.raises(ValueError, match=rf"param_groups\[0\]\['{key}'\]"):
        OPTIMIZERS[name]['numpy']([{'params': [Parameter(np.zeros(2))], key: value}])
    with pytest.raises(ValueError, match=rf"param_groups\[1\]\['{key}'\]"):
        OPTIMIZERS[name]['torch']([{'params': [w]}, {'params': [torch.nn.Parameter(torch.zeros(1))], key: value}])


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('name', NAMES)
def test_wrong_types_and_nonfinite_values(name, backend):
    p = Parameter(np.zeros(2)) if backend == 'numpy' else torch.nn.Parameter(torch.zeros(2))
    cls = OPTIMIZERS[name][backend]
    with pytest.raises(TypeError, match='lr: expected a real number'): cls([p], lr='0.1')
    with pytest.raises(TypeError, match='lr: expected a real number'): cls([p], lr=True)
    with pytest.raises(ValueError, match='lr: expected a real number, got NaN'): cls([p], lr=float('nan'))
    with pytest.raises(ValueError, match='lr: expected a finite number'): cls([p], lr=float('inf'))
    with pytest.raises(TypeError, match='maximize: expected True or False'): cls([p], maximize=1)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['learning_rate'\]"): cls([{'params': [p], 'learning_rate': 0.1}])
    with pytest.raises(ValueError, match='empty parameter list'): cls([])


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_betas_must_be_a_pair(backend):
    p = Parameter(np.zeros(2)) if backend == 'numpy' else torch.nn.Parameter(torch.zeros(2))
    for cls in (OPTIMIZERS['Adam'][backend], OPTIMIZERS['Adamax'][backend]):
        for bad in (0.9, (0.9,), (0.9, 0.99, 0.999), '09', None):
            with pytest.raises(TypeError, match=r'betas: expected a pair \(beta1, beta2\)'): cls([p], betas=bad)
        with pytest.raises(TypeError, match=r'betas\[0\]: expected a real number'): cls([p], betas=('0.9', 0.999))


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_flags_must_be_booleans(backend):
    p = Parameter(np.zeros(2)) if backend == 'numpy' else torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(TypeError, match='amsgrad: expected True or False'): OPTIMIZERS['Adam'][backend]([p], amsgrad='no')
    with pytest.raises(TypeError, match='centered: expected True or False'): OPTIMIZERS['RMSprop'][backend]([p], centered=0)
    cls = dnp.Adam if backend == 'numpy' else tad.Adam
    with pytest.raises(TypeError, match='decoupled_weight_decay: expected True or False'): cls([p], decoupled_weight_decay=None)


def test_rmsprop_alpha_above_one_is_rejected_although_pytorch_accepts_it():
    w = torch.nn.Parameter(torch.zeros(2))
    torch.optim.RMSprop([w], alpha=1.5)                  # accepted by PyTorch, then sqrt of a negative average
    with pytest.raises(ValueError, match=r'alpha: expected a value in \[0, 1\], got 1.5'): tad.RMSprop([w], alpha=1.5)
    with pytest.raises(ValueError, match=r'alpha: expected a value in \[0, 1\], got 1.5'):
        dnp.RMSprop([Parameter(np.zeros(2))], alpha=1.5)


def test_a_rejected_group_is_not_added():
    w, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))
    opt = tad.Adam([w])
    with pytest.raises(ValueError): opt.add_param_group({'params': [b], 'lr': -1.0})
    assert len(opt.param_groups) == 1
    opt.add_param_group({'params': [b], 'lr': 0.5})
    assert opt.param_groups[1]['lr'] == 0.5 and opt.param_groups[1]['betas'] == (0.9, 0.999)


def test_check_optimizer_options_ignores_options_without_rules():
    check_optimizer_options({'lr': 0.1, 'foreach': None, 'capturable': False, 'params': [1, 2]})
    with pytest.raises(ValueError, match=r"g\['eps'\]: expected a value >= 0"): check_optimizer_options({'eps': -1.0}, 'g')


def test_check_optimizer_options_needs_a_dict_and_a_label():
    with pytest.raises(TypeError, match="options: expected a dict of hyperparameters .*defaults"): check_optimizer_options([('lr', 0.1)])
    with pytest.raises(TypeError, match="where: expected a label"): check_optimizer_options({'lr': 0.1}, where=0)


# ---------------------------------------------------------------- bad steps: checked before anything changes

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('name', NAMES)
def test_a_closure_that_is_not_a_function_is_refused_before_the_update(name, backend):
    p = Parameter(np.ones(2)) if backend == 'numpy' else torch.nn.Parameter(torch.ones(2))
    opt = OPTIMIZERS[name][backend]([p], lr=0.1)
    p.grad = np.ones(2) if backend == 'numpy' else torch.ones(2)
    with pytest.raises(TypeError, match='closure: expected a function that recomputes the loss'): opt.step(closure=0.5)
    np.testing.assert_array_equal(np.asarray(p.detach() if backend == 'torch' else p.data), 1.0)


@pytest.mark.parametrize('name', NAMES)
def test_a_misshaped_numpy_gradient_is_refused_before_any_group_is_updated(name):
    p, q = Parameter(np.ones(3)), Parameter(np.ones(2))
    opt = OPTIMIZERS[name]['numpy']([{'params': [p]}, {'params': [q]}], lr=0.1)
    p.grad, q.grad = np.ones(3), np.ones(1)            # the second group's gradient would broadcast
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['params'\]\[0\].grad: expected a floating array of shape \(2,\)"):
        opt.step()
    np.testing.assert_array_equal(p.data, 1.0)
    assert not opt.state[p] or float(opt.state[p]['step']) == 0


def test_params_with_grads_needs_a_parameter_group():
    for bad in ({'params': []}, {'maximize': False}, [Parameter(np.ones(2))]):
        with pytest.raises(TypeError, match="group: expected a parameter group"): params_with_grads(bad)


# ---------------------------------------------------------------- defaults and signatures are PyTorch's

@pytest.mark.parametrize('name', NAMES)
def test_defaults_are_pytorchs(name):
    w = torch.nn.Parameter(torch.zeros(2))
    builtin = OPTIMIZERS[name]['builtin']([w]).defaults
    for backend, p in (('numpy', Parameter(np.zeros(2))), ('torch', w)):
        ours = OPTIMIZERS[name][backend]([p]).defaults
        assert ours == {k: builtin[k] for k in ours}, backend
    expected = {'Adagrad': 1e-2, 'RMSprop': 1e-2, 'Adam': 1e-3, 'AdamW': 1e-3, 'Adamax': 2e-3}[name]
    assert builtin['lr'] == expected


def test_adamw_is_adam_with_decoupled_decay():
    p = Parameter(np.zeros(2))
    assert dnp.AdamW([p]).defaults['decoupled_weight_decay'] is True and dnp.AdamW([p]).defaults['weight_decay'] == 1e-2
    assert dnp.Adam([p]).defaults['decoupled_weight_decay'] is False and dnp.Adam([p]).defaults['weight_decay'] == 0
    a = optimizer_trajectory(dnp.AdamW, 'numpy', dict(lr=0.01, weight_decay=0.3), steps=50)
    b = optimizer_trajectory(dnp.Adam, 'numpy', dict(lr=0.01, weight_decay=0.3, decoupled_weight_decay=True), steps=50)
    assert_identical(a, b)
    c = optimizer_trajectory(dnp.Adam, 'numpy', dict(lr=0.01, weight_decay=0.3), steps=50)
    assert np.abs(a['weight'] - c['weight']).max() > 1e-3


# ---------------------------------------------------------------- the traps of DESIGN.md, in closed form

def one_step(cls, grad, start=1.0, **options):
    p = Parameter(np.array([start]))
    opt = cls([p], **options)
    p.grad = np.array([grad]); opt.step()
    return p.data[0], opt


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_adam_eps_is_added_after_the_root_of_the_corrected_second_moment(backend):
    g, lr, eps, beta2 = 1e-3, 0.1, 1e-3, 0.999
    expected = 1.0 - lr * g / (np.sqrt(g * g) + eps)                     # m̂ = g, v̂ = g²
    wrong_inside = 1.0 - lr * g / np.sqrt(g * g + eps)
    wrong_uncorrected = 1.0 - lr * g / ((np.sqrt((1 - beta2) * g * g) + eps) / np.sqrt(1 - beta2))
    if backend == 'numpy': got = one_step(dnp.Adam, g, lr=lr, eps=eps)[0]
    else:
        w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64)); opt = tad.Adam([w], lr=lr, eps=eps)
        w.grad = torch.tensor([g], dtype=torch.float64); opt.step(); got = w.item()
    assert got == pytest.approx(expected, rel=1e-14)
    assert abs(got - wrong_inside) > 1e-3 and abs(got - wrong_uncorrected) > 1e-3


def test_rmsprop_eps_is_outside_the_root():
    g, lr, eps, alpha = 1e-3, 0.1, 1e-3, 0.99
    got = one_step(dnp.RMSprop, g, lr=lr, eps=eps, alpha=alpha)[0]
    assert got == pytest.approx(1.0 - lr * g / (np.sqrt((1 - alpha) * g * g) + eps), rel=1e-14)
    assert abs(got - (1.0 - lr * g / np.sqrt((1 - alpha) * g * g + eps))) > 1e-3


def test_rmsprop_centered_and_momentum_closed_form():
    g, lr, alpha, mu = 2.0, 0.01, 0.9, 0.5
    p = Parameter(np.array([0.0]))
    opt = dnp.RMSprop([p], lr=lr, alpha=alpha, momentum=mu, centered=True, eps=0.0)
    p.grad = np.array([g]); opt.step()
    var = (1 - alpha) * g * g - ((1 - alpha) * g) ** 2                    # v - ḡ²
    b1 = g / np.sqrt(var)
    assert p.data[0] == pytest.approx(-lr * b1, rel=1e-14)
    p.grad = np.array([g]); opt.step()
    v, gbar = alpha * (1 - alpha) * g * g + (1 - alpha) * g * g, alpha * (1 - alpha) * g + (1 - alpha) * g
    b2 = mu * b1 + g / np.sqrt(v - gbar ** 2)
    assert p.data[0] == pytest.approx(-lr * b1 - lr * b2, rel=1e-12)


def test_adamw_decays_before_the_moment_update_and_adam_adds_decay_to_the_gradient():
    g, lr, wd, theta = 0.5, 0.1, 0.2, 2.0
    adamw, _ = one_step(dnp.AdamW, g, start=theta, lr=lr, weight_decay=wd, eps=0.0)
    assert adamw == pytest.approx(theta * (1 - lr * wd) - lr * 1.0, rel=1e-14)          # first Adam step: lr * sign(g)
    adam, opt = one_step(dnp.Adam, g, start=theta, lr=lr, weight_decay=wd, eps=0.0)
    assert adam == pytest.approx(theta - lr, rel=1e-14)                                 # g + wd*theta > 0: sign is +
    assert opt.state[opt.param_groups[0]['params'][0]]['exp_avg'][0] == pytest.approx(0.1 * (g + wd * theta))


def test_adamax_eps_is_inside_the_max():
    g, lr, eps = 1e-3, 0.1, 1e-3
    got, opt = one_step(dnp.Adamax, g, lr=lr, eps=eps)
    assert got == pytest.approx(1.0 - lr * g / (g + eps), rel=1e-14)                      # u = max(0, |g| + eps)
    p = opt.param_groups[0]['params'][0]
    p.grad = np.array([0.0]); opt.step()
    assert opt.state[p]['exp_inf'][0] == pytest.approx(max(0.999 * (g + eps), eps))


def test_adagrad_accumulator_starts_at_the_constructors_value_as_in_pytorch():
    w, b = torch.nn.Parameter(torch.ones(2, dtype=torch.float64)), torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    groups = lambda w, b: [{'params': [w]}, {'params': [b], 'initial_accumulator_value': 5.0}]
    builtin = torch.optim.Adagrad(groups(w, b), initial_accumulator_value=0.5)
    ours = tad.Adagrad(groups(w, b), initial_accumulator_value=0.5)
    wn, bn = Parameter(np.ones(2)), Parameter(np.ones(1))
    numpy = dnp.Adagrad(groups(wn, bn), initial_accumulator_value=0.5)
    for opt, p in ((builtin, b), (ours, b), (numpy, bn)):
        np.testing.assert_array_equal(np.asarray(opt.state[p]['sum']), [0.5])   # the group's 5.0 is ignored
        assert float(opt.state[p]['step']) == 0


def test_adagrad_state_exists_before_the_first_step_and_for_late_groups():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = dnp.Adagrad([p], initial_accumulator_value=0.1)
    assert set(opt.state_dict()['state'][0]) == {'step', 'sum'}
    opt.add_param_group({'params': [q]})
    q.grad = np.ones(3); opt.step()
    np.testing.assert_allclose(opt.state[q]['sum'], 1.1)
    assert opt.state[p]['step'] == 0.0


# ---------------------------------------------------------------- step mechanics

@pytest.mark.parametrize('name', NAMES)
def test_float32_parameters_and_state_stay_float32(name):
    p = Parameter(np.ones(4, dtype=np.float32))
    opt = OPTIMIZERS[name]['numpy']([p], lr=0.1, **({'amsgrad': True} if name.startswith('Adam') and name != 'Adamax' else {}))
    for _ in range(3):
        p.grad = np.full(4, 0.5, dtype=np.float32); opt.step()
    assert p.data.dtype == np.float32
    for key, value in opt.state[p].items():
        if isinstance(value, np.ndarray): assert value.dtype == np.float32, key


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('name', NAMES)
def test_parameters_without_gradients_are_skipped(name, backend):
    if backend == 'numpy': p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    else: p, q = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))
    opt = OPTIMIZERS[name][backend]([p, q], lr=0.1, weight_decay=0.1)
    p.grad = np.ones(2) if backend == 'numpy' else torch.ones(2)
    opt.step()
    assert float(opt.state[p]['step']) == 1
    np.testing.assert_array_equal(np.asarray(q.data), 1.0)
    assert not opt.state[q] or float(opt.state[q]['step']) == 0   # Adagrad creates state up front


@pytest.mark.parametrize('name', NAMES)
def test_step_is_in_place_and_returns_the_closure_loss(name):
    p = Parameter(np.ones(3))
    data = p.data
    opt = OPTIMIZERS[name]['numpy']([p], lr=0.1)

    def closure():
        opt.zero_grad(); p.accumulate_grad(2 * p.data)
        return float((p.data ** 2).sum())

    assert opt.step(closure) == 3.0 and p.data is data and (p.data < 1).all()
    assert opt.step() is None


@pytest.mark.parametrize('name', NAMES)
def test_torch_step_builds_no_graph_and_runs_the_closure_with_grad(name):
    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = OPTIMIZERS[name]['torch']([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 3.0
    assert w.grad_fn is None and (w.detach() < 1).all()
    for value in opt.state[w].values(): assert not value.requires_grad
    assert opt.state[w]['step'].device.type == 'cpu' and opt.state[w]['step'].dtype == torch.float32


def test_params_with_grads_negates_for_maximize_without_touching_grad():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(2))
    p.grad = np.array([1.0, -2.0])
    pairs = list(params_with_grads({'params': [p, q], 'maximize': True}))
    assert len(pairs) == 1 and pairs[0][0] is p
    np.testing.assert_array_equal(pairs[0][1], [-1.0, 2.0])
    np.testing.assert_array_equal(p.grad, [1.0, -2.0])


@pytest.mark.parametrize('name', NAMES)
def test_first_step_is_scale_free(name):
    "Adam, AdamW and Adamax step by lr in the gradient's direction at first; Adagrad by lr; RMSprop by lr/sqrt(1-alpha)."
    expected = {'Adagrad': 0.1, 'RMSprop': 0.1 / np.sqrt(0.01), 'Adam': 0.1, 'AdamW': 0.1, 'Adamax': 0.1}[name]
    for g in (1e-3, 1.0, 1e3):
        got = one_step(OPTIMIZERS[name]['numpy'], g, start=0.0, lr=0.1, eps=0.0,
                       **({'weight_decay': 0.0} if name == 'AdamW' else {}))[0]
        assert got == pytest.approx(-expected, rel=1e-12)


def test_extreme_gradients_stay_finite_where_pytorchs_do():
    for name in NAMES:
        for g in (1e-300, 1e150):
            got = one_step(OPTIMIZERS[name]['numpy'], g, start=0.0, lr=0.1)[0]
            w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
            opt = OPTIMIZERS[name]['builtin']([w], lr=0.1); w.grad = torch.tensor([g], dtype=torch.float64); opt.step()
            assert np.isfinite(got) and got == pytest.approx(w.item(), rel=1e-12), (name, g)


# ---------------------------------------------------------------- the harness itself

def test_optimizer_trajectory_bad_arguments():
    with pytest.raises(ValueError, match="backend: expected one of 'numpy', 'torch', 'builtin'"):
        optimizer_trajectory(dnp.Adam, 'jax', {})
    with pytest.raises(ValueError, match="problem: expected one of 'least_squares', 'digits'"):
        optimizer_trajectory(dnp.Adam, 'numpy', {}, problem='mnist')
    with pytest.raises(TypeError, match="opt_class: backend 'numpy' trains with a NumPy optimizer class, got Adam"):
        optimizer_trajectory(torch.optim.Adam, 'numpy', {})
    with pytest.raises(TypeError, match="opt_class: backend 'builtin' trains with a torch.optim.Optimizer subclass"):
        optimizer_trajectory(dnp.Adam, 'builtin', {})
    with pytest.raises(TypeError, match="options: expected a dict"): optimizer_trajectory(dnp.Adam, 'numpy', 0.1)
    with pytest.raises(ValueError, match=r"resume_at: expected a value in \[0, 9\], got 10"):
        optimizer_trajectory(dnp.Adam, 'numpy', {}, steps=10, resume_at=10)
    with pytest.raises(TypeError, match="groups: expected the options of the weights' and of the biases' group"):
        optimizer_trajectory(dnp.Adam, 'numpy', {}, groups=({'lr': 0.1},))
    with pytest.raises(ValueError, match='steps: expected a value >= 1'): optimizer_trajectory(dnp.Adam, 'numpy', {}, steps=0)
    with pytest.raises(ValueError, match='seed: expected a value >= 0'): optimizer_trajectory(dnp.Adam, 'numpy', {}, seed=-1)
    with pytest.raises(ValueError, match='device: '): optimizer_trajectory(dnp.Adam, 'numpy', {}, device='bogus')


def test_check_optimizer_and_its_runs_check_their_arguments():
    with pytest.raises(ValueError, match="name: expected one of 'Adagrad'"): optimizer_runs('Lion')
    with pytest.raises(ValueError, match='steps: expected a value >= 1'): optimizer_runs('Adam', steps=0)
    with pytest.raises(ValueError, match="dtype: expected one of 'float32', 'float64'"): tad.check_optimizer('Adam', 'float16')
    with pytest.raises(ValueError, match='device: '): tad.check_optimizer('Adam', device='bogus')


def test_registered_concepts_name_their_page_and_implementations():
    from dlcourse.crosscheck import concepts
    registered = {c.name: c for c in concepts()}
    for name in NAMES:
        c = registered[name]
        assert (c.lesson, c.numpy, c.torch, c.builtin) == ('6b', f'dlcourse.numpy.adaptive.{name}',
                                                            f'dlcourse.torch.adaptive.{name}', f'torch.optim.{name}')


def test_optimizer_trajectory_steps_beyond_one_epoch_repeat_the_epoch():
    out = optimizer_trajectory(dnp.Adam, 'numpy', {'lr': 1e-3}, problem='digits', steps=45)
    assert out['step of 0.weight'] == 45


def test_sgd_runs_through_the_general_harness():
    from dlcourse.torch.optim import sgd_trajectory
    options = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)
    ref = sgd_trajectory('builtin', options, steps=50)
    run = optimizer_trajectory(OPTIMIZERS['SGD']['numpy'], 'numpy', options, steps=50)
    assert_same({k: v for k, v in run.items()}, ref)


def test_digits_problem():
    prob = digits_problem()
    assert prob['X'].shape == (1257, 64) and prob['X'].dtype == np.float64
    np.testing.assert_allclose(prob['X'].mean(0), 0, atol=1e-12)
    assert sorted(np.concatenate(prob['batches']).tolist()) == list(range(1257))
    assert [len(b) for b in prob['batches']][-2:] == [32, 9]
    assert {k: v.shape for k, v in prob['weights'].items()} == {'0.weight': (256, 64), '0.bias': (256,),
                                                                '2.weight': (10, 256), '2.bias': (10,)}


def test_optimizer_runs_cover_every_combination():
    for name in NAMES:
        labels = [label for label, _, _ in optimizer_runs(name)]
        assert len(labels) == len(OPTION_CHECKS[name]) + 3
        assert any('resume' in l for l in labels) and any('groups' in l for l in labels) and any('digits' in l for l in labels)


# ---------------------------------------------------------------- benchmark

def test_mlp_shapes():
    assert mlp_shapes((3, 4, 2)) == [(4, 3), (4,), (2, 4), (2,)]
    assert sum(int(np.prod(s)) for s in mlp_shapes((784, 1024, 256, 10))) == 1_068_810
    with pytest.raises(TypeError, match='layer_sizes: expected the sizes of the layers'): mlp_shapes('784')
    with pytest.raises(ValueError, match=r'layer_sizes\[1\]: expected a value >= 1'): mlp_shapes((4, 0, 2))
    with pytest.raises(ValueError, match='layer_sizes: expected at least an input and an output size'): mlp_shapes((4,))


def test_benchmark_adam_step_checks_before_it_allocates():
    with pytest.raises(ValueError, match='repeats: expected a value >= 1'): benchmark_adam_step((4, 2), repeats=0)
    with pytest.raises(ValueError, match='warmup: expected a value >= 0'): benchmark_adam_step((4, 2), warmup=-1)
    with pytest.raises(TypeError, match='seed: expected an integer'): benchmark_adam_step((4, 2), seed=None)


def test_benchmark_adam_step_returns_times():
    out = benchmark_adam_step((8, 16, 4), repeats=3, warmup=1)
    assert out['parameters'] == 8 * 16 + 16 + 16 * 4 + 4 and out['tensors'] == 4
    for key in ('ours (PyTorch)', 'torch.optim.Adam (foreach)', 'ours (NumPy)'): assert out[key] > 0


def test_backends_and_optimizers_tables():
    assert BACKENDS == ('numpy', 'torch', 'builtin')
    assert set(OPTIMIZERS) == {'SGD', 'Adagrad', 'RMSprop', 'Adam', 'AdamW', 'Adamax'}
    for name, classes in OPTIMIZERS.items():
        assert classes['builtin'].__name__ == classes['numpy'].__name__ == classes['torch'].__name__ == name
