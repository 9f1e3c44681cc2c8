"""The `dlcourse` command: train, check and bench, end to end, and its errors."""
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from dlcourse.cli import main
from dlcourse.recipes import compare_backends, train_digits

DLCOURSE = str(pathlib.Path(sys.executable).parent / 'dlcourse')


def run(*args):
    return subprocess.run([DLCOURSE, *args], capture_output=True, text=True, timeout=600)


def test_train_json_both_backends_reach_97_percent():
    done = run('train', '--json')
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for backend in ('numpy', 'torch'):
        assert set(result[backend]) == {'test_accuracy', 'final_train_loss', 'seconds'}
        assert result[backend]['test_accuracy'] >= 0.97
    assert result['max_loss_curve_diff'] < 1e-3


def test_float64_loss_curves_agree_at_every_step():
    result = compare_backends(epochs=3, dtype='float64', progress=False)
    assert result['max_loss_curve_diff'] < 1e-8
    assert result['numpy']['test_accuracy'] == result['torch']['test_accuracy']


def test_train_prints_a_table():
    done = run('train', '--epochs', '2', '--backend', 'numpy', '--hidden', '32')
    assert done.returncode == 0, done.stderr
    assert 'test accuracy' in done.stdout and 'numpy' in done.stdout


def test_train_options_reach_the_model():
    result = train_digits('torch', epochs=1, lr=0.05, batch_size=64, hidden=(16, 8), activation='tanh',
                          seed=3, device='cpu', dtype='float64', progress=False)
    assert len(result.history.step_loss) == 20  # ceil(1257 / 64)
    assert 0 < result.test_accuracy <= 1


def test_check_json_lists_every_comparison():
    done = run('check', '--json', '--concept', 'Linear', '--dtype', 'float64')
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and all(set(r) >= {'concept', 'comparison', 'max_abs_diff', 'tolerance', 'ok'} for r in rows)
    assert all(r['ok'] for r in rows)


def test_check_table_and_exit_status(capsys):
    assert main(['check', '--concept', 'ReLU']) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ['concept', 'comparisons', 'worst', 'float64', 'worst', 'float32', 'result']
    assert 'checking ReLU (1/1)' in err
    assert main(['check', '--concept', 'ReLU', '--full']) == 0
    assert 'max abs diff' in capsys.readouterr().out


def test_full_check_json_is_plain_json_covering_every_concept():
    from dlcourse.crosscheck import concepts
    done = run('check', '--json')
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout, parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))
    assert isinstance(rows, list) and all(type(r['ok']) is bool for r in rows)
    assert {r['concept'].split('(')[0] for r in rows} == {c.name for c in concepts()}
    assert len([line for line in done.stderr.splitlines() if line.startswith('checking ')]) == len(concepts())


def test_check_without_scikit_learn_skips_its_comparisons(tmp_path):
    "A plain install has no scikit-learn: the comparisons against it are skipped, with the reason, and the rest still run."
    (tmp_path / 'sklearn.py').write_text("raise ImportError('No module named sklearn')\n")
    env = {**__import__('os').environ, 'PYTHONPATH': f"{tmp_path}:{__import__('os').environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([DLCOURSE, 'check', '--json', '--concept', 'metrics', '--dtype', 'float64'],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout)
    skipped = [r for r in rows if r['skipped']]
    assert skipped and all('scikit-learn' in r['skipped'] for r in skipped)
    assert any(not r['skipped'] for r in rows)
    table = subprocess.run([DLCOURSE, 'check', '--concept', 'metrics', '--dtype', 'float64'], capture_output=True,
                           text=True, timeout=600, env=env)
    assert table.returncode == 0 and 'skipped' in table.stdout


def test_check_exits_1_for_a_failed_comparison_and_2_for_an_error(monkeypatch, capsys):
    import dlcourse.crosscheck as cc
    failing = [cc.Comparison('ReLU', 'numpy vs builtin: output', 'float64', 1.0, 1e-10, False)]
    monkeypatch.setattr(cc, 'run_checks', lambda *args, **kwargs: failing)
    assert main(['check']) == 1 and 'FAIL (1)' in capsys.readouterr().out
    def broken(*args, **kwargs): raise RuntimeError('a check crashed')
    monkeypatch.setattr(cc, 'run_checks', broken)
    assert main(['check']) == 2 and 'RuntimeError: a check crashed' in capsys.readouterr().err


def test_help_shows_defaults_and_version():
    done = run('train', '--help')
    assert done.returncode == 0 and '(default: 0.1)' in done.stdout and '(default: relu)' in done.stdout
    version = run('--version')
    from dlcourse import __version__
    assert version.returncode == 0 and version.stdout.strip() == f"dlcourse {__version__}"


def test_every_option_is_checked_before_any_training():
    import time
    start = time.perf_counter()
    done = run('train', '--backend', 'both', '--device', 'cuda:7', '--epochs', '100')
    assert done.returncode == 2 and 'device:' in done.stderr
    assert time.perf_counter() - start < 30, "the NumPy run must not train before the device is checked"


def test_bench_reports_ratios():
    done = run('bench', '--epochs', '1', '--json')
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result['seconds_per_epoch']) == {'numpy', 'torch', 'torch_builtin'}
    assert result['numpy_over_torch_builtin'] > 0


@pytest.mark.parametrize('args, fragment', [
    (['train', '--lr', '-1'], 'argument --lr: expected a number > 0'),
    (['train', '--seed', '-1'], 'argument --seed: expected an integer >= 0'),
    (['train', '--epochs', '0'], 'argument --epochs'),
    (['train', '--hidden', '12,x'], 'argument --hidden'),
    (['train', '--activation', 'swish'], 'argument --activation'),
    (['train', '--backend', 'numpy', '--device', 'cuda', '--epochs', '1'], 'device: the NumPy backend runs on the CPU only'),
    (['train', '--backend', 'torch', '--device', 'gpu9', '--epochs', '1'], 'device:'),
    (['check', '--concept', 'NoSuchThing'], 'unknown concepts'),
    (['frobnicate'], 'invalid choice'),
    ([], 'required'),
])
def test_bad_arguments_give_one_line_and_status_2(args, fragment):
    done = run(*args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert 'Traceback' not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_diverging_run_exits_1_with_the_step():
    done = run('train', '--backend', 'numpy', '--lr', '1000', '--epochs', '2', '--json')
    assert done.returncode == 1
    assert 'at step' in done.stderr and 'learning rate' in done.stderr and 'Traceback' not in done.stderr


@pytest.mark.parametrize('optimizer, options', [
    ('sgd', dict(momentum=0.9, nesterov=True, weight_decay=1e-3)), ('adagrad', {}), ('rmsprop', dict(momentum=0.5)),
    ('adam', dict(betas=(0.8, 0.99))), ('adamw', dict(weight_decay=0.1)), ('adamax', {}),
])
def test_every_optimizer_trains_both_backends_identically(optimizer, options):
    result = compare_backends(epochs=1, dtype='float64', progress=False, optimizer=optimizer, lr=0.01, hidden=(32,),
                              **options)
    assert result['max_loss_curve_diff'] < 1e-10
    assert result['numpy']['test_accuracy'] > 0.5


@pytest.mark.parametrize('scheduler', ['step', 'multistep', 'exponential', 'cosine', 'warmup-cosine', 'onecycle', 'plateau'])
def test_every_scheduler_runs_in_both_backends(scheduler):
    result = compare_backends(epochs=3, dtype='float64', progress=False, scheduler=scheduler, hidden=(32,))
    assert result['max_loss_curve_diff'] < 1e-10


def test_schedule_changes_the_learning_rate_it_trains_with():
    from dlcourse.recipes import make_optimizer, make_scheduler
    from dlcourse import numpy as dnp
    opt = make_optimizer('numpy', 'sgd', dnp.Linear(2, 2).parameters(), lr=0.1)
    cb = make_scheduler('cosine', opt, epochs=2, steps_per_epoch=5)
    for _ in range(10): cb.scheduler.step()
    assert opt.param_groups[0]['lr'] == pytest.approx(0.0, abs=1e-12)
    assert make_scheduler('none', opt, 2, 5) is None


@pytest.mark.parametrize('args, fragment', [
    (['train', '--optimizer', 'adam', '--momentum', '0.9', '--epochs', '1'], 'momentum: only sgd, rmsprop take momentum'),
    (['train', '--optimizer', 'sgd', '--betas', '0.9,0.99', '--epochs', '1'], 'betas: only adam'),
    (['train', '--optimizer', 'sgd', '--nesterov', '--epochs', '1'], 'momentum'),
    (['train', '--optimizer', 'adam', '--betas', '0.9', '--epochs', '1'], 'argument --betas'),
    (['train', '--optimizer', 'lbfgs'], 'argument --optimizer'),
    (['train', '--scheduler', 'warmup-cosine', '--epochs', '1'], 'warmup-cosine'),
])
def test_bad_optimizer_and_scheduler_arguments(args, fragment):
    done = run(*args)
    assert done.returncode == 2 and fragment in done.stderr and 'Traceback' not in done.stderr, done.stderr


def test_dropout_and_early_stopping_options():
    plain = train_digits('numpy', epochs=2, hidden=(32,), progress=False, dtype='float64')
    dropped = train_digits('numpy', epochs=2, hidden=(32,), progress=False, dtype='float64', dropout=0.3)
    assert dropped.history.step_loss != plain.history.step_loss
    stopped = train_digits('numpy', epochs=40, hidden=(32,), lr=0.5, progress=False, early_stopping=1)
    assert len(stopped.history.epochs) < 40


def test_dropout_model_layout_is_the_same_in_both_backends():
    from dlcourse.recipes import _model_and_loss, initial_state
    numpy_model, _ = _model_and_loss('numpy', (16, 8), 'relu', 'float64', None, dropout=0.5)
    torch_model, _ = _model_and_loss('torch', (16, 8), 'relu', 'float64', 'cpu', dropout=0.5)
    assert list(numpy_model.state_dict()) == list(torch_model.state_dict()) == list(initial_state((16, 8), 'relu', 'float64', 0, 0.5))
    assert [type(m).__name__ for m in numpy_model] == [type(m).__name__ for m in torch_model]


@pytest.mark.parametrize('args, fragment', [
    (['train', '--dropout', '1', '--epochs', '1'], 'argument --dropout: expected a number >= 0 and < 1'),
    (['train', '--early-stopping', '-2', '--epochs', '1'], 'argument --early-stopping'),
])
def test_bad_regularization_arguments(args, fragment):
    done = run(*args)
    assert done.returncode == 2 and fragment in done.stderr and 'Traceback' not in done.stderr, done.stderr


def test_augment_trains_both_backends_identically_and_changes_the_batches():
    plain = compare_backends(epochs=2, hidden=(32,), dtype='float64', progress=False)
    augmented = compare_backends(epochs=2, hidden=(32,), dtype='float64', progress=False, augment=True)
    assert augmented['max_loss_curve_diff'] < 1e-8
    assert augmented['numpy']['final_train_loss'] != plain['numpy']['final_train_loss']


def test_augment_reaches_97_percent():
    assert train_digits('numpy', augment=True, progress=False).test_accuracy >= 0.97


def test_without_augment_training_batches_are_the_standardized_training_split():
    from dlcourse.recipes import SPLIT_SEED, digit_loaders
    from dlcourse.data import digits_splits
    train_dl, valid_dl, _ = digit_loaders(digits_splits(SPLIT_SEED, standardize=False), 2000, 0)
    standardized = digits_splits(SPLIT_SEED)
    x, y = next(iter(train_dl))
    np.testing.assert_array_equal(np.sort(x, axis=0), np.sort(standardized.X_train, axis=0))
    np.testing.assert_array_equal(next(iter(valid_dl))[0], standardized.X_valid)


def test_augment_rejects_a_non_flag():
    with pytest.raises(TypeError, match='augment'): train_digits('numpy', epochs=1, augment='yes', progress=False)


def test_digit_loaders_refuse_splits_that_are_standardized_already():
    from dlcourse.recipes import digit_loaders
    from dlcourse.data import digits_splits
    with pytest.raises(ValueError, match='standardized already'): digit_loaders(digits_splits(), 32, 0)
