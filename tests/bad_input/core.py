"""Bad-input examples for dlcourse.core."""
import matplotlib.pyplot as plt
import numpy as np

from badinput import Call
from dlcourse.core import check_str

X = np.ones((2, 3))
_, (AX, AX2) = plt.subplots(1, 2)   # the Axes stay usable for type checks after the harness closes every figure

CALLS = [
    Call('dlcourse.core.is_tensor', (X,), free=('x',)),
    Call('dlcourse.core.describe', (X,), free=('x',)),
    Call('dlcourse.core.check_array', (X, 'x'), free=('x',), bad={'ndim': [-1, 'two'], 'kind': ['complex']}),
    Call('dlcourse.core.check_array', (X, 'x'), dict(ndim=(1, 2), kind='number', dtype='float64', allow_tensor=False),
         free=('x',), bad={'ndim': [(2, -1), [2.0]], 'dtype': ['float128x', [('a', 'f8'), ('a', 'f8')]]}),
    Call('dlcourse.core.check_number', (0.5, 'lr'), free=('value',), bad={'low': [float('nan')], 'high': [float('nan')]}),
    Call('dlcourse.core.check_number', (3, 'epochs'), dict(low=1.0, high=10.0, integer=True, allow_inf=False), free=('value',),
         bad={'low': ['1'], 'high': [[10]]}),
    Call('dlcourse.core.check_bool', (True, 'flag'), free=('value',)),
    Call('dlcourse.core.check_choice', ('a', 'mode', ('a', 'b')), free=('value',), bad={'choices': [3, 'ab', b'ab']}),
    Call('dlcourse.core.check_str', ('run', 'value'), dict(empty=False), bad={'value': ['', b'run']}),
    Call('dlcourse.core.check_callable', (len, 'value'), bad={'value': [None, np.ones(2)]}),
    Call('dlcourse.core.check_callable', (None, 'value'), dict(optional=True), bad={'optional': ['yes']}),
    Call('dlcourse.core.check_numbers', ([0.1, 0.2], 'values'), dict(length=2, low=0),
         bad={'values': [[0.1, -1.0], [0.1], [0.1, 0.2, 0.3], np.ones((2, 2)), {0.1, 0.2}, '12'], 'length': [0, -2]},
         doubtful={'values': [(0.1, 0.2), np.array([0.1, 0.2]), range(2)]}),
    Call('dlcourse.core.check_numbers', ([1, 2], 'values'), dict(low=1, integer=True), bad={'values': [[1, 0], [1, 2.5]]}),
    Call('dlcourse.core.check_sequence', (['a', 'b'], 'values', check_str), bad={'values': [['a', 3], 'ab'], 'check': [None]}),
    Call('dlcourse.core.check_range', ((0.0, 1.0), 'value'), bad={'value': [(1.0, 0.0), (0.0, float('inf')), (0.0,), [0.0, 1.0, 2.0]]}),
    Call('dlcourse.core.check_axes', (AX, 'ax'), bad={'ax': [[AX], X]}),
    Call('dlcourse.core.check_axes', ([AX, AX2], 'ax', 2), bad={'ax': [[AX], AX, None, [AX, 'x'], (AX, AX, AX2)], 'count': [0, -1]}),
    Call('dlcourse.core.resolve_dtype', ('float64',), bad={'dtype': ['float16', 'int32'], 'default': ['float16', 'double']}),
    Call('dlcourse.core.torch_dtype', ('float64',), bad={'dtype': ['float16'], 'default': ['int64']}),
    Call('dlcourse.core.manual_seed', (0,), bad={'seed': [-1]}),
    Call('dlcourse.core.as_generator', (0,), bad={'generator': [-1]}),
    Call('dlcourse.core.as_generator', (np.random.default_rng(0),)),
    Call('dlcourse.core.seed_everything', (0,), bad={'seed': [-1]}),
    Call('dlcourse.core.resolve_device', ('cpu',), bad={'device': ['bogus', 'cuda:99']}),
    Call('dlcourse.core.to_numpy', (X,), free=('x',)),
    Call('dlcourse.core.as_array', (X, 'x'), dict(ndim=2, kind='float'),
         bad={'x': [[[1.0], [2.0, 3.0]], ['a', 'b'], np.ones(3)], 'kind': ['complex']}),
    Call('dlcourse.core.to_tensor', (X,), bad={'device': ['bogus'], 'x': [[[1.0], [2.0, 3.0]], np.array(['a'])]}),
    Call('dlcourse.core.to_tensor', (X,), dict(dtype='float32'), bad={'dtype': ['int8', 'float16']}),
    Call('dlcourse.core.explorer', (lambda a: None, {}), bad={'controls': [{'a': 3}]}),
]
