"""The lessons' exploration widgets, headless: each is built, one control moves, and its figure must be redrawn."""
import inspect

import matplotlib
import pytest

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

pytest.importorskip('ipywidgets')

from dlcourse.explore import activations, backprop, descent, layers, losses, optimizers, schedules  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close('all')


@pytest.fixture
def spy(monkeypatch):
    "Wrap `module.name` (an explorer's plot function) so the test sees each call's arguments; the figure is still drawn."
    def wrap(module, name):
        real, calls = getattr(module, name), []

        def recording(*args, **kwargs):
            calls.append(dict(inspect.signature(real).bind(*args, **kwargs).arguments))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, recording)
        return calls
    return wrap


def controls(ui):
    "Every control inside the widget `ui`, by its description."
    found = {}
    for child in getattr(ui, 'children', ()):
        if hasattr(child, 'children'): found |= controls(child)
        elif hasattr(child, 'value'): found[child.description] = child
    return found


def test_layers_explorer_redraws_when_a_slider_moves(spy):
    calls = spy(layers, 'plot_network')
    ui = layers.layers_explorer(resolution=20)
    assert len(calls) == 1 and len(plt.get_fignums()) == 1
    controls(ui)['width'].value = 3
    assert len(calls) == 2 and len(plt.get_fignums()) == 2
    assert calls[-1]['width'] == 3 and calls[-1]['resolution'] == 20


def test_activations_explorer_redraws_when_the_menu_changes(spy):
    calls = spy(activations, 'plot_activation_explorer')
    ui = activations.activation_explorer()
    assert list(controls(ui)['activation'].options) == list(activations.ACTIVATIONS)
    controls(ui)['depth'].value = 2
    controls(ui)['activation'].value = 'relu'
    assert [(c['name'], c['depth']) for c in calls] == [('sigmoid', 10), ('sigmoid', 2), ('relu', 2)]
    assert len(plt.get_fignums()) == 3


def test_losses_explorer_redraws_with_the_ticked_losses(spy, capsys):
    calls = spy(losses, 'plot_loss_explorer')
    ui = losses.loss_explorer()
    found = controls(ui)
    found['margin'].value = 2.0
    assert len(calls) == 2 and calls[-1]['margin'] == 2.0 and tuple(calls[-1]['losses']) == tuple(losses.SWEEP_LOSSES)
    for name, label in losses.SWEEP_LOSSES.items():
        if name != 'l1': found[label].value = False
    assert calls[-1]['losses'] == ['l1'] and len(plt.get_fignums()) == len(calls)
    found[losses.SWEEP_LOSSES['l1']].value = False                      # nothing ticked: a message, no figure
    assert len(plt.get_fignums()) == len(calls) and 'tick at least one loss' in capsys.readouterr().out


def test_backprop_explorer_redraws_when_a_slider_moves(spy):
    calls = spy(backprop, 'plot_neuron')
    ui = backprop.neuron_explorer()
    assert set(controls(ui)) == {'x1', 'x2', 'w1', 'w2', 'b', 'activation'}
    controls(ui)['b'].value = 1.0
    assert len(calls) == 2 and calls[-1]['b'] == 1.0 and calls[-1]['activation'] == 'tanh'
    assert len(plt.get_fignums()) == 2


def test_descent_explorer_redraws_when_a_control_changes(spy):
    calls = spy(descent, 'plot_descent')
    ui = descent.descent_explorer()
    controls(ui)['steps'].value = 10
    controls(ui)['surface'].value = 'wells'
    assert [(c['surface'], c['steps']) for c in calls] == [('bowl', 60), ('bowl', 10), ('wells', 10)]
    assert len(plt.get_fignums()) == 3


def test_optimizers_explorer_race_redraws_once_per_change(spy):
    calls = spy(optimizers, 'plot_race_with')
    ui = optimizers.race_explorer()
    found = controls(ui)
    found['racers'].value = ('SGD', 'Adam')
    assert len(calls) == 2 and tuple(calls[-1]['names']) == ('SGD', 'Adam')
    found['landscape'].value = 'beale'                              # a new landscape brings its own number of steps
    assert found['steps'].value == optimizers.RACE_STEPS['beale']
    assert len(calls) == 3 and (calls[-1]['surface'], calls[-1]['steps']) == ('beale', optimizers.RACE_STEPS['beale'])
    found['steps'].value = 20
    found['landscape'].value = 'quadratic'
    found['landscape'].value = 'saddle'                             # the same number of steps: redrawn all the same
    assert [(c['surface'], c['steps']) for c in calls[3:]] == [('beale', 20), ('quadratic', 100), ('saddle', 100)]
    assert len(plt.get_fignums()) == len(calls)


def test_optimizers_explorer_momentum_redraws_when_a_control_changes(spy):
    calls = spy(optimizers, 'plot_momentum_choice')
    ui = optimizers.momentum_explorer()
    controls(ui)['Nesterov'].value = True
    assert len(calls) == 2 and calls[-1]['nesterov'] is True and calls[-1]['kappa'] == 100
    assert len(plt.get_fignums()) == 2


def test_schedules_explorer_redraws_with_the_current_knobs(spy, capsys):
    calls = spy(schedules, 'plot_schedule')
    ui = schedules.schedule_explorer(steps=100)
    menu, length, rate = ui.children[0].children
    knob_box = ui.children[1]
    assert [c.description for c in knob_box.children] == list(schedules.SCHEDULES['OneCycleLR'].knobs)
    menu.value = 'StepLR'                                           # new knobs, then one redraw that uses them
    assert [c.description for c in knob_box.children] == ['step_size', 'gamma']
    assert len(calls) == 2 and calls[-1]['curve'].name == 'StepLR' and calls[-1]['curve'].params['step_size'] == 75
    knob_box.children[0].value = 10                                 # a rebuilt knob redraws
    assert len(calls) == 3 and calls[-1]['curve'].params['step_size'] == 10
    length.value = 50
    assert len(calls) == 4 and len(calls[-1]['curve'].lrs) == 51
    menu.value = 'warm-up + cosine'
    knob_box.children[0].value = 60                                 # a warm-up as long as the run: the error, no figure
    assert len(calls) == 5 and 'warmup' in capsys.readouterr().out
    assert len(plt.get_fignums()) == len(calls)


# --- lessons 7-9: initialization, normalization, clipping, parameter sharing, data preparation, augmentation, metrics ---

def test_init_explorer_redraws_when_a_control_changes(spy):
    from dlcourse.explore import init
    calls = spy(init, 'plot_layer_statistics')
    ui = init.init_explorer(width=16, batch_size=32)
    assert set(controls(ui)) == {'depth', 'initialization', 'activation'}
    controls(ui)['depth'].value = 5
    controls(ui)['activation'].value = 'tanh'
    assert [len(c['stats'].activations) for c in calls] == [30, 5, 5]
    assert 'kaiming + tanh, depth 5' in calls[-1]['title'] and len(plt.get_fignums()) == 3


def test_norm_explorer_redraws_when_a_control_changes(spy):
    from dlcourse.explore import norm
    calls = spy(norm, 'plot_norm_run')
    ui = norm.norm_explorer(steps=10)
    controls(ui)['batch norm'].value = False
    assert [(c['batch_norm'], c['lr'], c['init'], c['steps']) for c in calls] == [(True, 1.0, 'he', 10), (False, 1.0, 'he', 10)]
    assert len(plt.get_fignums()) == 2


def test_clip_explorer_redraws_when_a_slider_moves(spy):
    from dlcourse.explore import clip
    calls = spy(clip, 'plot_clipping_run')
    ui = clip.clipping_explorer()
    assert [c.description for c in ui.children[0].children] == ['spectral radius', 'threshold']
    controls(ui)['threshold'].value = 10.0
    assert len(calls) == 2 and calls[-1]['max_norm'] == 10.0 and calls[-1]['weight_scale'] == 2.5
    assert len(plt.get_fignums()) == 2


def test_sharing_explorer_redraws_when_a_slider_moves(spy):
    from dlcourse.torch import sharing
    calls = spy(sharing, 'plot_autoencoder_comparison')
    ui = sharing.autoencoder_explorer(epochs=1, device='cpu')
    assert set(controls(ui)) == {'hidden units', 'learning rate', 'seed'}
    controls(ui)['hidden units'].value = 4
    assert [(c['hidden'], c['lr'], c['epochs']) for c in calls] == [(16, 1e-2, 1), (4, 1e-2, 1)]
    assert len(plt.get_fignums()) == 2


def test_prep_explorer_redraws_when_a_control_changes(spy):
    from dlcourse.explore import prep
    calls = spy(prep, 'plot_recall_bars')
    ui = prep.imbalance_explorer(steps=10)
    controls(ui)['remedy'].value = 'oversample'
    assert [(c['result'].factor, c['result'].remedy) for c in calls] == [(20, 'none'), (20, 'oversample')]
    assert len(plt.get_fignums()) == 2


def test_augment_explorer_redraws_when_a_slider_moves(spy):
    from dlcourse.explore import augment
    calls = spy(augment, 'plot_gallery')
    ui = augment.augment_explorer(versions=2)
    assert len(ui.children) == 3                                     # two rows of sliders above the figure
    controls(ui)['flip p'].value = 1.0
    assert len(calls) == 2 and calls[-1]['flip_p'] == 1.0 and calls[-1]['rotation'] == 10.0 and calls[-1]['versions'] == 2
    assert len(plt.get_fignums()) == 2


def test_metrics_explorer_redraws_when_a_control_changes(spy):
    import numpy as np
    from dlcourse.explore import metrics
    calls = spy(metrics, 'plot_threshold')
    rng = np.random.default_rng(0)
    ui = metrics.threshold_explorer(rng.normal(size=(60, 10)), rng.integers(0, 10, 60))
    controls(ui)['threshold'].value = 0.2
    controls(ui)['positive class'].value = 7
    assert [(c['threshold'], c['positive_name']) for c in calls] == [(0.5, '3'), (0.2, '3'), (0.2, '7')]
    assert len(plt.get_fignums()) == 3


def test_overfitting_explorer_redraws_with_the_weight_decay_slider(spy):
    from dlcourse.explore import overfitting
    calls = spy(overfitting, 'train_curves')
    ui = overfitting.overfitting_explorer()
    assert set(controls(ui)) == {'width', 'data fraction', 'label noise', 'weight decay'}
    controls(ui)['weight decay'].value = 0.1
    assert len(calls) == 2 and len(plt.get_fignums()) == 2
    assert calls[-1] == dict(width=256, fraction=0.1, noise=0.2, weight_decay=0.1)


def test_generalization_explorer_redraws_with_the_ticked_settings(spy, capsys):
    from dlcourse.explore import generalization
    calls = spy(generalization, 'plot_generalization')
    ui = generalization.generalization_explorer()
    assert list(calls[0]['table']) == ['none', 'augment', 'combined']
    controls(ui)['augment'].value = False
    assert list(calls[-1]['table']) == ['none', 'combined'] and len(plt.get_fignums()) == 2
    for name in ('none', 'combined'): controls(ui)[name].value = False
    assert 'tick at least one setting' in capsys.readouterr().out
    with pytest.raises(ValueError, match='fraction'): generalization.generalization_explorer(fraction=0.15)
