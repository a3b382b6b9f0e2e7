"""GAN generators with any upsampling method, their discriminators, and the training loop."""

from upgan.gan.checkpoint import CheckpointError, load_generator
from upgan.gan.config import TrainConfig
from upgan.gan.models import UPSAMPLE_METHODS, Discriminator, Generator
from upgan.gan.train import RunExistsError, TrainingDiverged, train

__all__ = [
    "Generator",
    "Discriminator",
    "UPSAMPLE_METHODS",
    "TrainConfig",
    "train",
    "load_generator",
    "CheckpointError",
    "TrainingDiverged",
    "RunExistsError",
]
