"""Whether bf16 autocast pays off on a device."""

from __future__ import annotations

from pathlib import Path

import torch

__all__ = ["native_bf16"]


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: assume no native bf16
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def native_bf16(device: torch.device) -> bool:
    """True when ``device`` computes bf16 matrix products in hardware.

    CUDA: ``torch.cuda.is_bf16_supported()`` (Ampere and later). CPU: the
    ``avx512_bf16`` or ``amx_bf16`` instruction-set flags (Linux ``/proc/cpuinfo``);
    without them oneDNN emulates bf16 and autocast is slower than float32.

    >>> isinstance(native_bf16(torch.device("cpu")), bool)
    True
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(_cpu_flags() & {"avx512_bf16", "amx_bf16"})
