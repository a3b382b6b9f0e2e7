"""Measuring generated images: a digit classifier, FID/KID, precision/recall,
density/coverage, spectra and checkerboard scores."""

from upgan.metrics.artifacts import describe_overlap, overlap_pattern, overlap_period, phase_statistics
from upgan.metrics.classifier import DigitClassifier, digit_quality, load_classifier, stratified_split
from upgan.metrics.evaluation import evaluate_images, evaluate_run, format_table, sample_images
from upgan.metrics.features import (
    FEATURES,
    FeatureNetworkUnavailable,
    RandomConvFeatures,
    extract_features,
    feature_network,
)
from upgan.metrics.fid import fid, kid
from upgan.metrics.prdc import density_coverage, knn_radii, precision_recall
from upgan.metrics.spectrum import (
    checkerboard_score,
    mean_spectrum,
    period_energy,
    radial_spectrum,
    spectral_distance,
)

__all__ = [
    "describe_overlap",
    "overlap_pattern",
    "overlap_period",
    "phase_statistics",
    "evaluate_images",
    "evaluate_run",
    "format_table",
    "sample_images",
    "DigitClassifier",
    "digit_quality",
    "load_classifier",
    "stratified_split",
    "FEATURES",
    "FeatureNetworkUnavailable",
    "RandomConvFeatures",
    "extract_features",
    "feature_network",
    "fid",
    "kid",
    "density_coverage",
    "knn_radii",
    "precision_recall",
    "checkerboard_score",
    "mean_spectrum",
    "period_energy",
    "radial_spectrum",
    "spectral_distance",
]
