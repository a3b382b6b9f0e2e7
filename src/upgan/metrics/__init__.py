"""Measuring generated images: a digit classifier, FID/KID, precision/recall,
density/coverage, spectra and checkerboard scores."""

from upgan.metrics.classifier import (
    DigitClassifier,
    digit_quality,
    load_classifier,
    stratified_split,
)

__all__ = [
    "DigitClassifier",
    "digit_quality",
    "load_classifier",
    "stratified_split",
]
