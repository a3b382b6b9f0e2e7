"""Keras-style layers on torch: same arguments, weight layouts and results as Keras 3.

Each layer is a ``torch.nn.Module`` holding its weights in torch layout and computing on
NCHW tensors through :mod:`upgan.functional`; ``get_weights`` / ``set_weights`` speak Keras
layout.
"""

from upgan.keras.layers.activation import Activation, LeakyReLU
from upgan.keras.layers.batch_normalization import BatchNormalization
from upgan.keras.layers.conv2d import Conv2D
from upgan.keras.layers.conv2d_transpose import Conv2DTranspose
from upgan.keras.layers.dense import Dense
from upgan.keras.layers.dropout import Dropout
from upgan.keras.layers.flatten import Flatten
from upgan.keras.layers.input_layer import Input, InputLayer
from upgan.keras.layers.layer import Layer
from upgan.keras.layers.reshape import Reshape
from upgan.keras.layers.up_sampling2d import UpSampling2D

__all__ = [
    "Activation",
    "BatchNormalization",
    "Conv2D",
    "Conv2DTranspose",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "LeakyReLU",
    "Reshape",
    "UpSampling2D",
]
