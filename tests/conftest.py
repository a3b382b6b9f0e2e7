"""Shared fixtures: the Keras/TensorFlow oracle and seeded random generators."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def tf_keras():
    """The ``keras`` module on the TensorFlow backend, the reference upgan is compared with.

    Skips the test when keras or tensorflow is not installed. oneDNN is switched off so that
    TensorFlow's CPU results are reproducible.
    """
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.fail(f"keras was imported with the {keras.backend.backend()!r} backend; the oracle needs 'tensorflow'")
    return keras


@pytest.fixture
def seeded():
    """A factory ``seeded(seed=0) -> numpy.random.Generator`` that also seeds torch's global RNG."""

    def make(seed: int = 0) -> np.random.Generator:
        torch.manual_seed(seed)
        return np.random.default_rng(seed)

    return make


@pytest.fixture
def single_thread():
    """Run the test with one torch thread, then restore the previous count.

    On tiny tensors torch's second thread only costs time, and on a loaded machine a lot of it:
    OpenMP waits for a descheduled thread at every parallel region. Measured on this project's
    2-core machines: a tiny torch convolution between TensorFlow ops took 2-14 ms with 2 torch
    threads and 0.2 ms with 1; a float64 gradcheck of a small transposed convolution 12-19 s with
    2 threads and 0.08 s with 1. Use it (``pytestmark = pytest.mark.usefixtures("single_thread")``)
    in test modules that run many small ops.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
