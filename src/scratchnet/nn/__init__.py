"""The chapter's network learning in NumPy: activations, losses, gradients and TwoLayerNet."""

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
from scratchnet.nn.two_layer_net import TwoLayerNet

__all__ = [
    "TwoLayerNet",
    "cross_entropy_error",
    "gradient_descent",
    "numerical_diff",
    "numerical_gradient",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "sum_squares_error",
]
