"""Shared test setup: headless plotting, the repository root, and GPU skipping."""
import os
import pathlib

import pytest

os.environ.setdefault('MPLBACKEND', 'Agg')
ROOT = pathlib.Path(__file__).resolve().parents[1]


def cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()


requires_cuda = pytest.mark.skipif(not cuda_available(), reason='no CUDA GPU on this machine')
