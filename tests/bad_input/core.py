"""Bad-input examples for dlcourse.core."""
import numpy as np

from badinput import Call

X = np.ones((2, 3))

CALLS = [
    Call('dlcourse.core.is_tensor', (X,), free=('x',)),
    Call('dlcourse.core.describe', (X,), free=('x',)),
    Call('dlcourse.core.check_array', (X, 'x'), free=('x',), bad={'ndim': [-1, 'two'], 'kind': ['complex']}),
    Call('dlcourse.core.check_number', (0.5, 'lr'), free=('value',), bad={'low': [float('nan')], 'high': [float('nan')]}),
    Call('dlcourse.core.check_bool', (True, 'flag'), free=('value',)),
    Call('dlcourse.core.check_choice', ('a', 'mode', ('a', 'b')), free=('value',), bad={'choices': [3]}),
    Call('dlcourse.core.resolve_dtype', ('float64',), bad={'dtype': ['float16', 'int32'], 'default': ['float16']}),
    Call('dlcourse.core.torch_dtype', ('float64',), bad={'dtype': ['float16']}),
    Call('dlcourse.core.manual_seed', (0,), bad={'seed': [-1]}),
    Call('dlcourse.core.seed_everything', (0,), bad={'seed': [-1]}),
    Call('dlcourse.core.resolve_device', ('cpu',), bad={'device': ['bogus', 'cuda:99']}),
    Call('dlcourse.core.to_numpy', (X,), free=('x',)),
    Call('dlcourse.core.to_tensor', (X,), bad={'device': ['bogus']}),
    Call('dlcourse.core.explorer', (lambda a: None, {}), bad={'controls': [{'a': 3}]}),
]
