"""``TrainConfig``: every setting of a training run, one field per ``upgan train`` flag."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from upgan.gan.models import UPSAMPLE_METHODS

__all__ = ["TrainConfig", "LOSSES", "DEVICES", "AUGMENTS", "RESUMABLE_CHANGES"]

MAX_SEED = 2**63 - 1  # torch, NumPy and the sampler all take it (the sampler adds the epoch)
FLOAT32_MAX = 3.4028234663852886e38
INT32_MAX = 2**31 - 1

LOSSES = ("bce", "hinge", "wgan-gp")
DEVICES = ("auto", "cpu", "cuda")
AUGMENTS = ("none", "translation", "cutout", "translation,cutout")

# Fields added after the first release, with the value that reproduces runs saved before them
# (their config.json lacks the key): d_hidden 0 = no hidden layer in the discriminator.
_ADDED_LATER = {"d_hidden": 0}

# Settings a resumed run may change: the budget and how (not what) it computes.
RESUMABLE_CHANGES = (
    "epochs", "max_steps", "device", "amp", "compile", "num_workers", "threads", "data_dir", "resume", "force", "out",
)  # fmt: skip


@dataclass
class TrainConfig:
    """Settings of one training run. Field names match the ``upgan train`` flags.

    The defaults are the recipe chosen by measurement on the bundled digits (mnist5k): batch
    32, generator width 32, discriminator width 64 with spectral norm, DiffAugment
    translation, an EMA of the generator for samples, bf16 autocast where the CPU has it,
    40 epochs (6,240 steps, 3-4 minutes of two quiet CPU cores). Against a plain
    DCGAN at the same budget, the wider discriminator and the smaller batch helped most, and
    the discriminator's hidden dense layer balanced the digit classes.

    Args:
        dataset: ``mnist5k`` (bundled), ``mnist``, ``fashion-mnist``, ``cifar10`` or ``folder:PATH``.
        upsample: generator upsampling: ``transposed``, ``nearest``, ``bilinear`` or ``subpixel``.
        epochs: passes over the data. max_steps: stop after this many steps (None: no cap).
        batch_size: images per step, over all processes.
        image_size, channels: override the dataset's size / channels (None keeps them).
        latent_dim: length of z. width / d_width: generator / discriminator width.
        d_hidden: units of the discriminator's hidden dense layer (0: none).
        lr, beta1, beta2: Adam settings for both networks.
        loss: ``bce`` (non-saturating), ``hinge`` or ``wgan-gp``.
        ema: decay of the exponential moving average of generator weights used for
            samples (0 disables it).
        augment: differentiable augmentation of real and fake images seen by D:
            ``none``, ``translation``, ``cutout`` or ``translation,cutout``.
        spectral_norm: spectral normalisation in the discriminator.
        minibatch_std: the discriminator sees each group's feature spread (Karras et al. 2018): groups of
            up to 4 samples, never mixing real and generated ones (the size divides the batch per process).
        seed: seeds weights, noise, augmentation and data order.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        out: run folder (None: ``runs/<dataset>-<upsample>``).
        resume: continue from ``out/checkpoint.pt``. force: replace an existing run's outputs.
        data_dir: where downloaded datasets live.
        amp: bf16 autocast; None (default) turns it on where the hardware has native bf16
            (see :func:`upgan.gan.precision.native_bf16`). compile: ``torch.compile`` both networks.
        num_workers: DataLoader worker processes.
        threads: CPU threads per process (None: torch's default, one per core). On a
            machine shared with other busy processes, 1 avoids the slowdown of threads
            waiting for each other.

    Raises:
        TypeError / ValueError: a field has the wrong type or an invalid value; the
            message names the field, the value and what is allowed.

    >>> TrainConfig(max_steps=10).max_steps
    10
    >>> TrainConfig.from_dict({"lr": 1e-3, "epoch": 3})
    Traceback (most recent call last):
    ...
    ValueError: Unknown TrainConfig key(s): epoch. Allowed keys: dataset, upsample, epochs, ...
    """

    dataset: str = "mnist5k"
    upsample: str = "nearest"
    epochs: int = 40
    max_steps: int | None = None
    batch_size: int = 32
    image_size: int | None = None
    channels: int | None = None
    latent_dim: int = 100
    width: int = 32
    d_width: int = 64
    d_hidden: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    loss: str = "bce"
    ema: float = 0.999
    augment: str = "translation"
    spectral_norm: bool = True
    minibatch_std: bool = False
    seed: int = 0
    device: str = "auto"
    out: str | None = None
    resume: bool = False
    force: bool = False
    data_dir: str = "data"
    amp: bool | None = None
    compile: bool = False
    num_workers: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = f.type.replace(" | None", "")
            optional = "None" in f.type
            if optional and value is None:
                continue
            ok = {
                "str": isinstance(value, str),
                "bool": isinstance(value, bool),
                "int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            }[kind]
            if not ok:
                raise TypeError(
                    f"The `{f.name}` setting must be {'None or ' if optional else ''}of type {kind}. "
                    f"Received {f.name}={value!r} of type {type(value).__name__}"
                )
        self.lr, self.beta1, self.beta2, self.ema = float(self.lr), float(self.beta1), float(self.beta2), float(self.ema)
        self._choice("upsample", UPSAMPLE_METHODS)
        self._choice("loss", LOSSES)
        self._choice("device", DEVICES)
        self._choice("augment", AUGMENTS)
        # Sizes past int32 are no setting anyone means; beyond int64 torch fails with a C++ trace.
        for name in ("epochs", "batch_size", "latent_dim", "width", "d_width", "max_steps", "image_size", "threads"):
            self._check(name, lambda v: 1 <= v <= INT32_MAX, f"an integer from 1 to {INT32_MAX}")
        self._check("channels", lambda v: v in (1, 3), "1 or 3")
        self._check("num_workers", lambda v: 0 <= v <= INT32_MAX, f"an integer from 0 to {INT32_MAX}")
        self._check("d_hidden", lambda v: 0 <= v <= INT32_MAX, f"an integer from 0 to {INT32_MAX}")
        self._check("seed", lambda v: 0 <= v <= MAX_SEED, f"an integer from 0 to {MAX_SEED} (2**63 - 1)")
        # Adam multiplies float32 tensors by lr: above float32's largest value that is an overflow, not a step.
        self._check("lr", lambda v: math.isfinite(v) and 0 < v <= FLOAT32_MAX, f"a number > 0 and <= {FLOAT32_MAX:.6g}")
        for name in ("beta1", "beta2", "ema"):
            self._check(name, lambda v: 0 <= v < 1, "a number in [0, 1)")
        if not self.dataset:
            raise ValueError("The `dataset` setting must not be empty. Received dataset=''")
        if self.out == "":
            raise ValueError("The `out` setting must be a folder path or None, not empty. Received out=''")
        folder = self.dataset[len("folder:") :] if self.dataset.startswith("folder:") else ""
        if folder:
            # Stored absolute (and with ~ expanded), so the run's other commands find the images
            # from any working directory.
            self.dataset = "folder:" + os.path.abspath(os.path.expanduser(folder))

    def _choice(self, name: str, allowed: tuple[str, ...]) -> None:
        value = getattr(self, name)
        if value not in allowed:
            raise ValueError(
                f"The `{name}` setting must be one of {', '.join(allowed)}. Received {name}={value!r}"
            )

    def _check(self, name: str, ok, allowed: str) -> None:
        value = getattr(self, name)
        if value is not None and not ok(value):
            raise ValueError(f"The `{name}` setting must be {allowed}. Received {name}={value!r}")

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build a config from a dict (e.g. ``config.json``), refusing unknown keys."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"Unknown TrainConfig key(s): {', '.join(unknown)}. Allowed keys: {', '.join(known)}")
        return cls(**values)

    @classmethod
    def from_saved(cls, values: dict) -> TrainConfig:
        """Like :meth:`from_dict`, for a config a run saved: settings added since take the value it ran with."""
        return cls.from_dict({**_ADDED_LATER, **values})

    def to_dict(self) -> dict:
        """All fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    def run_dir(self) -> Path:
        """``out``, or a folder under ``runs/`` named after the dataset and upsampling method.

        Without ``out``, a new run never lands on an old one: it takes ``runs/<dataset>-<upsample>``
        or, when that already holds a run, the first free ``...-2``, ``...-3``, ... (so ``make run``
        can be repeated). ``resume`` without ``out`` means the newest run among the unnumbered and
        numbered folders (by the time its checkpoint or config was last written, whatever the
        numbers), ``force`` the unnumbered one.

        A folder dataset is named after the folder (its last path component).

        >>> TrainConfig().run_dir().as_posix(), TrainConfig(dataset="folder:/a/my faces").run_dir().as_posix()
        ('runs/mnist5k-nearest', 'runs/folder-my-faces-nearest')
        """
        if self.out is not None:
            return Path(self.out)
        name = self.dataset
        if name.startswith("folder:"):
            name = "folder-" + (Path(name[len("folder:") :]).name or "root")
        slug = re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-")
        base = Path("runs") / f"{slug}-{self.upsample}"
        if self.force:
            return base
        if self.resume:  # the newest run, also beyond a gap in the numbers
            numbered = re.compile(re.escape(base.name) + r"-\d+")
            folders = [base, *(p for p in base.parent.glob(base.name + "-*") if numbered.fullmatch(p.name))]
            written = {
                folder: max(f.stat().st_mtime for f in files)
                for folder in folders
                if (files := [f for f in (folder / "config.json", folder / "checkpoint.pt") if f.is_file()])
            }
            return max(written, key=written.get) if written else base
        candidate, number = base, 2
        while (candidate / "config.json").exists() or (candidate / "checkpoint.pt").exists():
            candidate, number = base.with_name(f"{base.name}-{number}"), number + 1
        return candidate
