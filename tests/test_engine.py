"""Lesson 4a/4c: the scalar autograd engine against PyTorch, its errors, the matrix bridge, and the explorations."""
import math
import sys

import numpy as np
import pytest
import torch

from dlcourse.engine import (EXPRESSIONS, Value, as_values, compare_with_torch, data_of, draw_dag, draw_graph,
                             grad_of, graph_depths, graph_layout, topological_order)
from dlcourse.explore.backprop import (ACTIVATION_NAMES, NEURON_SETTINGS, activation_slope, bias_sweep, gradient_cost,
                                       leaf_gradients, neuron, neuron_explorer, plot_bias_sweep, plot_gradient_cost,
                                       plot_neuron, plot_neuron_grid)
from dlcourse.numpy.losses import MSELoss
from dlcourse.numpy.nn import Linear, ReLU, Sequential

RTOL = 1e-12

def close(a, b, rtol=RTOL):
    "Relative closeness with a floor of 1 on the scale, as for the expressions in the notebook."
    return abs(a - b) <= rtol * max(1.0, abs(b))

# ---------------------------------------------------------------- engine vs PyTorch

@pytest.mark.parametrize('name', list(EXPRESSIONS))
@pytest.mark.parametrize('seed', range(5))
def test_expressions_match_torch(name, seed):
    r = compare_with_torch(EXPRESSIONS[name], np.random.default_rng(seed).normal(size=3))
    assert close(r['value'], r['torch_value'])
    for mine, theirs in zip(r['grads'], r['torch_grads']): assert close(mine, theirs)

UNARY = {
    'neg': lambda a: -a, 'exp': lambda a: a.exp(), 'tanh': lambda a: a.tanh(), 'relu': lambda a: a.relu(),
    'sigmoid': lambda a: a.sigmoid(), 'log': lambda a: (a * a + 0.1).log(), 'pow2': lambda a: a ** 2,
    'pow3': lambda a: a ** 3, 'pow-1': lambda a: (a * a + 1) ** -1, 'sqrt': lambda a: (a * a + 1) ** 0.5,
    'pow0': lambda a: a ** 0, 'radd': lambda a: 2 + a, 'rsub': lambda a: 2 - a, 'rmul': lambda a: 2 * a,
    'rdiv': lambda a: 2 / (a * a + 1), 'add-num': lambda a: a + 2.5, 'sub-num': lambda a: a - 2.5,
    'mul-num': lambda a: a * np.float64(-1.5), 'div-num': lambda a: a / 4,
}

@pytest.mark.parametrize('name', list(UNARY))
@pytest.mark.parametrize('x', [-2.3, -0.4, 0.7, 3.1])
def test_each_operation_matches_torch(name, x):
    f = UNARY[name]
    r = compare_with_torch(lambda a, b, c: f(a), [x, 0.0, 0.0])
    assert close(r['value'], r['torch_value']) and close(r['grads'][0], r['torch_grads'][0])

@pytest.mark.parametrize('op', ['+', '-', '*', '/'])
def test_binary_operations_match_torch(op):
    f = {'+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b, '/': lambda a, b: a / b}[op]
    r = compare_with_torch(lambda a, b, c: f(a, b), [1.3, -0.6, 0.0])
    assert close(r['value'], r['torch_value'])
    assert all(close(m, t) for m, t in zip(r['grads'], r['torch_grads']))

@pytest.mark.parametrize('x', [-800.0, -40.0, 40.0, 800.0])
def test_sigmoid_and_tanh_extremes(x):
    for method in ('sigmoid', 'tanh'):
        v = Value(x)
        out = getattr(v, method)(); out.backward()
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        t_out = getattr(t, method)(); t_out.backward()
        assert math.isfinite(out.data) and close(out.data, t_out.item()) and close(v.grad, t.grad.item())

def test_kinks_match_torch():
    v = Value(0.0); v.relu().backward()
    assert v.grad == 0.0                          # torch.relu: slope 0 at 0
    v = Value(0.0); (v ** 0.5).backward()
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True); (t ** 0.5).backward()
    assert v.grad == t.grad.item() == math.inf
    v = Value(0.0); (v ** 0).backward()
    assert v.grad == 0.0

# ---------------------------------------------------------------- backward semantics

def test_reused_node_sums_its_gradients():
    a = Value(3.0); (a + a).backward(); assert a.grad == 2.0
    x = Value(3.0); (x * x * x).backward(); assert x.grad == 27.0

def test_leaf_gradients_accumulate_but_intermediates_do_not():
    x = Value(2.0); y = x * x; z = y * 3
    z.backward(); z.backward()
    assert x.grad == 24.0                          # 2 * (3 * 2x)
    assert y.grad == 3.0                           # recomputed, not accumulated
    x.grad = 0.0; z.backward(0.5)
    assert x.grad == 6.0

def test_backward_of_a_leaf():
    v = Value(5.0); v.backward(); v.backward()
    assert v.grad == 2.0

def test_deep_graph_does_not_hit_recursion_limit():
    x = Value(1.0, 'x')
    s = x
    for _ in range(3 * sys.getrecursionlimit()): s = s + x * 0.5
    s.backward()
    assert x.grad == 1 + 0.5 * 3 * sys.getrecursionlimit()

def test_topological_order_lists_every_node_once_after_its_inputs():
    a, b = Value(1.0), Value(2.0)
    c = a * b; d = c + a; e = d * c
    order = topological_order(e)
    assert len(order) == len({id(v) for v in order}) == 5
    pos = {id(v): i for i, v in enumerate(order)}
    assert all(pos[id(ch)] < pos[id(v)] for v in order for ch in v.children)
    assert order[-1] is e

def test_topological_order_with_custom_inputs():
    graph = {'out': ['h1', 'h2'], 'h1': ['x'], 'h2': ['x', 'y'], 'x': [], 'y': []}
    order = topological_order('out', graph.__getitem__)
    assert order[-1] == 'out' and set(order) == set(graph)
    assert order.index('x') < order.index('h1') and order.index('y') < order.index('h2')

# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize('bad', ['3', None, [1.0], 1 + 2j, True, np.bool_(True), np.array(1.0), torch.tensor(1.0)])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match='data: expected a real number'): Value(bad)

def test_value_rejects_nan_and_bad_label():
    with pytest.raises(ValueError, match='NaN'): Value(float('nan'))
    with pytest.raises(TypeError, match='label'): Value(1.0, label=3)

@pytest.mark.parametrize('bad', ['2', None, [1], 1j, False, torch.tensor(2.0)])
@pytest.mark.parametrize('op', ['+', '-', '*', '/'])
def test_operands_must_be_numbers(bad, op):
    f = {'+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b, '/': lambda a, b: a / b}[op]
    with pytest.raises(TypeError):
        f(Value(1.0), bad)
    if not isinstance(bad, (torch.Tensor, list)):     # these define their own reflected operators
        with pytest.raises(TypeError, match=f'operand of {"/" if op == "/" else op}'):
            f(bad, Value(1.0))

def test_operand_message_names_the_operation():
    with pytest.raises(TypeError, match=r"operand of \+: expected a Value or a real number, got str '2'"): Value(1.0) + '2'

def test_math_errors_are_clear():
    with pytest.raises(ZeroDivisionError, match='division by zero'): Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match='division by zero'): Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match='division by zero'): 2 / Value(0.0)
    with pytest.raises(ValueError, match='log: expected a positive Value, got 0'): Value(0.0).log()
    with pytest.raises(ValueError, match='log: expected a positive Value, got -3'): Value(-3.0).log()
    with pytest.raises(ValueError, match='fractional power'): Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match='negative power'): Value(0.0) ** -2
    with pytest.raises(OverflowError, match='exp'): Value(710.0).exp()
    with pytest.raises(OverflowError, match=r'\*\*'): Value(10.0) ** 400
    with pytest.raises(TypeError, match='exponent must be a number'): Value(2.0) ** Value(2.0)
    with pytest.raises(TypeError, match='exponent of'): Value(2.0) ** '2'
    with pytest.raises(TypeError, match='grad'): Value(2.0).backward('1')
    with pytest.raises(TypeError, match='root: expected a Value'): topological_order(2.0)

def test_value_rejects_infinite_data_and_grad():
    with pytest.raises(ValueError, match='data: expected a finite number'): Value(float('inf'))
    with pytest.raises(ValueError, match='grad: expected a real number, got NaN'): Value(1.0).backward(float('nan'))
    with pytest.raises(ValueError, match='grad: expected a finite number'): Value(1.0).backward(float('-inf'))

def test_graph_helpers_check_the_graph():
    graph = {'a': [], 'b': ['a'], 'c': ['a', 'b']}
    with pytest.raises(TypeError, match='nodes: expected a list or tuple'): graph_depths('abc', graph.__getitem__)
    with pytest.raises(TypeError, match='inputs: expected a function'): graph_depths(['a'], 3)
    with pytest.raises(ValueError, match="topological order.*'c' comes before its input 'a'"):
        graph_depths(['c', 'b', 'a'], graph.__getitem__)
    with pytest.raises(ValueError, match="'a' appears more than once"): graph_layout(['a', 'a'], graph.__getitem__)
    with pytest.raises(TypeError, match='inputs: expected a function returning a list or tuple'): graph_depths(['a'], len)
    with pytest.raises(TypeError, match='nodes: expected hashable'): graph_depths([['a']], lambda n: [])
    with pytest.raises(TypeError, match='inputs: expected a function'): topological_order('c', object())
    with pytest.raises(TypeError, match='root: expected hashable'): topological_order(['c'], lambda n: [])
    assert graph_depths([], graph.__getitem__) == {}

def test_drawing_checks_its_arguments():
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    plt.close('all')
    graph = {'a': [], 'b': ['a']}
    with pytest.raises(ValueError, match='nodes: expected at least one node'): draw_dag([], graph.__getitem__, str)
    with pytest.raises(TypeError, match='text: expected a function'): draw_dag(['a', 'b'], graph.__getitem__, 'x')
    with pytest.raises(TypeError, match='color: expected a function or None'): draw_dag(['a', 'b'], graph.__getitem__, str, color=3)
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): draw_dag(['a', 'b'], graph.__getitem__, str, ax=3)
    out = Value(2.0) * Value(3.0)
    with pytest.raises(ValueError, match="fmt: expected a format spec"): draw_graph(out, fmt='.4q')
    with pytest.raises(TypeError, match='show_local: expected True or False'): draw_graph(out, show_local='no')
    with pytest.raises(ValueError, match='fontsize'): draw_graph(out, fontsize=0)
    assert plt.get_fignums() == []                                         # nothing drawn before the checks
    fig_width = draw_graph(out).figure.get_size_inches()[0]
    assert fig_width <= 8.5                                                # fits the page's column
    plt.close('all')

def test_compare_with_torch_checks_its_arguments():
    with pytest.raises(TypeError, match='expression: expected a function'): compare_with_torch(3, [1.0])
    with pytest.raises(ValueError, match='inputs: expression takes other arguments than the 1 inputs'):
        compare_with_torch(lambda a, b: a * b, [1.0])
    with pytest.raises(TypeError, match=r'inputs\[1\]: expected a real number'): compare_with_torch(lambda a, b: a * b, [1.0, 'x'])
    with pytest.raises(TypeError, match='expression: expected a function of Values returning a Value'):
        compare_with_torch(lambda a: 3, [1.0])
    with pytest.raises(ValueError, match='device'): compare_with_torch(lambda a: a * a, [1.0], device='bogus')
    with pytest.raises(ValueError, match='dtype'): compare_with_torch(lambda a: a * a, [1.0], dtype='float16')
    with pytest.raises(TypeError, match='name: expected a str'): as_values(np.ones(2), name=3)

def test_negative_base_with_integer_power_is_fine():
    v = Value(-2.0); out = v ** 3; out.backward()
    assert out.data == -8.0 and v.grad == 12.0

# ---------------------------------------------------------------- arrays of Values and the matrix bridge

def test_as_values_round_trip_and_labels():
    a = np.arange(6.0).reshape(2, 3)
    v = as_values(a, 'W')
    assert v.shape == (2, 3) and v[1, 2].label == 'W[1,2]'
    np.testing.assert_array_equal(data_of(v), a)
    np.testing.assert_array_equal(grad_of(v), np.zeros((2, 3)))
    assert data_of(as_values(np.arange(3), 'i')).dtype == np.float64

def test_array_helpers_reject_bad_input():
    with pytest.raises(TypeError, match='array'): as_values(torch.zeros(2))
    with pytest.raises(TypeError, match='array'): as_values([1.0, 2.0])
    with pytest.raises(ValueError, match='NaN or inf'): as_values(np.array([np.nan]))
    with pytest.raises(TypeError, match='values: expected an array of Values'): grad_of(np.array([Value(1.0), 2.0], dtype=object))

@pytest.mark.parametrize('seed', range(3))
def test_value_engine_reproduces_numpy_matrix_backward(seed):
    "Linear(3->4), ReLU, Linear(4->2), MSE: scalar chain rule == hand-written G W, G^T X, sum G."
    rng = np.random.default_rng(seed)
    net = Sequential(Linear(3, 4, dtype='float64', generator=rng), ReLU(), Linear(4, 2, dtype='float64', generator=rng))
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    mse = MSELoss()
    loss = mse(net(X), Y)
    grad_X = net.backward(mse.backward())
    Xv = as_values(X, 'x')
    params = {k: as_values(p.data, k) for k, p in net.named_parameters()}
    relu = np.vectorize(Value.relu, otypes=[object])
    out = relu(Xv @ params['0.weight'].T + params['0.bias']) @ params['2.weight'].T + params['2.bias']
    loss_v = ((out - Y) ** 2).sum() / Y.size
    loss_v.backward()
    assert abs(loss_v.data - float(loss)) <= 1e-14
    np.testing.assert_allclose(grad_of(Xv), grad_X, rtol=0, atol=1e-14)
    for k, p in net.named_parameters(): np.testing.assert_allclose(grad_of(params[k]), p.grad, rtol=0, atol=1e-14)

# ---------------------------------------------------------------- drawing

def test_layout_points_every_edge_to_the_right():
    x, w, b = Value(1.0), Value(2.0), Value(3.0)
    out = (x * w + b).tanh()
    nodes = topological_order(out)
    pos = graph_layout(nodes, lambda v: v.children)
    depth = graph_depths(nodes, lambda v: v.children)
    assert all(pos[c][0] < pos[v][0] for v in nodes for c in v.children)
    assert (depth[x], depth[w], depth[b], depth[out]) == (0, 0, 1, 3)  # b sits just before the + that uses it
    assert len(set(pos.values())) == len(nodes)                       # no two boxes on top of each other

def test_draw_graph_draws_one_box_per_node():
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    x = Value(3.0, 'x'); out = x * x + x.exp(); out.backward()
    ax = draw_graph(out)
    n_nodes = len(topological_order(out))
    boxes = [t for t in ax.texts if t.get_bbox_patch() is not None and 'data' in t.get_text()]
    assert len(boxes) == n_nodes
    assert any('grad 6' in t.get_text() or 'grad 26.09' in t.get_text() for t in boxes)
    ax2 = draw_graph(out, show_local=False, color_by_grad=False)
    assert sum('data' in t.get_text() for t in ax2.texts) == n_nodes
    with pytest.raises(TypeError, match='root'): draw_graph(3.0)
    plt.close('all')

def test_draw_dag_on_a_plain_graph():
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    graph = {'out': ['a', 'b'], 'a': [], 'b': ['a']}
    nodes = topological_order('out', graph.__getitem__)
    ax = draw_dag(nodes, graph.__getitem__, str)
    assert sorted(t.get_text() for t in ax.texts if t.get_text()) == ['a', 'b', 'out']
    assert sum(1 for t in ax.texts if not t.get_text()) == 3                  # one arrow per edge
    plt.close('all')

# ---------------------------------------------------------------- lesson 4c explorations

@pytest.mark.parametrize('activation', ACTIVATION_NAMES)
def test_neuron_gradients_follow_the_chain_rule(activation):
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=4), rng.normal(size=4), 0.3
    g = leaf_gradients(neuron(x, w, b, activation))
    n = float(x @ w + b)
    slope = {'tanh': 1 - math.tanh(n) ** 2, 'sigmoid': (1 / (1 + math.exp(-n))) * (1 - 1 / (1 + math.exp(-n))),
             'relu': float(n > 0)}[activation]
    assert abs(activation_slope(n, activation) - slope) < 1e-15
    np.testing.assert_allclose([g[f"w{i + 1}"] for i in range(4)], slope * x, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose([g[f"x{i + 1}"] for i in range(4)], slope * w, rtol=1e-13, atol=1e-15)
    assert abs(g['b'] - slope) < 1e-15

def test_neuron_output_and_bad_input():
    o = neuron([2.0, 0.0], [-3.0, 1.0], 6.8813735870195432)
    assert abs(o.data - 2 ** -0.5) < 1e-12 and o.grad == 1.0
    assert leaf_gradients(o)['w2'] == 0.0                                 # zero input: no gradient for its weight
    with pytest.raises(ValueError, match='one weight per input'): neuron([1.0], [1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match='x: expected at least one value'): neuron([], [], 0.0)
    with pytest.raises(ValueError, match='activation'): neuron([1.0], [1.0], 0.0, 'gelu')
    with pytest.raises(TypeError, match=r'x\[0\]: expected a real number'): neuron(['a'], [1.0], 0.0)
    with pytest.raises(ValueError, match='b: expected a real number, got NaN'): neuron([1.0], [1.0], float('nan'))
    with pytest.raises(TypeError, match='n: expected a real number'): activation_slope('0', 'tanh')
    with pytest.raises(ValueError, match='activation'): activation_slope(0.0, 'elu')

def test_saturated_and_dead_neurons_from_the_static_figure():
    healthy, saturated, dead = (leaf_gradients(neuron([s['x1'], s['x2']], [s['w1'], s['w2']], s['b'], s['activation']))
                                for s in NEURON_SETTINGS)
    assert abs(healthy['w1']) > 0.5
    assert abs(saturated['w1']) < 1e-2 * abs(healthy['w1'])
    assert all(v == 0.0 for v in dead.values())

def test_bias_sweep_returns_what_it_claims():
    sweep = bias_sweep(activation='tanh', biases=[-1.0, 0.0, 2.0])
    assert set(sweep) == {'bias', 'x1', 'w1', 'x2', 'w2', 'b'}
    assert all(v.shape == (3,) for v in sweep.values())
    np.testing.assert_array_equal(sweep['bias'], [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(sweep['w1'], 1.5 * sweep['b'], rtol=1e-14)       # dL/dw1 = x1 f'(n), dL/db = f'(n)
    assert bias_sweep()['bias'].shape == (121,)
    with pytest.raises(ValueError, match='biases: expected at least one value'): bias_sweep(biases=[])
    with pytest.raises(TypeError, match=r'biases\[0\]'): bias_sweep(biases=[[0.0]])
    with pytest.raises(ValueError, match='x, w: expected one weight per input'): bias_sweep(x=(1.0,))

def test_gradient_cost_returns_what_it_claims():
    cost = gradient_cost(3, batch_size=16, repeats=2)
    assert set(cost) == {'parameters', 'forward_s', 'backprop_s', 'finite_difference_s', 'relative_difference'}
    assert cost['parameters'] == 64 * 3 + 3 + 3 * 10 + 10
    assert cost['relative_difference'] < 1e-6
    assert min(cost['forward_s'], cost['backprop_s'], cost['finite_difference_s']) > 0
    assert cost['finite_difference_s'] > cost['backprop_s']
    with pytest.raises(ValueError, match='width'): gradient_cost(0)
    with pytest.raises(ValueError, match='batch_size'): gradient_cost(2, batch_size=0)
    with pytest.raises(ValueError, match='repeats'): gradient_cost(2, repeats=0)

def test_plots_and_widget():
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig = plot_neuron(activation='relu')
    assert len(fig.axes) == 2 and "relu: slope f'(n)" in fig.axes[1].get_title()
    assert len(plot_neuron_grid().axes) == 2 * len(NEURON_SETTINGS)
    with pytest.raises(ValueError, match='settings'): plot_neuron_grid([])
    with pytest.raises(ValueError, match=r"settings\[0\]: unknown arguments \['bogus'\]"): plot_neuron_grid([{'bogus': 1.0}])
    with pytest.raises(TypeError, match=r"settings\[1\]: x1: expected a real number"): plot_neuron_grid([{}, {'x1': 'x'}])
    with pytest.raises(TypeError, match='x1: expected a real number'): plot_neuron(x1='2')
    with pytest.raises(TypeError, match='axes: expected 2 matplotlib Axes, got list'): plot_neuron(axes=[1, 2, 3])
    with pytest.raises(TypeError, match='axes: expected 2 matplotlib Axes'): plot_neuron(axes=[1, 2])
    with pytest.raises(TypeError, match=r'widths\[0\]: expected an integer'): plot_gradient_cost(widths=(1.5,))
    assert max(f.get_size_inches()[0] for f in map(plt.figure, plt.get_fignums())) <= 8.5    # every figure fits the column
    assert len(plot_bias_sweep().axes) == len(ACTIVATION_NAMES)
    assert len(plot_gradient_cost(widths=(1, 2), batch_size=8).axes[0].lines) == 3
    plt.close('all')
    w = neuron_explorer()
    assert {c.description for row in w.children[:-1] for c in row.children} >= {'x1', 'x2', 'w1', 'w2', 'b', 'activation'}
    plt.close('all')
