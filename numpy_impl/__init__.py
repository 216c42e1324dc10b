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
from numpy_impl.model import Sequential
from numpy_impl.normalization import BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d
from numpy_impl.optim import SGD, Adam, Optimizer
from numpy_impl.pooling import GlobalAvgPool2D, Pool2D
from numpy_impl.reshape import Flatten
from numpy_impl.softmax import LogSoftmax, Softmax
from numpy_impl.training import History, accuracy, batch_indices, evaluate, fit, train_step

__all__ = [
    "INITIALIZERS",
    "SGD",
    "Adam",
    "BatchNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Conv2D",
    "CrossEntropyLoss",
    "Flatten",
    "GlobalAvgPool2D",
    "History",
    "Identity",
    "Layer",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Loss",
    "MSELoss",
    "Optimizer",
    "Pool2D",
    "ReLU",
    "SEBlock",
    "SEResNetBlock",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropyLoss",
    "Tanh",
    "accuracy",
    "as_generator",
    "batch_indices",
    "evaluate",
    "fit",
    "get_initializer",
    "initialize",
    "train_step",
]
