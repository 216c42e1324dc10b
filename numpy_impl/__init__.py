"""NumPy implementations of neural-network layers, each with forward and backward passes.

See :mod:`numpy_impl.base` for the layer contract. One module per family of layers.
"""

from numpy_impl.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from numpy_impl.base import Layer, Loss
from numpy_impl.blocks import SEBlock, SEResNetBlock
from numpy_impl.conv import Conv2D
from numpy_impl.initializers import INITIALIZERS, as_generator, get_initializer, initialize
from numpy_impl.linear import Linear
from numpy_impl.losses import CrossEntropyLoss, MSELoss, SoftmaxCrossEntropyLoss
from numpy_impl.normalization import BatchNorm2d
from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
from numpy_impl.reshape import Flatten
from numpy_impl.softmax import LogSoftmax, Softmax

__all__ = [
    "INITIALIZERS",
    "BatchNorm2d",
    "Conv2D",
    "CrossEntropyLoss",
    "Flatten",
    "GlobalAvgPool2D",
    "Identity",
    "Layer",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Loss",
    "MSELoss",
    "Pool2D",
    "ReLU",
    "SEBlock",
    "SEResNetBlock",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropyLoss",
    "Tanh",
    "as_generator",
    "get_initializer",
    "initialize",
]
