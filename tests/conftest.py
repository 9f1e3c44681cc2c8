"""Shared test setup: headless plotting, the repository root, and GPU skipping."""
import os

# Tests run many tiny matrix products in parallel workers on a small machine: one BLAS/OpenMP thread per
# worker avoids oversubscription, under which a 32x64 @ 64x256 product was seen to take 20 ms instead of 30 us.
for _var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_var, '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

import pathlib  # noqa: E402

import pytest  # noqa: E402
ROOT = pathlib.Path(__file__).resolve().parents[1]


def cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()


requires_cuda = pytest.mark.skipif(not cuda_available(), reason='no CUDA GPU on this machine')
