"""Denoising diffusion models for low-dimensional states (docs/decisions.md, E5-E11, E18).

Modules: `schedules` (VP noise schedules), `heads` (noise / state / velocity parameterisations),
`network` (dense residual FiLM denoiser), `model` (network + schedule + head), `training`
(resumable training loop with EMA), `checkpoint` (model files), `samplers` (DDPM / DDIM) and
`ensemble` (partial-diffusion ensembles for data assimilation).
"""

from .checkpoint import load_diffusion_model, save_model
from .ensemble import diffusion_ensemble
from .heads import make_head
from .model import Denoiser, DiffusionModel
from .network import DenseResidualDenoiser
from .samplers import reconstruct, sample
from .schedules import NoiseSchedule, cosine_schedule, linear_schedule, make_schedule
from .training import DiffusionTrainConfig, TrainingResult, train_diffusion

__all__ = [
    "Denoiser",
    "DenseResidualDenoiser",
    "DiffusionModel",
    "DiffusionTrainConfig",
    "NoiseSchedule",
    "TrainingResult",
    "cosine_schedule",
    "diffusion_ensemble",
    "linear_schedule",
    "load_diffusion_model",
    "make_head",
    "make_schedule",
    "reconstruct",
    "sample",
    "save_model",
    "train_diffusion",
]
