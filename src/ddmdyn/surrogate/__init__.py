"""Surrogate models of the Lorenz 63 flow map on top of learned or fixed features (spec 4).

Modules: ``pairs`` (training pairs, roll-out starts), ``backbones`` (feature extractors),
``heads`` (linear / MLP), ``ridge`` (closed-form streaming ridge head), ``training`` (Adam
training, ridge fit), ``rollout`` (autoregressive roll-outs and their scores).
"""

from ddmdyn.surrogate.backbones import (
    DenseBackbone,
    DenseResidualBackbone,
    PolynomialFeatures,
    PretrainedDiffusionBackbone,
    RandomFourierFeatures,
    build_backbone,
)
from ddmdyn.surrogate.heads import LinearHead, MLPHead, build_head
from ddmdyn.surrogate.pairs import PairSampler, RolloutStarts, rollout_starts, validation_pairs
from ddmdyn.surrogate.ridge import RidgeAccumulator, RidgeHead
from ddmdyn.surrogate.rollout import rollout, rollout_scores
from ddmdyn.surrogate.training import (
    SurrogateModel,
    TrainHistory,
    build_surrogate,
    evaluate,
    fit_ridge,
    train_surrogate,
)

__all__ = [
    "DenseBackbone",
    "DenseResidualBackbone",
    "LinearHead",
    "MLPHead",
    "PairSampler",
    "PolynomialFeatures",
    "PretrainedDiffusionBackbone",
    "RandomFourierFeatures",
    "RidgeAccumulator",
    "RidgeHead",
    "RolloutStarts",
    "SurrogateModel",
    "TrainHistory",
    "build_backbone",
    "build_head",
    "build_surrogate",
    "evaluate",
    "fit_ridge",
    "rollout",
    "rollout_scores",
    "rollout_starts",
    "train_surrogate",
    "validation_pairs",
]
