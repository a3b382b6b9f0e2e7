"""One GAN training step (D step + G step) with upgan's layers against the same networks in plain PyTorch.

Compares, on the same machine, in one process, interleaved:

- ``transposed``: upgan's generator with ``upgan.nn.ConvTranspose2d(k=4, s=2, padding="same")``
  against the pytorch/examples dcgan way, ``nn.ConvTranspose2d(k=4, s=2, padding=1)``;
- ``nearest`` / ``bilinear``: ``upgan.nn.ResizeConv2d`` against ``nn.Upsample`` + ``nn.Conv2d``;
- ``subpixel``: ``upgan.nn.SubPixelConv2d`` against ``nn.Conv2d`` + ``nn.PixelShuffle``.

Both sides get the same weights (the plain network is loaded from upgan's) and the script
checks that their outputs agree before timing. The discriminator is the same in both.
A step is: G forward, D forward on real + fake, D backward and Adam step, D forward on fake,
G backward and Adam step (as ``upgan train``). Reports medians and upgan/plain speed ratios.

    python benchmarks/train_step.py                      # MNIST 28x28 and CIFAR 32x32 settings
    python benchmarks/train_step.py --output benchmarks/TRAIN_STEP.md
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from upgan.gan import Discriminator, Generator

SETTINGS = {
    # name: (image_shape, generator width, discriminator width, batch)
    "mnist28": ((1, 28, 28), 32, 32, 64),
    "cifar32": ((3, 32, 32), 32, 32, 64),
}
METHODS = ("transposed", "nearest", "bilinear", "subpixel")


def plain_upsampling(method: str, c_in: int, c_out: int) -> nn.Module:
    """The textbook torch layer for each method."""
    if method == "transposed":
        return nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)
    if method == "subpixel":
        return nn.Sequential(nn.Conv2d(c_in, c_out * 4, 3, padding=1), nn.PixelShuffle(2))
    return nn.Sequential(nn.Upsample(scale_factor=2, mode=method), nn.Conv2d(c_in, c_out, 3, padding=1))


def plain_copy(generator: Generator) -> nn.Sequential:
    """The same network with torch's layers in the upsampling stages, carrying the same weights."""
    net = nn.Sequential()
    for name, layer in generator.named_children():
        if name.startswith("up"):
            plain = plain_upsampling(generator.upsample, layer.in_channels, layer.out_channels)
            method = generator.upsample
            conv = plain if method == "transposed" else plain[0] if method == "subpixel" else plain[1]
            conv.load_state_dict(layer.state_dict())  # weight and bias, same layouts as torch's
            net.add_module(name, plain)
        else:
            net.add_module(name, copy.deepcopy(layer))
    return net


def make_step(generator: nn.Module, discriminator: nn.Module, batch: int, latent_dim: int, image_shape):
    opt_g = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, *image_shape) * 2 - 1

    def step() -> None:
        z = torch.randn(batch, latent_dim)
        fake = generator(z)
        real_logits, fake_logits = discriminator(torch.cat([real, fake.detach()])).split(batch)
        loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        discriminator.requires_grad_(False)
        loss_g = F.softplus(-discriminator(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        discriminator.requires_grad_(True)

    return step


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per variant (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per variant first (default 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated: {', '.join(SETTINGS)}")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated: {', '.join(METHODS)}")
    parser.add_argument("--output", help="also write the table as Markdown to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    variants = {}
    for setting in args.settings.split(","):
        shape, width, d_width, batch = SETTINGS[setting]
        for method in args.methods.split(","):
            torch.manual_seed(0)
            ours = Generator(100, shape, method, width)
            theirs = plain_copy(ours)
            z = torch.randn(4, 100)
            ours.eval(), theirs.eval()
            with torch.no_grad():
                torch.testing.assert_close(ours(z), theirs(z), rtol=1e-4, atol=1e-5)  # same network, same weights
            ours.train(), theirs.train()
            for side, g in (("upgan", ours), ("plain", theirs)):
                d = Discriminator(shape, d_width)
                variants[(setting, method, side)] = (make_step(g, d, batch, 100, shape), batch)

    for step, _ in variants.values():
        for _ in range(args.warmup):
            step()
    times = {key: [] for key in variants}
    for _ in range(args.repeats):  # interleaved: every variant once per round
        for key, (step, _) in variants.items():
            start = time.perf_counter()
            step()
            times[key].append(time.perf_counter() - start)

    lines = [
        f"Machine: {cpu_name()}, {torch.get_num_threads()} torch threads; torch {torch.__version__}; "
        f"median of {args.repeats} interleaved steps after {args.warmup} warm-up steps.",
        "",
        "| setting | upsample | upgan ms/step | plain PyTorch ms/step | upgan images/s | speed-up (plain / upgan) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for setting in args.settings.split(","):
        for method in args.methods.split(","):
            ours = statistics.median(times[(setting, method, "upgan")])
            theirs = statistics.median(times[(setting, method, "plain")])
            batch = variants[(setting, method, "upgan")][1]
            lines.append(
                f"| {setting} | {method} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {batch / ours:.0f} | {theirs / ours:.2f}x |"
            )
    table = "\n".join(lines)
    print(table)
    if args.output:
        with open(args.output, "w") as f:
            f.write("# One training step: upgan vs plain PyTorch\n\n")
            f.write("Command: `python benchmarks/train_step.py " + " ".join(sys.argv[1:]) + "`\n\n")
            f.write(table + "\n")


if __name__ == "__main__":
    main()
