"""The PyTorch backend: the same concepts as `dlcourse.numpy`, written with tensor operations, on any device."""
from .nn import MLP, Linear, ReLU, Sequential
from .activations import (ACTIVATIONS, GELU, LeakyReLU, Sigmoid, Softmax, Tanh, gelu, leaky_relu, relu, sigmoid,
                          softmax, tanh)
from .losses import (LOSSES, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, MultiMarginLoss,
                     binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, log_softmax,
                     logsumexp, mse_loss, multi_margin_loss)
from .optim import SGD, CheckedOptimizer
from .adaptive import Adagrad, Adam, Adamax, AdamW, RMSprop
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .clip import clip_grad_norm_, clip_grad_value_
from . import init, metrics
from .regularization import Dropout, l1_penalty, l2_penalty
from . import augment
from .sharing import TiedLinear
