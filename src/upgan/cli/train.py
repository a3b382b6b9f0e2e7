"""``upgan train``: train a GAN generator with the chosen upsampling method."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from upgan.cli import CliError, seed_arg

# Kept in step with upgan.gan.config / upgan.gan.models (not imported here: they pull in torch).
_UPSAMPLE = ("transposed", "nearest", "bilinear", "subpixel")
_LOSSES = ("bce", "hinge", "wgan-gp")
_AUGMENTS = ("none", "translation", "cutout", "translation,cutout")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a GAN on mnist5k (default), MNIST, Fashion-MNIST, CIFAR-10 or a folder of images",
        description="Train a DCGAN-style generator whose upsampling method you choose. Only the flags "
        "you give override the defaults (see upgan.gan.TrainConfig). With --resume the run's saved "
        "settings apply; only the budget (--epochs, --max-steps; --epochs alone lifts the run's "
        "--max-steps) and how it computes (--device, --amp, "
        "--compile, --num-workers, --threads, --data-dir) may be given anew. Writes config.json, "
        "metrics.csv, samples/, checkpoint.pt and generator.safetensors to --out (default "
        "runs/<dataset>-<upsample>).",
        argument_default=argparse.SUPPRESS,
    )
    a = p.add_argument
    a("--dataset", help="mnist5k (bundled, default), mnist, fashion-mnist, cifar10 or folder:PATH")
    a("--upsample", choices=_UPSAMPLE, help="generator upsampling method (default nearest)")
    a("--epochs", type=int, help="passes over the data (default 40)")
    a("--max-steps", type=int, help="stop after this many steps")
    a("--batch-size", type=int, help="images per step over all processes (default 32)")
    a("--image-size", type=int, help="resize images to SxS (default: the dataset's size)")
    a("--channels", type=int, choices=(1, 3), help="1 = grayscale, 3 = RGB (default: the dataset's)")
    a("--latent-dim", type=int, help="length of the noise vector (default 100)")
    a("--width", type=int, help="generator width: channels of its last feature map (default 32)")
    a("--d-width", type=int, help="discriminator width: channels of its first stage (default 64)")
    a("--d-hidden", type=int, help="units of the discriminator's hidden dense layer; 0 = none (default 128)")
    a("--lr", type=float, help="Adam learning rate of both networks (default 2e-4)")
    a("--beta1", type=float, help="Adam beta1 (default 0.5)")
    a("--beta2", type=float, help="Adam beta2 (default 0.999)")
    a("--loss", choices=_LOSSES, help="GAN loss (default bce, non-saturating)")
    a("--ema", type=float, help="decay of the generator weight average used for samples; 0 = off (default 0.999)")
    a("--augment", choices=_AUGMENTS, help="DiffAugment policy for the discriminator's inputs (default translation)")
    a("--spectral-norm", action=argparse.BooleanOptionalAction, help="spectral normalisation in D (default on)")
    a("--minibatch-std", action=argparse.BooleanOptionalAction, help="minibatch standard-deviation channel in D")
    a("--seed", type=seed_arg, help="random seed (default 0)")
    a("--device", choices=("auto", "cpu", "cuda"), help="auto = CUDA when available (default)")
    a("--out", help="run folder (default runs/<dataset>-<upsample>, numbered -2, -3, ... when that holds a run)")
    a("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    a("--force", action="store_true", help="replace the outputs of an existing run in --out")
    a("--data-dir", help="folder for downloaded datasets (default data)")
    a("--amp", action=argparse.BooleanOptionalAction, help="bf16 autocast (default: on where the CPU/GPU has native bf16)")
    a("--compile", action="store_true", help="torch.compile both networks")
    a("--num-workers", type=int, help="DataLoader worker processes (default 0)")
    a("--threads", type=int, help="CPU threads (default: one per core; 1 on a machine busy with other work)")
    a("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> dict:
    """The flags given on the command line, as TrainConfig fields."""
    return {k: v for k, v in vars(args).items() if k not in ("func", "command", "quiet")}


def run(args: argparse.Namespace) -> int:
    from upgan.data import DatasetError
    from upgan.gan import CheckpointError, RunExistsError, TrainConfig, TrainingDiverged, train
    from upgan.gan.checkpoint import CHECKPOINT, load_checkpoint

    given = _settings(args)
    try:
        config = TrainConfig.from_dict(given)
        if config.resume:
            saved_path = config.run_dir() / "config.json"
            saved = None
            if saved_path.is_file():
                try:
                    saved = TrainConfig.from_saved(json.loads(saved_path.read_text())).to_dict()
                except (OSError, ValueError, TypeError, AttributeError) as err:
                    raise CliError(f"cannot resume: {saved_path} is not a readable run config ({err})") from err
            elif (config.run_dir() / CHECKPOINT).is_file():  # config.json lost: the checkpoint holds the same
                saved = TrainConfig.from_saved(load_checkpoint(config.run_dir() / CHECKPOINT)["config"]).to_dict()
            if saved is not None:
                if "epochs" in given and "max_steps" not in given:
                    saved["max_steps"] = None  # a new --epochs alone is the whole new budget
                config = TrainConfig.from_dict({**saved, **given})
        run_dir = train(config, progress=not getattr(args, "quiet", False))
    except (TypeError, ValueError, DatasetError, CheckpointError, RunExistsError, TrainingDiverged) as err:
        raise CliError(str(err)) from err
    except OSError as err:  # the run folder cannot be made or written (after the specific errors above)
        raise CliError(f"cannot write the run: {err}") from err
    except RuntimeError as err:  # torch.OutOfMemoryError included
        if not any(text in str(err).lower() for text in ("allocate", "out of memory", "overflow")):
            raise
        raise CliError(
            "out of memory building or training the networks; reduce --batch-size, --width, --d-width, "
            f"--latent-dim or --image-size ({str(err).splitlines()[0][:200]})"
        ) from err
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for all
        print(f"Run folder: {Path(run_dir)} (samples/latest.png, generator.safetensors)")
    return 0
