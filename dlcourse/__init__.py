"""dlcourse: how deep networks are trained, built twice (NumPy from scratch and PyTorch) and cross-checked."""
__version__ = "0.1.0"
