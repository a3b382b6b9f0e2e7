"""Keras-style summary tables, for upgan's Sequential models and for any ``torch.nn.Module``.

The layout is the one the tutorial prints (Keras 2's ``print_summary`` for sequential
models): 65-character rules of ``_`` and ``=``, columns starting at 0, 29 and 55 (each cell
cut one character before the next column), ``None`` for the batch axis, the per-layer
parameter count as a plain integer, and the totals with thousands separators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.nn.utils import parametrize

__all__ = ["format_summary", "format_shape", "summarize"]

LINE_LENGTH = 65
COLUMNS = (29, 55, 65)  # where each column ends: int(65 * p) for p in (.45, .85, 1.)
HEADER = ("Layer (type)", "Output Shape", "Param #")

Row = tuple[str, str, int]


def format_shape(shape: object) -> str:
    """Format an output shape as Keras does: a tuple, or a list of tuples.

    >>> format_shape((None, 4, 4, 1)), format_shape([(None, 3), (None, 2)])
    ('(None, 4, 4, 1)', '[(None, 3), (None, 2)]')
    """
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return str(tuple(shape)) if isinstance(shape, tuple) else str(shape)


def _row(fields: Sequence[str]) -> str:
    line = ""
    for i, (field, end) in enumerate(zip(fields, COLUMNS)):
        if i:
            line = line[:-1] + " "  # a cell that reaches the next column loses its last character
        line = (line + str(field))[:end]
        line += " " * (end - len(line))
    return line.rstrip()


def format_summary(rows: Sequence[Row], trainable: int, non_trainable: int) -> str:
    """The summary table for ``rows`` of (``"name (Type)"``, output shape text, params).

    Args:
        rows: one ``(label, output_shape, param_count)`` per layer.
        trainable: number of trainable scalars.
        non_trainable: number of non-trainable scalars.

    Returns:
        The table, lines joined by newlines, trailing spaces removed.

    >>> print(format_summary([("dense (Dense)", "(None, 3200)", 323200)], 323200, 0))
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    dense (Dense)                (None, 3200)              323200
    =================================================================
    Total params: 323,200
    Trainable params: 323,200
    Non-trainable params: 0
    _________________________________________________________________
    """
    lines = ["_" * LINE_LENGTH, _row(HEADER), "=" * LINE_LENGTH]
    for i, (label, shape, count) in enumerate(rows):
        if i:
            lines.append("_" * LINE_LENGTH)
        lines.append(_row((label, shape, str(count))))
    lines += [
        "=" * LINE_LENGTH,
        f"Total params: {trainable + non_trainable:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {non_trainable:,}",
        "_" * LINE_LENGTH,
    ]
    return "\n".join(lines)


def _own_counts(module: torch.nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable) scalars held directly by ``module``.

    Non-trainable: parameters with ``requires_grad=False`` and floating-point buffers (e.g.
    BatchNorm running statistics, which Keras counts as non-trainable weights). A module
    with parametrizations (``torch.nn.utils.parametrizations.spectral_norm``, ...) also owns
    what its parametrizations hold: the original weight and, e.g., spectral norm's u and v.
    """
    params = list(module.parameters(recurse=False))
    buffers = list(module.buffers(recurse=False))
    if parametrize.is_parametrized(module):
        params += list(module.parametrizations.parameters())
        buffers += list(module.parametrizations.buffers())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    frozen = sum(p.numel() for p in params if not p.requires_grad)
    return trainable, frozen + sum(b.numel() for b in buffers if b.is_floating_point())


def _is_row(name: str, module: torch.nn.Module) -> bool:
    """Leaves and modules holding weights get a row; parametrization internals fold into their owner."""
    if "parametrizations" in name.split("."):
        return False
    is_leaf = not any(True for _ in module.children())
    return parametrize.is_parametrized(module) or is_leaf or sum(_own_counts(module)) > 0


def _shape_of(output: object, batch: int) -> object:
    if isinstance(output, torch.Tensor):
        dims = tuple(output.shape)
        return (None, *dims[1:]) if dims and dims[0] == batch else dims
    if isinstance(output, (tuple, list)):
        return [_shape_of(o, batch) for o in output]
    return "?"


def summarize(
    module: torch.nn.Module,
    input_shape: Sequence[int],
    *,
    print_fn: Callable[[str], object] | None = print,
) -> str:
    """Summarise any ``torch.nn.Module`` in the Keras table format.

    Runs one forward pass on zeros of shape ``(2, *input_shape)`` in eval mode without
    gradients (the module's mode is restored), recording with forward hooks the output shape
    of every module that is a leaf or holds parameters or buffers of its own (a module's
    parametrizations, such as spectral norm, count as its own). Rows are in the
    order the modules first ran, labelled ``qualified.name (ClassName)``; a module with
    parameters that never ran is listed last with output shape ``unused``. Totals count every
    parameter once; parameters with ``requires_grad=False`` and floating-point buffers are
    non-trainable.

    Args:
        module: the model.
        input_shape: shape of one input sample, without the batch axis, e.g. ``(100,)``.
        print_fn: called with each line (default ``print``); None prints nothing.

    Returns:
        The table as one string.

    Shape:
        Output shapes are shown with ``None`` for the batch axis.

    Raises:
        ValueError: for a malformed ``input_shape``.
        TypeError: if ``module`` is not a ``torch.nn.Module``.

    >>> net = torch.nn.Sequential(torch.nn.Linear(100, 3200), torch.nn.Unflatten(1, (128, 5, 5)),
    ...                           torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(128, 1, 3, padding=1))
    >>> _ = summarize(net, (100,))
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    0 (Linear)                   (None, 3200)              323200
    _________________________________________________________________
    1 (Unflatten)                (None, 128, 5, 5)         0
    _________________________________________________________________
    2 (Upsample)                 (None, 128, 10, 10)       0
    _________________________________________________________________
    3 (Conv2d)                   (None, 1, 10, 10)         1153
    =================================================================
    Total params: 324,353
    Trainable params: 324,353
    Non-trainable params: 0
    _________________________________________________________________
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"The `module` argument must be a torch.nn.Module. Received type {type(module).__name__}")
    if (
        not isinstance(input_shape, (tuple, list))
        or not input_shape
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in input_shape)
    ):
        raise ValueError(
            "The `input_shape` argument must be a tuple of positive integers (one sample, no batch axis). "
            f"Received input_shape={input_shape!r}"
        )
    batch = 2
    candidates = [(name, m) for name, m in module.named_modules() if _is_row(name, m)]
    outputs: dict[int, object] = {}
    order: list[int] = []

    def hook(index: int) -> Callable:
        def record(_module: torch.nn.Module, _inputs: object, output: object) -> None:
            if index not in outputs:
                outputs[index] = _shape_of(output, batch)
                order.append(index)

        return record

    handles = [m.register_forward_hook(hook(i)) for i, (_, m) in enumerate(candidates)]
    param = next(module.parameters(), None)
    x = torch.zeros(batch, *input_shape, device=param.device if param is not None else "cpu")
    if param is not None and param.is_floating_point():
        x = x.to(param.dtype)
    modes = [(m, m.training) for m in module.modules()]  # each submodule's own mode, not just the top's
    try:
        module.eval()
        with torch.no_grad():
            module(x)
    finally:
        for m, training in modes:
            m.training = training
        for handle in handles:
            handle.remove()
    unused = [i for i, (_, m) in enumerate(candidates) if i not in outputs and sum(_own_counts(m)) > 0]
    rows = []
    for i in order + unused:
        name, m = candidates[i]
        label = f"{name} ({type(m).__name__})" if name else type(m).__name__
        rows.append((label, format_shape(outputs.get(i, "unused")), sum(_own_counts(m))))
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    non_trainable = sum(p.numel() for p in module.parameters() if not p.requires_grad) + sum(
        b.numel() for b in module.buffers() if b.is_floating_point()
    )
    text = format_summary(rows, trainable, non_trainable)
    if print_fn is not None:
        for line in text.splitlines():
            print_fn(line)
    return text
