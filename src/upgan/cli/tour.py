"""``upgan tour``: the upsampling tutorial, reproduced step by step in the terminal.

Every example of the tutorial runs on :mod:`upgan.keras`: its input, the model summary,
the output, and the output-size arithmetic of each layer with the numbers filled in (the
numbers come from :mod:`upgan.shapes`; the formulas are printed beside them).
"""

from __future__ import annotations

import argparse

PARTS = ("upsampling", "transpose")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "tour",
        help="walk through the upsampling / transposed-convolution tutorial in the terminal",
        description="Reproduce the tutorial's examples with upgan.keras: each input, model summary and "
        "output, and the output-size arithmetic of every layer.",
    )
    p.add_argument(
        "--part",
        choices=("all", *PARTS),
        default="all",
        help="show one part only: upsampling (UpSampling2D and its generator) or transpose "
        "(Conv2DTranspose and its generator); default all",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import warnings

    import numpy as np

    with warnings.catch_warnings(), np.printoptions(precision=4, suppress=True):
        # The tutorial passes input_shape= / input_dim= to layers; Keras 3 (and upgan) warn about it.
        warnings.filterwarnings("ignore", message="Passing `input_shape`/`input_dim`")
        parts = PARTS if args.part == "all" else (args.part,)
        for part in PARTS:
            if part in parts:
                {"upsampling": _upsampling, "transpose": _transpose}[part]()
    return 0


def _heading(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def _upsampling() -> None:
    from numpy import asarray

    from upgan import shapes
    from upgan.keras.backend import clear_session
    from upgan.keras.layers import UpSampling2D
    from upgan.keras.models import Sequential

    _heading("1. The UpSampling2D layer")
    X = asarray([[1, 2], [3, 4]])
    print("Input, 2x2 (reshaped to one sample with one channel, (1, 2, 2, 1)):")
    print(X)
    for title, kwargs in (
        ("nearest, size=(2, 2) (the default): each row and column repeated", {}),
        ("size=(2, 3): rows doubled, columns tripled", {"size": (2, 3)}),
        (
            "interpolation='bilinear': Keras 3 samples at half-pixel centres (the 2019 text's TF 1 did not)",
            {"interpolation": "bilinear"},
        ),
    ):
        clear_session()
        layer = UpSampling2D(input_shape=(2, 2, 1), **kwargs)
        model = Sequential([layer])
        print()
        print(f"UpSampling2D({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}) -- {title}")
        model.summary()
        h, w = (shapes.upsample_output_size(2, f) for f in layer.size)
        print(f"Output size: height 2 * {layer.size[0]} = {h}, width 2 * {layer.size[1]} = {w}; no weights.")
        print(model.predict(X.reshape((1, 2, 2, 1))).reshape((h, w)))
    _generator("2. A generator with UpSampling2D + Conv2D", upsample=True)


def _transpose() -> None:
    from numpy import asarray, zeros

    from upgan import shapes
    from upgan.keras.backend import clear_session
    from upgan.keras.layers import Conv2DTranspose
    from upgan.keras.models import Sequential

    _heading("3. The Conv2DTranspose layer")
    X = asarray([[1, 2], [3, 4]])
    print("Input, 2x2:")
    print(X)
    spaced = zeros((4, 4), dtype=int)
    spaced[::2, ::2] = X  # stride 2: a zero row and column after every input row and column
    print("With strides=(2, 2) the layer lays the input out with zeros between (the tutorial's picture):")
    print(spaced)
    clear_session()
    model = Sequential([Conv2DTranspose(1, (1, 1), strides=(2, 2), input_shape=(2, 2, 1))])
    print()
    print("Conv2DTranspose(1, (1, 1), strides=(2, 2)) with weight 1 and bias 0:")
    model.summary()
    model.set_weights([asarray([[[[1]]]]), asarray([0])])
    valid = shapes.conv_transpose_output_size(2, 1, 2, "valid")
    torch_size = shapes.conv_transpose_output_size(2, 1, 2, 0)
    print(f"Output size (Keras 'valid'): (2 - 1) * 2 + max(1, 2) = {valid}")
    print(f"  (torch.nn.ConvTranspose2d(1, 1, 1, stride=2) would give (2 - 1) * 2 + 1 = {torch_size})")
    print(model.predict(X.reshape((1, 2, 2, 1))).reshape((valid, valid)))
    print()
    print("A 3x3 kernel grows the output beyond double; padding='same' keeps it at input * stride:")
    for size in (2, 5):
        same = shapes.conv_transpose_output_size(size, 3, 2, "same")
        valid = shapes.conv_transpose_output_size(size, 3, 2, "valid")
        print(f"  Conv2DTranspose k=3 s=2 on {size}x{size}: same: {size} * 2 = {same}; "
              f"valid: ({size} - 1) * 2 + max(3, 2) = {valid}")
    _generator("4. A generator with Conv2DTranspose", upsample=False)


def _generator(title: str, upsample: bool) -> None:
    from upgan import shapes
    from upgan.keras.backend import clear_session
    from upgan.keras.layers import Conv2D, Conv2DTranspose, Dense, Reshape, UpSampling2D
    from upgan.keras.models import Sequential

    _heading(f"{title}: a 100-element latent vector to a 10x10 image")
    clear_session()
    model = Sequential()
    model.add(Dense(128 * 5 * 5, input_dim=100))
    model.add(Reshape((5, 5, 128)))
    if upsample:
        model.add(UpSampling2D())
        model.add(Conv2D(1, (3, 3), padding="same"))
    else:
        model.add(Conv2DTranspose(1, (3, 3), strides=(2, 2), padding="same"))
    model.summary()
    print("Layer by layer:")
    dense_params = model.layers[0].count_params()
    print(f"  Dense: 100 -> 128 * 5 * 5 = {128 * 5 * 5} units; 100 * 3200 + 3200 = {dense_params:,} parameters")
    print("  Reshape: 3200 -> (5, 5, 128), channels last")
    if upsample:
        up = shapes.upsample_output_size(5, 2)
        conv = shapes.conv_output_size(up, 3, 1, "same")
        print(f"  UpSampling2D: 5 -> 5 * 2 = {up}")
        print(f"  Conv2D k=3 'same': {up} -> ceil({up} / 1) = {conv}; "
              f"3 * 3 * 128 * 1 + 1 = {model.layers[-1].count_params():,} parameters")
    else:
        same = shapes.conv_transpose_output_size(5, 3, 2, "same")
        valid = shapes.conv_transpose_output_size(5, 3, 2, "valid")
        print(f"  Conv2DTranspose k=3 s=2 same: 5 -> 5 * 2 = {same}; "
              f"valid would give (5 - 1) * 2 + max(3, 2) = {valid}; "
              f"3 * 3 * 1 * 128 + 1 = {model.layers[-1].count_params():,} parameters")
    print(f"Total: {model.count_params():,} parameters, output {model.output_shape}")
