"""Lesson 5: the optimizers (NumPy and PyTorch SGD) and the gradient-descent exploration, beyond the registered check."""
import numpy as np
import pytest
import torch

from conftest import requires_cuda
from dlcourse.crosscheck import compare, numerical_gradient, relative_error
from dlcourse.explore import descent as ex
from dlcourse.numpy.nn import Linear, Parameter
from dlcourse.numpy.optim import SGD, Optimizer
from dlcourse.torch import optim as topt
from dlcourse.torch.optim import SGD as TorchSGD, least_squares_problem, sgd_trajectory

COMBOS = topt.SGD_CHECKS | {
    'momentum+weight_decay': dict(lr=0.05, momentum=0.5, weight_decay=0.05),
    'nesterov+weight_decay+maximize': dict(lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True),
    'dampening+weight_decay+maximize': dict(lr=0.03, momentum=0.7, dampening=0.3, weight_decay=0.02, maximize=True),
}


def assert_same(run: dict, ref: dict, dtype: str = 'float64', rtol: float | None = None):
    assert run.keys() == ref.keys()
    for key in ref:
        c = compare('SGD', key, run[key], ref[key], dtype, rtol)
        assert c.ok, f"{key}: {c.max_abs_diff:.2e} > {c.tolerance:.2e}"


# ---------------------------------------------------------------- trajectories against torch.optim.SGD

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('options', COMBOS.values(), ids=COMBOS.keys())
def test_trajectory_matches_builtin_over_100_steps(backend, options):
    ref = sgd_trajectory('builtin', options, steps=100)
    run = sgd_trajectory(backend, options, steps=100)
    assert_same(run, ref, rtol=1e-10)
    assert ('momentum_buffer of weight' in ref) == (options.get('momentum', 0) != 0)


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_param_groups_with_different_settings(backend):
    groups = ({'lr': 0.05, 'momentum': 0.9}, {'lr': 0.2, 'weight_decay': 0.1, 'nesterov': False})
    ref = sgd_trajectory('builtin', {'lr': 0.01}, steps=100, groups=groups)
    assert_same(sgd_trajectory(backend, {'lr': 0.01}, steps=100, groups=groups), ref)
    assert 'momentum_buffer of weight' in ref and 'momentum_buffer of bias' not in ref


def test_param_group_learning_rates_are_used():
    w, b = Parameter(np.ones(3)), Parameter(np.ones(2))
    opt = SGD([{'params': [w]}, {'params': [b], 'lr': 0.0}], lr=0.5)
    w.accumulate_grad(np.ones(3)); b.accumulate_grad(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(w.data, 0.5)
    np.testing.assert_array_equal(b.data, 1.0)
    assert opt.param_groups[0]['lr'] == 0.5 and opt.param_groups[1]['lr'] == 0.0


def test_maximize_climbs():
    x = Parameter(np.array([1.0]))
    opt = SGD([x], lr=0.1, maximize=True)
    x.accumulate_grad(np.array([2.0]))
    opt.step()
    np.testing.assert_allclose(x.data, [1.2])


def test_default_lr_is_pytorchs():
    w = torch.nn.Parameter(torch.zeros(2))
    assert SGD([Parameter(np.zeros(2))]).defaults['lr'] == torch.optim.SGD([w]).defaults['lr'] == 1e-3
    assert TorchSGD([w]).defaults['lr'] == 1e-3


def test_float32_parameters_stay_float32():
    p = Parameter(np.ones(4, dtype=np.float32))
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(3):
        opt.zero_grad(); p.accumulate_grad(np.full(4, 0.5, dtype=np.float32)); opt.step()
    assert p.data.dtype == np.float32 and opt.state[p]['momentum_buffer'].dtype == np.float32


def test_step_updates_in_place_and_returns_closure_loss():
    p = Parameter(np.ones(3))
    data = p.data
    opt = SGD([p], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad(); p.accumulate_grad(2 * p.data)
        return float((p.data ** 2).sum())

    assert opt.step(closure) == 3.0 and len(calls) == 1
    assert p.data is data
    np.testing.assert_allclose(p.data, 0.8)
    assert opt.step() is None


def test_torch_sgd_closure_and_no_graph():
    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = TorchSGD([w], lr=0.1, momentum=0.9)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 3.0
    assert w.grad_fn is None and opt.state[w]['momentum_buffer'].requires_grad is False
    torch.testing.assert_close(w.detach(), torch.full((3,), 0.8, dtype=torch.float64))


# ---------------------------------------------------------------- zero_grad

def test_zero_grad_semantics():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = SGD([p, q], lr=0.1, momentum=0.9)
    p.accumulate_grad(np.ones(2))
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and not p.grad.any()      # zeroed in place
    assert q.grad is None                             # a None gradient stays None
    opt.zero_grad()
    assert p.grad is None
    opt.step()                                        # nothing has a gradient: nothing moves, no state
    np.testing.assert_array_equal(p.data, 1.0)
    assert len(opt.state) == 0


def test_none_grad_is_skipped_but_zero_grad_still_steps_with_momentum():
    p = Parameter(np.ones(2))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.accumulate_grad(np.ones(2)); opt.step()
    opt.zero_grad(); opt.step()
    np.testing.assert_allclose(p.data, 0.9)
    np.testing.assert_allclose(opt.state[p]['momentum_buffer'], 1.0)   # the buffer did not decay
    p.accumulate_grad(np.ones(2)); opt.zero_grad(set_to_none=False); opt.step()
    np.testing.assert_allclose(p.data, 0.9 - 0.1 * 0.9)
    np.testing.assert_allclose(opt.state[p]['momentum_buffer'], 0.9)


def test_numpy_matches_builtin_when_some_grads_are_none():
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=3) for _ in range(2)]
    p_np = [Parameter(a.copy()) for a in arrays]
    p_t = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    o_np, o_t = SGD(p_np, lr=0.1, momentum=0.9, weight_decay=0.1), torch.optim.SGD(p_t, lr=0.1, momentum=0.9, weight_decay=0.1)
    for t in range(6):
        g = rng.normal(size=3)
        o_np.zero_grad(); o_t.zero_grad()
        i = t % 2                                     # only one parameter gets a gradient per step
        p_np[i].accumulate_grad(g); p_t[i].grad = torch.tensor(g)
        o_np.step(); o_t.step()
    for a, b in zip(p_np, p_t): np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12)


# ---------------------------------------------------------------- state_dict

@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('label', ['momentum', 'dampening+weight_decay+maximize', 'nesterov+weight_decay+maximize'])
def test_state_dict_resume_equals_uninterrupted(backend, label):
    options = COMBOS[label]
    uninterrupted = sgd_trajectory(backend, options, steps=40)
    for k in (1, 17, 39):
        resumed = sgd_trajectory(backend, options, steps=40, resume_at=k)
        for key in uninterrupted: np.testing.assert_array_equal(resumed[key], uninterrupted[key])


def test_state_dict_layout_matches_pytorch():
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=4)]
    p_np = [Parameter(a.copy()) for a in arrays]
    p_t = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    spec = lambda ps: [{'params': ps[:2], 'lr': 0.1}, {'params': ps[2:], 'momentum': 0.5}]
    o_np, o_t = SGD(spec(p_np), lr=0.01, momentum=0.9), torch.optim.SGD(spec(p_t), lr=0.01, momentum=0.9)
    for p, a in zip(p_np, arrays): p.accumulate_grad(np.ones_like(a))
    for p in p_t: p.grad = torch.ones_like(p)
    o_np.step(); o_t.step()
    sd_np, sd_t = o_np.state_dict(), o_t.state_dict()
    assert sd_np.keys() == sd_t.keys() == {'state', 'param_groups'}
    assert sd_np['state'].keys() == sd_t['state'].keys() == {0, 1, 2}
    assert [g['params'] for g in sd_np['param_groups']] == [g['params'] for g in sd_t['param_groups']] == [[0, 1], [2]]
    for g_np, g_t in zip(sd_np['param_groups'], sd_t['param_groups']):
        assert {k: g_np[k] for k in g_np} == {k: g_t[k] for k in g_np}
    for i in range(3):
        np.testing.assert_array_equal(sd_np['state'][i]['momentum_buffer'], sd_t['state'][i]['momentum_buffer'].numpy())


def test_state_dict_is_a_copy():
    p = Parameter(np.ones(2))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.accumulate_grad(np.ones(2)); opt.step()
    sd = opt.state_dict()
    opt.step()
    np.testing.assert_array_equal(sd['state'][0]['momentum_buffer'], 1.0)
    sd['param_groups'][0]['lr'] = 5.0
    assert opt.param_groups[0]['lr'] == 0.1


def test_load_pytorch_state_dict_into_numpy_and_back():
    prob = least_squares_problem(steps=10)
    options = dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)
    w_t = torch.nn.Parameter(torch.tensor(prob['weight']))
    o_t = torch.optim.SGD([w_t], **options)
    w_t.grad = torch.ones_like(w_t); o_t.step()
    w_np = Parameter(w_t.detach().numpy().copy().astype(np.float32))
    o_np = SGD([w_np], **options)
    o_np.load_state_dict(o_t.state_dict())
    buf = o_np.state[w_np]['momentum_buffer']
    assert isinstance(buf, np.ndarray) and buf.dtype == np.float32     # cast to the parameter's dtype
    o_t2 = torch.optim.SGD([torch.nn.Parameter(torch.zeros(3, 5, dtype=torch.float64))], lr=1.0)
    o_t2.load_state_dict({'state': {0: {'momentum_buffer': torch.from_numpy(buf)}}, 'param_groups': o_np.state_dict()['param_groups']})
    assert o_t2.param_groups[0]['momentum'] == 0.9


def test_load_state_dict_fills_missing_options_from_defaults():
    p = Parameter(np.ones(2))
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.load_state_dict({'state': {}, 'param_groups': [{'lr': 0.5, 'momentum': 0.5, 'params': [0]}]})
    assert opt.param_groups[0]['lr'] == 0.5 and opt.param_groups[0]['maximize'] is False
    assert opt.param_groups[0]['params'] == [p]


def test_load_state_dict_rejects_mismatches():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = SGD([p, q], lr=0.1, momentum=0.9)
    p.accumulate_grad(np.ones(2)); q.accumulate_grad(np.ones(3)); opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match='has 2 parameter groups, this optimizer has 1'):
        SGD([Parameter(np.ones(2)), Parameter(np.ones(3))]).load_state_dict(
            {'state': {}, 'param_groups': [sd['param_groups'][0], {**sd['param_groups'][0], 'params': []}]})
    with pytest.raises(ValueError, match='parameter group 0 has 2 parameters'):
        SGD([Parameter(np.ones(2))]).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"expected shape \(3,\) like its parameter, got \(2,\)"):
        SGD([Parameter(np.ones(3)), Parameter(np.ones(2))]).load_state_dict(sd)
    with pytest.raises(TypeError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({'state': {}})
    with pytest.raises(ValueError, match="state_dict\\['param_groups'\\]\\[0\\]\\['lr'\\]: expected a value >= 0"):
        opt.load_state_dict({**sd, 'param_groups': [{**sd['param_groups'][0], 'lr': -1.0}]})
    assert opt.param_groups[0]['lr'] == 0.1                          # a failed load changes nothing
    with pytest.raises(ValueError, match='state for parameter 7, which no group lists'):
        opt.load_state_dict({**sd, 'state': {7: {}}})


def test_named_parameters_are_kept_as_param_names():
    model = Linear(3, 2)
    opt = SGD(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]['param_names'] == ['weight', 'bias']
    assert opt.state_dict()['param_groups'][0]['param_names'] == ['weight', 'bias']
    with pytest.raises(ValueError, match='with names or all without'):
        opt.add_param_group({'params': [Parameter(np.ones(1))]})


def test_add_param_group_later():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = SGD([p], lr=0.1)
    opt.add_param_group({'params': q, 'lr': 0.2})
    assert opt.param_groups[1]['params'] == [q] and opt.param_groups[1]['momentum'] == 0
    with pytest.raises(ValueError, match=r"param_groups\[2\]\['lr'\]: expected a value >= 0"):
        opt.add_param_group({'params': [Parameter(np.ones(1))], 'lr': -0.1})
    assert len(opt.param_groups) == 2
    t = torch.nn.Parameter(torch.ones(2))
    topt_ = TorchSGD([t], lr=0.1)
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['momentum'\]"):
        topt_.add_param_group({'params': [torch.nn.Parameter(torch.ones(1))], 'momentum': -1.0})
    assert len(topt_.param_groups) == 1


def test_checked_optimizer_is_the_one_base_of_the_torch_optimizers():
    from dlcourse.torch.adaptive import AdaptiveOptimizer, Adam
    assert issubclass(TorchSGD, topt.CheckedOptimizer) and issubclass(AdaptiveOptimizer, topt.CheckedOptimizer)
    for cls in (TorchSGD, AdaptiveOptimizer):
        assert 'add_param_group' not in vars(cls) and '__init__' not in vars(AdaptiveOptimizer)

    class Positive(topt.CheckedOptimizer):
        "A toy optimizer whose only rule is a positive `scale`."
        def __init__(self, params, scale=1.0): super().__init__(params, dict(scale=scale))
        def check_hyperparameters(self, options, where=''):
            if options['scale'] <= 0: raise ValueError(f"{where or 'scale'}: expected a positive scale")
        def step(self, closure=None): pass

    w, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ValueError, match='^scale: expected a positive scale'): Positive([w], scale=0.0)
    opt = Positive([w])
    with pytest.raises(ValueError, match=r'^param_groups\[1\]: expected a positive scale'):
        opt.add_param_group({'params': [b], 'scale': -1.0})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['lr'\]; Positive takes scale"):
        opt.add_param_group({'params': [b], 'lr': 0.1})
    assert len(opt.param_groups) == 1
    opt.add_param_group({'params': [b], 'scale': 2.0})
    assert [g['scale'] for g in opt.param_groups] == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['momentum'\]; Adam takes lr"):
        Adam([{'params': [w], 'momentum': 0.9}])


def test_repr_lists_the_groups():
    text = repr(SGD([Parameter(np.ones(1))], lr=0.1, momentum=0.9))
    assert text.startswith('SGD (') and 'Parameter Group 0' in text and 'momentum: 0.9' in text


# ---------------------------------------------------------------- bad hyperparameters and parameters

W = Parameter(np.zeros(3))


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
@pytest.mark.parametrize('kwargs, error, message', [
    (dict(lr=-0.1), ValueError, 'lr: expected a value >= 0, got -0.1'),
    (dict(momentum=-0.5), ValueError, 'momentum: expected a value >= 0'),
    (dict(weight_decay=-1e-4), ValueError, 'weight_decay: expected a value >= 0'),
    (dict(nesterov=True), ValueError, 'Nesterov momentum requires momentum > 0 and dampening = 0'),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), ValueError, 'Nesterov momentum requires'),
    (dict(lr=float('nan')), ValueError, 'lr: expected a real number, got NaN'),
    (dict(lr=True), TypeError, 'lr: expected a real number'),
    (dict(lr='0.1'), TypeError, 'lr: expected a real number'),
    (dict(nesterov=1), TypeError, 'nesterov: expected True or False'),
    (dict(maximize='yes'), TypeError, 'maximize: expected True or False'),
])
def test_bad_hyperparameters(backend, kwargs, error, message):
    opt_class, param = (SGD, W) if backend == 'numpy' else (TorchSGD, torch.nn.Parameter(torch.zeros(3)))
    with pytest.raises(error, match=message):
        opt_class([param], **{'lr': 0.1, **kwargs})


@pytest.mark.parametrize('params, error, message', [
    ([], ValueError, 'params: the optimizer got an empty parameter list'),
    (iter([]), ValueError, 'empty parameter list'),
    ([np.zeros(3)], TypeError, r'params\[0\]: expected a dlcourse.numpy.nn.Parameter, got ndarray .* \(wrap arrays'),
    ([W, torch.zeros(3)], TypeError, r'params\[1\]: expected a dlcourse.numpy.nn.Parameter, got Tensor'),
    (W, TypeError, 'params: expected an iterable of Parameters, got Parameter'),
    (np.zeros(3), TypeError, 'params: expected an iterable of Parameters, got ndarray'),
    (Linear(2, 2), TypeError, r'model.parameters\(\)'),
    ({W}, TypeError, 'got a set'),
    (5, TypeError, 'params: expected an iterable of Parameters, got int'),
    ([W, W], ValueError, 'the same Parameter appears more than once'),
    ([{'params': [W]}, {'params': [W]}], ValueError, r'param_groups\[1\]: a Parameter is already in another parameter group'),
    ([{'params': [W], 'learning_rate': 0.1}], ValueError, r"unknown option\(s\) \['learning_rate'\]"),
    ([{'lr': 0.1}], ValueError, "expected a 'params' entry"),
    ([{'params': [W]}, [W]], TypeError, r"params\[1\]: expected a dict \(a parameter group"),
    ([('w', W), W], ValueError, 'all parameters with names'),
    ([{'params': [W], 'lr': -1.0}], ValueError, r"param_groups\[0\]\['lr'\]: expected a value >= 0"),
])
def test_bad_params(params, error, message):
    with pytest.raises(error, match=message):
        SGD(params, lr=0.1)


@pytest.mark.parametrize('params, error, message', [
    (3, TypeError, 'params: expected an iterable of tensors, got int 3'),
    (None, TypeError, 'params: expected an iterable of tensors, got NoneType'),
    (torch.zeros(3), TypeError, 'params: expected an iterable of tensors, got Tensor'),
    (torch.nn.Linear(2, 2), TypeError, r'got the module Linear itself'),
    (torch.nn.Sequential(torch.nn.Linear(2, 2)), TypeError, r'got the module Sequential itself'),
    ({'params': []}, TypeError, 'params: expected an iterable of tensors, got dict'),
    ([{'lr': 0.1}], ValueError, r"param_group: expected a 'params' entry \(for param_groups\[0\]\)"),
    ([torch.ones(2, requires_grad=True) * 2], ValueError, r'params\[0\]: expected a leaf tensor'),
    ([np.zeros(2)], TypeError, r'params\[0\]: expected a torch tensor, got ndarray'),
    ([('w', torch.nn.Parameter(torch.zeros(2)), 3)], TypeError, r"params\[0\]: expected a \(name, tensor\) pair"),
    ([], ValueError, 'empty parameter list'),
])
def test_torch_optimizers_follow_torch_optims_rules_with_clear_errors(params, error, message):
    from dlcourse.torch.adaptive import Adam
    for opt_class in (TorchSGD, Adam):
        with pytest.raises(error, match=message):
            opt_class(params, lr=0.1)


def test_torch_optimizers_accept_what_torch_optim_accepts():
    w, b = torch.nn.Parameter(torch.zeros(2, 3)), torch.nn.Parameter(torch.zeros(2))
    assert TorchSGD(iter([w, b]), lr=0.1).param_groups[0]['params'] == [w, b]           # a generator, read once
    assert TorchSGD([{'params': w}, {'params': (b,), 'lr': 0.2}], lr=0.1).param_groups[1]['lr'] == 0.2
    opt = TorchSGD([('weight', w), ('bias', b)], lr=0.1)
    assert opt.param_groups[0]['param_names'] == ['weight', 'bias']
    ours, theirs = (o.state_dict()['param_groups'][0] for o in (opt, torch.optim.SGD([('weight', w), ('bias', b)], lr=0.1)))
    assert (ours['param_names'], ours['params']) == (theirs['param_names'], theirs['params'])
    with pytest.raises(ValueError, match=r'param_groups\[1\]: a tensor is already in another parameter group'):
        TorchSGD([{'params': [w]}, {'params': [w]}], lr=0.1)
    with pytest.raises(TypeError, match=r"param_group: expected a dict with a 'params' entry"):
        TorchSGD([w], lr=0.1).add_param_group([b])


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_step_checks_the_closure(backend):
    opt = SGD([Parameter(np.zeros(2))], lr=0.1) if backend == 'numpy' else TorchSGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    with pytest.raises(TypeError, match='closure: expected a function'): opt.step(3)
    assert opt.step(lambda: 1.5) == 1.5


def test_numpy_step_checks_every_gradient_before_any_parameter_moves():
    from dlcourse.numpy.adaptive import Adam
    for opt_class in (SGD, Adam):
        good, bad = Parameter(np.ones(2)), Parameter(np.ones((2, 3)))
        good.grad, bad.grad = np.ones(2), np.ones(3)          # the bias's gradient on the weight
        opt = opt_class([good, bad], lr=0.1)
        with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[1\]\.grad: expected a floating array of shape \(2, 3\)"):
            opt.step()
        assert good.data.tolist() == [1.0, 1.0] and bad.data.tolist() == [[1.0] * 3] * 2
        bad.grad = np.ones((2, 3), dtype=int)
        with pytest.raises(ValueError, match='floating array'): opt.step()
    p = Parameter(np.ones(2))
    def closure():                                           # a closure that computes a misshaped gradient
        p.grad = np.ones(3)
        return 0.0
    with pytest.raises(ValueError, match=r"\.grad: expected a floating array of shape \(2,\)"): SGD([p], lr=0.1).step(closure)
    assert p.data.tolist() == [1.0, 1.0]


@pytest.mark.parametrize('backend', ['numpy', 'torch'])
def test_load_state_dict_checks_its_layout(backend):
    if backend == 'numpy': opt = SGD([Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    else: opt = TorchSGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
    for bad in ({'state': {}}, {'state': {}, 'param_groups': 3}, {'state': [], 'param_groups': []},
                {'state': {}, 'param_groups': [{'lr': 0.1}]}, {'state': {0: 3}, 'param_groups': [{'params': [0]}]}):
        with pytest.raises(TypeError, match='state_dict'): opt.load_state_dict(bad)
    with pytest.raises(ValueError, match='has 2 parameter groups'):
        opt.load_state_dict({'state': {}, 'param_groups': [{'params': [0]}, {'params': [1]}]})


def test_check_functions_check_their_own_arguments():
    from dlcourse.numpy.optim import check_known_options, check_sgd_hyperparameters
    with pytest.raises(TypeError, match='where: expected a str'): check_sgd_hyperparameters(0.1, 0, 0, 0, False, False, where=3)
    with pytest.raises(TypeError, match='options: expected a dict'): check_known_options('x', {}, 'SGD', '')
    with pytest.raises(TypeError, match='optimizer: expected a str'): check_known_options({}, {}, 3, '')
    with pytest.raises(ValueError, match=r"options: expected every hyperparameter, missing \['momentum'"):
        SGD([W], lr=0.1).check_hyperparameters({'lr': 0.1})
    with pytest.raises(TypeError, match='set_to_none: expected True or False'): SGD([W], lr=0.1).zero_grad('no')


def test_least_squares_helpers_check_their_arguments():
    prob = least_squares_problem(steps=3)
    params = {'weight': Parameter(prob['weight'].copy()), 'bias': Parameter(prob['bias'].copy())}
    from dlcourse.torch.optim import least_squares_grad_numpy, least_squares_grad_torch
    with pytest.raises(ValueError, match=r'X: expected shape \(\*, 5\)'): least_squares_grad_numpy(params, np.ones((4, 6)), np.ones((4, 3)), 1.0)
    with pytest.raises(ValueError, match=r'Y: expected shape \(4, 3\)'): least_squares_grad_numpy(params, np.ones((4, 5)), np.ones((5, 3)), 1.0)
    with pytest.raises(ValueError, match='sign'): least_squares_grad_numpy(params, np.ones((4, 5)), np.ones((4, 3)), 0.5)
    with pytest.raises(TypeError, match="params: expected a dict with a 'weight' and a 'bias'"):
        least_squares_grad_numpy({}, np.ones((4, 5)), np.ones((4, 3)), 1.0)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in (('weight', prob['weight']), ('bias', prob['bias']))}
    with pytest.raises(TypeError, match='X, Y: expected the dtype of the weight'):
        least_squares_grad_torch(t, torch.ones(4, 5), torch.ones(4, 3), 1.0)
    with pytest.raises(ValueError, match='batch: expected a value in'): least_squares_problem(n=4, batch=5)


def test_sgd_trajectory_checks_every_argument_before_a_step():
    with pytest.raises(ValueError, match=r"options\['lr'\]: expected a value >= 0"): sgd_trajectory('numpy', {'lr': -1.0})
    with pytest.raises(ValueError, match=r"options: unknown option\(s\) \['learning_rate'\]"): sgd_trajectory('numpy', {'learning_rate': 0.1})
    with pytest.raises(ValueError, match=r"groups\[1\]\['momentum'\]"):
        sgd_trajectory('torch', {'lr': 0.1}, groups=({}, {'momentum': -1.0}))
    with pytest.raises(ValueError, match='resume_at: expected a value in'): sgd_trajectory('numpy', {'lr': 0.1}, steps=5, resume_at=5)
    with pytest.raises(TypeError, match='opt_class: expected a subclass'): sgd_trajectory('numpy', {'lr': 0.1}, opt_class=TorchSGD)
    with pytest.raises(ValueError, match='device'): sgd_trajectory('numpy', {'lr': 0.1}, device='bogus')
    from dlcourse.torch.optim import compare_trajectories
    with pytest.raises(ValueError, match='dtype'): compare_trajectories('SGD', 'x', {}, {}, 'float16')
    with pytest.raises(TypeError, match=r"run\['weight'\]: expected a NumPy array"): compare_trajectories('SGD', 'x', {'weight': 'x'}, {}, 'float64')


def test_torch_sgd_rejects_misspelt_options_and_bad_groups():
    t = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['learning_rate'\]"):
        TorchSGD([{'params': [t], 'learning_rate': 0.1}])
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['nesterov'\]: Nesterov momentum requires"):
        TorchSGD([{'params': [t], 'nesterov': True}], lr=0.1)
    with pytest.raises(ValueError, match='empty parameter list'):
        TorchSGD([], lr=0.1)


def test_base_optimizer_step_is_abstract():
    with pytest.raises(NotImplementedError, match='Optimizer must implement step'):
        Optimizer([W], {}).step()
    with pytest.raises(TypeError, match='defaults: expected a dict'):
        Optimizer([W], None)


def test_sgd_trajectory_rejects_unknown_backend():
    with pytest.raises(ValueError, match="backend: expected one of 'numpy', 'torch', 'builtin'"):
        sgd_trajectory('jax', {'lr': 0.1})


@requires_cuda
def test_torch_sgd_on_gpu_matches_numpy():
    results = topt.check_sgd('float64', device='cuda')
    assert all(r.ok for r in results)


# ---------------------------------------------------------------- the exploration: descend()

@pytest.mark.parametrize('name', ['bowl', 'wells'])
def test_surface_gradients_match_central_differences(name):
    s = ex.SURFACES[name]
    for p in np.random.default_rng(1).uniform(-4, 4, size=(10, 2)):
        assert relative_error(s.grad(p), numerical_gradient(lambda: float(s.value(p)), p)) < 1e-7


def test_surfaces_evaluate_on_grids():
    grid = np.zeros((4, 5, 2))
    for s in ex.SURFACES.values():
        assert s.value(grid).shape == (4, 5) and s.grad(grid).shape == (4, 5, 2)
    assert ex.SURFACES['wells'].min_value < ex.wells(ex.WELL_CENTERS).min()
    np.testing.assert_allclose(ex._wells_grad(ex._lowest_point(ex._wells_grad, ex.WELL_CENTERS[0])), 0, atol=1e-10)


@pytest.mark.parametrize('lr', [0.01, 0.1, 0.18, 0.199])
def test_descend_converges_below_two_over_lambda_max(lr):
    lam_max = ex.SURFACES['bowl'].max_curvature
    assert lr < 2 / lam_max
    run = ex.descend('bowl', (-4.5, 2.0), lr, 5000)
    assert not run.diverged and np.abs(run.points[-1]).max() < 1e-8
    assert run.points.shape == (5001, 2) and run.values.shape == (5001,)


@pytest.mark.parametrize('lr', [0.201, 0.25, 1.0, 100.0])
def test_descend_diverges_above_two_over_lambda_max(lr):
    run = ex.descend('bowl', (-4.5, 2.0), lr, 5000)
    assert run.diverged and run.steps < 5000
    assert np.isfinite(run.points).all() and np.abs(run.points).max() <= ex.DIVERGENCE_RADIUS


def test_descend_follows_the_closed_form_on_the_bowl():
    lr, lam = 0.05, np.array(ex.BOWL_CURVATURES)
    run = ex.descend('bowl', (-4.5, 2.0), lr, 30)
    expected = np.array([-4.5, 2.0]) * (1 - lr * lam) ** np.arange(31)[:, None]
    np.testing.assert_allclose(run.points, expected, rtol=1e-12)
    np.testing.assert_allclose(run.values, ex.bowl(expected), rtol=1e-12)


def test_noise_is_reproducible_with_a_seed():
    a = ex.descend('wells', (-4, -3.5), 0.1, 100, noise=2.0, seed=3)
    b = ex.descend('wells', (-4, -3.5), 0.1, 100, noise=2.0, seed=3)
    c = ex.descend('wells', (-4, -3.5), 0.1, 100, noise=2.0, seed=4)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points)
    quiet = [ex.descend('wells', (-4, -3.5), 0.1, 100, seed=s).points for s in (0, 1)]
    np.testing.assert_array_equal(*quiet)                 # without noise the seed does not matter


def test_noise_leaves_the_mean_step_unchanged():
    runs = np.array([ex.descend('bowl', (1.0, 1.0), 0.05, 1, noise=1.0, seed=s).points[1] for s in range(4000)])
    np.testing.assert_allclose(runs.mean(0), [1 - 0.05, 1 - 0.5], atol=0.005)
    np.testing.assert_allclose(runs.std(0), [0.05, 0.05], rtol=0.05)


def test_noise_lets_the_ball_escape_the_shallow_well():
    assert ex.well_shares(0.1, 0.0, seeds=4).tolist() == [0.0, 1.0, 0.0]
    assert ex.well_shares(0.3, 1.5, seeds=12)[0] > 0.5


def test_descend_edge_cases():
    run = ex.descend('bowl', np.array([1.0, 2.0], dtype=np.float32), 0.1, 0)
    assert run.steps == 0 and run.points.dtype == np.float64 and not run.diverged
    assert ex.descend(ex.SURFACES['bowl'], [0, 0], 0.0, 5).values.tolist() == [0.0] * 6


@pytest.mark.parametrize('args, kwargs, error, message', [
    (('bowl', (0, 0), -0.1, 10), {}, ValueError, 'lr: expected a value >= 0'),
    (('bowl', (0, 0, 0), 0.1, 10), {}, ValueError, 'start: expected 2 numbers, got 3'),
    (('bowl', (0, np.nan), 0.1, 10), {}, ValueError, r'start\[1\]: expected a real number, got NaN'),
    (('bowl', ('a', 'b'), 0.1, 10), {}, TypeError, r'start\[0\]: expected a real number'),
    (('bowl', (0, 0), 0.1, 2.5), {}, TypeError, 'steps: expected an integer'),
    (('bowl', (0, 0), 0.1, -1), {}, ValueError, 'steps: expected a value >= 0'),
    (('bowl', (0, 0), 0.1, 10), dict(noise=-1), ValueError, 'noise: expected a value >= 0'),
    (('bowl', (0, 0), 0.1, 10), dict(seed=-1), ValueError, 'seed: expected a value >= 0'),
    (('saddle', (0, 0), 0.1, 10), {}, ValueError, "surface: expected a Surface or one of 'bowl', 'wells'"),
    ((None, (0, 0), 0.1, 10), {}, ValueError, 'surface: expected a Surface'),
])
def test_descend_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        ex.descend(*args, **kwargs)


def test_surfaces_and_paths_check_their_fields():
    with pytest.raises(ValueError, match=r'xlim: expected an increasing pair'):
        ex.Surface('flat', ex.bowl, ex._bowl_grad, (1.0, -1.0), (-1.0, 1.0), (0.0, 0.0), 0.0)
    with pytest.raises(TypeError, match='grad: expected a function'):
        ex.Surface('flat', ex.bowl, 3, (-1.0, 1.0), (-1.0, 1.0), (0.0, 0.0), 0.0)
    with pytest.raises(ValueError, match='max_curvature: expected a value > 0'):
        ex.Surface('flat', ex.bowl, ex._bowl_grad, (-1.0, 1.0), (-1.0, 1.0), (0.0, 0.0), 0.0, max_curvature=0.0)
    with pytest.raises(ValueError, match=r'points: expected shape \(\*, 2\)'): ex.Descent(np.ones((3, 3)), np.ones(3), False)
    with pytest.raises(ValueError, match=r'values: expected shape \(3,\)'): ex.Descent(np.ones((3, 2)), np.ones(2), False)
    with pytest.raises(TypeError, match='diverged: expected True or False'): ex.Descent(np.ones((3, 2)), np.ones(3), 'no')


def test_landscapes_check_their_points():
    with pytest.raises(ValueError, match=r'p: expected points of shape \(\.\.\., 2\)'): ex.bowl(np.ones(3))
    with pytest.raises(ValueError, match=r'p: expected points'): ex.wells(None)
    with pytest.raises(TypeError, match=r'p: expected points'): ex.wells(object())
    with pytest.raises(ValueError, match=r'curvatures\[1\]: expected a value > 0'): ex.bowl(np.ones(2), (1.0, -2.0))
    assert ex.bowl([1.0, 1.0]) == 5.5 and ex.bowl(np.zeros((3, 4, 2))).shape == (3, 4)


def test_grids_check_every_setting_before_drawing_and_fit_the_column():
    import matplotlib.pyplot as plt
    plt.close('all')
    with pytest.raises(ValueError, match=r'lrs\[1\]: expected a value >= 0'): ex.plot_descent_grid('bowl', (0.1, -0.1), (0.0,))
    with pytest.raises(ValueError, match=r'noises\[0\]'): ex.plot_descent_grid('bowl', (0.1,), (-1.0,))
    with pytest.raises(ValueError, match='seeds'): ex.well_shares(0.1, 1.0, seeds=0)
    assert plt.get_fignums() == []
    fig = ex.plot_descent_grid('bowl', lrs=(0.02, 0.09, 0.19, 0.205), noises=(0.0,), steps=5)
    assert fig.get_size_inches()[0] <= 8.5 and ex.plot_descent(steps=5).get_size_inches()[0] <= 8.5
    plt.close('all')


def test_plots_and_widget_build():
    import matplotlib.pyplot as plt
    fig = ex.plot_descent('wells', lr=0.1, noise=1.0, steps=20)
    assert len(fig.axes) == 2
    fig = ex.plot_descent_grid('bowl', lrs=(0.05, 0.25), noises=(0.0, 1.0), steps=10)
    assert len(fig.axes) == 4 and 'above the start' in fig.axes[1].get_title()
    with pytest.raises(ValueError, match='lrs: expected at least one value'):
        ex.plot_descent_grid('bowl', lrs=(), noises=(0.0,))
    plt.close('all')
    widget = ex.descent_explorer()
    assert type(widget).__name__ == 'VBox'
    plt.close('all')


@pytest.mark.parametrize('make', ['sgd', 'adam'])
def test_torch_optimizers_check_hyperparameters_when_loading_a_state_dict(make):
    import torch
    from dlcourse.torch.adaptive import Adam
    from dlcourse.torch.optim import SGD as TorchSGD
    w = torch.zeros(3, requires_grad=True)
    opt = TorchSGD([w], lr=0.1) if make == 'sgd' else Adam([w], lr=0.1)
    state = opt.state_dict()
    state['param_groups'][0]['lr'] = -1.0
    with pytest.raises(ValueError, match=r"state_dict\['param_groups'\]\[0\].*lr"): opt.load_state_dict(state)
    assert opt.param_groups[0]['lr'] == 0.1
    with pytest.raises(TypeError, match='state_dict'): opt.load_state_dict([1, 2])
    good = opt.state_dict(); good['param_groups'][0]['lr'] = 0.5
    opt.load_state_dict(good)
    assert opt.param_groups[0]['lr'] == 0.5


def test_an_optimizer_written_later_gets_the_step_checks():
    "A subclass defined after the fact (as a learner writes one) has its `step` wrapped: a bad closure or gradient is refused first."
    calls = []

    class Halving(Optimizer):
        "Plain gradient descent at a fixed rate: a learner's first optimizer."
        def __init__(self, params): super().__init__(params, dict(lr=0.5))

        def step(self, closure=None):
            "Move every parameter with a gradient against it."
            loss = closure() if closure is not None else None
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is not None: p.data -= group['lr'] * p.grad
            calls.append(loss)
            return loss

    p = Parameter(np.ones(2))
    opt = Halving([p])
    assert Halving.step.__name__ == 'step' and Halving.step.__doc__ == "Move every parameter with a gradient against it."
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[0\]\.grad: expected a floating array of shape \(2,\)"):
        opt.step()
    p.grad = np.ones(2, dtype=np.int64)
    with pytest.raises(ValueError, match='floating array'): opt.step()
    with pytest.raises(TypeError, match='closure: expected a function'): opt.step(3)
    assert calls == [] and (p.data == 1).all()                     # nothing ran, nothing moved

    def closure():
        p.grad = np.full(3, 2.0)                                   # a closure that leaves a misshaped gradient
        return 7.0
    with pytest.raises(ValueError, match='grad: expected a floating array'): opt.step(closure)
    assert calls == [] and (p.data == 1).all()

    def good():
        p.grad = np.full(2, 2.0)
        return 7.0
    assert opt.step(good) == 7.0 and calls == [7.0] and (p.data == 0).all()
    p.grad = None
    assert opt.step() is None and (p.data == 0).all()              # a parameter without a gradient is left alone


def test_optimizer_repr_is_pytorchs():
    "Printed, an optimizer lists each group's options in PyTorch's layout (PyTorch adds options we do not have)."
    p, q = Parameter(np.zeros(3)), Parameter(np.zeros(2))
    ours = repr(SGD([{'params': [p]}, {'params': [q], 'lr': 0.5}], lr=0.1, momentum=0.9)).splitlines()
    theirs = repr(torch.optim.SGD([{'params': [torch.zeros(3, requires_grad=True)]},
                                   {'params': [torch.zeros(2, requires_grad=True)], 'lr': 0.5}], lr=0.1, momentum=0.9)).splitlines()
    extra = ('differentiable', 'foreach', 'fused')
    assert ours == [line for line in theirs if line.strip() and not line.strip().startswith(extra)]


def test_optimizer_repr_with_named_parameters_is_pytorchs():
    "Built from named_parameters(), both print each group's param_names, as torch.optim does."
    ours = repr(SGD(Linear(3, 2).named_parameters(), lr=0.1, momentum=0.9)).splitlines()
    theirs = repr(torch.optim.SGD(torch.nn.Linear(3, 2).named_parameters(), lr=0.1, momentum=0.9)).splitlines()
    extra = ('differentiable', 'foreach', 'fused')
    assert ours == [line for line in theirs if line.strip() and not line.strip().startswith(extra)]
    assert "    param_names: ['weight', 'bias']" in ours
