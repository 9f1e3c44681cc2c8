"""Every registered concept agrees three ways (NumPy, PyTorch from ops, PyTorch built-in), and the harness can fail."""
import numpy as np
import pytest
import torch

from conftest import requires_cuda
from dlcourse import crosscheck as cc
from dlcourse.numpy.nn import Linear

CONCEPTS = cc.concepts()


def test_registry_is_populated():
    names = {c.name for c in CONCEPTS}
    assert {'Linear', 'ReLU', 'MLP'} <= names
    assert len(names) == len(CONCEPTS)


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('concept', CONCEPTS, ids=lambda c: c.name)
def test_concept_agrees(concept, dtype):
    results = concept.check(dtype)
    assert results, f"{concept.name} produced no comparisons"
    failed = [r for r in results if not r.ok]
    assert not failed, cc.format_table(failed)


@requires_cuda
@pytest.mark.parametrize('concept', CONCEPTS, ids=lambda c: c.name)
def test_concept_agrees_on_gpu(concept):
    failed = [r for r in concept.check('float64', device='cuda') if not r.ok]
    assert not failed, cc.format_table(failed)


def test_float64_checks_include_gradient_checks():
    results = cc.run_checks(['float64'], ['Linear'])
    grad = [r for r in results if 'gradcheck' in r.comparison]
    assert grad and all(r.tolerance == cc.GRADCHECK_RTOL for r in grad)


class _ScaledGradLinear(Linear):
    "A Linear whose weight gradient is wrong by a factor 1 + 1e-7."
    def backward(self, grad_output):
        g = super().backward(grad_output)
        self.weight.grad = self.weight.grad * (1 + 1e-7)
        return g


def test_harness_catches_a_tiny_error():
    rng = np.random.default_rng(0)
    case = cc.Case(_ScaledGradLinear(4, 3), torch.nn.Linear(4, 3), torch.nn.Linear(4, 3), (rng.normal(size=(5, 4)),))
    failed = {r.comparison for r in cc.check_case('bad', case) if not r.ok}
    assert 'numpy vs builtin: grad weight' in failed
    assert 'torch vs builtin: grad weight' not in failed


def test_gradient_check_catches_a_wrong_backward():
    class Half(Linear):
        def backward(self, grad_output): return super().backward(grad_output) * 0.5
    errors = cc.gradient_check(Half(3, 2, dtype='float64'), (np.random.default_rng(1).normal(size=(4, 3)),))
    assert errors['input'] > 0.1 and errors['weight'] < 1e-6


def test_compare_tolerances_and_shapes():
    assert cc.compare('x', 'y', np.ones(3), np.ones(3) * (1 + 1e-11), 'float64').ok
    assert not cc.compare('x', 'y', np.ones(3), np.ones(3) * (1 + 1e-9), 'float64').ok
    assert cc.compare('x', 'y', np.ones(3), np.ones(3) * (1 + 1e-6), 'float32').ok
    assert not cc.compare('x', 'y', np.ones(3), np.ones(4), 'float64').ok
    assert not cc.compare('x', 'y', np.array([np.nan]), np.array([0.0]), 'float64').ok


def test_relative_error_and_numerical_gradient():
    x = np.array([1.0, -2.0, 3.0])
    grad = cc.numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    assert cc.relative_error(grad, 3 * x ** 2) < 1e-9
    assert cc.relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_registry_rejects_a_name_from_another_lesson():
    existing = CONCEPTS[0]
    with pytest.raises(ValueError, match='already registered'):
        cc.register(cc.Concept(existing.name, 'not-' + existing.lesson, existing.check))


def test_run_checks_rejects_unknown_names():
    with pytest.raises(ValueError, match='names: unknown concepts'):
        cc.run_checks(['float64'], ['NoSuchConcept'])
    with pytest.raises(ValueError, match='dtype'):
        cc.check_case('x', cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=(np.ones((1, 2)),)), 'float16')


def test_format_table_lists_every_result():
    results = cc.run_checks(['float64'], ['ReLU'])
    table = cc.format_table(results)
    assert table.count('\n') == len(results) + 1 and 'max abs diff' in table


def test_checks_are_reproducible_and_leave_the_random_state_alone():
    import torch
    from dlcourse.core import default_generator
    from dlcourse.crosscheck import run_checks
    numpy_state, torch_state = default_generator().bit_generator.state, torch.get_rng_state()
    first = [r.max_abs_diff for r in run_checks(('float64',), ['TiedAutoencoder', 'Linear'])]
    assert default_generator().bit_generator.state == numpy_state and torch.equal(torch.get_rng_state(), torch_state)
    default_generator().normal(size=3); torch.rand(3)
    assert [r.max_abs_diff for r in run_checks(('float64',), ['TiedAutoencoder', 'Linear'])] == first
