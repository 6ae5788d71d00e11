"""Surrogate model files (`surrogate.runner`): a saved surrogate, rebuilt from its file alone,
predicts exactly what the original predicted, for every kind of backbone and head (dense network,
seeded random features, polynomial ridge, a pretrained diffusion network with an MLP head)."""

from __future__ import annotations

import pytest
import torch

from ddmdyn.diffusion.network import DenseResidualDenoiser
from ddmdyn.surrogate.runner import (
    build_model,
    feature_function,
    load_surrogate,
    make_spec,
    save_surrogate,
)

NETWORK = {"hidden": 16, "n_blocks": 1, "emb_dim": 8}


def _randomise(model: torch.nn.Module, seed: int) -> None:
    """Random values in every saved float tensor (an untrained ridge head is zero)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(0.5 * torch.randn(t.shape, generator=gen, dtype=t.dtype) + 1.0)


@pytest.mark.parametrize(
    "configuration",
    ["dense_two", "rff_linear_256", "rff_mlp_256", "poly_linear", "transfer_single_mlp"],
)
def test_saved_surrogate_predicts_exactly_as_the_original(tmp_path, configuration):
    network = None
    hparams = None
    if configuration.startswith("transfer"):
        torch.manual_seed(0)
        network, hparams = DenseResidualDenoiser(**NETWORK), NETWORK
    spec = make_spec(configuration, seed=3, mlp_hidden=8, network_hparams=hparams)
    model = build_model(spec, 3, network).eval()
    _randomise(model, 5)
    path = tmp_path / "model.pt"
    save_surrogate(path, model, spec, extra={"note": "test"})
    loaded, loaded_spec = load_surrogate(path)
    assert loaded_spec == spec
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        want, got = model(x), loaded(x)
        assert torch.equal(got, want)
        assert torch.equal(loaded.backbone(x), model.backbone(x))
    # the Frechet feature path is the loaded backbone, batch by batch
    features = feature_function(path, batch_size=10)(x.numpy())
    torch.testing.assert_close(features, model.backbone(x), rtol=1e-6, atol=1e-6)


def test_a_file_of_another_kind_is_rejected(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, path)
    with pytest.raises(ValueError, match="not a ddmdyn-surrogate-1 model file"):
        load_surrogate(path)
