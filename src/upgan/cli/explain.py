"""``upgan explain``: output-size arithmetic step by step, the zero-insertion picture, and GIFs.

A transposed convolution equals a stride-1 convolution, with the spatially flipped kernel,
of the input with ``stride - 1`` zeros inserted between neighbours and padded (or cropped)
at the borders (Dumoulin & Visin 2016, "A guide to convolution arithmetic for deep
learning", section 4; their figures are the model for the ``--gif`` animation). The numbers
come from :mod:`upgan.shapes`: Keras 3 rules for ``valid``/``same``, PyTorch's for an
integer padding.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

from upgan.cli import CliError, check_animation_path

PICTURE_MAX = 8  # largest input side drawn as a grid of numbers
GIF_MAX_FRAMES = 400


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explain",
        help="explain conv / transposed conv / upsample output sizes step by step",
        description=(
            "Print the output-size arithmetic of one layer with the numbers filled in, and for "
            "small inputs the picture of what it does (zero insertion for a transposed "
            "convolution); --gif draws it as an animation (the sliding kernel, or the input "
            "pixels each upsampled pixel reads)."
        ),
    )
    sub = p.add_subparsers(dest="op", metavar="OP", required=True)
    for name, helptext, stride in (
        ("conv-transpose", "transposed convolution (Conv2DTranspose / ConvTranspose2d)", 2),
        ("conv", "convolution (Conv2D / Conv2d)", 1),
    ):
        q = sub.add_parser(name, help=helptext, description=f"Explain a {helptext} on a square input.")
        q.add_argument("--input", type=int, default=5, help="input height = width (default 5)")
        q.add_argument("--kernel", type=int, default=3, help="kernel size (default 3)")
        q.add_argument("--stride", type=int, default=stride, help=f"stride (default {stride})")
        q.add_argument(
            "--padding", default="same",
            help="'valid', 'same' (Keras 3 rules) or an integer (PyTorch's symmetric padding); default same",
        )
        if name == "conv-transpose":
            q.add_argument("--output-padding", type=int, default=None, help="extra rows/columns at the end (default: none / Keras's default)")
        q.add_argument("--dilation", type=int, default=1, help="kernel dilation (default 1)")
        q.add_argument("--gif", metavar="FILE", help="also write an animation of the kernel sliding over the input")
        q.set_defaults(func=run)
    q = sub.add_parser("upsample", help="UpSampling2D / Upsample2d", description="Explain upsampling by an integer factor.")
    q.add_argument("--input", type=int, default=2, help="input height = width (default 2)")
    q.add_argument("--scale", type=int, default=2, help="integer scale factor (default 2)")
    q.add_argument("--mode", default="nearest", help="nearest, bilinear, bicubic, lanczos3, lanczos5 or area (default nearest)")
    q.add_argument("--gif", metavar="FILE", help="also write an animation: the input pixels each output pixel reads, and their weights")
    q.set_defaults(func=run)


def _padding(text: str) -> str | int:
    if text.lstrip("-").isdigit():
        return int(text)
    return text.lower()  # 'SAME' as Keras takes it


@dataclass
class Layout:
    """One axis of a convolution seen as a stride-``step`` window over a row of cells.

    ``cells[j]`` is ``("input", i)`` for input element ``i``, ``("zero", None)`` for an
    inserted zero, or ``("pad", None)`` for border padding. Output element ``t`` reads
    ``cells[starts[t] + m * dilation]`` for ``m`` in ``0 .. kernel_size - 1``.
    """

    cells: list[tuple[str, int | None]]
    starts: list[int]
    kernel_size: int
    dilation: int
    flipped: bool


def transposed_layout(steps) -> Layout:
    """The zero-inserted, padded input of a transposed convolution (from ``conv_transpose_steps``)."""
    s = steps.stride
    inserted = [("input", j // s) if j % s == 0 else ("zero", None) for j in range(steps.zero_inserted)]
    # A negative pad crops the zero-inserted input (PyTorch paddings larger than k' - 1).
    before = [("pad", None)] * max(steps.pad_before, 0)
    after = [("pad", None)] * max(steps.pad_after, 0)
    body = inserted[max(-steps.pad_before, 0) : len(inserted) - max(-steps.pad_after, 0)]
    cells = before + body + after
    return Layout(cells, list(range(steps.output_size)), steps.kernel_size, steps.dilation, flipped=True)


def conv_layout(size: int, kernel_size: int, stride: int, padding: str | int, dilation: int) -> Layout:
    """The padded input of a convolution, windows ``stride`` apart."""
    from upgan.shapes import conv_output_size, conv_padding

    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    before, after = conv_padding(size, kernel_size, stride, padding, dilation)
    cells = [("pad", None)] * before + [("input", i) for i in range(size)] + [("pad", None)] * after
    return Layout(cells, [t * stride for t in range(out)], kernel_size, dilation, flipped=False)


def _grid_text(rows: list[list[str]]) -> str:
    width = max(len(c) for row in rows for c in row)
    return "\n".join("  " + " ".join(c.rjust(width) for c in row) for row in rows)


def _layout_picture(layout: Layout, size: int) -> str:
    """The 2-D input as the layout sees it: values 1..size², 0 inserted zeros, . padding."""

    def cell(a, b) -> str:
        (ka, ia), (kb, ib) = layout.cells[a], layout.cells[b]
        if ka == "pad" or kb == "pad":
            return "."
        if ka == "zero" or kb == "zero":
            return "0"
        return str(ia * size + ib + 1)

    n = len(layout.cells)
    return _grid_text([[cell(a, b) for b in range(n)] for a in range(n)])


def run(args: argparse.Namespace) -> int:
    if args.op == "upsample":
        return _upsample(args)
    for flag in ("input", "kernel", "stride", "dilation"):
        value = getattr(args, flag)
        if value < 1:
            raise CliError(f"--{flag} must be an integer >= 1. Received --{flag} {value}")
    padding = _padding(args.padding)
    if args.gif:
        check_animation_path(args.gif, "--gif")
    try:
        if args.op == "conv-transpose":
            layout = _explain_transposed(args, padding)
        else:
            layout = _explain_conv(args, padding)
    except (TypeError, ValueError) as err:
        raise CliError(str(err)) from err
    if args.gif:
        frames = len(layout.starts) ** 2
        if frames > GIF_MAX_FRAMES:
            raise CliError(
                f"the animation would have {frames} frames (output {len(layout.starts)}x{len(layout.starts)}); "
                f"use a smaller --input so it has at most {GIF_MAX_FRAMES}"
            )
        title = f"{args.op} k={args.kernel} s={args.stride} padding={args.padding}"
        try:
            write_gif(layout, args.input, args.gif, title)
        except OSError as err:
            raise CliError(f"cannot write {args.gif}: {err}") from err
        print(f"Wrote {args.gif} ({frames} frames)")
    return 0


def _other_paddings(output_size, padding: str | int) -> str:
    """The side note "   ('same' gives 3, 'valid' gives 2)": output sizes under the string paddings not chosen.

    ``output_size(padding)`` is the :mod:`upgan.shapes` function for the layer; a padding that
    leaves nothing (its ``ValueError``) is named as giving an empty output, not an error.
    """
    notes = []
    for other in ("same", "valid"):
        if other == padding:
            continue
        try:
            notes.append(f"'{other}' gives {output_size(other)}")
        except ValueError:
            notes.append(f"'{other}' gives an empty output")
    return f"   ({', '.join(notes)})" if notes else ""


def _explain_transposed(args: argparse.Namespace, padding: str | int) -> Layout:
    from upgan.shapes import PADDINGS, conv_transpose_output_size, conv_transpose_steps

    i, k, s, d, op = args.input, args.kernel, args.stride, args.dilation, args.output_padding
    # As upgan.functional.conv_transpose2d and Keras's base_conv_transpose.py refuse it.
    string_refused = s > 1 and d > 1
    if padding in PADDINGS and string_refused:
        raise CliError(
            "--stride > 1 is not supported together with --dilation > 1 for --padding 'valid' or 'same' "
            f"(as in Keras). Received --stride {s}, --dilation {d}, --padding {padding}"
        )
    st = conv_transpose_steps(i, k, s, padding, op, d)
    rules = "Keras 3" if isinstance(padding, str) else "PyTorch"
    print(f"Transposed convolution on a {i}x{i} input ({rules} rules), one axis at a time:")
    print(f"  input i = {i}, kernel k = {k}, stride s = {s}, dilation d = {d}, padding = {padding!r}"
          + (f", output_padding = {op}" if op is not None else ""))
    print(f"  dilated kernel     k' = (k - 1) * d + 1 = ({k} - 1) * {d} + 1 = {st.dilated_kernel}")
    print(f"  1. insert s - 1 = {s - 1} zero(s) between neighbours: (i - 1) * s + 1 = ({i} - 1) * {s} + 1 = {st.zero_inserted}")
    print(f"  2. full result, every kernel tap of every input: (i - 1) * s + k' = {st.zero_inserted - 1} + {st.dilated_kernel} = {st.full}")
    k2 = st.dilated_kernel
    if isinstance(padding, str) and padding == "same" and op is None:
        rule = f"padding='same' keeps i * s = {i} * {s} = {st.output_size}"
    elif isinstance(padding, str) and padding == "valid" and op is None:
        rule = f"padding='valid' keeps (i - 1) * s + max(k', s) = {st.zero_inserted - 1} + {max(k2, s)} = {st.output_size}"
    elif isinstance(padding, str):
        extra = k2 if padding == "valid" else k2 % 2
        what = "k'" if padding == "valid" else "k' % 2"
        rule = f"padding={padding!r} with output_padding keeps (i - 1) * s + {what} + op = {st.zero_inserted - 1} + {extra} + {op} = {st.output_size}"
    else:
        opv = op or 0
        rule = f"padding={padding} keeps (i - 1) * s - 2p + k' + op = {st.zero_inserted - 1} - {2 * padding} + {k2} + {opv} = {st.output_size}"
    print(f"  3. {rule}:")
    crop_after = f"{st.crop_after}" if st.crop_after >= 0 else f"{st.crop_after} (i.e. {-st.crop_after} zero row(s) appended)"
    print(f"     crop {st.crop_before} before and {crop_after} after the full {st.full}")
    print(
        f"  equivalently: pad the zero-inserted input with k' - 1 - crop = {st.pad_before} before and {st.pad_after} after "
        f"and slide the flipped kernel with stride 1: {st.zero_inserted} + {st.pad_before} + {st.pad_after} - {k2} + 1 = {st.output_size}"
        + (" (a negative pad crops)" if min(st.pad_before, st.pad_after) < 0 else "")
    )
    if string_refused:
        others = "   ('same' and 'valid' refuse a stride > 1 with a dilation > 1)"
    else:
        others = _other_paddings(lambda other: conv_transpose_output_size(i, k, s, other, None, d), padding)
    print(f"Output: {i}x{i} -> {st.output_size}x{st.output_size}{others}")
    layout = transposed_layout(st)
    if i <= PICTURE_MAX:
        values = [[str(r * i + c + 1) for c in range(i)] for r in range(i)]
        print(f"\nInput ({i}x{i}):")
        print(_grid_text(values))
        if s > 1:
            print(f"\nWith {s - 1} zero(s) inserted between neighbours ({st.zero_inserted}x{st.zero_inserted}):")
            inserted = transposed_layout(dataclasses.replace(st, pad_before=0, pad_after=0))
            print(_layout_picture(inserted, i))
        n = len(layout.cells)
        print(
            f"\n{'Padded' if min(st.pad_before, st.pad_after) >= 0 else 'Padded / cropped'} for the stride-1 convolution ({n}x{n}, '.' = padding): "
            f"each {k2}x{k2} window gives one of the {st.output_size}x{st.output_size} outputs"
        )
        print(_layout_picture(layout, i))
    return layout


def _explain_conv(args: argparse.Namespace, padding: str | int) -> Layout:
    from upgan.shapes import conv_output_size, conv_padding

    i, k, s, d = args.input, args.kernel, args.stride, args.dilation
    if isinstance(padding, str) and s > 1 and d > 1:  # as upgan.keras.layers.Conv2D and Keras refuse it
        raise CliError(
            "--stride > 1 is not supported together with --dilation > 1 for --padding 'valid' or 'same' "
            f"(as in Keras). Received --stride {s}, --dilation {d}, --padding {padding}"
        )
    out = conv_output_size(i, k, s, padding, d)
    before, after = conv_padding(i, k, s, padding, d)
    k2 = (k - 1) * d + 1
    rules = "Keras 3 / TensorFlow" if isinstance(padding, str) else "PyTorch"
    print(f"Convolution on a {i}x{i} input ({rules} rules), one axis at a time:")
    print(f"  input i = {i}, kernel k = {k}, stride s = {s}, dilation d = {d}, padding = {padding!r}")
    print(f"  dilated kernel     k' = (k - 1) * d + 1 = ({k} - 1) * {d} + 1 = {k2}")
    if padding == "same":
        print(f"  1. padding='same' gives ceil(i / s) = ceil({i} / {s}) = {out}")
        total = before + after
        print(f"  2. zeros needed: max((o - 1) * s + k' - i, 0) = max({out - 1} * {s} + {k2} - {i}, 0) = {total}: "
              f"{before} before, {after} after (the odd one after, as TensorFlow)")
    elif padding == "valid":
        print(f"  1. padding='valid' adds nothing: floor((i - k') / s) + 1 = floor(({i} - {k2}) / {s}) + 1 = {out}")
    else:
        print(f"  1. padding={padding} adds {padding} on each side: floor((i + 2p - k') / s) + 1 = "
              f"floor(({i} + {2 * padding} - {k2}) / {s}) + 1 = {out}")
    others = _other_paddings(lambda other: conv_output_size(i, k, s, other, d), padding)
    print(f"Output: {i}x{i} -> {out}x{out}{others}")
    layout = conv_layout(i, k, s, padding, d)
    if i <= PICTURE_MAX:
        n = len(layout.cells)
        print(f"\nPadded input ({n}x{n}, '.' = padding); the {k2}x{k2} window moves {s} at a time:")
        print(_layout_picture(layout, i))
    return layout


def _upsample(args: argparse.Namespace) -> int:
    import torch

    from upgan.functional import upsample
    from upgan.shapes import upsample_output_size

    for flag, value in (("input", args.input), ("scale", args.scale)):
        if value < 1:
            raise CliError(f"--{flag} must be an integer >= 1. Received --{flag} {value}")
    i, f = args.input, args.scale
    if args.gif:
        check_animation_path(args.gif, "--gif")
        if (i * f) ** 2 > GIF_MAX_FRAMES:
            raise CliError(
                f"the animation would have {(i * f) ** 2} frames (output {i * f}x{i * f}); "
                f"use a smaller --input or --scale so it has at most {GIF_MAX_FRAMES}"
            )
    x = torch.arange(1, i * i + 1, dtype=torch.float64).view(1, 1, i, i)  # (1, 1, i, i)
    try:
        out = upsample_output_size(i, f)
        y = upsample(x, f, args.mode)[0, 0]
    except (TypeError, ValueError) as err:
        raise CliError(str(err)) from err
    print(f"Upsampling a {i}x{i} input by {f} ({args.mode}, Keras 3 UpSampling2D rules):")
    print(f"  output = i * f = {i} * {f} = {out}")
    if args.mode == "nearest":
        print(f"  each input pixel is repeated {f} times along rows, then along columns")
    else:
        print("  output pixel o samples the input at (o + 0.5) / f - 0.5 (half-pixel centres, no antialiasing):")
        print("  " + ", ".join(f"o={o} -> {(o + 0.5) / f - 0.5:g}" for o in range(min(out, 6))) + (", ..." if out > 6 else ""))
    print(f"Output: {i}x{i} -> {out}x{out}")
    if i <= PICTURE_MAX:
        print(f"\nInput ({i}x{i}):")
        print(_grid_text([[f"{v:g}" for v in row] for row in x[0, 0].tolist()]))
        print(f"\nOutput ({out}x{out}):")
        print(_grid_text([[f"{v:.4g}" for v in row] for row in y.tolist()]))
    if args.gif:
        # (i, 1, i, 1) unit vectors along the height, upsampled along it alone: weights[o, k] of input row k in output row o
        weights = upsample(torch.eye(i, dtype=torch.float64).view(i, 1, i, 1), (f, 1), args.mode)[:, 0, :, 0].T
        try:
            write_upsample_gif(weights, f"upsample x{f} {args.mode}", args.gif)
        except OSError as err:
            raise CliError(f"cannot write {args.gif}: {err}") from err
        print(f"Wrote {args.gif} ({out * out} frames)")
    return 0


# Colours in the spirit of the conv_arithmetic figures: blue input, white padding / zeros,
# a shaded kernel window, cyan outputs.
_INPUT, _ZERO, _PAD = (75, 140, 200), (235, 240, 245), (255, 255, 255)
_WINDOW, _OUT_DONE, _OUT_NOW, _OUT_TODO = (30, 40, 60), (80, 200, 200), (20, 120, 120), (245, 250, 250)
_CELL = 26


def _animate(n: int, m: int, title: str, path: str, draw_input) -> None:
    """Write an animation with one frame per output pixel, in row-major order.

    Each frame: left, an ``n x n`` input grid drawn by ``draw_input(draw, oy, ox, cell)``
    (``cell(a, b)`` gives the top-left corner of input cell ``(a, b)``); right, the ``m x m``
    output grid filled up to the current pixel.
    """
    from PIL import Image, ImageDraw

    gap, top = _CELL * 2, 22
    width = n * _CELL + gap + m * _CELL + 2 * _CELL
    height = top + max(n, m) * _CELL + _CELL
    left0, right0 = _CELL, _CELL + n * _CELL + gap
    frames = []
    for t in range(m * m):
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        draw.text((left0, 4), title, fill="black")
        draw.text((right0, 4), f"output {m}x{m}", fill="black")
        draw_input(draw, *divmod(t, m), lambda a, b: (left0 + b * _CELL, top + a * _CELL))
        for a in range(m):
            for b in range(m):
                index = a * m + b
                fill = _OUT_NOW if index == t else _OUT_DONE if index < t else _OUT_TODO
                x0, y0 = right0 + b * _CELL, top + a * _CELL
                draw.rectangle((x0, y0, x0 + _CELL - 2, y0 + _CELL - 2), fill=fill, outline=(120, 170, 170))
        frames.append(image)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=250, loop=0)


def write_upsample_gif(weights, title: str, path: str) -> None:
    """Animate upsampling: for each output pixel in turn, the input pixels it reads, shaded by weight.

    ``weights`` is the ``(out, in)`` matrix of one axis (the same on both); output ``(oy, ox)``
    reads input ``(a, b)`` with weight ``weights[oy, a] * weights[ox, b]``. Positive weights
    shade blue, negative ones (bicubic, lanczos lobes) red; the weight is written in the cell.
    """
    m, n = weights.shape
    w = weights.tolist()

    def draw_input(draw, oy: int, ox: int, cell) -> None:
        for a in range(n):
            for b in range(n):
                value = w[oy][a] * w[ox][b]
                strength = min(abs(value), 1.0)
                base = (40, 90, 170) if value >= 0 else (200, 50, 50)
                fill = tuple(round(255 - (255 - c) * strength) for c in base) if value else _PAD
                x0, y0 = cell(a, b)
                draw.rectangle((x0, y0, x0 + _CELL - 2, y0 + _CELL - 2), fill=fill, outline=(150, 160, 170))
                if abs(value) >= 0.005:  # two decimals: smaller ones would read as "-.00"
                    draw.text((x0 + 2, y0 + 8), f"{value:.2f}".replace("0.", "."), fill="black" if strength < 0.6 else "white")

    _animate(n, m, title, path, draw_input)


def write_gif(layout: Layout, size: int, path: str, title: str) -> None:
    """Animate the kernel window sliding over the layout (2-D, the same layout on both axes).

    Each frame: left, the (zero-inserted, padded) input with the current window's taps
    shaded; right, the output grid filled up to the current position.
    """
    n, m = len(layout.cells), len(layout.starts)
    kinds = [kind for kind, _ in layout.cells]

    def draw_input(draw, ty: int, tx: int, cell) -> None:
        taps_y = {layout.starts[ty] + a * layout.dilation for a in range(layout.kernel_size)}
        taps_x = {layout.starts[tx] + b * layout.dilation for b in range(layout.kernel_size)}
        for a in range(n):
            for b in range(n):
                ka, kb = kinds[a], kinds[b]
                fill = _PAD if "pad" in (ka, kb) else _ZERO if "zero" in (ka, kb) else _INPUT
                x0, y0 = cell(a, b)
                box = (x0, y0, x0 + _CELL - 2, y0 + _CELL - 2)
                draw.rectangle(box, fill=fill, outline=(150, 160, 170) if fill != _INPUT else (40, 90, 140))
                if a in taps_y and b in taps_x:
                    inner = (x0 + 5, y0 + 5, x0 + _CELL - 7, y0 + _CELL - 7)
                    draw.rectangle(inner, fill=_WINDOW)

    _animate(n, m, title, path, draw_input)
