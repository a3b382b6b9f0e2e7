"""The summary table: layout as the tutorial prints it, contents as Keras 3 computes them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from upgan.keras import Input, Sequential, backend, summarize
from upgan.keras import layers as L
from upgan.keras.summary import format_summary

# The tutorial's table for its upsampling generator (Keras 2.2), the layout spec. Keras 3
# names the first layer of each kind without "_1", so only the names differ below.
TUTORIAL_TABLE = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
dense_1 (Dense)              (None, 3200)              323200
_________________________________________________________________
reshape_1 (Reshape)          (None, 5, 5, 128)         0
_________________________________________________________________
up_sampling2d_1 (UpSampling2 (None, 10, 10, 128)       0
_________________________________________________________________
conv2d_1 (Conv2D)            (None, 10, 10, 1)         1153
=================================================================
Total params: 324,353
Trainable params: 324,353
Non-trainable params: 0
_________________________________________________________________"""


def build(lib, kind: str):
    layers = lib.layers
    stacks = {
        "upsampling": [lib.Input(shape=(100,)), layers.Dense(3200), layers.Reshape((5, 5, 128)),
                       layers.UpSampling2D(), layers.Conv2D(1, (3, 3), padding="same")],
        "transpose": [lib.Input(shape=(100,)), layers.Dense(3200), layers.Reshape((5, 5, 128)),
                      layers.Conv2DTranspose(1, (3, 3), strides=(2, 2), padding="same")],
        "bn": [lib.Input(shape=(4, 4, 3)), layers.Conv2D(8, 3), layers.BatchNormalization(), layers.LeakyReLU(),
               layers.Flatten(), layers.Dense(5, trainable=False)],
    }
    return lib.Sequential(stacks[kind])


def lines_of(model) -> list[str]:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return lines


def test_tutorial_table_layout():
    backend.clear_session()
    ours = "\n".join(lines_of(build(__import__("upgan.keras", fromlist=["layers"]), "upsampling")))
    keras3_names = (TUTORIAL_TABLE.replace("dense_1 (Dense)", "dense (Dense)  ")
                    .replace("reshape_1 (Reshape)", "reshape (Reshape)  ")
                    .replace("up_sampling2d_1 (UpSampling2", "up_sampling2d (UpSampling2D)")
                    .replace("conv2d_1 (Conv2D)", "conv2d (Conv2D)  "))
    assert ours == keras3_names


@pytest.mark.parametrize("kind", ["upsampling", "transpose", "bn"])
def test_rows_and_totals_match_keras(tf_keras, kind):
    import upgan.keras

    backend.clear_session()
    tf_keras.backend.clear_session()
    ours, ref = build(upgan.keras, kind), build(tf_keras, kind)
    lines = lines_of(ours)
    assert len(lines) == 3 + 2 * len(ref.layers) - 1 + 5
    rows = lines[3:-5:2]
    assert len(rows) == len(ref.layers)
    for row, layer in zip(rows, ref.layers):
        label = f"{layer.name} ({type(layer).__name__})"[:28]
        assert row[:29].rstrip() == label
        assert row[29:55].rstrip() == str(tuple(layer.output.shape))
        assert row[55:] == str(layer.count_params())
    trainable = sum(int(np.prod(w.shape)) for w in ref.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in ref.non_trainable_weights)
    assert lines[-4:-1] == [
        f"Total params: {trainable + non_trainable:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {non_trainable:,}",
    ]


def test_long_labels_are_cut_one_space_before_the_next_column():
    text = format_summary([("conv2d_transpose_12 (Conv2DTranspose)", "(None, 1000, 1000, 1000, 3)", 12345678901)], 1, 0)
    row = text.splitlines()[3]
    assert row == "conv2d_transpose_12 (Conv2DT (None, 1000, 1000, 1000,  1234567890"


def test_summarize_any_torch_module_counts_buffers_as_non_trainable():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 5, 3),
    )
    net[4].bias.requires_grad_(False)
    net.train()
    text = summarize(net, (1, 6, 5), print_fn=None)
    lines = text.splitlines()
    assert [row[:29].rstrip() for row in lines[3:-5:2]] == [
        "0 (Conv2d)", "1 (BatchNorm2d)", "2 (ReLU)", "3 (Flatten)", "4 (Linear)"
    ]
    assert [row[29:55].rstrip() for row in lines[3:-5:2]] == [
        "(None, 4, 6, 5)", "(None, 4, 6, 5)", "(None, 4, 6, 5)", "(None, 120)", "(None, 3)"
    ]
    # BatchNorm: gamma + beta trainable, running mean/var non-trainable, num_batches_tracked not counted.
    assert [int(row[55:]) for row in lines[3:-5:2]] == [40, 16, 0, 0, 363]
    total = sum(p.numel() for p in net.parameters()) + 8
    assert lines[-4:-1] == [f"Total params: {total:,}", f"Trainable params: {total - 8 - 3:,}", "Non-trainable params: 11"]
    assert net.training  # mode restored
    assert net[1].num_batches_tracked.item() == 0  # ran in eval mode


def test_summarize_nested_modules_and_unused_ones():
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.body = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh())
            self.spare = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.body(x) * self.scale

    printed = []
    text = summarize(Block(), (3,), print_fn=printed.append)
    assert printed == text.splitlines()
    rows = [(r[:29].rstrip(), r[29:55].rstrip(), r[55:]) for r in text.splitlines()[3:-5:2]]
    assert rows == [
        ("body.0 (Linear)", "(None, 4)", "16"),
        ("body.1 (Tanh)", "(None, 4)", "0"),
        ("Block", "(None, 4)", "1"),
        ("spare (Linear)", "unused", "20"),
    ]
    assert "Total params: 37" in text


def test_summarize_errors():
    with pytest.raises(TypeError, match="The `module` argument must be a torch.nn.Module. Received type int"):
        summarize(3, (1,))
    with pytest.raises(ValueError, match=r"The `input_shape` argument must be a tuple of positive integers .* Received input_shape=\(0, 3\)"):
        summarize(torch.nn.Identity(), (0, 3))


def test_summary_of_keras_model_with_fixed_batch_and_unbuilt_summary_error():
    backend.clear_session()
    model = Sequential([Input(shape=(3,), batch_size=4), L.Dense(2)])
    assert lines_of(model)[3].startswith("dense (Dense)                (4, 2)")
    with pytest.raises(ValueError, match="has not been built yet, so it has no summary"):
        Sequential([L.Dense(2)]).summary()


def test_summarize_folds_parametrizations_into_their_module():
    sn = torch.nn.utils.parametrizations.spectral_norm
    net = torch.nn.Sequential(sn(torch.nn.Conv2d(1, 4, 3, bias=False)), torch.nn.Flatten(), sn(torch.nn.Linear(16, 2)))
    text = summarize(net, (1, 4, 4), print_fn=None)
    rows = [(r[:29].rstrip(), r[29:55].rstrip(), r[55:]) for r in text.splitlines()[3:-5:2]]
    # conv: weight 36 (trainable) + u (4) + v (9) buffers; linear: weight 32 + bias 2 + u (2) + v (16)
    assert rows == [
        ("0 (ParametrizedConv2d)", "(None, 4, 2, 2)", str(36 + 4 + 9)),
        ("1 (Flatten)", "(None, 16)", "0"),
        ("2 (ParametrizedLinear)", "(None, 2)", str(34 + 2 + 16)),
    ]
    assert text.splitlines()[-4:-1] == ["Total params: 101", "Trainable params: 70", "Non-trainable params: 31"]


def test_summarize_restores_every_submodules_mode():
    """A BatchNorm frozen in eval inside a model in training mode stays frozen after the summary."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4), torch.nn.Dropout(0.5))
    model.train()
    model[1].eval()
    before = [m.training for m in model.modules()]
    summarize(model, (4,), print_fn=lambda line: None)
    assert [m.training for m in model.modules()] == before == [True, True, False, True]
