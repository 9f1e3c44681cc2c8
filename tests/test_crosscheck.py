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
    assert not failed, cc.format_table(failed, full=True)


@requires_cuda
@pytest.mark.parametrize('concept', CONCEPTS, ids=lambda c: c.name)
def test_concept_agrees_on_gpu(concept):
    failed = [r for r in concept.check('float64', device='cuda') if not r.ok]
    assert not failed, cc.format_table(failed, full=True)


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


def test_format_table_summarizes_by_concept_and_lists_every_result_when_full():
    results = cc.run_checks(['float64', 'float32'], ['ReLU', 'Linear'])
    table = cc.format_table(results)
    assert table.count('\n') == 3 and 'worst float64' in table and 'worst float32' in table
    assert [line.split()[0] for line in table.splitlines()[2:]] == ['Linear', 'ReLU']
    full = cc.format_table(results, full=True)
    assert full.count('\n') == len(results) + 1 and 'max abs diff' in full


def test_summary_counts_failures_skips_and_the_worst_share_of_tolerance():
    rows = [cc.Comparison('A(x)', 'out', 'float64', 1e-12, 1e-10, True), cc.Comparison('A(y)', 'out', 'float64', 5e-11, 1e-10, True),
            cc.Comparison('A(y)', 'out', 'float32', 2e-5, 1e-5, False), cc.skipped('B', 'vs sklearn', 'float64', 'no sklearn')]
    a, b = cc.summarize(rows)
    assert (a['concept'], a['comparisons'], a['failed'], a['skipped']) == ('A', 3, 1, 0)
    assert a['worst'] == {'float64': pytest.approx(0.5), 'float32': pytest.approx(2.0)}
    assert (b['comparisons'], b['skipped'], b['worst']) == (0, 1, {})
    table = cc.format_table(rows)
    assert 'FAIL (1)' in table and '1 skipped' in table
    assert 'skipped: no sklearn' in cc.format_table(rows, full=True)


def test_every_row_is_plain_json():
    import json
    results = cc.run_checks(['float64'], ['Dropout', 'Linear'])
    rows = json.loads(json.dumps([r.as_dict() for r in results], allow_nan=False))
    assert rows and all(type(r['ok']) is bool and type(r['max_abs_diff']) is float for r in rows)
    bad = cc.compare('x', 'y', np.ones(3), np.ones(4), 'float64').as_dict()
    assert bad['max_abs_diff'] is None and bad['ok'] is False


class _ForgetfulLinear(Linear):
    "A Linear whose backward leaves the bias without a gradient."
    def backward(self, grad_output):
        g = super().backward(grad_output)
        self.bias.grad = None
        return g


class _BiaslessTwin(torch.nn.Linear):
    "A PyTorch twin that keeps the bias parameter but never uses it (so autograd gives it no gradient)."
    def forward(self, x): return x @ self.weight.T


def test_harness_fails_when_either_side_lacks_a_gradient():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(5, 4)),)
    numpy_side = {r.comparison for r in cc.check_case('bad', cc.Case(_ForgetfulLinear(4, 3), torch.nn.Linear(4, 3), None, x)) if not r.ok}
    assert 'numpy vs torch: grad bias (missing from the first)' in numpy_side and 'numpy gradcheck: bias' in numpy_side
    zero_bias = Linear(4, 3)
    zero_bias.bias.data[:] = 0  # the twin's output still agrees: only the missing gradient can give it away
    torch_side = {r.comparison for r in cc.check_case('bad', cc.Case(zero_bias, _BiaslessTwin(4, 3), torch.nn.Linear(4, 3), x)) if not r.ok}
    assert torch_side == {'torch vs builtin: grad bias (missing from the first)'}


def test_harness_fails_when_backward_returns_too_few_input_gradients():
    run = cc.Run(np.ones(2), [np.ones(2)])
    ref = cc.Run(np.ones(2), [np.ones(2), np.ones(2)])
    failed = [r.comparison for r in cc._compare_runs('c', 'a vs b', run, ref, 'float64') if not r.ok]
    assert failed == ['a vs b: grad input1 (missing from the first)']


def test_every_concept_names_its_lesson_and_implementations():
    import importlib
    import sys
    sys.path.insert(0, str(__import__('conftest').ROOT / 'tools'))
    import docsite
    labels = set(docsite.lesson_pages().values())
    for concept in CONCEPTS:
        assert concept.lesson in labels, f"{concept.name}: lesson {concept.lesson!r} is not a lesson page label"
        assert concept.numpy and concept.torch, f"{concept.name} does not name its NumPy and PyTorch implementations"
        for dotted in filter(None, (concept.numpy, concept.torch, concept.builtin)):
            module, _, attr = dotted.rpartition('.')
            while module and not attr.isidentifier(): module, _, attr = module.rpartition('.')
            obj = importlib.import_module(module)
            for part in dotted[len(module) + 1:].split('.'): obj = getattr(obj, part)
            assert callable(obj), f"{concept.name}: {dotted} is not callable"


def test_checks_are_reproducible_and_leave_the_random_state_alone():
    import torch
    from dlcourse.core import default_generator
    from dlcourse.crosscheck import run_checks
    numpy_state, torch_state = default_generator().bit_generator.state, torch.get_rng_state()
    first = [r.max_abs_diff for r in run_checks(('float64',), ['TiedAutoencoder', 'Linear'])]
    assert default_generator().bit_generator.state == numpy_state and torch.equal(torch.get_rng_state(), torch_state)
    default_generator().normal(size=3); torch.rand(3)
    assert [r.max_abs_diff for r in run_checks(('float64',), ['TiedAutoencoder', 'Linear'])] == first


@pytest.mark.parametrize('call, error, fragment', [
    (lambda: cc.Comparison('x', 'out', 'float16', 0.0, 1e-10, True), ValueError, 'dtype: expected one of'),
    (lambda: cc.Comparison('x', 'out', 'float64', float('nan'), 1e-10, True), ValueError, 'max_abs_diff: NaN only belongs to a skipped'),
    (lambda: cc.Comparison('x', 'out', 'float64', 0.0, -1.0, True), ValueError, 'tolerance: expected a value >= 0'),
    (lambda: cc.Comparison('x', 'out', 'float64', True, 1e-10, True), TypeError, 'max_abs_diff: expected a real number'),
    (lambda: cc.Comparison('x', 'out', 'float64', 0.0, 1e-10, 'yes'), TypeError, 'ok: expected True or False'),
    (lambda: cc.Comparison('', 'out', 'float64', 0.0, 1e-10, True), ValueError, 'concept: expected a non-empty str'),
    (lambda: cc.skipped('x', 'vs sklearn', 'float64', ''), ValueError, 'reason: expected a non-empty str'),
    (lambda: cc.relative_error(np.ones(3), np.ones((3, 1))), ValueError, 'actual, expected: expected the same shape'),
    (lambda: cc.relative_error(['a'], np.ones(1)), TypeError, 'actual: expected numbers'),
    (lambda: cc.compare('x', 'y', np.ones(3), 'x', 'float64'), TypeError, 'expected: expected numbers'),
    (lambda: cc.compare('x', 'y', np.ones(3), np.ones(3), 'float64', rtol=-1.0), ValueError, 'rtol'),
    (lambda: cc.Case(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), inputs=(np.ones((1, 2)),)), TypeError, 'numpy: expected a dlcourse.numpy Module'),
    (lambda: cc.Case(Linear(2, 2), 'torch', inputs=(np.ones((1, 2)),)), TypeError, 'torch: expected a torch.nn.Module or function'),
    (lambda: cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=()), ValueError, 'inputs: expected at least 1 array'),
    (lambda: cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=np.ones((1, 2))), TypeError, 'inputs: expected a tuple of arrays'),
    (lambda: cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=(np.ones((1, 2)), 'x')), TypeError, r'inputs\[1\]'),
    (lambda: cc.Run(np.ones(2), [np.ones(2), 'x']), TypeError, 'input_grads: expected a list of arrays'),
    (lambda: cc.Run(np.ones(2), [], {'w': [1.0]}), TypeError, 'param_grads: expected a dict of name -> array'),
    (lambda: cc.grad_output_like(np.ones(3), seed=-1), ValueError, 'seed'),
    (lambda: cc.prepare(3, 'float64'), TypeError, 'case: expected a Case'),
    (lambda: cc.check_case('x', cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=(np.ones((1, 2)),)), gradcheck='no'), TypeError, 'gradcheck'),
    (lambda: cc.numerical_gradient(lambda: 0.0, np.ones((3, 2)).T), ValueError, 'x: expected a writable, C-contiguous array'),
    (lambda: cc.numerical_gradient(lambda: 0.0, np.ones(3), h=0.0), ValueError, 'h: expected a value > 0'),
    (lambda: cc.numerical_gradient(3, np.ones(3)), TypeError, 'f: expected a function'),
    (lambda: cc.gradient_check(Linear(2, 2), [np.ones((1, 2))], targets='x'), TypeError, 'targets: expected a tuple of arrays'),
    (lambda: cc.Concept('x', '1b', 'check'), TypeError, 'check: expected a function'),
    (lambda: cc.Concept('x', 1, lambda dtype, device='cpu': []), TypeError, 'lesson: expected a str'),
    (lambda: cc.fixed_seeds(-1), ValueError, 'seed'),
    (lambda: cc.register('Linear'), TypeError, 'concept: expected a Concept'),
    (lambda: cc.register_cases('NeverRegistered', '1b', 3), TypeError, 'make_cases: expected a function'),
    (lambda: cc.register_cases('NeverRegistered', '1b', lambda rng: [], gradcheck='yes'), TypeError, 'gradcheck'),
    (lambda: cc.lesson_key(3), TypeError, 'lesson: expected a str'),
    (lambda: cc.run_checks('float64', ['Linear']), TypeError, 'dtypes: expected a list of dtype names'),
    (lambda: cc.run_checks(['float16'], ['Linear']), ValueError, 'dtypes: expected one of'),
    (lambda: cc.run_checks(['float64'], 'Linear'), TypeError, 'names: expected a list of concept names'),
    (lambda: cc.run_checks(['float64'], ['Linear'], device='bogus'), ValueError, 'device'),
    (lambda: cc.run_checks(['float64'], ['Linear'], progress=3), TypeError, 'progress: expected a function'),
    (lambda: cc.concept_of('Linear(a)'), TypeError, 'result: expected a Comparison'),
    (lambda: cc.summarize('table'), TypeError, 'results: expected a list of Comparison'),
    (lambda: cc.format_table([3]), TypeError, 'results: expected Comparison items'),
    (lambda: cc.format_table([], full='yes'), TypeError, 'full: expected True or False'),
])
def test_the_harness_checks_its_arguments(call, error, fragment):
    with pytest.raises(error, match=fragment): call()
    assert 'NeverRegistered' not in {c.name for c in cc.concepts()}     # a rejected registration leaves no trace


def test_fixed_seeds_still_seeds_and_restores():
    from dlcourse.core import default_generator
    before = default_generator().bit_generator.state
    with cc.fixed_seeds(3):
        a = default_generator().normal(), torch.rand(1).item()
    with cc.fixed_seeds(3):
        b = default_generator().normal(), torch.rand(1).item()
    assert a == b and default_generator().bit_generator.state == before


@pytest.fixture
def scratch_registry(monkeypatch):
    "The registry as it is, restored after the test: a test may register concepts of its own."
    monkeypatch.setattr(cc, '_registry', dict(cc._registry))
    return cc._registry


def test_register_cases_registers_a_seeded_check_of_every_case(scratch_registry):
    "A concept registered here (not at import) runs under the mutation tests too: its metadata, seeds, labels and gradcheck."
    seen = []

    def cases(rng):
        seen.append(rng.normal())                      # the check hands every run the same rng, seeded 0
        yield 'a', cc.Case(Linear(3, 2), torch.nn.Linear(3, 2), inputs=(np.ones((4, 3)),))
        yield '', cc.Case(Linear(3, 2), torch.nn.Linear(3, 2), inputs=(np.ones((4, 3)),))
    cc.register_cases('Scratch', '1b', cases, 'a test concept', numpy='dlcourse.numpy.Linear', torch='torch.nn.Linear',
                      builtin='torch.nn.Linear')
    concept = scratch_registry['Scratch']
    assert (concept.name, concept.lesson, concept.description, concept.numpy, concept.torch, concept.builtin) == \
        ('Scratch', '1b', 'a test concept', 'dlcourse.numpy.Linear', 'torch.nn.Linear', 'torch.nn.Linear')
    first, second = concept.check('float64'), concept.check('float64')
    assert seen[0] == seen[1] == np.random.default_rng(0).normal()
    assert [r.max_abs_diff for r in first] == [r.max_abs_diff for r in second]     # the same weights every run
    assert {r.concept for r in first} == {'Scratch(a)', 'Scratch'} and all(r.ok for r in first)
    assert sum('gradcheck' in r.comparison for r in first) == 6                   # input, weight, bias per case
    assert not any('gradcheck' in r.comparison for r in concept.check('float32'))
    cc.register_cases('Scratch', '1b', cases, gradcheck=False)                    # re-running the lesson replaces it
    assert not any('gradcheck' in r.comparison for r in scratch_registry['Scratch'].check('float64'))


def test_register_names_every_row_after_its_concept(scratch_registry):
    rows = [cc.Comparison('BatchNorm1d momentum=None', 'x', 'float64', 0.0, 1.0, True),
            cc.Comparison('Scratch(k)', 'x', 'float64', 0.0, 1.0, True)]
    cc.register(cc.Concept('Scratch', '8b', lambda dtype, device='cpu': rows))
    named = scratch_registry['Scratch'].check('float64')
    assert [r.concept for r in named] == ['Scratch(BatchNorm1d momentum=None)', 'Scratch(k)']
    assert cc.concept_of(named[0]) == 'Scratch' and scratch_registry['Scratch'].check.__name__ == '<lambda>'


def test_lessons_sort_by_number_then_page():
    assert sorted(['10a', '2b', '1c', '2a', '9o', '10b'], key=cc.lesson_key) == ['1c', '2a', '2b', '9o', '10a', '10b']
    assert cc.lesson_key('6e') == (6, 'e') and cc.lesson_key('x') == (0, 'x')
