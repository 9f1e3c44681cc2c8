"""The schedule explorer: curves for every schedule and knob, the plots, the gallery and the widget."""
import matplotlib
import numpy as np
import pytest

from dlcourse import schedules as S
from dlcourse.explore import schedules as E

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close('all')


@pytest.mark.parametrize('name', list(E.SCHEDULES))
def test_every_schedule_at_its_defaults(name):
    curve = E.schedule_curve(name, steps=120, lr=0.3)
    assert curve.lrs.shape == curve.momenta.shape == (121,)
    assert np.isfinite(curve.lrs).all() and (curve.lrs >= 0).all() and curve.lrs.max() <= 0.3 + 1e-12
    assert set(curve.params) == set(E.SCHEDULES[name].knobs)
    assert (curve.metrics is not None) == (name == 'ReduceLROnPlateau')


@pytest.mark.parametrize('name', [n for n in E.SCHEDULES if n != 'constant'])
def test_each_knob_changes_the_curve(name):
    base = E.schedule_curve(name, steps=200)
    for knob_name, knob in E.SCHEDULES[name].knobs.items():
        if knob.kind == 'bool': value = not knob.default
        elif knob.kind == 'range': value = (40, 120)
        elif knob.kind == 'int': value = knob.default + 1 if knob.default < knob.high else knob.default - 1
        elif knob.kind == 'log': value = knob.default * 3
        else: value = knob.low + 0.37 * (knob.high - knob.low)
        moved = E.schedule_curve(name, steps=200, **{knob_name: value})
        changed = not (np.array_equal(moved.lrs, base.lrs) and np.array_equal(moved.momenta, base.momenta))
        assert changed, (name, knob_name, value)


def test_curves_equal_the_schedulers_they_name():
    curve = E.schedule_curve('StepLR', steps=100, lr=0.2, step_size=30, gamma=0.3)
    want = S.record_schedule(S.StepLR(E.SGD([E.Parameter(np.zeros(1))], lr=0.2), 30, 0.3), 100)['lr'][:, 0]
    np.testing.assert_array_equal(curve.lrs, want)
    one = E.schedule_curve('OneCycleLR', steps=100, lr=0.5)
    assert one.lrs[0] == pytest.approx(0.02) and one.lrs.max() == pytest.approx(0.5)
    assert one.momenta[0] == pytest.approx(0.95) and one.momenta.min() == pytest.approx(0.85, abs=1e-3)
    assert (E.schedule_curve('constant', steps=10).lrs == 0.1).all()
    multi = E.schedule_curve('MultiStepLR', steps=100, milestones=(30, 30))   # equal ends of the range: one milestone
    assert multi.lrs[29] == 0.1 and multi.lrs[30] == pytest.approx(0.01) and multi.lrs[-1] == pytest.approx(0.01)
    warm = E.schedule_curve('warm-up + cosine', steps=100, warmup=10, start_factor=0.1)
    assert warm.lrs[0] == pytest.approx(0.01) and warm.lrs[10] == 0.1 and warm.lrs[100] == pytest.approx(0.0, abs=1e-17)


def test_plots_and_gallery():
    for name in ('OneCycleLR', 'ReduceLROnPlateau', 'StepLR'):
        ax = E.plot_schedule(E.schedule_curve(name, steps=50))
        assert ax.get_xlabel() == 'step'
    fig = E.schedule_gallery(steps=60)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == [name for name in E.SCHEDULES if name != 'constant'] and fig.get_size_inches()[0] <= 8.5


def test_knobs_schedules_and_curves_check_their_fields():
    with pytest.raises(ValueError, match="kind: expected one of 'int'"): E.Knob(1, kind='slider')
    with pytest.raises(ValueError, match='high: expected a value >= 1'): E.Knob(1, 1, 0)
    with pytest.raises(ValueError, match='low: expected a value > 0'): E.Knob(0.1, 0.0, 1.0, 'log')
    with pytest.raises(TypeError, match='build: expected a function'): E.Schedule('StepLR')
    with pytest.raises(TypeError, match=r'knobs: expected \{argument name: Knob\}'): E.Schedule(lambda o, s: None, {'gamma': 0.5})
    with pytest.raises(ValueError, match=r'momenta: expected shape \(3,\)'): E.ScheduleCurve('x', {}, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=r'metrics: expected shape \(2,\)'): E.ScheduleCurve('x', {}, np.ones(3), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match='lrs: expected at least one rate'): E.ScheduleCurve('x', {}, np.ones(0), np.ones(0))
    curve = E.schedule_curve('StepLR', steps=10)
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): E.plot_schedule(curve, ax='left')
    with pytest.raises(TypeError, match='title: expected a string'): E.plot_schedule(curve, title=3)
    with pytest.raises(ValueError, match='lr: expected a value > 0'): E.schedule_gallery(lr=0.0)


def test_explorer_widget_rebuilds_knobs_and_redraws():
    import ipywidgets as widgets
    ui = E.schedule_explorer(steps=100)
    assert isinstance(ui, widgets.Widget)
    menu, length, rate = ui.children[0].children
    knob_box = ui.children[1]
    assert [c.description for c in knob_box.children] == list(E.SCHEDULES['OneCycleLR'].knobs)
    menu.value = 'MultiStepLR'
    assert [c.description for c in knob_box.children] == ['milestones', 'gamma']
    knob_box.children[0].value = (10, 60)
    length.value = 300
    rate.value = 0.01
    menu.value = 'OneCycleLR'
    knob_box.children[0].value = 0.1       # pct_start 0.1 of 100 steps: a zero-step phase, shown as an error
    menu.value = 'constant'
    assert knob_box.children == ()


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: E.schedule_curve('cosine'), ValueError, "name: expected one of"),
    (lambda: E.schedule_curve('StepLR', gama=0.5), ValueError, "StepLR has no knob(s) ['gama']"),
    (lambda: E.schedule_curve('constant', warmup=3), ValueError, 'it takes none'),
    (lambda: E.schedule_curve('StepLR', steps=0), ValueError, 'steps'),
    (lambda: E.schedule_curve('StepLR', lr=-0.1), ValueError, 'lr'),
    (lambda: E.schedule_curve('StepLR', momentum=1.0), ValueError, 'momentum'),
    (lambda: E.schedule_curve('StepLR', step_size=0), ValueError, 'step_size'),
    (lambda: E.schedule_curve('warm-up + cosine', steps=10, warmup=10), ValueError, 'warmup'),
    (lambda: E.schedule_curve('warm-up + cosine', warmup=0), ValueError, 'warmup'),
    (lambda: E.plot_schedule(np.ones(3)), TypeError, 'curve: expected a ScheduleCurve'),
    (lambda: E.schedule_explorer(steps=5000), ValueError, 'steps'),
    (lambda: E.schedule_explorer(lr=2.0), ValueError, 'lr'),
])
def test_bad_input(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)
