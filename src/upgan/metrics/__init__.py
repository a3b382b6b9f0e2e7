"""Measuring generated images: a digit classifier, FID/KID, precision/recall,
density/coverage, spectra and checkerboard scores."""

from upgan.metrics.classifier import DigitClassifier, digit_quality, load_classifier, stratified_split
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
