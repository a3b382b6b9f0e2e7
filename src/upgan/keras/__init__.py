"""A Keras-style API on torch: ``Sequential``, the tutorial's layers, and summaries.

``from keras.models import Sequential`` becomes ``from upgan.keras.models import Sequential``
and ``from keras.layers import X`` becomes ``from upgan.keras.layers import X``; the programs
then print what Keras 3 prints (see ``examples/tutorial/``).
"""

from upgan.keras import activations, backend, initializers, layers, models
from upgan.keras.layers import Input
from upgan.keras.models import Sequential
from upgan.keras.summary import summarize

__all__ = ["Input", "Sequential", "activations", "backend", "initializers", "layers", "models", "summarize"]
