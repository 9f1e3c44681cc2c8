"""The NumPy backend: every layer, loss and optimizer written from scratch, forward and backward. Never imports torch."""
from dlcourse.core import manual_seed
from .nn import *
