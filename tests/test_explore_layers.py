"""The width-and-depth exploration: grids, activation patterns, region counts, the sawtooth, plots and widget."""
import math

import matplotlib
import numpy as np
import pytest

from dlcourse.explore import layers as L
from dlcourse.numpy.nn import MLP, Linear, Module, ReLU, Sequential

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close('all')


def input_gradients(model, points):
    "d output / d input at every point, by the hand-written backward pass."
    out = model(points)
    grads = model.backward(np.ones_like(out))
    model.zero_grad()
    return grads


# --- building networks and grids ---

def test_random_mlp_shape_dtype_and_seed():
    model = L.random_mlp(8, 3, seed=5)
    linears = [m for m in model if isinstance(m, Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 8), (8, 8), (8, 8), (8, 1)]
    assert sum(isinstance(m, ReLU) for m in model) == 3
    assert all(p.dtype == np.float64 for p in model.parameters())
    same, other = L.random_mlp(8, 3, seed=5), L.random_mlp(8, 3, seed=6)
    for a, b, c in zip(model.parameters(), same.parameters(), other.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
        assert not np.array_equal(a.data, c.data)


def test_random_mlp_does_not_touch_global_generators():
    from dlcourse.core import default_generator
    state = default_generator().bit_generator.state
    L.random_mlp(4, 2, seed=0)
    assert default_generator().bit_generator.state == state


def test_weight_scale_multiplies_weights_not_biases():
    base, scaled = L.random_mlp(4, 2, seed=1), L.random_mlp(4, 2, seed=1, weight_scale=2.5)
    for (name, a), (_, b) in zip(base.named_parameters(), scaled.named_parameters()):
        np.testing.assert_allclose(b.data, a.data * (2.5 if name.endswith('weight') else 1.0), rtol=1e-15)


def test_grid_points_layout():
    coords, points = L.grid_points(extent=1.5, resolution=4)
    np.testing.assert_allclose(coords, np.linspace(-1.5, 1.5, 4))
    assert points.shape == (16, 2) and points.dtype == np.float64
    grid = points.reshape(4, 4, 2)
    np.testing.assert_array_equal(grid[2, 3], [coords[3], coords[2]])  # row = x2, column = x1
    assert L.grid_points(resolution=3, dtype='float32')[1].dtype == np.float32


def test_forward_grid_is_the_model_on_the_grid():
    model = L.random_mlp(6, 2, seed=3)
    coords, values = L.forward_grid(model, extent=1.0, resolution=7)
    assert values.shape == (7, 7)
    for i, j in [(0, 0), (2, 5), (6, 1)]:
        expected = model(np.array([[coords[j], coords[i]]]))[0, 0]
        assert values[i, j] == pytest.approx(expected, rel=1e-14, abs=1e-15)


# --- activation patterns and regions ---

@pytest.mark.parametrize('width, depth', [(1, 1), (3, 1), (5, 2), (4, 5)])
def test_patterns_have_one_bit_per_hidden_unit(width, depth):
    model = L.random_mlp(width, depth, seed=0)
    points = L.grid_points(resolution=9)[1]
    patterns = L.activation_patterns(model, points)
    assert patterns.shape == (81, width * depth) and patterns.dtype == bool


def test_patterns_are_the_signs_of_the_pre_activations():
    model = L.random_mlp(5, 3, seed=2)
    points = np.random.default_rng(0).normal(size=(50, 2))
    pre, x = [], points
    for layer in model:
        if isinstance(layer, ReLU): pre.append(x > 0)
        x = layer(x)
    np.testing.assert_array_equal(L.activation_patterns(model, points), np.concatenate(pre, axis=1))


def test_model_without_relu_has_one_region():
    model = Sequential(Linear(2, 1, dtype='float64'))
    patterns = L.activation_patterns(model, L.grid_points(resolution=5)[1])
    assert patterns.shape == (25, 0)
    assert L.count_patterns(patterns) == 1
    np.testing.assert_array_equal(L.region_ids(patterns), np.zeros(25))


def test_count_patterns_and_region_ids():
    patterns = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 0, 0]], dtype=bool)
    assert L.count_patterns(patterns) == 3
    ids = L.region_ids(patterns)
    assert ids.shape == (5,) and ids[0] == ids[1] and ids[2] == ids[4] and len(set(ids.tolist())) == 3
    wide = np.zeros((4, 130), dtype=bool); wide[1, 129] = True; wide[2, 0] = True
    assert L.count_patterns(wide) == 3  # bits beyond the first bytes count too


def test_region_boundaries():
    ids = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 2]])
    expected = np.array([[False, True, False], [True, True, True], [False, False, False]])
    np.testing.assert_array_equal(L.region_boundaries(ids), expected)


@pytest.mark.parametrize('depth', [1, 2])
def test_region_count_grows_with_width(depth):
    widths = (1, 2, 4, 8, 16, 32)
    means = [np.mean([L.count_linear_regions(w, depth, seed, resolution=100) for seed in range(3)]) for w in widths]
    assert all(a < b for a, b in zip(means, means[1:])), means


@pytest.mark.parametrize('width', [1, 2, 5, 12, 30])
def test_one_hidden_layer_obeys_the_line_arrangement_bound(width):
    for seed in range(3):
        count = L.count_linear_regions(width, 1, seed, resolution=120, extent=3.0)
        assert 1 <= count <= 1 + width + width * (width - 1) // 2


def test_count_linear_regions_matches_the_pieces():
    model = L.random_mlp(8, 2, seed=4, weight_scale=2.0)
    points = L.grid_points(2.0, 60)[1]
    assert L.count_linear_regions(8, 2, seed=4, resolution=60, weight_scale=2.0) == \
        L.count_patterns(L.activation_patterns(model, points))


# --- the function is continuous and piecewise linear ---

@pytest.mark.parametrize('width, depth, scale', [(8, 1, 1.0), (8, 3, 1.0), (16, 2, math.sqrt(6)), (3, 6, 2.0)])
def test_finite_differences_are_constant_within_a_region(width, depth, scale):
    model = L.random_mlp(width, depth, seed=7, weight_scale=scale)
    res = 80
    coords, values = L.forward_grid(model, 2.0, res)
    points = L.grid_points(2.0, res)[1]
    ids = L.region_ids(L.activation_patterns(model, points)).reshape(res, res)
    grads = input_gradients(model, points).reshape(res, res, 2)
    h = coords[1] - coords[0]
    size = np.abs(grads).max() + 1e-300
    for axis in (1, 0):  # x1 steps along columns, x2 steps along rows
        slope = np.diff(values, axis=axis) / h
        a, b = (ids[:, :-1], ids[:, 1:]) if axis == 1 else (ids[:-1], ids[1:])
        g = grads[:, :-1, 0] if axis == 1 else grads[:-1, :, 1]
        same = a == b
        assert same.any()
        # two points of one (convex) region: the difference quotient is the region's constant slope
        np.testing.assert_allclose(slope[same], g[same], rtol=0, atol=1e-9 * size)
        second = np.abs(np.diff(values, n=2, axis=axis))
        triple = same[:, :-1] & same[:, 1:] if axis == 1 else same[:-1] & same[1:]
        assert second[triple].max() <= 1e-12 * np.abs(values).max()  # a straight line inside each region


def test_one_hidden_layer_bends_at_every_crease():
    # with one hidden layer every switching unit changes the slope by (output weight) * (its weight vector);
    # deeper, a unit ignored by every unit above it switches without a kink, so regions can share a plane
    model = L.random_mlp(8, 1, seed=3)
    coords, values = L.forward_grid(model, 2.0, 80)
    ids = L.region_ids(L.activation_patterns(model, L.grid_points(2.0, 80)[1])).reshape(80, 80)
    second = np.abs(np.diff(values, n=2, axis=1))
    crossing = (ids[:, :-2] != ids[:, 1:-1]) | (ids[:, 1:-1] != ids[:, 2:])
    assert crossing.any() and np.median(second[crossing]) > 1e-6 * np.abs(values).max()


def test_dead_deep_network_has_many_patterns_but_one_plane():
    model = L.random_mlp(3, 6, seed=7, weight_scale=2.0)  # its last layers are dead: the output is affine
    coords, values = L.forward_grid(model, 2.0, 80)
    assert L.count_linear_regions(3, 6, seed=7, resolution=80, weight_scale=2.0) > 1
    assert np.abs(np.diff(values, n=2, axis=0)).max() < 1e-12 and np.abs(np.diff(values, n=2, axis=1)).max() < 1e-12


def test_gradient_is_one_vector_per_region():
    model = L.random_mlp(6, 3, seed=11)
    points = L.grid_points(2.0, 60)[1]
    ids = L.region_ids(L.activation_patterns(model, points))
    grads = input_gradients(model, points)
    for r in np.unique(ids):
        g = grads[ids == r]
        np.testing.assert_allclose(g, np.broadcast_to(g[0], g.shape), rtol=1e-12, atol=1e-15)


def test_output_is_continuous():
    # |f(x) - f(y)| <= (product of the weights' spectral norms) * |x - y| for neighbouring grid points
    for width, depth in [(8, 2), (32, 3), (4, 6)]:
        model = L.random_mlp(width, depth, seed=1, weight_scale=2.0)
        coords, values = L.forward_grid(model, 2.0, 100)
        lipschitz = np.prod([np.linalg.norm(m.weight.data, 2) for m in model if isinstance(m, Linear)])
        h = coords[1] - coords[0]
        jumps = max(np.abs(np.diff(values, axis=0)).max(), np.abs(np.diff(values, axis=1)).max())
        assert jumps <= lipschitz * h * (1 + 1e-12)


# --- the sawtooth: depth multiplies the pieces ---

@pytest.mark.parametrize('depth', [1, 2, 3, 5, 7])
def test_sawtooth_has_two_to_the_depth_pieces(depth):
    model = L.sawtooth_mlp(depth)
    assert [m.out_features for m in model if isinstance(m, Linear)] == [2] * depth + [1]
    xs = np.arange(1, 2001) / 2001  # odd denominator: no point lands exactly on a kink
    points = np.column_stack([xs, np.zeros_like(xs)])
    assert L.count_patterns(L.activation_patterns(model, points)) == 2 ** depth
    expected = xs
    for _ in range(depth): expected = 2 * np.maximum(expected, 0) - 4 * np.maximum(expected - 0.5, 0)
    np.testing.assert_allclose(model(points)[:, 0], expected, rtol=0, atol=1e-12)


def test_sawtooth_ignores_x2():
    model = L.sawtooth_mlp(3)
    a = model(np.array([[0.3, -5.0]]))
    b = model(np.array([[0.3, 7.0]]))
    np.testing.assert_array_equal(a, b)


# --- sweeps, plots and widget ---

def test_region_count_sweep_matches_single_counts():
    counts = L.region_count_sweep(budgets=(4, 8), depths=(1, 2), seeds=(0, 1), resolution=40)
    assert counts.shape == (2, 2)
    expected = np.mean([L.count_linear_regions(4, 2, s, resolution=40) for s in (0, 1)])
    assert counts[1, 1] == expected


def test_network_shape_and_parameter_count():
    assert L.network_shape(L.random_mlp(8, 2)) == '2 → 8 → 8 → 1'
    assert L.network_shape(L.random_mlp(8, 4)) == '2 → 8 → 8 → 8 → 8 → 1'
    assert L.network_shape(L.random_mlp(16, 7)) == '2 → 16 ×7 → 1'
    assert L.n_parameters(L.random_mlp(8, 2)) == (2 * 8 + 8) + (8 * 8 + 8) + (8 + 1)


def test_plot_network_title():
    ax = L.plot_network(8, 2, seed=0, resolution=50)
    title = ax.get_title()
    assert '2 → 8 → 8 → 1' in title and '105 parameters' in title
    count = L.count_linear_regions(8, 2, 0, resolution=50)
    assert f"{count} regions" in title and 'output range' in title


def test_static_figures():
    fig = L.plot_width_depth_grid(widths=(2, 4), depths=(1, 2, 3), resolution=30)
    assert len(fig.axes) == 6
    fig = L.plot_depth_vs_width(budgets=(4, 8), depths=(1, 2), seeds=(0,), resolution=30, saw_depths=(1, 2))
    left, right = fig.axes
    assert len(left.get_lines()) == 2 * 2 + 1 and len(right.get_lines()) == 2
    assert '4 pieces' in right.get_legend().get_texts()[1].get_text()


def test_layers_explorer_sliders_redraw():
    import ipywidgets as widgets
    ui = L.layers_explorer(resolution=30)
    assert isinstance(ui, widgets.Widget)
    sliders = {c.description: c for row in ui.children[:2] for c in row.children}
    assert set(sliders) == {'width', 'depth', 'seed', 'weight scale'}
    sliders['width'].value = 3
    sliders['depth'].value = 5
    sliders['weight scale'].value = 2.5
    sliders['seed'].value = 4


# --- bad input ---

class Tanh(Module):
    def forward(self, input): return np.tanh(input)


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: L.random_mlp(0, 2), ValueError, 'width: expected a value >= 1, got 0'),
    (lambda: L.random_mlp(-3, 2), ValueError, 'width: expected a value >= 1'),
    (lambda: L.random_mlp(2.5, 2), TypeError, 'width: expected an integer, got float 2.5'),
    (lambda: L.random_mlp('8', 2), TypeError, 'width: expected an integer'),
    (lambda: L.random_mlp(True, 2), TypeError, 'width: expected an integer, got bool'),
    (lambda: L.random_mlp(8, 0), ValueError, 'depth: expected a value >= 1, got 0'),
    (lambda: L.random_mlp(8, 1.0), TypeError, 'depth: expected an integer'),
    (lambda: L.random_mlp(8, 2, seed=-1), ValueError, 'seed: expected a value >= 0'),
    (lambda: L.random_mlp(8, 2, seed=0.5), TypeError, 'seed: expected an integer'),
    (lambda: L.random_mlp(8, 2, weight_scale=0), ValueError, 'weight_scale: expected a value > 0'),
    (lambda: L.random_mlp(8, 2, weight_scale=float('nan')), ValueError, 'weight_scale: expected a real number, got NaN'),
    (lambda: L.random_mlp(8, 2, weight_scale=float('inf')), ValueError, 'weight_scale: expected a finite number'),
    (lambda: L.count_linear_regions(0, 2), ValueError, 'width: expected a value >= 1'),
    (lambda: L.count_linear_regions(8, 0), ValueError, 'depth: expected a value >= 1'),
    (lambda: L.count_linear_regions(8, 2, resolution=1), ValueError, 'resolution: expected a value in [2, 2000], got 1'),
    (lambda: L.count_linear_regions(8, 2, resolution=50.0), TypeError, 'resolution: expected an integer'),
    (lambda: L.count_linear_regions(8, 2, resolution=10**6), ValueError, 'resolution: expected a value in [2, 2000]'),
    (lambda: L.count_linear_regions(8, 2, extent=-1.0), ValueError, 'extent: expected a value > 0'),
    (lambda: L.grid_points(extent=float('inf')), ValueError, 'extent: expected a finite number'),
    (lambda: L.grid_points(resolution=0), ValueError, 'resolution'),
    (lambda: L.forward_grid(L.random_mlp(4, 1), resolution=1), ValueError, 'resolution'),
    (lambda: L.forward_grid(MLP(2, [4, 3], dtype='float64')), ValueError, 'model: expected a scalar output'),
    (lambda: L.forward_grid([Linear(2, 1)]), TypeError, 'model: expected a dlcourse.numpy Sequential'),
    (lambda: L.forward_grid(Linear(2, 1)), TypeError, 'model: expected a dlcourse.numpy Sequential'),
    (lambda: L.forward_grid(MLP(2, [4, 1], activation_layer=Tanh, dtype='float64')), TypeError,
     'model: expected only Linear and ReLU layers (a piecewise-linear network), got Tanh'),
    (lambda: L.forward_grid(MLP(3, [4, 1], dtype='float64')), ValueError, 'model: expected a network whose first layer is a Linear with 2 inputs'),
    (lambda: L.forward_grid(Sequential()), ValueError, 'model: expected a network whose first layer'),
    (lambda: L.activation_patterns(L.random_mlp(4, 1), np.zeros((5, 3))), ValueError, 'points: expected shape (*, 2), got (5, 3)'),
    (lambda: L.activation_patterns(L.random_mlp(4, 1), np.zeros(2)), ValueError, 'points: expected a 2-D array'),
    (lambda: L.activation_patterns(L.random_mlp(4, 1), np.zeros((5, 2), np.float32)), TypeError, 'points: expected dtype float64'),
    (lambda: L.activation_patterns(L.random_mlp(4, 1), [[0.0, 0.0]]), TypeError, 'points: expected a NumPy array'),
    (lambda: L.activation_patterns(L.random_mlp(4, 1), np.array([[np.nan, 0.0]])), ValueError, 'points: contains NaN or inf'),
    (lambda: L.activation_patterns(L.random_mlp(4, 1), np.zeros((5, 2), int)), TypeError, 'points: expected a floating-point'),
    (lambda: L.count_patterns(np.zeros((3, 2))), TypeError, 'patterns: expected a boolean array'),
    (lambda: L.count_patterns(np.zeros(3, dtype=bool)), ValueError, 'patterns: expected a 2-D array'),
    (lambda: L.region_ids([[True]]), TypeError, 'patterns: expected a NumPy array'),
    (lambda: L.region_boundaries(np.zeros((3, 3))), TypeError, 'ids: expected an integer dtype'),
    (lambda: L.region_boundaries(np.zeros(3, int)), ValueError, 'ids: expected a 2-D array'),
    (lambda: L.sawtooth_mlp(0), ValueError, 'depth: expected a value >= 1'),
    (lambda: L.region_count_sweep(budgets=(6,), depths=(4,)), ValueError, 'budgets: 6 neurons cannot be split into 4 equal layers'),
    (lambda: L.region_count_sweep(budgets=(8,), depths=(0,)), ValueError, 'depths[0]: expected a value >= 1'),
    (lambda: L.region_count_sweep(budgets=(8.5,), depths=(1,)), TypeError, 'budgets[0]: expected an integer'),
    (lambda: L.region_count_sweep(budgets=()), ValueError, 'budgets: expected at least one value'),
    (lambda: L.plot_width_depth_grid(widths=()), ValueError, 'widths: expected at least one value'),
    (lambda: L.plot_network(0, 2), ValueError, 'width: expected a value >= 1'),
    (lambda: L.layers_explorer(resolution=1), ValueError, 'resolution'),
])
def test_bad_input(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)
