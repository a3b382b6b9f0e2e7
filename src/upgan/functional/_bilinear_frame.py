"""Bilinear x2 upsampling + 3x3 'same' convolution: the nearest resize-convolution, a blur, and a corrected frame.

The common generator stage (``ResizeConv2d(mode="bilinear")`` with the defaults) has its own
exact formulation, cheaper than the general ones in :mod:`upgan.functional.resize_conv`:

1. ``z = conv_w(nearest(x))``, zero-padded: the nearest resize-convolution, one stride-2
   transposed convolution with 4 taps per output (instead of the naive form's 9).
2. ``out = blur(z) + bias`` with the ``[1, 2, 1] / 4`` blur in each axis and zero padding.
   Half-pixel bilinear upsampling is nearest upsampling followed by that blur, and the blur
   commutes with the convolution, so ``out`` equals the reference everywhere except in the
   two outer rows and columns, where the reference clamps the bilinear samples and zero-pads
   the convolution's input while ``out`` zero-pads the nearest samples and the blur.
3. The frame is corrected in closed form. Along one axis (the other follows by symmetry),
   with ``d = conv1d(replicate_pad(nearest(x[0])), w[0, :])`` -- kernel row 0 applied to the
   top row of ``x``, i.e. what a replicated ring of ``x`` would add to ``z``'s row 0 -- and
   ``B`` the 1-D ``[1, 2, 1] / 4`` blur with replicated ends, the reference's rows 0 and 1 are
   ``out`` plus ``B(z[0] - d) / 4`` and ``B(d) / 4``. (Derivation: with the replicated ring,
   ``z + d`` blurred with replicated ends is the convolution of the *replicate*-padded bilinear
   image, whose ghost row equals row 0; the reference's zero row differs from it by kernel
   row 0 times the bilinear top row, which is the blur of ``d``.) Columns take the same form
   with zero-extended column lines (the corners belong to the rows), plus the end terms and
   corner products ``w[0, 0] x[0, 0] / 4`` that the two axes share.

The extra work is ``O(perimeter)``: four ``C_in -> C_out`` 1-D convolutions of the edge
lines of ``x`` in phase form (2 taps per output sample), a small matrix product per
channel for the frame, and ``C_out``-sized row and column updates. Two autograd Functions
keep it to few passes over memory: one gathers the edge lines of ``x`` (its backward writes
one gradient tensor), one applies the blur and the frame in place (its backward is the
adjoint: both blurs are symmetric matrices).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

__all__ = ["bilinear_from_nearest", "frame_applies"]

_BLUR = (0.25, 0.5, 0.25)


def frame_applies(kh: int, kw: int, sh: int, sw: int, h: int, w: int) -> bool:
    """Whether :func:`bilinear_from_nearest` covers this case: x2 on both axes, a 3x3 kernel, ``H, W >= 2``."""
    return (sh, sw) == (2, 2) and (kh, kw) == (3, 3) and min(h, w) >= 2


def _blur_matrix(n: int, replicate_ends: bool) -> torch.Tensor:
    """``(n, n)`` float64 matrix of the 1-D ``[1, 2, 1] / 4`` blur, symmetric; zero or replicated ends."""
    m = torch.diag(torch.full((n,), 0.5, dtype=torch.float64))
    m += torch.diag(torch.full((n - 1,), 0.25, dtype=torch.float64), 1)
    m += torch.diag(torch.full((n - 1,), 0.25, dtype=torch.float64), -1)
    if replicate_ends:
        m[0, 0] += 0.25
        m[n - 1, n - 1] += 0.25
    return m


def _interleave(size: int) -> torch.Tensor:
    """``(2 (size + 1), 2 size)`` 0/1 matrix: phase outputs ``[P0 | P1]`` -> the line, ``2i <- P0[i]``, ``2i+1 <- P1[i+1]``."""
    m = torch.zeros(2 * (size + 1), 2 * size, dtype=torch.float64)
    i = torch.arange(size)
    m[i, 2 * i] = 1.0
    m[size + 2 + i, 2 * i + 1] = 1.0
    return m


def _cached(build):
    """``build`` memoised in eager mode; traced afresh under ``torch.compile`` (dynamo warns about
    ``lru_cache`` wrappers and ignores them anyway)."""
    cached = functools.lru_cache(maxsize=32)(build)

    @functools.wraps(build)
    def get(*args):
        return build(*args) if torch.compiler.is_compiling() else cached(*args)

    return get


@_cached
def _frame_matrices(h: int, w: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The frame's linear maps, as row-vector matrices (module docstring, step 3).

    Rows: ``[z_row (2W) | d phases (2 (W + 1))] -> [r0 (2W) | r1 (2W)]``.
    Columns: ``[z_col (2H) | d phases (2 (H + 1)) | q_top, q_bottom] -> [c0 (2H) | c1 (2H)]``,
    with ``q`` the corner products ``w[0, 0] x[0, 0] / 4`` (and mirrored) of that column.
    """
    lw, lh = 2 * w, 2 * h
    rep_w, pick_w = _blur_matrix(lw, True), _interleave(w)
    rows = torch.zeros(lw + 2 * (w + 1), 2 * lw, dtype=torch.float64)
    rows[:lw, :lw] = 0.25 * rep_w  # r0 = B_rep(z - d) / 4
    rows[lw:, :lw] = -0.25 * pick_w @ rep_w
    rows[lw:, lw:] = 0.25 * pick_w @ rep_w  # r1 = B_rep(d) / 4
    zero_h, rep_h, pick_h = _blur_matrix(lh, False), _blur_matrix(lh, True), _interleave(h)
    ends = torch.zeros(lh, lh, dtype=torch.float64)
    ends[0, 0] = ends[lh - 1, lh - 1] = 0.0625
    cols = torch.zeros(lh + 2 * (h + 1) + 2, 2 * lh, dtype=torch.float64)
    cols[:lh, :lh] = 0.25 * zero_h  # c0 = B_zero(z - d) / 4 - d_ends / 16 + corners
    cols[lh : lh + 2 * (h + 1), :lh] = pick_h @ (-0.25 * zero_h - ends)
    cols[lh : lh + 2 * (h + 1), lh:] = pick_h @ (0.25 * rep_h)  # c1 = B_rep(d) / 4
    q = lh + 2 * (h + 1)
    cols[q, 0], cols[q, 1] = 1.0, -1.0  # top corner: +q on row 0, -q on row 1
    cols[q + 1, lh - 1], cols[q + 1, lh - 2] = 1.0, -1.0
    return rows.to(dtype=dtype, device=device), cols.to(dtype=dtype, device=device)


@_cached
def _kernel_maps(dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(9, 16)``: 3x3 kernel -> the edge lines' phase kernels ``[edge (top, bottom, left, right), phase, tap]``;
    ``(4, 9, 1)``: -> the corner taps ``w[0, 0], w[0, 2], w[2, 0], w[2, 2]``, over 4.

    Along a line, nearest x2 then the 3 taps ``k`` is ``(k0, k1 + k2)`` on ``(x[i-1], x[i])`` for even
    outputs and ``(k0 + k1, k2)`` on ``(x[i], x[i+1])`` for odd ones. The top edge uses kernel row 0,
    the bottom row 2, the left column 0, the right column 2.
    """
    fold = torch.tensor([[[1, 0], [0, 1], [0, 1]], [[1, 0], [1, 0], [0, 1]]], dtype=torch.float64)  # (phase, k, tap)
    lines = torch.zeros(3, 3, 4, 2, 2, dtype=torch.float64)  # (a, b, edge, phase, tap)
    for edge, (axis, index) in enumerate(((0, 0), (0, 2), (1, 0), (1, 2))):
        for t in range(3):
            a, b = (index, t) if axis == 0 else (t, index)
            lines[a, b, edge] = fold[:, t]
    corners = torch.zeros(4, 3, 3, 1, dtype=torch.float64)
    for i, (a, b) in enumerate(((0, 0), (0, 2), (2, 0), (2, 2))):
        corners[i, a, b] = 0.25
    return lines.reshape(9, 16).to(dtype=dtype, device=device), corners.reshape(4, 9, 1).to(dtype=dtype, device=device)


class _EdgeLines(torch.autograd.Function):
    """``x`` -> its edge lines and corners, with one gradient tensor written in backward.

    Returns ``rows`` ``(N, 2 C, 1, W + 2)`` (top, bottom rows, replicate-padded), ``cols``
    ``(N, 2 C, 1, H + 2)`` (left, right columns, zero-padded) and ``corners`` ``(4, N, C)``
    (top-left, top-right, bottom-left, bottom-right). For a square ``x`` the lines come as one
    tensor ``(N, 4 C, 1, W + 2)`` (one grouped convolution then covers all four) and ``cols`` is None.
    """

    @staticmethod
    def forward(x: torch.Tensor):
        n, c, h, w = x.shape
        rows = torch.stack((x[:, :, 0], x[:, :, h - 1]), 1)  # (N, 2, C, W)
        rows = torch.cat((rows[..., :1], rows, rows[..., -1:]), 3).reshape(n, 2 * c, 1, w + 2)
        cols = torch.stack((x[:, :, :, 0], x[:, :, :, w - 1]), 1)  # (N, 2, C, H)
        cols = F.pad(cols, (1, 1)).reshape(n, 2 * c, 1, h + 2)
        corners = torch.stack((x[:, :, 0, 0], x[:, :, 0, w - 1], x[:, :, h - 1, 0], x[:, :, h - 1, w - 1]))
        if h == w:
            return torch.cat((rows, cols), 1), None, corners  # (N, 4C, 1, W + 2)
        return rows, cols, corners

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        (x,) = inputs
        ctx.shape = x.shape
        ctx.channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()

    @staticmethod
    def backward(ctx, g_rows, g_cols, g_corners):
        n, c, h, w = ctx.shape
        if g_cols is None:
            g_rows, g_cols = g_rows[:, : 2 * c], g_rows[:, 2 * c :]
        fmt = torch.channels_last if ctx.channels_last else torch.contiguous_format
        grad = g_corners.new_zeros(ctx.shape).contiguous(memory_format=fmt)
        g_rows = g_rows.reshape(n, 2, c, w + 2)
        rows = g_rows[..., 1 : w + 1].clone()  # the padding's gradient goes to the ends it copied
        rows[..., 0] += g_rows[..., 0]
        rows[..., -1] += g_rows[..., -1]
        grad[:, :, 0] += rows[:, 0]
        grad[:, :, h - 1] += rows[:, 1]
        g_cols = g_cols.reshape(n, 2, c, h + 2)
        grad[:, :, :, 0] += g_cols[:, 0, :, 1 : h + 1]
        grad[:, :, :, w - 1] += g_cols[:, 1, :, 1 : h + 1]
        grad[:, :, 0, 0] += g_corners[0]
        grad[:, :, 0, w - 1] += g_corners[1]
        grad[:, :, h - 1, 0] += g_corners[2]
        grad[:, :, h - 1, w - 1] += g_corners[3]
        return grad


class _BlurFrame(torch.autograd.Function):
    """``blur(z) + bias`` (zero padding), then the frame corrections added in place (module docstring)."""

    @staticmethod
    def forward(z, blur, bias, p_rows, p_cols, q, m_rows, m_cols):
        # z (N, C, 2H, 2W); p_rows (N, [top/bottom, phase, C], 1, W + 1), or all four edges when p_cols
        # is None; p_cols (N, [left/right, phase, C], 1, H + 1); q (4 [tl, tr, bl, br], N, C)
        out = F.conv2d(z, blur, bias, padding=1, groups=blur.shape[0])
        n, c, lh, lw = z.shape
        h, w = lh // 2, lw // 2
        if p_cols is None:
            p_rows, p_cols = p_rows[:, : 4 * c], p_rows[:, 4 * c :]
        # (N, 4C, 1, W + 1) -> (N, 2, 2, C, W + 1) -> (N, C, 2, 2, W + 1) -> (N, C, 2 edges, [P0 | P1])
        p_rows = p_rows.reshape(n, 2, 2, c, w + 1).permute(0, 3, 1, 2, 4).reshape(n, c, 2, 2 * (w + 1))
        p_cols = p_cols.reshape(n, 2, 2, c, h + 1).permute(0, 3, 1, 2, 4).reshape(n, c, 2, 2 * (h + 1))
        q = q.reshape(2, 2, n, c).permute(2, 3, 1, 0)  # (2 [t/b], 2 [l/r], N, C) -> (N, C, 2 [l/r], 2 [t/b])
        z_rows = torch.stack((z[:, :, 0], z[:, :, lh - 1]), 2)  # (N, C, 2, 2W)
        z_cols = torch.stack((z[:, :, :, 0], z[:, :, :, lw - 1]), 2)  # (N, C, 2, 2H)
        rows = torch.cat((z_rows, p_rows), 3) @ m_rows  # (N, C, 2, [r0 | r1])
        cols = torch.cat((z_cols, p_cols, q), 3) @ m_cols  # (N, C, 2, [c0 | c1])
        out[:, :, 0:2] += rows[:, :, 0].view(n, c, 2, lw)  # r0 on row 0, r1 on row 1
        out[:, :, lh - 2 :] += rows[:, :, 1].view(n, c, 2, lw).flip(2)  # r0 on row 2H-1, r1 on 2H-2
        out[:, :, :, 0:2] += cols[:, :, 0].view(n, c, 2, lh).transpose(2, 3)
        out[:, :, :, lw - 2 :] += cols[:, :, 1].view(n, c, 2, lh).flip(2).transpose(2, 3)
        return out

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[1], inputs[6], inputs[7])
        ctx.merged = inputs[4] is None

    @staticmethod
    def backward(ctx, grad):
        # under autocast the forward ran in lower precision than the saved constants
        blur, m_rows, m_cols = (t.to(grad.dtype) for t in ctx.saved_tensors)
        n, c, lh, lw = grad.shape
        h, w = lh // 2, lw // 2
        g_z = F.conv2d(grad, blur, padding=1, groups=blur.shape[0])  # the blur is symmetric
        g_rows = torch.stack((grad[:, :, 0:2].reshape(n, c, 2 * lw), grad[:, :, lh - 2 :].flip(2).reshape(n, c, 2 * lw)), 2)
        left = grad[:, :, :, 0:2].transpose(2, 3).reshape(n, c, 2 * lh)
        right = grad[:, :, :, lw - 2 :].flip(3).transpose(2, 3).reshape(n, c, 2 * lh)
        g_rows = g_rows @ m_rows.T  # (N, C, 2, 2W + 2 (W + 1))
        g_cols = torch.stack((left, right), 2) @ m_cols.T  # (N, C, 2, 2H + 2 (H + 1) + 2)
        g_z[:, :, 0] += g_rows[:, :, 0, :lw]
        g_z[:, :, lh - 1] += g_rows[:, :, 1, :lw]
        g_z[:, :, :, 0] += g_cols[:, :, 0, :lh]
        g_z[:, :, :, lw - 1] += g_cols[:, :, 1, :lh]
        # (N, C, 2, 2, W + 1) -> (N, 2, 2, C, W + 1) -> (N, 4C, 1, W + 1), the convolution's layout
        g_p_rows = g_rows[..., lw:].reshape(n, c, 2, 2, w + 1).permute(0, 2, 3, 1, 4).reshape(n, 4 * c, 1, w + 1)
        g_p_cols = g_cols[..., lh : lh + 2 * (h + 1)].reshape(n, c, 2, 2, h + 1).permute(0, 2, 3, 1, 4)
        g_p_cols = g_p_cols.reshape(n, 4 * c, 1, h + 1)
        g_q = g_cols[..., lh + 2 * (h + 1) :].permute(3, 2, 0, 1).reshape(4, n, c)  # (N, C, [l/r], [t/b]) -> (4, N, C)
        g_bias = grad.sum((0, 2, 3)) if ctx.needs_input_grad[2] else None
        if ctx.merged:
            return g_z, None, g_bias, torch.cat((g_p_rows, g_p_cols), 1), None, g_q, None, None
        return g_z, None, g_bias, g_p_rows, g_p_cols, g_q, None, None


def bilinear_from_nearest(
    x: torch.Tensor, z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """``conv2d(interpolate(x, 2, "bilinear"), weight, bias, padding=1)`` from ``z = conv2d(interpolate(x, 2), weight, padding=1)``.

    ``weight`` is 3x3 and ``H, W >= 2`` (:func:`frame_applies`); ``z``, the nearest x2
    resize-convolution without bias, is step 1 of the module docstring.

    Shape:
        ``x (N, C_in, H, W)``, ``z (N, C_out, 2H, 2W) -> (N, C_out, 2H, 2W)``.
    """
    _, c_in, h, w = x.shape
    c_out = weight.shape[0]
    like = {"dtype": x.dtype, "device": x.device}
    taps = torch.tensor(_BLUR, **like)
    blur = (taps[:, None] * taps).expand(c_out, 1, 3, 3).contiguous()  # (C_out, 1, 3, 3), depthwise
    rows, cols, corners = _EdgeLines.apply(x)
    map_lines, map_corners = _kernel_maps(x.dtype, x.device)
    flat = weight.reshape(c_out * c_in, 9)
    # (C_out*C_in, 9) @ (9, 16) -> (C_out, C_in, 4 edges, 2 phases, 2 taps) -> (4*2*C_out, C_in, 1, 2)
    lines = (flat @ map_lines).reshape(c_out, c_in, 4, 2, 2).permute(2, 3, 0, 1, 4).reshape(8 * c_out, c_in, 1, 2)
    # (4, 9, 1) kernels: (1, C_out*C_in, 9) @ (4, 9, 1) -> (4, C_out, C_in); q (4, N, C_out)
    q = torch.bmm(corners, torch.matmul(flat[None], map_corners).reshape(4, c_out, c_in).transpose(1, 2))
    if cols is None:
        p_rows, p_cols = F.conv2d(rows, lines, groups=4), None  # (N, 8*C_out, 1, W + 1)
    else:
        p_rows = F.conv2d(rows, lines[: 4 * c_out], groups=2)  # (N, 4*C_out, 1, W + 1)
        p_cols = F.conv2d(cols, lines[4 * c_out :], groups=2)  # (N, 4*C_out, 1, H + 1)
    m_rows, m_cols = _frame_matrices(h, w, x.dtype, x.device)
    return _BlurFrame.apply(z, blur, bias, p_rows, p_cols, q, m_rows, m_cols)
