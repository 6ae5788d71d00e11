"""The experiment catalogue: the paper's tables of diffusion variants, surrogate configurations and
DA methods as data, shared by scripts and the DAG (the runners of one experiment are
`surrogate.runner` and `assimilation.runner`).

The tables are those of docs/decisions.md, E9 (diffusion), E15 (surrogates) and E21 (DA).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DiffusionVariant:
    """One diffusion experiment: parameterisation (head), schedule, loss (docs/decisions.md, E9)."""

    head: str
    schedule: str
    loss: str


DIFFUSION_VARIANTS: dict[str, DiffusionVariant] = {
    "noise_cos": DiffusionVariant("noise", "cosine", "mse"),
    "noise_linear": DiffusionVariant("noise", "linear", "mse"),
    "state_cos": DiffusionVariant("state", "cosine", "mse"),
    "state_linear": DiffusionVariant("state", "linear", "mse"),
    "velocity_cos": DiffusionVariant("velocity", "cosine", "mse"),
    "velocity_linear": DiffusionVariant("velocity", "linear", "mse"),
    "velocity_cos_mae": DiffusionVariant("velocity", "cosine", "l1"),
}


@dataclass(frozen=True)
class SurrogateConfiguration:
    """One surrogate experiment (docs/decisions.md, E15).

    Attributes:
        backbone: dense | dense_residual | polynomial | random_fourier | pretrained |
            pretrained_untrained
        head: ridge (closed form), mlp (frozen backbone) or joint (backbone trained with a
            linear head from scratch).
        options: backbone options (widths, n_features, degree, times).
    """

    backbone: str
    head: str
    options: tuple[tuple[str, object], ...] = ()

    @property
    def needs_diffusion_model(self) -> bool:
        return self.backbone in {"pretrained", "pretrained_untrained"}

    @property
    def trains_network(self) -> bool:
        return self.head in {"mlp", "joint"}


DDM_TIMES = (0, 50, 100, 200, 400, 600)

SURROGATE_CONFIGURATIONS: dict[str, SurrogateConfiguration] = {
    "dense_shallow": SurrogateConfiguration("dense", "joint", (("widths", (256,)),)),
    "dense_two": SurrogateConfiguration("dense", "joint", (("widths", (256, 256)),)),
    "dense_three": SurrogateConfiguration("dense", "joint", (("widths", (256, 256, 256)),)),
    "dense_residual_three": SurrogateConfiguration("dense_residual", "joint", (("n_blocks", 3),)),
    "poly_linear": SurrogateConfiguration("polynomial", "ridge", (("degree", 4),)),
    "rff_linear": SurrogateConfiguration("random_fourier", "ridge", (("n_features", 1536),)),
    "rff_linear_256": SurrogateConfiguration("random_fourier", "ridge", (("n_features", 256),)),
    "rff_mlp": SurrogateConfiguration("random_fourier", "mlp", (("n_features", 1536),)),
    "rff_mlp_256": SurrogateConfiguration("random_fourier", "mlp", (("n_features", 256),)),
    "transfer_linear": SurrogateConfiguration("pretrained", "ridge", (("times", DDM_TIMES),)),
    "transfer_mlp": SurrogateConfiguration("pretrained", "mlp", (("times", DDM_TIMES),)),
    "transfer_single_linear": SurrogateConfiguration("pretrained", "ridge", (("times", (400,)),)),
    "transfer_single_mlp": SurrogateConfiguration("pretrained", "mlp", (("times", (400,)),)),
    "transfer_untrained_linear": SurrogateConfiguration(
        "pretrained_untrained", "ridge", (("times", DDM_TIMES),)
    ),
}


@dataclass(frozen=True)
class AssimilationMethod:
    """One DA configuration (docs/decisions.md, E21).

    Attributes:
        kind: ddm_enoi | enoi_diag | enoi_full | var3d | etkf
        n_members: generated ensemble size (EnOI) or propagated members (ETKF).
        parameter: the tuned parameter: diffusion_step (coarse S of 100), inflation (std factor
            for static covariances, covariance factor for the ETKF). The authors' tuned values
            are in resources/authors_tuned.yaml.
    """

    kind: str
    n_members: int
    parameter: str

    @property
    def uses_diffusion(self) -> bool:
        return self.kind == "ddm_enoi"

    @property
    def uses_static_covariance(self) -> bool:
        return self.kind in {"enoi_diag", "enoi_full", "var3d"}


DA_METHODS: dict[str, AssimilationMethod] = {
    "ddm_enoi_50": AssimilationMethod("ddm_enoi", 50, "diffusion_step"),
    "ddm_enoi_10": AssimilationMethod("ddm_enoi", 10, "diffusion_step"),
    "enoi_diag": AssimilationMethod("enoi_diag", 50, "inflation"),
    "enoi_full": AssimilationMethod("enoi_full", 50, "inflation"),
    "var3d": AssimilationMethod("var3d", 6, "inflation"),
    "etkf_3": AssimilationMethod("etkf", 3, "inflation"),
    "etkf_12": AssimilationMethod("etkf", 12, "inflation"),
}

# The surrogate whose features define the Frechet surrogate distance of the generation scores.
FSD_FEATURE_SURROGATE = "dense_two"
# The method of the DA spread sweep over the diffusion step S.
SPREAD_SWEEP_METHOD = "ddm_enoi_50"
# The observation interval of the authors' main DA experiments, where their static-covariance
# constants were tuned (resources/authors_tuned.yaml, `obs_every_10`).
AUTHORS_OBS_EVERY = 10
