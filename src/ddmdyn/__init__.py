"""ddmdyn: denoising diffusion models as representation learners for Lorenz 63.

Library behind the Snakemake workflow that reproduces Finn et al. (2024, NPG 31, 409-431).
The library knows nothing of Snakemake: every function takes plain arrays, tensors or xarray
objects and explicit parameters.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ddmdyn")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
