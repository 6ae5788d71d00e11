"""CUDA paths (marker `gpu`: skipped, with the reason, where torch sees no CUDA device).

Device resolution, bfloat16 autocast on CUDA, the counter-based random streams (identical on CPU
and CUDA, which makes ensembles device-independent), and a short training and sampling run on
CUDA that matches the same run on the CPU. Training draws every random number from CPU
generators, so the two devices see the same data, noise and initial weights and differ only by
floating-point round-off.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from ddmdyn.diffusion.ensemble import diffusion_ensemble
from ddmdyn.diffusion.samplers import sample
from ddmdyn.diffusion.training import build_model, train_diffusion, training_autocast
from ddmdyn.rng import counter_normal, counter_uniform
from ddmdyn.runtime import resolve_device
from tests.unit.test_diffusion_training import TINY, TRAIN, VAL

pytestmark = pytest.mark.gpu

CUDA = torch.device("cuda")


@pytest.fixture(autouse=True)
def _exact_float32_matmuls():
    """No TF32 (10-bit mantissa) in float32 matmuls, so CPU and CUDA agree to float32 round-off."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def test_device_resolution_prefers_cuda():
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cuda").type == "cuda"
    assert resolve_device("cpu").type == "cpu"


def test_cuda_autocast_in_bfloat16():
    net = build_model(replace(TINY, hidden=32, n_blocks=2)).network.to(CUDA)
    z = torch.randn(256, 3, device=CUDA)
    t = torch.randint(1, TINY.timesteps + 1, (256,), device=CUDA)
    ref = net(z, t)
    with training_autocast(CUDA, "bfloat16"):
        lin = torch.nn.functional.linear(z, torch.randn(8, 3, device=CUDA))
        out = net(z, t)
        h = net.hidden_state(z, t)
    assert lin.dtype == torch.bfloat16  # matmuls really run in bfloat16
    assert h.dtype == torch.float32  # the residual stream stays float32
    torch.testing.assert_close(out.float(), ref, rtol=0.05, atol=0.02)
    with training_autocast(CUDA, "float32"):
        assert torch.nn.functional.linear(z, torch.randn(8, 3, device=CUDA)).dtype == torch.float32


def test_counter_streams_equal_on_cpu_and_cuda():
    ids = torch.arange(10_000)
    for device in ("cpu", "cuda"):
        assert counter_normal(7, ids.to(device), 3, n=3).device.type == device
    u_cpu = counter_uniform(7, ids, 3, n=5)
    u_gpu = counter_uniform(7, ids.to(CUDA), 3, n=5)
    assert torch.equal(u_cpu, u_gpu.cpu())  # integer hashing: bit for bit
    n_cpu = counter_normal(7, ids, 3, n=5, dtype=torch.float64)
    n_gpu = counter_normal(7, ids.to(CUDA), 3, n=5, dtype=torch.float64)
    torch.testing.assert_close(n_cpu, n_gpu.cpu(), rtol=1e-12, atol=1e-12)  # log/cos ulps


def test_training_and_sampling_on_cuda_match_cpu(tmp_path):
    cfg = replace(TINY, n_steps=30, val_every=10, checkpoint_every=1000)
    runs = {
        dev: train_diffusion(cfg, TRAIN, VAL, tmp_path / f"{dev}.ckpt", device=dev, progress=False)
        for dev in ("cpu", "cuda")
    }
    np.testing.assert_allclose(
        runs["cuda"].history["train_loss"], runs["cpu"].history["train_loss"], rtol=1e-3
    )
    # Adam steps have size ~lr whatever the gradient, so a weight whose gradient is round-off
    # small may step differently: 30 steps of lr 3e-3 bound that by 0.09; typical drift is ~1e-6
    for key, cpu_value in runs["cpu"].raw_state.items():
        diff = (runs["cuda"].raw_state[key] - cpu_value).abs()
        assert diff.max() < 0.1 and diff.median() < 1e-3, (key, diff.max(), diff.median())

    # the same weights sample the same states and ensembles on both devices
    model = build_model(cfg)
    model.network.load_state_dict(runs["cpu"].ema_state)
    model.eval()
    out = {}
    for dev in ("cpu", "cuda"):
        m = model.to(dev)
        with torch.inference_mode():
            x = sample(m.denoise, m.schedule, 512, 10, seed=3, batch_size=256, device=dev)
            states = torch.as_tensor(VAL[:4], device=dev)
            ens = diffusion_ensemble(m.denoise, m.schedule, states, 6, [2, 5], 10, seed=1)
        out[dev] = (x.cpu(), ens.cpu())
    torch.testing.assert_close(out["cuda"][0], out["cpu"][0], rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(out["cuda"][1], out["cpu"][1], rtol=1e-3, atol=1e-3)
