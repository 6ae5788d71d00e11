"""Dense residual denoiser (docs/decisions.md, E6), model bundle and model files."""

import json
import math

import pytest
import torch

from ddmdyn.diffusion.checkpoint import load_diffusion_model, save_model, sidecar_path
from ddmdyn.diffusion.heads import make_head
from ddmdyn.diffusion.model import Denoiser, DiffusionModel
from ddmdyn.diffusion.network import DenseResidualDenoiser, SinusoidalEmbedding
from ddmdyn.diffusion.schedules import cosine_schedule, linear_schedule
from ddmdyn.diffusion.training import DiffusionTrainConfig


def _perturb_gamma(net, value=0.3):
    """Make the residual branches matter (gamma = 1e-6 at init hides them)."""
    with torch.no_grad():
        for blk in net.blocks:
            blk.gamma.fill_(value)
    return net


def test_parameter_count_paper_size():
    net = DenseResidualDenoiser()
    assert sum(p.numel() for p in net.parameters()) == 1_185_283
    blk = net.blocks[0]
    assert sum(p.numel() for p in blk.film.parameters()) == 262_656
    assert sum(p.numel() for p in (*blk.lin1.parameters(), *blk.lin2.parameters())) == 131_584
    assert torch.all(blk.gamma == 1e-6)


def test_embedding_formula():
    emb = SinusoidalEmbedding(512, 1e4)
    t = torch.tensor([0, 1, 130, 1000])
    e = emb(t).double()
    k = torch.arange(256, dtype=torch.float64)
    f = torch.exp(-math.log(1e4) * k / 255)
    ref = torch.cat([torch.sin(t[:, None] * f), torch.cos(t[:, None] * f)], dim=-1)
    torch.testing.assert_close(e, ref, atol=2e-4, rtol=0)  # float32 argument t*f up to 1000
    assert e[0, :256].abs().max() == 0 and torch.all(e[0, 256:] == 1)


def test_block_structure_matches_reference_formula():
    torch.manual_seed(0)
    net = _perturb_gamma(DenseResidualDenoiser(hidden=16, n_blocks=2, emb_dim=8))
    z, t = torch.randn(5, 3), torch.tensor([1, 7, 7, 300, 1000])
    emb = net.embedding(t)
    h = net.input_proj(z)
    for blk in net.blocks:
        n = (h - h.mean(-1, keepdim=True)) / torch.sqrt(
            h.var(-1, unbiased=False, keepdim=True) + 1e-5
        )
        ss = blk.film(emb)
        scale, shift = ss[:, :16], ss[:, 16:]
        n = n * (1 + scale) + shift
        h = h + blk.gamma * blk.lin2(torch.relu(blk.lin1(n)))
    ref = net.output_proj(h)
    torch.testing.assert_close(net(z, t), ref, atol=1e-5, rtol=1e-5)


def test_table_and_per_sample_film_agree():
    torch.manual_seed(1)
    net = _perturb_gamma(DenseResidualDenoiser(hidden=64, n_blocks=3, emb_dim=128))
    z = torch.randn(2000, 3)
    t = torch.randint(1, 1001, (2000,))
    a = net(z, t, film_mode="table")
    b = net(z, t, film_mode="per_sample")
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # scalar t == constant tensor t
    torch.testing.assert_close(net(z, 17), net(z, torch.full((2000,), 17)), atol=1e-6, rtol=0)
    # gradients agree too
    for mode in ("table", "per_sample"):
        net.zero_grad()
        net(z, t, film_mode=mode).square().mean().backward()
        g = [p.grad.clone() for p in net.parameters()]
        if mode == "table":
            g_table = g
    for ga, gb in zip(g_table, g, strict=True):
        torch.testing.assert_close(ga, gb, atol=1e-5, rtol=1e-4)


def test_features_equal_forward_blocks():
    torch.manual_seed(2)
    net = _perturb_gamma(DenseResidualDenoiser(hidden=32, n_blocks=3, emb_dim=64))
    x = torch.randn(50, 3)
    times = [0, 50, 400]
    f = net.features(x, times)
    assert f.shape == (50, 3, 32)
    for j, t in enumerate(times):
        for mode in ("table", "per_sample"):
            ref = net.hidden_state(x, torch.full((50,), t), film_mode=mode)
            torch.testing.assert_close(f[:, j], ref, atol=1e-5, rtol=1e-5)
    single = net.features(x, [400])
    assert single.shape == (50, 1, 32)
    ref = net.hidden_state(x, torch.full((50,), 400), film_mode="per_sample")
    torch.testing.assert_close(single[:, 0], ref, atol=1e-5, rtol=1e-5)
    # output Linear on the features gives the network output
    torch.testing.assert_close(
        net.output_proj(f[:, 1]), net(x, torch.full((50,), 50)), atol=1e-5, rtol=1e-5
    )


def test_rejects_bad_inputs():
    net = DenseResidualDenoiser(hidden=8, n_blocks=1, emb_dim=8)
    with pytest.raises(ValueError):
        net(torch.zeros(4, 3), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError):
        DenseResidualDenoiser(film_mode="fast")


@pytest.mark.parametrize("head", ["noise", "state", "velocity"])
def test_model_denoise_and_loss_are_consistent(head):
    torch.manual_seed(3)
    net = _perturb_gamma(DenseResidualDenoiser(hidden=16, n_blocks=1, emb_dim=8))
    model = DiffusionModel(net, cosine_schedule(), make_head(head))
    assert isinstance(model, Denoiser)
    x0, eps = torch.randn(64, 3), torch.randn(64, 3)
    t = torch.randint(1, 1000, (64,))
    z = model.diffuse(x0, t, eps)
    x0_hat, eps_hat = model.denoise(z, t)
    a = model.schedule.alpha(t)[:, None]
    s = model.schedule.sigma(t)[:, None]
    torch.testing.assert_close(a * x0_hat + s * eps_hat, z, atol=1e-4, rtol=1e-4)
    # loss = MSE between network output and the head's target
    target = model.head.target(x0, eps, a, s)
    ref = ((net(z, t) - target) ** 2).mean()
    torch.testing.assert_close(model.loss(x0, t, eps, "mse"), ref)
    ref_l1 = (net(z, t) - target).abs().mean()
    torch.testing.assert_close(model.loss(x0, t, eps, "l1"), ref_l1)


@pytest.mark.parametrize("sched", ["cosine", "linear"])
def test_model_file_round_trip(tmp_path, sched):
    torch.manual_seed(4)
    schedule = cosine_schedule(100) if sched == "cosine" else linear_schedule(100)
    net = DenseResidualDenoiser(hidden=16, n_blocks=2, emb_dim=8)
    model = DiffusionModel(net, schedule, make_head("velocity"))
    raw = {k: v.clone() for k, v in net.state_dict().items()}
    ema = {k: v + 1.0 for k, v in raw.items()}
    cfg = DiffusionTrainConfig(
        hidden=16, n_blocks=2, emb_dim=8, timesteps=100, schedule=sched, loss="l1"
    )
    path = save_model(
        tmp_path / "m.pt",
        model,
        cfg,
        raw,
        ema,
        extra={"history": {"val_loss": [float("nan"), 0.5]}, "seed": 3},
    )
    payload = torch.load(path, weights_only=True)  # must not need pickled classes
    assert payload["hparams"]["loss"] == "l1"
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["hparams"]["network"]["hidden"] == 16
    assert meta["extra"]["history"]["val_loss"] == [None, 0.5]
    assert not list(tmp_path.glob(".*tmp"))
    z, t = torch.randn(10, 3), torch.randint(1, 101, (10,))
    for which, sd in (("raw", raw), ("ema", ema)):
        loaded = load_diffusion_model(path, weights=which)
        assert torch.equal(loaded.schedule.alpha_bar, schedule.alpha_bar)
        assert loaded.head.name == "velocity"
        for k, v in loaded.network.state_dict().items():
            assert torch.equal(v, sd[k])
    loaded = load_diffusion_model(path, "raw")
    ref = model.denoise(z, t)
    out = loaded.denoise(z, t)
    for a, b in zip(ref, out, strict=True):
        assert torch.equal(a, b)
