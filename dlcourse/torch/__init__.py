"""The PyTorch backend: the same concepts as `dlcourse.numpy`, written with tensor operations, on any device."""
from .nn import *
