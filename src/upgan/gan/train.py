"""The training loop behind ``upgan train``: D step then G step, checkpoints that resume exactly.

Reads top to bottom like pytorch/examples' dcgan/main.py: load data, build the two
networks, then per step update D on real and ``fake.detach()``, update G through D, and
log. Everything random (weights, noise, augmentation) comes from the seeded global RNG,
whose state is saved in the checkpoint; the data order comes from ``DistributedSampler``,
seeded by ``(seed, epoch)``, so a resumed run replays the same batches.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import signal
import threading
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, DistributedSampler

from upgan.data import load_dataset
from upgan.gan import distributed
from upgan.gan.augment import diff_augment
from upgan.gan.checkpoint import (
    CHECKPOINT,
    GENERATOR,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    save_generator,
)
from upgan.gan.config import RESUMABLE_CHANGES, TrainConfig
from upgan.gan.ema import ema_decay, make_ema, update_ema
from upgan.gan.images import save_grid
from upgan.gan.losses import d_output, discriminator_loss, generator_loss
from upgan.gan.models import Discriminator, Generator
from upgan.gan.precision import native_bf16

__all__ = ["train", "TrainingDiverged", "RunExistsError", "METRICS_COLUMNS", "N_FIXED_SAMPLES"]

METRICS_COLUMNS = ("step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_s", "seconds")
N_FIXED_SAMPLES = 64
GP_WEIGHT = 10.0  # Gulrajani et al. 2017, lambda = 10
# Files a run writes, and those upgan's other commands derive from it by default (evaluate's
# metrics.json, artifacts' phases.png): --force replaces exactly these and nothing else.
_RUN_FILES = ("config.json", "metrics.csv", CHECKPOINT, GENERATOR)
_RUN_GLOBS = ("samples/epoch_[0-9]*.png", "samples/latest.png", "events.out.tfevents.*")
# What the globs match must also be named exactly as a run names it (epoch_001.png, not epoch_1_mine.png).
_RUN_NAME = re.compile(r"epoch_\d{3,}\.png|latest\.png|events\.out\.tfevents\..+")
_DERIVED_FILES = ("metrics.json", "phases.png")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class RunExistsError(FileExistsError):
    """The run folder already holds a run and neither ``resume`` nor ``force`` was given."""


def _check_run_dir(run_dir: Path, config: TrainConfig, ctx: distributed.Context) -> tuple[dict | None, list[Path]]:
    """Check the run folder; return the checkpoint to resume from (or None) and the files ``force``
    will replace. Nothing is deleted here: :func:`_replace_run_files` does that once the new run's
    data, batch size and networks are known to work, so a failing ``--force`` keeps the old run.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise RunExistsError(f"The run folder {run_dir} is a file, not a folder; choose another --out.")
    ancestor = next(p for p in (run_dir.absolute(), *run_dir.absolute().parents) if p.exists())
    if not ancestor.is_dir():
        raise RunExistsError(f"Cannot create the run folder {run_dir}: {ancestor} is a file; choose another --out.")
    if config.resume:
        state = load_checkpoint(run_dir / CHECKPOINT)
        saved = TrainConfig.from_saved(state["config"]).to_dict()
        wanted = config.to_dict()
        changed = [k for k in saved if k not in RESUMABLE_CHANGES and saved[k] != wanted[k]]
        if changed:
            diffs = ", ".join(f"{k}: run has {saved[k]!r}, given {wanted[k]!r}" for k in changed)
            raise CheckpointError(
                f"Cannot resume {run_dir}: settings differ from the run's ({diffs}). "
                "Only these may change: " + ", ".join(RESUMABLE_CHANGES) + "."
            )
        if state["world_size"] != ctx.world_size:
            raise CheckpointError(
                f"Cannot resume {run_dir}: it was trained by {state['world_size']} process(es), "
                f"this run has {ctx.world_size}; resume with the same number."
            )
        _logged_rows(run_dir / "metrics.csv", state["step"])  # a damaged log is refused before any work
        return state, []
    existing = [run_dir / name for name in _RUN_FILES if (run_dir / name).is_file()]
    existing += [
        path for pattern in _RUN_GLOBS for path in sorted(run_dir.glob(pattern))
        if path.is_file() and _RUN_NAME.fullmatch(path.name)
    ]  # fmt: skip
    if existing and not config.force:
        shown = ", ".join(path.relative_to(run_dir).as_posix() for path in existing[:6])
        more = f" and {len(existing) - 6} more" if len(existing) > 6 else ""
        raise RunExistsError(
            f"{run_dir} already holds a run ({shown}{more}). "
            "Pass --resume to continue it, --force to replace it, or --out for a new folder."
        )
    if existing:
        existing += [run_dir / name for name in _DERIVED_FILES if (run_dir / name).is_file()]
    return None, existing


def _replace_run_files(run_dir: Path, existing: list[Path], ctx: distributed.Context) -> None:
    """``--force``: rank 0 deletes the old run's own files (and the derived ones), never anything else."""
    distributed.barrier(ctx)  # every rank has looked before rank 0 deletes anything
    if existing and ctx.is_main:
        print(f"--force: replacing {len(existing)} file(s) of the run in {run_dir}")
        for path in existing:
            path.unlink(missing_ok=True)


def _rng_state(device: torch.device) -> dict:
    return {
        "cpu": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and state["cuda"] is not None:
        torch.cuda.set_rng_state(state["cuda"], device)


@contextlib.contextmanager
def _stop_on_sigint():
    """Turn Ctrl-C into a flag checked between steps, so the checkpoint is never half a step."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _logged_rows(path: Path, resume_step: int) -> list[dict]:
    """The rows of metrics.csv up to ``resume_step`` (none without the file).

    Raises:
        CheckpointError: the file is not a metrics log upgan wrote (the message says how to go on).
    """
    if not path.exists():
        return []
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
        if rows:
            float(rows[-1]["seconds"])
    except (OSError, KeyError, ValueError, TypeError, csv.Error) as err:
        raise CheckpointError(
            f"Cannot resume: {path} is not a readable metrics log ({type(err).__name__}: {err}). The checkpoint "
            f"is intact: move that file away and resume again to start a new log at step {resume_step}."
        ) from None
    return rows


def _open_metrics(path: Path, resume_step: int):
    """Open metrics.csv for writing, keeping (on resume) the rows up to the checkpoint's step.

    Returns ``(file, writer, seconds)``, ``seconds`` being the training time already logged.
    """
    rows = _logged_rows(path, resume_step) if resume_step else []
    f = open(path, "w", newline="", buffering=1)  # line-buffered: readable while training
    writer = csv.DictWriter(f, fieldnames=METRICS_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return f, writer, float(rows[-1]["seconds"]) if rows else 0.0


def _tensorboard(run_dir: Path):
    """A SummaryWriter when the optional ``tensorboard`` package is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir))


def train(config: TrainConfig, *, progress: bool = True) -> Path:
    """Train a generator and discriminator as ``config`` says; return the run folder.

    Writes ``config.json``, ``metrics.csv`` (one row per step: losses, mean D outputs on real
    and fake, images/s), ``samples/epoch_XXX.png`` (fixed noise) after each epoch,
    ``samples/latest.png``, ``checkpoint.pt`` (atomically, after each epoch, at the end and
    on Ctrl-C) and ``generator.safetensors``. Under ``torchrun`` the processes train
    data-parallel and rank 0 alone writes.

    Args:
        config: the run's settings.
        progress: show a tqdm progress bar (rank 0).

    Returns:
        The run folder.

    Raises:
        RunExistsError: the folder holds a run and neither ``resume`` nor ``force`` is set.
        CheckpointError: ``resume`` without a readable checkpoint, or with changed settings.
        TrainingDiverged: a loss became NaN/inf (the message names the step).
        KeyboardInterrupt: after Ctrl-C, once the checkpoint is written.
        upgan.data.DatasetError, ValueError: the data cannot be loaded or does not fit.
    """
    threads_before = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    ctx = distributed.setup(config.device)
    try:
        return _train(config, ctx, progress)
    finally:
        distributed.teardown(ctx)
        torch.set_num_threads(threads_before)


def _train(config: TrainConfig, ctx: distributed.Context, progress: bool) -> Path:
    run_dir = config.run_dir()
    resume_state, replaced = _check_run_dir(run_dir, config, ctx)

    # ---- data: rank 0 downloads, then the others read the same files
    data_kwargs = dict(image_size=config.image_size, channels=config.channels, data_dir=config.data_dir)
    if not ctx.is_main:
        distributed.barrier(ctx)
    dataset = load_dataset(config.dataset, download=ctx.is_main, **data_kwargs)
    if ctx.is_main:
        distributed.barrier(ctx)
        if dataset.skipped:
            print(f"{config.dataset}: skipped {dataset.skipped} unreadable file(s)")
    if config.batch_size % ctx.world_size:
        raise ValueError(
            f"The `batch_size` setting must be divisible by the number of processes ({ctx.world_size}). "
            f"Received batch_size={config.batch_size}"
        )
    local_batch = config.batch_size // ctx.world_size
    sampler = DistributedSampler(
        dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=config.seed, drop_last=True
    )
    steps_per_epoch = len(sampler) // local_batch
    if steps_per_epoch == 0:
        raise ValueError(
            f"The `batch_size` setting must be at most the number of images ({len(dataset)}). "
            f"Received batch_size={config.batch_size}"
        )
    total_steps = config.epochs * steps_per_epoch
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    if resume_state is not None and resume_state["step"] >= total_steps:
        if ctx.is_main:  # nothing is written: config.json keeps the budget the checkpoint reached
            by_max_steps = config.max_steps is not None and config.max_steps < config.epochs * steps_per_epoch
            limit = (
                f"--max-steps {config.max_steps}" if by_max_steps
                else f"--epochs {config.epochs} of {steps_per_epoch} steps"
            )  # fmt: skip
            print(
                f"{run_dir} is already at step {resume_state['step']}; the budget ends at step {total_steps} "
                f"({limit}): nothing to train. Raise {limit.split()[0]}."
            )
        return run_dir

    # ---- models: identical initial weights on every rank (same seed)
    torch.manual_seed(config.seed)
    generator = Generator(config.latent_dim, dataset.image_shape, config.upsample, config.width)
    discriminator = Discriminator(
        dataset.image_shape, config.d_width, config.spectral_norm, config.minibatch_std, config.d_hidden
    )
    if config.minibatch_std:
        # D sees real and fake halves of local_batch samples each: groups must not straddle them.
        discriminator.stddev.group_size = max(d for d in range(1, 5) if local_batch % d == 0)
    generator.to(ctx.device)
    discriminator.to(ctx.device)
    ema = make_ema(generator) if config.ema > 0 else None
    betas = (config.beta1, config.beta2)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=betas)
    step = 0
    if resume_state is not None:  # tensors land on each module's device; Adam moves its state likewise
        generator.load_state_dict(resume_state["generator"])
        discriminator.load_state_dict(resume_state["discriminator"])
        if ema is not None:
            ema.load_state_dict(resume_state["ema"])
        opt_g.load_state_dict(resume_state["opt_g"])
        opt_d.load_state_dict(resume_state["opt_d"])
        step = resume_state["step"]
    sampler_net = ema if ema is not None else generator
    fixed_noise = torch.randn(
        N_FIXED_SAMPLES, config.latent_dim, generator=torch.Generator().manual_seed(config.seed)
    ).to(ctx.device)

    # Training networks: DDP-wrapped across processes and/or compiled; state dicts come from
    # the plain modules above. D's second use (the G step) calls the plain module: its
    # gradients are not needed there, and DDP expects one forward per backward.
    g_train, d_train = generator, discriminator
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        g_train, d_train = DDP(generator), DDP(discriminator)
    d_plain = discriminator
    if config.compile:
        g_train, d_train, d_plain = torch.compile(g_train), torch.compile(d_train), torch.compile(discriminator)

    # ---- per-rank randomness (noise, augmentation): seed + rank, or the checkpoint's state
    torch.manual_seed(config.seed + ctx.rank)
    if resume_state is not None:
        _set_rng_state(resume_state["rng"][ctx.rank], ctx.device)

    _replace_run_files(run_dir, replaced, ctx)  # only now: everything above could still refuse the run
    samples_dir = run_dir / "samples"
    metrics_file = writer = board = None
    seconds_before = 0.0
    if ctx.is_main:
        samples_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
        metrics_file, writer, seconds_before = _open_metrics(run_dir / "metrics.csv", step)
        board = _tensorboard(run_dir)

    def write_samples(names: list[str]) -> None:
        sampler_net.eval()
        with torch.no_grad():
            images = sampler_net(fixed_noise)
        for name in names:
            save_grid(images, samples_dir / name, nrow=8)
        if board is not None:
            board.add_images("samples", images.add(1).div(2).clamp(0, 1), step)
        generator.train()

    def write_checkpoint(epoch: int) -> None:
        distributed.broadcast_buffers(ctx, generator, discriminator, ema)  # every rank as saved
        rng = distributed.gather_objects(ctx, _rng_state(ctx.device))
        if not ctx.is_main:
            return
        save_checkpoint(
            run_dir / CHECKPOINT,
            {
                "config": config.to_dict(),
                "step": step,
                "epoch": epoch,
                "generator": generator.state_dict(),
                "discriminator": discriminator.state_dict(),
                "ema": None if ema is None else ema.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "rng": rng,
                "world_size": ctx.world_size,
            },
        )
        save_generator(run_dir / GENERATOR, sampler_net, config, step)

    amp = native_bf16(ctx.device) if config.amp is None else config.amp
    autocast = torch.autocast(ctx.device.type, dtype=torch.bfloat16, enabled=amp)
    if ctx.is_main:
        n_params = sum(p.numel() for p in generator.parameters())
        print(
            f"{run_dir}: {config.upsample} generator ({n_params:,} parameters) on {config.dataset} "
            f"({len(dataset)} images of {'x'.join(map(str, dataset.image_shape))}), {total_steps} steps of "
            f"{config.batch_size} ({steps_per_epoch} per epoch), {'bf16 autocast' if amp else 'float32'} "
            f"on {ctx.device}" + (f" x {ctx.world_size} processes" if ctx.distributed else "")
            + (f", resuming at step {step}" if step else "")
        )
    bar = None
    if progress and ctx.is_main:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_steps, initial=step, desc=run_dir.name, unit="step", dynamic_ncols=True)
    start = time.perf_counter()
    interrupted = False
    try:
        with _stop_on_sigint() as stop:
            generator.train()
            discriminator.train()
            while step < total_steps and not interrupted:
                epoch, skip = divmod(step, steps_per_epoch)
                sampler.set_epoch(epoch)
                order = list(sampler)
                batches = [order[i * local_batch : (i + 1) * local_batch] for i in range(skip, steps_per_epoch)]
                # A private generator: a DataLoader iterator otherwise draws its base seed from the
                # global RNG, so a resumed run (one more iterator) would see different noise.
                loader = DataLoader(
                    dataset, batch_sampler=batches, num_workers=config.num_workers, generator=torch.Generator()
                )
                for real_u8, _ in loader:
                    t0 = time.perf_counter()
                    real = real_u8.to(ctx.device).float().div(127.5).sub(1)  # uint8 [0, 255] -> [-1, 1]
                    z = torch.randn(local_batch, config.latent_dim, device=ctx.device)

                    # D step: real and fake.detach() in one forward (one DDP forward per backward)
                    with autocast:
                        fake = g_train(z)
                        both = diff_augment(torch.cat([real, fake.detach().to(real.dtype)]), config.augment)
                        if config.loss == "wgan-gp":
                            alpha = torch.rand(local_batch, 1, 1, 1, device=ctx.device)
                            mixed = torch.lerp(both[local_batch:], both[:local_batch], alpha).detach().requires_grad_()
                            logits = d_train(torch.cat([both, mixed])).float()
                            real_logits, fake_logits, mixed_logits = logits.split(local_batch)
                            (grad,) = torch.autograd.grad(mixed_logits.sum(), mixed, create_graph=True)
                            penalty = (grad.float().flatten(1).norm(dim=1) - 1).pow(2).mean()
                        else:
                            real_logits, fake_logits = d_train(both).float().split(local_batch)
                            penalty = None
                        loss_d = discriminator_loss(config.loss, real_logits, fake_logits)
                        if penalty is not None:
                            loss_d = loss_d + GP_WEIGHT * penalty
                    finite_d, stop_now = distributed.all_true(ctx, bool(torch.isfinite(loss_d)), not stop.is_set())
                    if not finite_d:
                        raise TrainingDiverged(_diverged("discriminator", loss_d, step + 1, run_dir))
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()

                    # G step through D (its parameters frozen: their gradients are not needed)
                    discriminator.requires_grad_(False)
                    with autocast:
                        gen_logits = d_plain(diff_augment(fake, config.augment)).float()
                        loss_g = generator_loss(config.loss, gen_logits)
                    (finite_g,) = distributed.all_true(ctx, bool(torch.isfinite(loss_g)))
                    if not finite_g:
                        discriminator.requires_grad_(True)
                        raise TrainingDiverged(_diverged("generator", loss_g, step + 1, run_dir))
                    opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
                    opt_g.step()
                    discriminator.requires_grad_(True)
                    if ema is not None:
                        update_ema(ema, generator, ema_decay(config.ema, step))
                    step += 1

                    images_per_s = config.batch_size / (time.perf_counter() - t0)
                    if ctx.is_main:
                        row = {
                            "step": step,
                            "epoch": epoch + 1,
                            "loss_d": f"{loss_d.item():.5g}",
                            "loss_g": f"{loss_g.item():.5g}",
                            "d_real": f"{d_output(config.loss, real_logits.detach()):.5g}",
                            "d_fake": f"{d_output(config.loss, fake_logits.detach()):.5g}",
                            "images_per_s": f"{images_per_s:.1f}",
                            "seconds": f"{seconds_before + time.perf_counter() - start:.2f}",
                        }
                        writer.writerow(row)
                        if board is not None:
                            for key in ("loss_d", "loss_g", "d_real", "d_fake", "images_per_s"):
                                board.add_scalar(key, float(row[key]), step)
                        if bar is not None:
                            bar.update(1)
                            bar.set_postfix(
                                loss_d=row["loss_d"], loss_g=row["loss_g"], img_s=f"{images_per_s:.0f}", refresh=False
                            )
                    if not stop_now:
                        interrupted = True
                        break
                    if step >= total_steps:
                        break
                if step % steps_per_epoch == 0 and step > 0:  # an epoch just ended
                    if ctx.is_main:
                        write_samples([f"epoch_{step // steps_per_epoch:03d}.png", "latest.png"])
                    write_checkpoint(step // steps_per_epoch)
            if step % steps_per_epoch != 0 or step == 0:  # stopped mid-epoch: --max-steps or Ctrl-C
                if ctx.is_main:
                    write_samples(["latest.png"])
                write_checkpoint(step // steps_per_epoch)
            elif ctx.is_main and not (samples_dir / "latest.png").exists():
                write_samples(["latest.png"])
    except TrainingDiverged:
        if ctx.is_main:
            write_samples(["latest.png"])
        raise
    finally:
        if bar is not None:
            bar.close()
        if metrics_file is not None:
            metrics_file.close()
        if board is not None:
            board.close()
    if interrupted:
        if ctx.is_main:
            print(f"Interrupted at step {step}; checkpoint written. Continue with --resume --out {run_dir}")
        raise KeyboardInterrupt
    return run_dir


def _diverged(network: str, loss: torch.Tensor, step: int, run_dir: Path) -> str:
    return (
        f"The {network} loss became {loss.item()} at step {step}; training stopped. "
        f"The last good checkpoint stays in {run_dir / CHECKPOINT} (if one was written); "
        "try a lower --lr or another --loss."
    )

