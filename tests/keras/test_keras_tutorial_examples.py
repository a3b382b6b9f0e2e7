"""The tutorial's programs in examples/tutorial/ print what the same programs print under Keras 3.

The programs run in one subprocess (one torch import instead of seven), each by ``runpy``
as ``__main__`` after ``clear_session()``, so each sees fresh layer names as in its own
process; the reference is the same
source with ``upgan.keras`` replaced by ``keras``, run in this process on the TensorFlow
backend. Printed arrays, output shapes and parameter totals are compared.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "tutorial"
PROGRAMS = sorted(p.name for p in EXAMPLES.glob("*.py"))
SHAPE = re.compile(r"\(None(?:, \d+)+\)")
TOTAL = re.compile(r"Total params: ([\d,]+)")


def arrays(text: str) -> list[np.ndarray]:
    """Every 2-D array NumPy printed in ``text``."""
    blocks = re.findall(r"\[\[[-\d.\se+\[\]]*?\]\]", text)
    return [np.array([[float(v) for v in row.split()] for row in re.findall(r"\[([^\[\]]+)\]", b)]) for b in blocks]


DRIVER = """
import runpy, sys
from upgan.keras.backend import clear_session
for path in sys.argv[1:]:
    print("=== " + path, flush=True)
    clear_session()
    runpy.run_path(path, run_name="__main__")
"""


@pytest.fixture(scope="module")
def ours() -> dict[str, str]:
    paths = [str(EXAMPLES / name) for name in PROGRAMS]
    proc = subprocess.run([sys.executable, "-c", DRIVER, *paths], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    chunks = re.split(r"^=== (.*)$", proc.stdout, flags=re.M)[1:]
    return {pathlib.Path(path).name: out for path, out in zip(chunks[::2], chunks[1::2])}


def keras_output(tf_keras, name: str) -> str:
    source = (EXAMPLES / name).read_text()
    imports = [line for line in source.splitlines() if line.startswith(("from ", "import "))]
    assert all(line.startswith(("from numpy import", "from upgan.keras.")) for line in imports), imports
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(source.replace("upgan.keras", "keras"), name, "exec"), {"__name__": "__main__"})
    return buffer.getvalue()


def test_examples_exist():
    assert set(PROGRAMS) >= {
        "upsampling_layer.py", "upsampling_generator.py", "conv_transpose_layer.py", "conv_transpose_generator.py",
        "upsampling_size_2x3.py", "upsampling_bilinear.py",
    }


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`")
@pytest.mark.parametrize("name", PROGRAMS)
def test_example_prints_what_keras_prints(tf_keras, ours, name):
    ref = keras_output(tf_keras, name)
    ours_arrays, ref_arrays = arrays(ours[name]), arrays(ref)
    assert len(ours_arrays) == len(ref_arrays)
    for a, b in zip(ours_arrays, ref_arrays):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert SHAPE.findall(ours[name]) == SHAPE.findall(ref)
    assert TOTAL.findall(ours[name]) == TOTAL.findall(ref)


def test_tutorial_numbers(ours):
    for name in ("upsampling_generator.py", "conv_transpose_generator.py"):
        assert "Total params: 324,353" in ours[name] and "(None, 10, 10, 1)" in ours[name]
    assert "conv2d (Conv2D)              (None, 10, 10, 1)         1153" in ours["upsampling_generator.py"]
    np.testing.assert_array_equal(arrays(ours["conv_transpose_layer.py"])[1], [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(arrays(ours["upsampling_size_2x3.py"])[1].shape, (4, 6))


def test_a_program_run_on_its_own_prints_what_the_driver_captured(ours):
    name = "conv_transpose_layer.py"
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ours[name].lstrip("\n")
    assert "UserWarning: Passing `input_shape`/`input_dim` to a layer is deprecated" in proc.stderr
