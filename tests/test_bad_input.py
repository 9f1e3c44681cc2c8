"""Bad input, everywhere: every public callable, given one bad argument at a time, raises a ValueError or TypeError
that names the argument (or, for a doubtful value, accepts it); never a raw exception, never a wrong value accepted.
The harness and its rules are in tests/badinput.py; the examples, one file per part of the library, in tests/bad_input/."""
import os

import pytest

from badinput import all_calls, exempt, public_callables, run_call

CALLS = all_calls()


@pytest.mark.parametrize('call', CALLS, ids=lambda c: c.target)
def test_bad_input_gets_a_clear_error(call):
    failed = [o for o in run_call(call) if o.failed]
    assert not failed, f"{len(failed)} bad calls of {call.target} went wrong:\n" + '\n'.join(map(str, failed))


@pytest.mark.skipif('MUTANT_UNDER_TEST' in os.environ, reason="mutmut adds a copy of every method it mutates to the class")
def test_every_public_callable_has_an_example():
    covered, excused = {c.target for c in CALLS}, exempt()
    missing = [name for name in public_callables() if name not in covered and name not in excused]
    assert not missing, f"{len(missing)} public callables have no example in tests/bad_input/:\n" + '\n'.join(missing)
    stale = sorted((covered | excused.keys()) - set(public_callables()))
    assert not stale, f"examples or exemptions name callables that are not public: {stale}"
