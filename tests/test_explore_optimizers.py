"""Lesson 6c: the optimizer race on 2-D landscapes and the momentum map (the plain functions behind the widgets)."""
import matplotlib
import numpy as np
import pytest

from dlcourse.crosscheck import numerical_gradient, relative_error
from dlcourse.explore import optimizers as ex
from dlcourse.explore.descent import Surface
from dlcourse.numpy.adaptive import Adam
from dlcourse.numpy.nn import Parameter
from dlcourse.numpy.optim import SGD

matplotlib.use('Agg')


# ---------------------------------------------------------------- landscapes

@pytest.mark.parametrize('name', list(ex.RACE_SURFACES))
def test_gradients_match_central_differences(name):
    s = ex.RACE_SURFACES[name]
    for p in np.random.default_rng(1).uniform(-2, 2, size=(10, 2)):
        assert relative_error(s.grad(p), numerical_gradient(lambda: float(s.value(p)), p)) < 1e-7


@pytest.mark.parametrize('name', list(ex.RACE_SURFACES))
def test_surfaces_evaluate_grids_and_have_their_stated_minimum(name):
    s = ex.RACE_SURFACES[name]
    X, Y = np.meshgrid(np.linspace(*s.xlim, 41), np.linspace(*s.ylim, 31))
    grid = np.stack([X, Y], axis=-1)
    assert s.value(grid).shape == (31, 41) and s.grad(grid).shape == (31, 41, 2)
    assert s.value(grid).min() >= s.min_value - 1e-12
    minima = {'quadratic': [(0.0, 0.0)], 'rosenbrock': [(1.0, 1.0)], 'beale': [(3.0, 0.5)], 'saddle': [(0.0, 1.0), (0.0, -1.0)]}[name]
    for m in minima:
        assert s.value(np.array(m)) == pytest.approx(s.min_value, abs=1e-12)
        np.testing.assert_allclose(s.grad(np.array(m)), 0.0, atol=1e-12)


def test_rotated_hessian():
    H = ex.rotated_hessian((2.0, 8.0), 90.0)
    np.testing.assert_allclose(H, np.diag([8.0, 2.0]), atol=1e-12)
    H = ex.rotated_hessian((1.0, 25.0), 30.0)
    np.testing.assert_allclose(H, H.T)
    w, v = np.linalg.eigh(H)
    np.testing.assert_allclose(w, [1.0, 25.0])
    np.testing.assert_allclose(np.abs(v[:, 0]), [np.cos(np.pi / 6), np.sin(np.pi / 6)])   # the flat axis at 30°


def test_saddle_point_is_a_saddle():
    p = np.zeros(2)
    H = np.stack([numerical_gradient(lambda i=i: float(ex.saddle_grad(p)[i]), p) for i in range(2)])
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [-1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(ex.saddle_grad(np.zeros(2)), 0.0)


# ---------------------------------------------------------------- running optimizers

def test_run_optimizer_is_lesson_5as_training_loop():
    "SGD on the quadratic follows the closed form x_{t+1} = (I - ηH) x_t."
    run = ex.run_optimizer('quadratic', SGD, {'lr': 0.05}, 20)
    x, M = np.array(ex.RACE_SURFACES['quadratic'].start), np.eye(2) - 0.05 * ex.RACE_HESSIAN
    for t in range(21):
        np.testing.assert_allclose(run.points[t], x, rtol=1e-12, atol=1e-14)
        x = M @ x
    np.testing.assert_allclose(run.values, ex.RACE_SURFACES['quadratic'].value(run.points))
    assert not run.diverged and run.steps == 20


def test_run_optimizer_stops_at_divergence():
    run = ex.run_optimizer('quadratic', SGD, {'lr': 0.2}, 500)
    assert run.diverged and run.steps < 500 and np.isfinite(run.points).all()


def test_run_optimizer_uses_a_custom_start_and_surface():
    flat = Surface('flat', lambda p: np.zeros(np.shape(p)[:-1]), np.zeros_like, (-1, 1), (-1, 1), (0.5, 0.5), 0.0)
    run = ex.run_optimizer(flat, Adam, {'lr': 0.1}, 5, start=(0.2, -0.3))
    np.testing.assert_array_equal(run.points[-1], [0.2, -0.3])


@pytest.mark.parametrize('name', list(ex.RACE_SURFACES))
def test_every_racer_makes_progress_at_its_tuned_rate(name):
    for racer, run in ex.race(name).items():
        assert not run.diverged, racer
        assert run.values[-1] < run.values[0], racer
        assert run.steps == ex.RACE_STEPS[name]


def test_race_findings_of_the_lesson():
    saddle = ex.race('saddle')
    left = {n: int(np.argmax(np.abs(r.points[:, 1]) > 0.5)) for n, r in saddle.items()}
    assert max(left[n] for n in ('Adagrad', 'RMSprop')) < 5 < 30 < min(left[n] for n in ('SGD', 'momentum', 'Nesterov'))
    rosen = ex.race('rosenbrock')
    gap = {n: r.values[-1] for n, r in rosen.items()}
    assert max(gap['momentum'], gap['Nesterov']) < min(gap[n] for n in ('SGD', 'Adagrad', 'RMSprop', 'Adam', 'AdamW', 'Adamax'))


def test_race_options():
    opts = ex.race_options('beale', ['momentum', 'Adam', 'RMSprop'], lr_scale=2.0, momentum=0.5, betas=(0.8, 0.9))
    assert opts['momentum'] == (SGD, {'momentum': 0.5, 'lr': 2 * ex.RACE_RATES['beale']['momentum']})
    assert opts['Adam'][1] == {'lr': 2 * ex.RACE_RATES['beale']['Adam'], 'betas': (0.8, 0.9)}
    assert 'betas' not in opts['RMSprop'][1] and 'momentum' not in opts['RMSprop'][1]
    assert list(ex.race_options('saddle')) == list(ex.RACERS)
    assert set(ex.RACE_RATES) == set(ex.RACE_SURFACES) == set(ex.RACE_STEPS)
    assert all(set(rates) == set(ex.RACERS) for rates in ex.RACE_RATES.values())


def test_race_with_a_custom_surface_needs_racers_and_steps():
    s = ex.RACE_SURFACES['quadratic']
    with pytest.raises(ValueError, match='racers, steps: required'): ex.race(s)
    runs = ex.race(s, ex.race_options('quadratic', ['SGD']), steps=7)
    assert list(runs) == ['SGD'] and runs['SGD'].steps == 7


def test_race_bad_input():
    with pytest.raises(ValueError, match="surface: expected a Surface or one of 'quadratic'"):
        ex.run_optimizer('bowl', SGD, {'lr': 0.1}, 3)
    with pytest.raises(ValueError, match="surface: expected one of 'quadratic'"): ex.race_options('bowl')
    with pytest.raises(ValueError, match=r"names: unknown racers \['Lion'\]"): ex.race_options('quadratic', ['Lion'])
    with pytest.raises(ValueError, match='lr_scale: expected a value > 0'): ex.race_options('quadratic', lr_scale=0.0)
    with pytest.raises(ValueError, match=r'start: expected shape \(2,\)'): ex.run_optimizer('saddle', SGD, {}, 3, start=(1, 2, 3))
    with pytest.raises(ValueError, match='start: contains NaN'): ex.run_optimizer('saddle', SGD, {}, 3, start=(np.nan, 0))
    with pytest.raises(TypeError, match='start: expected two numbers'): ex.run_optimizer('saddle', SGD, {}, 3, start='ab')
    with pytest.raises(TypeError, match='steps: expected an integer'): ex.run_optimizer('saddle', SGD, {}, 2.5)
    with pytest.raises(ValueError, match='lr: expected a value >= 0'): ex.run_optimizer('saddle', SGD, {'lr': -1.0}, 3)


# ---------------------------------------------------------------- the momentum map

def test_momentum_rate_of_plain_descent_is_1_minus_eta_lambda():
    lam = np.array([0.5, 2.0])
    for lr in (0.1, 0.5, 0.9, 1.2):
        assert ex.momentum_rate(lr, 0.0, lam) == pytest.approx(np.abs(1 - lr * lam).max())


def test_momentum_rate_in_the_complex_regime_is_sqrt_mu():
    mu = 0.81
    lo, hi = (1 - np.sqrt(mu)) ** 2, (1 + np.sqrt(mu)) ** 2
    for h in np.linspace(lo + 1e-6, hi - 1e-6, 7):
        assert ex.momentum_rate(h, mu, [1.0]) == pytest.approx(np.sqrt(mu), rel=1e-9)
    assert ex.momentum_rate(2 * (1 + mu) + 0.01, mu, [1.0]) > 1 > ex.momentum_rate(2 * (1 + mu) - 0.01, mu, [1.0])


def test_nesterov_stability_limit():
    mu = 0.9
    limit = 2 * (1 + mu) / (1 + 2 * mu)
    assert ex.momentum_rate(limit - 1e-3, mu, [1.0], nesterov=True) < 1 < ex.momentum_rate(limit + 1e-3, mu, [1.0], nesterov=True)


@pytest.mark.parametrize('nesterov', [False, True])
@pytest.mark.parametrize('lr,mu', [(0.3, 0.0), (1.5, 0.2), (0.05, 0.95), (2.5, 0.6)])
def test_momentum_rate_is_the_spectral_radius_of_the_iteration(lr, mu, nesterov):
    lam = np.array([0.02, 0.3, 1.0])
    radii = []
    for l in lam:
        M = (np.array([[mu, l], [-lr * mu * mu, 1 - lr * l * (1 + mu)]]) if nesterov
             else np.array([[mu, l], [-lr * mu, 1 - lr * l]]))
        radii.append(np.abs(np.linalg.eigvals(M)).max())
    assert ex.momentum_rate(lr, mu, lam, nesterov) == pytest.approx(max(radii), rel=1e-9)


@pytest.mark.parametrize('nesterov', [False, True])
def test_simulated_sgd_converges_at_the_predicted_rate(nesterov):
    curv = (0.05, 1.0)
    for lr, mu in ((0.7, 0.3), (1.5, 0.6), (0.3, 0.0)):
        d = ex.simulate_momentum(lr, mu, curv, 300, nesterov)
        assert (d[-1] / d[-101]) ** 0.01 == pytest.approx(ex.momentum_rate(lr, mu, curv, nesterov), abs=5e-3)


def test_best_momentum_is_the_optimum_of_the_map():
    for kappa in (4.0, 100.0, 1e4):
        curv = (1 / kappa, 1.0)
        best = ex.best_momentum(curv)
        sk = np.sqrt(kappa)
        assert best['rate'] == pytest.approx((sk - 1) / (sk + 1))
        assert best['momentum'] == pytest.approx(best['rate'] ** 2)
        assert ex.momentum_rate(best['lr'], best['momentum'], curv) == pytest.approx(best['rate'], rel=1e-6)
        assert best['gd_rate'] == pytest.approx((kappa - 1) / (kappa + 1))
        assert ex.momentum_rate(best['gd_lr'], 0.0, curv) == pytest.approx(best['gd_rate'])
        grid = ex.momentum_map(curv, np.linspace(0.001, 4, 300), np.linspace(0, 0.999, 300))
        assert grid.min() >= best['rate'] - 1e-3


def test_momentum_map_shape_and_orientation():
    grid = ex.momentum_map((0.1, 1.0), [0.5, 1.0, 5.0], [0.0, 0.5])
    assert grid.shape == (2, 3)
    assert grid[0, 0] == pytest.approx(0.95) and grid[0, 2] == pytest.approx(4.0)
    assert grid[1, 1] == ex.momentum_rate(1.0, 0.5, (0.1, 1.0))


def test_steps_to_tolerance():
    np.testing.assert_array_equal(ex.steps_to_tolerance([0.2, 0.5, 0.0, 1.0, 1.5], tol=1e-6), [9, 20, 1, np.inf, np.inf])
    assert ex.steps_to_tolerance(0.9) == np.ceil(np.log(1e-6) / np.log(0.9))


def test_square_root_speed_up():
    "Steps of the best momentum grow like sqrt(κ), of plain descent like κ."
    s = {k: ex.best_momentum((1 / k, 1.0)) for k in (1e2, 1e4)}
    gd = ex.steps_to_tolerance(s[1e4]['gd_rate']) / ex.steps_to_tolerance(s[1e2]['gd_rate'])
    mom = ex.steps_to_tolerance(s[1e4]['rate']) / ex.steps_to_tolerance(s[1e2]['rate'])
    assert gd == pytest.approx(100, rel=0.02) and mom == pytest.approx(10, rel=0.05)


def test_momentum_bad_input():
    with pytest.raises(ValueError, match=r'momentum: expected values in \[0, 1\)'): ex.momentum_rate(0.1, [0.5, 1.0], [1.0])
    with pytest.raises(ValueError, match='lr: expected finite numbers'): ex.momentum_rate(np.inf, 0.5, [1.0])
    with pytest.raises(ValueError, match='lr: expected finite values >= 0'): ex.momentum_rate(-0.5, 0.5, [1.0])
    with pytest.raises(ValueError, match='curvatures: expected positive numbers'): ex.momentum_rate(0.1, 0.5, [])
    with pytest.raises(ValueError, match='curvatures: expected positive numbers'): ex.momentum_rate(0.1, 0.5, [1.0, -2.0])
    with pytest.raises(ValueError, match='curvatures: expected finite numbers'): ex.best_momentum([np.nan, 1.0])
    with pytest.raises(TypeError, match='curvatures: expected numbers'): ex.best_momentum('0.01, 1')
    with pytest.raises(TypeError, match='nesterov: expected True or False'): ex.momentum_rate(0.1, 0.5, [1.0], nesterov='yes')
    with pytest.raises(ValueError, match=r'momenta: expected values in \[0, 1\)'): ex.momentum_map([1.0], [0.5], [0.5, 1.0])
    with pytest.raises(ValueError, match='lrs: expected a 1-D array'): ex.momentum_map([1.0], [[0.5]], [0.5])
    with pytest.raises(ValueError, match='rate: expected values >= 0'): ex.steps_to_tolerance(-0.5)
    with pytest.raises(ValueError, match=r'momentum: expected a value in \[0, 1\)'): ex.simulate_momentum(0.1, 1.0, [1.0], 5)
    with pytest.raises(TypeError, match=r'point: expected \(step size, momentum\)'): ex.plot_momentum_map(point='x')
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): ex.plot_momentum_map(ax=3)
    with pytest.raises(ValueError, match=r'kappas\[1\]: expected a value >= 1'): ex.plot_momentum_maps((10.0, 0.5))
    with pytest.raises(TypeError, match='lr: expected a real number'): ex.plot_momentum_choice(lr=None)
    with pytest.raises(ValueError, match=r'tol: expected a value in \(0, 1\)'): ex.steps_to_tolerance(0.5, tol=0.0)
    with pytest.raises(ValueError, match='steps: expected a value >= 1'): ex.simulate_momentum(0.1, 0.5, [1.0], 0)
    with pytest.raises(ValueError, match='kappa: expected a value >= 1'): ex.plot_momentum_map(kappa=0.5)
    with pytest.raises(ValueError, match='kappas: expected at least one'): ex.plot_momentum_maps(())
    with pytest.raises(ValueError, match='surfaces: expected at least one'): ex.plot_race_grid(())
    with pytest.raises(ValueError, match="surfaces: expected one of 'quadratic'"): ex.plot_race_grid(('bowl',))
    with pytest.raises(ValueError, match=r'curvatures: expected two positive numbers'): ex.rotated_hessian((1.0, 2.0, 3.0))


def test_race_functions_check_what_they_run_and_draw():
    with pytest.raises(TypeError, match='opt_class: expected a NumPy optimizer class'):
        ex.run_optimizer("saddle", Adam([Parameter(np.zeros(2))]), {}, 3)
    with pytest.raises(TypeError, match="options: expected a dict"): ex.run_optimizer('saddle', SGD, 0.1, 3)
    with pytest.raises(ValueError, match='momentum: expected a value >= 0'): ex.race_options('saddle', momentum=-0.1)
    with pytest.raises(ValueError, match=r'betas\[1\]: expected a value in \[0, 1\)'): ex.race_options('saddle', betas=(0.9, 1.0))
    with pytest.raises(TypeError, match='names: expected a list of racers'): ex.race_options('saddle', names='Adam')
    with pytest.raises(TypeError, match='racers: expected {name: \\(optimizer class, options\\)}'): ex.race('saddle', {'SGD': SGD})
    with pytest.raises(ValueError, match='surface: expected a Surface or one of'): ex.race(3)
    with pytest.raises(TypeError, match='runs: expected {name: Descent}'): ex.plot_race('saddle', {'SGD': 3})
    with pytest.raises(TypeError, match='loss_ax: expected a matplotlib Axes'): ex.plot_race('saddle', {}, loss_ax='right')
    with pytest.raises(ValueError, match=r'beta2: expected a value in \[0, 1\)'): ex.plot_race_with('saddle', beta2=1.0)


def test_landscape_functions_are_not_part_of_the_documented_api():
    "The value and gradient functions are plain helpers behind RACE_SURFACES, exported but not in __all__."
    for name in ('quadratic', 'quadratic_grad', 'rosenbrock', 'rosenbrock_grad', 'beale', 'beale_grad', 'saddle', 'saddle_grad'):
        assert callable(getattr(ex, name)) and name not in ex.__all__


# ---------------------------------------------------------------- figures and widgets

def test_static_figures_draw():
    import matplotlib.pyplot as plt
    fig = ex.plot_race_grid(('saddle', 'quadratic'))
    assert len(fig.axes) == 4 and fig.get_size_inches()[0] <= 8.5
    plt.close(fig)
    fig = ex.plot_momentum_maps((10.0,))
    assert len(fig.axes) >= 2
    plt.close(fig)
    fig = ex.plot_momentum_maps()
    assert len([ax for ax in fig.axes if ax.get_title()]) == 4 and fig.get_size_inches()[0] <= 8.5
    plt.close(fig)
    fig = ex.plot_race_with('beale', ['Adam', 'SGD'], lr_scale=0.5, steps=20)
    plt.close(fig)
    fig = ex.plot_momentum_choice(kappa=50.0, lr=5.0, momentum=0.5, steps=20)      # a divergent choice draws too
    assert 'diverges' in fig.axes[-1].get_title() or any('diverges' in a.get_title() for a in fig.axes)
    plt.close(fig)


def test_widgets_build_and_respond():
    import matplotlib.pyplot as plt
    w = ex.race_explorer()
    landscape, box = w.children
    sliders = {c.description: c for row in box.children[:-1] for c in row.children}
    sliders['learning rates ×'].value = 0.5                  # learning-rate scale: redraws without error
    landscape.value = 'rosenbrock'                           # a new landscape switches to its own steps
    assert sliders['steps'].value == ex.RACE_STEPS['rosenbrock']
    m = ex.momentum_explorer()
    m.children[0].children[0].value = 1000.0
    plt.close('all')


def test_nesterov_without_momentum_is_plain_sgd():
    np.testing.assert_array_equal(ex.simulate_momentum(0.5, 0.0, (0.1, 1.0), 20, nesterov=True),
                                  ex.simulate_momentum(0.5, 0.0, (0.1, 1.0), 20))
    assert ex.momentum_rate(0.5, 0.0, (0.1, 1.0), nesterov=True) == ex.momentum_rate(0.5, 0.0, (0.1, 1.0))
    opts = ex.race_options('saddle', ['Nesterov'], momentum=0.0)
    assert opts['Nesterov'][1] == {'momentum': 0.0, 'nesterov': False, 'lr': ex.RACE_RATES['saddle']['Nesterov']}
    assert not ex.race('saddle', opts)['Nesterov'].diverged
