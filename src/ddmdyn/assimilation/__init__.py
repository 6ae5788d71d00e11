"""Data assimilation for Lorenz 63: ensemble-space analysis, ensemble sources, EnOI / ETKF
methods and cycling of many truths at once with streamed statistics (docs/decisions.md,
E18-E21)."""

from ddmdyn.assimilation.analysis import apply_weights, ensemble_update, ensemble_weights
from ddmdyn.assimilation.cycling import (
    CycledDAResult,
    draw_initial_states,
    make_observations,
    max_scored_cycles,
    run_cycled_da,
)
from ddmdyn.assimilation.methods import ETKF, AnalysisStep, EnOI
from ddmdyn.assimilation.sources import (
    CallableSource,
    EnsembleSource,
    GaussianCovarianceSource,
    SigmaPointSource,
    cycle_normals,
)

__all__ = [
    "ETKF",
    "AnalysisStep",
    "CallableSource",
    "CycledDAResult",
    "EnOI",
    "EnsembleSource",
    "GaussianCovarianceSource",
    "SigmaPointSource",
    "apply_weights",
    "cycle_normals",
    "draw_initial_states",
    "ensemble_update",
    "ensemble_weights",
    "make_observations",
    "max_scored_cycles",
    "run_cycled_da",
]
