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
    (lambda: cc.Comparison('x', 3, 'float64', 0.0, 1e-10, True), TypeError, 'comparison: expected a string'),
    (lambda: cc.Comparison('x', 'out', 'float64', 0.0, 1e-10, True, None), TypeError, 'skipped: expected a string'),
    (lambda: cc.relative_error(np.ones(1), ['a']), TypeError, 'expected: expected numbers'),
    (lambda: cc.compare('x', '', np.ones(3), np.ones(3), 'float64'), ValueError, 'comparison: expected a non-empty'),
    (lambda: cc.compare('x', 'y', np.ones(3), np.ones(3), 'float16'), ValueError, 'dtype: expected one of'),
    (lambda: cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=(np.ones((1, 2)),), targets=np.ones(2)), TypeError,
     'targets: expected a tuple of arrays'),
    (lambda: cc.Run('x', []), TypeError, 'output: expected a NumPy array'),
    (lambda: cc.Run(torch.ones(2), []), TypeError, 'output: expected a NumPy array'),
    (lambda: cc.grad_output_like('x'), TypeError, 'output: expected a numeric dtype'),
    (lambda: cc.run_numpy(Linear(2, 2), ()), ValueError, 'inputs: expected at least 1 array'),
    (lambda: cc.run_numpy(Linear(2, 2), (np.ones((1, 2)),), targets='x'), TypeError, 'targets: expected a tuple of arrays'),
    (lambda: cc.run_numpy(Linear(2, 2), (np.ones((1, 2)),), seed=-1), ValueError, 'seed: expected a value >= 0'),
    (lambda: cc.run_torch(torch.nn.Linear(2, 2), ()), ValueError, 'inputs: expected at least 1 array'),
    (lambda: cc.run_torch(torch.nn.Linear(2, 2), (np.ones((1, 2)),), targets='x'), TypeError, 'targets: expected a tuple of arrays'),
    (lambda: cc.run_torch(torch.nn.Linear(2, 2), (np.ones((1, 2)),), seed=-1), ValueError, 'seed: expected a value >= 0'),
    (lambda: cc.prepare(cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=(np.ones((1, 2)),)), 'float16'), ValueError,
     'dtype: expected one of'),
    (lambda: cc.fixed_seeds(1.5), TypeError, 'seed: expected an integer'),
])
def test_the_harness_checks_its_arguments(call, error, fragment):
    "Each message starts with the argument's name."
    with pytest.raises(error, match='^' + fragment): call()
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


def _table_rows():
    "Hand-made comparisons covering every kind of row: agreeing, failing, skipped, exact (rtol=0) and a shape mismatch."
    return [cc.Comparison('Linear(a)', 'numpy vs torch: output', 'float64', 2e-12, 1e-10, True),
            cc.Comparison('Linear(b)', 'numpy vs torch: output', 'float64', 1e-12, 1e-10, True),    # smaller share after a larger one
            cc.Comparison('Linear(a)', 'numpy vs torch: output', 'float32', 3e-5, 1e-5, False),
            cc.skipped('Linear', 'numpy vs sklearn', 'float64', 'no sklearn'),
            cc.skipped('Linear', 'numpy vs sklearn', 'float32', 'no sklearn'),
            cc.compare('Linear(c)', 'exact', [1.0, 2.0], [1.0, 2.0], 'float64', rtol=0),            # uses none of its zero tolerance
            cc.compare('ReLU', 'numpy vs torch: output', np.ones(3), np.ones(4), 'float32'),        # inf difference, zero tolerance
            cc.Comparison('Tanh', 'numpy vs torch: output', 'float64', 5e-11, 1e-10, True)]


def test_summary_table_text():
    "The summary `dlcourse check` prints: one row per concept, float64 before float32, worst share of tolerance, result."
    assert cc.format_table(_table_rows()) == '\n'.join([
        'concept  comparisons  worst float64  worst float32  result',
        '-------  -----------  -------------  -------------  -------------------',
        'Linear   4            2.0e-02        3.0e+00        FAIL (1), 2 skipped',
        'ReLU     1            -              inf            FAIL (1)',
        'Tanh     1            5.0e-01        -              ok'])


def test_full_table_text():
    "The full table: one row per comparison, numbers to three digits, '-' and the reason for a skipped one."
    rows = _table_rows()
    assert cc.format_table([rows[0], rows[2], rows[3], rows[6]], full=True) == '\n'.join([
        'concept    comparison                                   dtype    max abs diff  tolerance  ok',
        '---------  -------------------------------------------  -------  ------------  ---------  -------------------',
        'Linear(a)  numpy vs torch: output                       float64  2.00e-12      1.00e-10   ok',
        'Linear(a)  numpy vs torch: output                       float32  3.00e-05      1.00e-05   FAIL',
        'Linear     numpy vs sklearn                             float64  -             -          skipped: no sklearn',
        'ReLU       numpy vs torch: output (shape (3,) vs (4,))  float32  inf           0.00e+00   FAIL'])


def test_summarize_counts_every_skip_and_keeps_the_worst_share():
    linear, relu, tanh = cc.summarize(_table_rows())
    assert linear == dict(concept='Linear', comparisons=4, failed=1, skipped=2, worst={'float64': pytest.approx(0.02), 'float32': pytest.approx(3.0)})
    assert relu == dict(concept='ReLU', comparisons=1, failed=1, skipped=0, worst={'float32': np.inf})
    assert tanh == dict(concept='Tanh', comparisons=1, failed=0, skipped=0, worst={'float64': pytest.approx(0.5)})
    exact = cc.summarize([cc.compare('x', 'exact', [0.0, 3.0], [0.0, 3.0], 'float64', rtol=0)])
    assert exact[0]['worst'] == {'float64': 0.0}


def test_comparison_labels_name_each_input_and_every_parameter_of_either_side():
    labels = [r.comparison for r in cc.check_case('Linear', cc.Case(Linear(3, 2), torch.nn.Linear(3, 2), torch.nn.Linear(3, 2),
                                                                   (np.ones((4, 3)),)))]
    assert labels == [f"{pair}: {what}" for pair in ('numpy vs builtin', 'torch vs builtin')
                      for what in ('output', 'grad input', 'grad bias', 'grad weight')] + \
        ['numpy gradcheck: input', 'numpy gradcheck: weight', 'numpy gradcheck: bias']
    run = cc.Run(np.ones(2), [np.ones(2), np.ones(2)], {'weight': np.ones(2)})
    ref = cc.Run(np.ones(2), [np.ones(2), np.ones(2)], {'weight': np.ones(2), 'bias': np.ones(2)})
    assert [(r.comparison, r.ok) for r in cc._compare_runs('c', 'a vs b', run, ref, 'float64')] == [
        ('a vs b: output', True), ('a vs b: grad input0', True), ('a vs b: grad input1', True),
        ('a vs b: grad bias (missing from the first)', False), ('a vs b: grad weight', True)]


def test_check_case_rejects_a_bad_call_before_touching_the_modules():
    "An empty concept name is refused before the NumPy weights are cast and copied into the PyTorch twin."
    numpy_side, torch_side = Linear(3, 2, dtype='float64'), torch.nn.Linear(3, 2)
    before = {k: v.clone() for k, v in torch_side.state_dict().items()}
    with pytest.raises(ValueError, match='concept: expected a non-empty'):
        cc.check_case('', cc.Case(numpy_side, torch_side, inputs=(np.ones((4, 3)),)), 'float32')
    assert numpy_side.weight.data.dtype == np.float64
    assert all(torch.equal(v, before[k]) for k, v in torch_side.state_dict().items())


@pytest.mark.parametrize('name, lesson, fragment', [('', '1b', 'name: expected a non-empty'), ('x', '', 'lesson: expected a non-empty')])
def test_concept_needs_a_name_and_a_lesson(name, lesson, fragment):
    with pytest.raises(ValueError, match=fragment): cc.Concept(name, lesson, lambda dtype, device='cpu': [])


def test_register_cases_without_metadata_leaves_it_empty(scratch_registry):
    cc.register_cases('Scratch', '1b', lambda rng: [])
    concept = scratch_registry['Scratch']
    assert (concept.description, concept.numpy, concept.torch, concept.builtin) == ('', '', '', '')


def test_run_checks_reports_progress_and_hands_each_check_its_device(scratch_registry):
    seen = []

    def check(dtype, device=None):
        seen.append((dtype, device))
        return [cc.Comparison('Scratch', 'out', dtype, 0.0, 1.0, True)]
    cc.register(cc.Concept('ScratchB', '1c', check)); cc.register(cc.Concept('ScratchA', '1b', check))
    calls = []
    results = cc.run_checks(['float64', 'float32'], ['ScratchB', 'ScratchA'], device='cpu',
                            progress=lambda i, n, concept: calls.append((i, n, concept.name)))
    assert calls == [(0, 2, 'ScratchA'), (1, 2, 'ScratchB')]                        # in lesson order, before each
    assert seen == [('float64', torch.device('cpu')), ('float32', torch.device('cpu'))] * 2
    assert [(r.concept, r.dtype) for r in results] == [('ScratchA(Scratch)', 'float64'), ('ScratchA(Scratch)', 'float32'),
                                                       ('ScratchB(Scratch)', 'float64'), ('ScratchB(Scratch)', 'float32')]


def test_checks_never_fall_back_to_the_default_device(monkeypatch):
    "On a GPU machine the default device is CUDA: a check asked to run on the CPU must stay there, at every step."
    import dlcourse.core

    def no_default(): raise AssertionError("the default device was used although device='cpu' was given")
    monkeypatch.setattr(dlcourse.core, 'default_device', no_default)
    results = cc.run_checks(['float64'], ['Linear'], device='cpu')
    assert results and all(r.ok for r in results)


@requires_cuda
def test_register_cases_runs_pytorch_on_the_device_it_is_given(scratch_registry):
    devices = []

    class Recording(torch.nn.Linear):
        def forward(self, x):
            devices.append(x.device.type)
            return super().forward(x)
    cc.register_cases('Scratch', '1b', lambda rng: [('', cc.Case(Linear(3, 2), Recording(3, 2), inputs=(np.ones((4, 3)),)))])
    results = scratch_registry['Scratch'].check('float64', device='cuda')
    assert devices == ['cuda'] and results and all(r.ok for r in results)


def test_numerical_gradient_of_a_masked_softmax():
    "A -inf (masked) logit has zero gradient, and a float32 input still gets a float64-accurate gradient."
    x, w = np.array([1.0, 2.0, -np.inf]), np.array([0.3, -1.2, 2.0])
    def loss():
        e = np.exp(x - x.max())
        return float(np.sum(e / e.sum() * w))
    s = np.exp(x[:2]) / np.exp(x[:2]).sum()
    np.testing.assert_allclose(cc.numerical_gradient(loss, x), [*(s * (w[:2] - s @ w[:2])), 0.0], rtol=1e-8, atol=1e-12)
    x32 = np.array([1.0, 3.0], dtype=np.float32)
    grad = cc.numerical_gradient(lambda: float(np.sum(x32.astype(np.float64) ** 2)) / 3, x32, h=2.0 ** -10)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [2 / 3, 2.0], rtol=1e-12)            # float32 would be off by ~1e-8


def _product_module(forget_b=False):
    "A NumPy module of two inputs, a * b, whose backward may forget b's gradient."
    from dlcourse.numpy.nn import Module

    class Product(Module):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, grad_output):
            return grad_output * self.b if forget_b else (grad_output * self.b, grad_output * self.a)
    return Product()


def test_gradient_check_names_each_input_and_flags_a_missing_gradient():
    a, b = np.random.default_rng(0).normal(size=(2, 3, 2))
    good = cc.gradient_check(_product_module(), (a, b))
    assert list(good) == ['input0', 'input1'] and max(good.values()) < 1e-8
    assert cc.gradient_check(_product_module(forget_b=True), (a, b)) == {'input0': pytest.approx(0, abs=1e-8), 'input1': np.inf}


def test_gradient_check_seed_step_and_input_types():
    from dlcourse.numpy.activations import Tanh
    x = np.array([[0.5, -1.0, 2.0]])
    linear = Linear(3, 2, dtype='float64')
    assert cc.gradient_check(linear, (x,)) == cc.gradient_check(linear, (x,), seed=0)      # the default seed is 0
    assert max(cc.gradient_check(linear, (x,), seed=3).values()) < 1e-8                   # any seed: one upstream gradient
    assert max(cc.gradient_check(linear, ([[1, 2, 3]],)).values()) < 1e-8                 # integers are checked in float64
    assert max(cc.gradient_check(linear, (x.astype(np.float32),)).values()) < 1e-8
    h = 0.1                                                                               # a coarse step: O(h**2) error
    g = cc.grad_output_like(np.tanh(x))
    numerical = g * (np.tanh(x + h) - np.tanh(x - h)) / (2 * h)
    expected = np.abs(g * (1 - np.tanh(x) ** 2) - numerical).max() / np.abs(g * (1 - np.tanh(x) ** 2)).max()
    assert cc.gradient_check(Tanh(), (x,), h=h)['input'] == pytest.approx(expected, rel=1e-6) and expected > 1e-4


def test_gradient_check_rejects_a_bad_step_before_running_the_module():
    linear = Linear(3, 2, dtype='float64')
    with pytest.raises(ValueError, match='h: expected a value > 0'):
        cc.gradient_check(linear, (np.ones((1, 3)),), h=0.0)
    assert linear.weight.grad is None and linear.bias.grad is None
    linear.weight.grad = np.ones((2, 3))
    with pytest.raises(TypeError, match='^seed: expected an integer'):
        cc.run_numpy(linear, (np.ones((1, 3)),), seed=1.5)
    np.testing.assert_array_equal(linear.weight.grad, np.ones((2, 3)))     # not zeroed by a call that was refused


def test_a_gradient_check_that_uses_exactly_its_tolerance_passes(monkeypatch):
    "As in every comparison, a difference equal to the tolerance passes (err <= GRADCHECK_RTOL)."
    case = lambda: cc.Case(Linear(3, 2, dtype='float64', generator=0), torch.nn.Linear(3, 2), inputs=(np.array([[0.5, -1.0, 2.0]]),))
    errors = [r.max_abs_diff for r in cc.check_case('x', case()) if 'gradcheck' in r.comparison]
    monkeypatch.setattr(cc, 'GRADCHECK_RTOL', max(errors))
    rows = [r for r in cc.check_case('x', case()) if 'gradcheck' in r.comparison]
    assert max(errors) > 0 and [r.max_abs_diff for r in rows] == errors and all(r.ok for r in rows)


def test_compare_reports_what_it_could_not_compare():
    "A missing side, a shape mismatch or NaN/inf in different places fails with an infinite difference and no tolerance."
    inf, tiny = np.inf, np.finfo(np.float64).tiny
    assert cc.compare('x', 'y', None, None, 'float64') == cc.Comparison('x', 'y (missing from both)', 'float64', inf, 0.0, False)
    assert cc.compare('x', 'y', None, np.ones(2), 'float64') == cc.Comparison('x', 'y (missing from the first)', 'float64', inf, 0.0, False)
    assert cc.compare('x', 'y', np.ones(2), None, 'float32') == cc.Comparison('x', 'y (missing from the second)', 'float32', inf, 0.0, False)
    assert cc.compare('x', 'y', np.ones(3), np.ones(4), 'float64') == cc.Comparison('x', 'y (shape (3,) vs (4,))', 'float64', inf, 0.0, False)
    assert cc.compare('x', 'y', [np.nan, 1.0], [1.0, 1.0], 'float64') == cc.Comparison('x', 'y (NaN/inf differ)', 'float64', inf, 0.0, False)
    # NaN and inf in the same places agree; the finite entries are compared, against the largest finite |expected|
    assert cc.compare('x', 'y', [np.nan, inf, 2.0], [np.nan, inf, 2.0], 'float64') == cc.Comparison('x', 'y', 'float64', 0.0, 2e-10, True)
    assert cc.compare('x', 'y', [inf, -inf], [inf, -inf], 'float64') == cc.Comparison('x', 'y', 'float64', 0.0, 1e-10 * tiny, True)
    assert cc.compare('x', 'y', [0.0], [0.0], 'float64') == cc.Comparison('x', 'y', 'float64', 0.0, 1e-10 * tiny, True)


def test_compare_tolerance_scales_with_the_expected_values():
    small = cc.compare('x', 'y', [1e-3 * (1 + 1e-9)], [1e-3], 'float64')
    assert small.tolerance == pytest.approx(1e-13, rel=1e-12) and not small.ok       # a small quantity gets a small tolerance
    loose = cc.compare('x', 'y', [2.0, -4.0 + 3e-5], [2.0, -4.0], 'float32')
    assert loose.tolerance == pytest.approx(4e-5) and loose.ok


def test_relative_error_values():
    assert cc.relative_error([0.5], [0.25]) == 0.5
    assert cc.relative_error([1.0, 0.0], [3.0, 0.0]) == cc.relative_error([3.0, 0.0], [1.0, 0.0]) == pytest.approx(2 / 3)
    assert cc.relative_error(np.zeros(0), np.zeros(0)) == 0.0


def test_non_finite_values_are_compared_not_refused():
    "A masked (-inf) input or an infinite output is data the harness compares, not bad input."
    case = cc.Case(Linear(2, 2), torch.nn.Linear(2, 2), inputs=(np.array([[-np.inf, 0.0]]),))
    assert np.isneginf(case.inputs[0][0, 0])
    assert cc.Run(np.array([np.inf, np.nan]), [None]).output.shape == (2,)
    np.testing.assert_array_equal(cc.grad_output_like(np.array([np.inf, np.nan])), np.random.default_rng(0).normal(size=2))


def test_run_numpy_and_run_torch_give_the_hand_computed_linear_gradients():
    numpy_linear = Linear(3, 2, dtype='float64', generator=0)
    W, b = numpy_linear.weight.data.copy(), numpy_linear.bias.data.copy()
    torch_linear = torch.nn.Linear(3, 2, dtype=torch.float64)
    torch_linear.load_state_dict({'weight': torch.from_numpy(W), 'bias': torch.from_numpy(b)})
    x = np.random.default_rng(1).normal(size=(4, 3))
    g = np.random.default_rng(3).normal(size=(4, 2))                    # the upstream gradient of seed 3
    for run in (cc.run_numpy(numpy_linear, (x,), seed=3), cc.run_torch(torch_linear, (x,), seed=3),
                cc.run_torch(torch_linear, (x,), seed=3)):             # a second run does not accumulate gradients
        np.testing.assert_allclose(run.output, x @ W.T + b, rtol=1e-12)
        assert len(run.input_grads) == 1
        np.testing.assert_allclose(run.input_grads[0], g @ W, rtol=1e-12)
        assert sorted(run.param_grads) == ['bias', 'weight']
        np.testing.assert_allclose(run.param_grads['weight'], g.T @ x, rtol=1e-12)
        np.testing.assert_allclose(run.param_grads['bias'], g.sum(0), rtol=1e-12)


def test_prepare_casts_inputs_and_float_targets_and_copies_the_weights():
    numpy_linear, torch_linear, builtin = Linear(3, 2, generator=0), torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    case = cc.Case(numpy_linear, torch_linear, builtin, inputs=(np.ones((4, 3), dtype=np.float32),),
                   targets=(np.full(4, 0.5, dtype=np.float32), np.array([0, 1, 1, 0])))
    ready = cc.prepare(case, 'float64')
    assert (ready.numpy, ready.torch, ready.builtin) == (numpy_linear, torch_linear, builtin)
    assert [x.dtype for x in ready.inputs + ready.targets] == [np.float64, np.float64, np.int64]
    assert numpy_linear.weight.data.dtype == np.float64
    for m in (torch_linear, builtin):
        assert m.weight.dtype == torch.float64
        np.testing.assert_array_equal(m.weight.detach().numpy(), numpy_linear.weight.data)


def test_fixed_seeds_defaults_to_seed_0():
    from dlcourse.core import default_generator
    with cc.fixed_seeds(): a = default_generator().normal(), torch.rand(1).item()
    with cc.fixed_seeds(0): b = default_generator().normal(), torch.rand(1).item()
    assert a == b


def test_run_torch_clears_stale_gradients_and_refuses_a_bad_seed_before_running():
    twin = _BiaslessTwin(4, 3)
    twin.bias.grad = torch.ones(3)                      # left over from an earlier backward
    assert cc.run_torch(twin, (np.ones((2, 4), dtype=np.float32),)).param_grads['bias'] is None
    twin.weight.grad = torch.ones(3, 4)
    with pytest.raises(TypeError, match='^seed: expected an integer'):
        cc.run_torch(twin, (np.ones((2, 4), dtype=np.float32),), seed=1.5)
    assert torch.equal(twin.weight.grad, torch.ones(3, 4))
