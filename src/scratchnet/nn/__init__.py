"""The book in NumPy: activations, losses, gradients, TwoLayerNet, Dropout and the optimizers."""

from scratchnet.nn.functions import (
    cross_entropy_error,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    sum_squares_error,
)
from scratchnet.nn.gradient import gradient_descent, numerical_diff, numerical_gradient
from scratchnet.nn.layers import Dropout
from scratchnet.nn.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    make_optimizer,
)
from scratchnet.nn.two_layer_net import TwoLayerNet

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adam",
    "Dropout",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "TwoLayerNet",
    "cross_entropy_error",
    "gradient_descent",
    "make_optimizer",
    "numerical_diff",
    "numerical_gradient",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "sum_squares_error",
]
