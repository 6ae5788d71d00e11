# Diffusion and generation design: model paths, the hyper-parameters of a training job, the
# sampler settings of a generation job, the targets of both stages.
from ddmdyn.catalogue import DIFFUSION_VARIANTS


def diffusion_model(variant, seed):
    return result("diffusion", str(variant), str(seed), "model.pt")


def main_diffusion_model():
    diffusion = config["diffusion"]
    return diffusion_model(diffusion["main_variant"], diffusion["main_seed"])


def diffusion_train_params(variant, seed):
    """Hyper-parameters of one training job: the variant's head/schedule/loss and the config."""
    diffusion = config["diffusion"]
    variant_spec = DIFFUSION_VARIANTS[variant]
    return {
        "variant": variant,
        "seed": int(seed),
        "head": variant_spec.head,
        "schedule": variant_spec.schedule,
        "loss": variant_spec.loss,
        "timesteps": diffusion["timesteps"],
        **diffusion["network"],
        **diffusion["training"],
    }


def diffusion_targets():
    diffusion = config["diffusion"]
    return expand(
        result("diffusion", "{variant}", "{seed}", "training_log.nc"),
        variant=diffusion["variants"],
        seed=diffusion["seeds"],
    )


def generation_params(seed):
    """Sampler settings of one generation job; its seed combines the base and the model seed."""
    generation = config["generation"]
    return {
        "n_samples": generation["n_samples"],
        "sampler": generation["sampler"],
        "n_coarse_steps": generation["n_coarse_steps"],
        "eta": generation["eta"],
        "seed": generation["seed"] * 1000 + int(seed),
    }


def generation_score_files():
    diffusion = config["diffusion"]
    return expand(
        result("generation", "{variant}", "{seed}", "scores.nc"),
        variant=diffusion["variants"],
        seed=diffusion["seeds"],
    )
