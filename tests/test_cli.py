"""The `dlcourse` command: train, check and bench, end to end, and its errors."""
import json
import pathlib
import subprocess
import sys

import pytest

from dlcourse.cli import compare_backends, main, train_digits

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


def test_check_table_and_exit_status():
    assert main(['check', '--concept', 'ReLU']) == 0


def test_bench_reports_ratios():
    done = run('bench', '--epochs', '1', '--json')
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result['seconds_per_epoch']) == {'numpy', 'torch', 'torch_builtin'}
    assert result['numpy_over_torch_builtin'] > 0


@pytest.mark.parametrize('args, fragment', [
    (['train', '--lr', '-1'], 'argument --lr: expected a positive float'),
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
