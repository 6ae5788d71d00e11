"""Diffusion training loop: learning, EMA, determinism, kill/resume, signals, NaN handling."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from ddmdyn.diffusion.checkpoint import load_diffusion_model, save_model
from ddmdyn.diffusion.ensemble import diffusion_ensemble
from ddmdyn.diffusion.samplers import sample
from ddmdyn.diffusion.training import (
    DiffusionTrainConfig,
    NonFiniteLossError,
    build_model,
    train_diffusion,
)

TINY = DiffusionTrainConfig(
    head="velocity",
    schedule="cosine",
    loss="mse",
    timesteps=100,
    hidden=16,
    n_blocks=1,
    emb_dim=8,
    learning_rate=3e-3,
    batch_size=64,
    n_steps=40,
    ema_decay=0.9,
    val_every=10,
    val_batches=2,
    checkpoint_every=5,
    seed=0,
    log_every=10,
)


pytestmark = pytest.mark.usefixtures("torch_single_thread")


def _data(n, seed):
    rng = np.random.default_rng(seed)
    centres = np.array([[-1.0, -1.0, 0.0], [1.0, 1.0, 0.5]])
    lab = rng.integers(0, 2, n)
    return (centres[lab] + 0.2 * rng.standard_normal((n, 3))).astype(np.float32)


TRAIN, VAL = _data(500, 1), _data(200, 2)  # 8 batches of 64 per epoch, the last of 52

SCRIPT = textwrap.dedent(
    """
    import sys, time, numpy as np, torch
    from dataclasses import replace
    torch.set_num_threads(1)
    sys.path.insert(0, {test_dir!r})
    from test_diffusion_training import TINY, TRAIN, VAL
    from ddmdyn.checkpointing import JobInterrupted
    from ddmdyn.diffusion.training import train_diffusion
    ckpt, out, slow = sys.argv[1], sys.argv[2], sys.argv[3] == "slow"
    cfg = replace(TINY, log_every=1)
    log = (lambda msg: time.sleep(0.1)) if slow else None
    try:
        res = train_diffusion(cfg, TRAIN, VAL, ckpt, progress=False, log=log)
    except JobInterrupted as exc:
        print("interrupted at", exc.step, flush=True)
        sys.exit(3)
    torch.save({{"raw": res.raw_state, "ema": res.ema_state}}, out)
    """
)


def _run_script(tmp_path, ckpt, out, slow):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT.format(test_dir=os.path.dirname(__file__)))
    return subprocess.Popen(
        [sys.executable, str(script), str(ckpt), str(out), "slow" if slow else "fast"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path, proc, timeout=120.0):
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training process ended early: {proc.communicate()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("no checkpoint appeared")
        time.sleep(0.01)


def _assert_same_states(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _uninterrupted(tmp_path, cfg=None):
    cfg = cfg or replace(TINY, log_every=1)
    return train_diffusion(cfg, TRAIN, VAL, tmp_path / "ref.ckpt", progress=False)


# --------------------------------------------------------------------------------------------
# What a trained model learned: a toy law with two clusters of unequal weight

TOY_CENTRES = np.array([[-1.0, -1.0, 0.0], [1.0, 1.0, 0.5]])
TOY_WEIGHT_A, TOY_STD = 0.3, 0.2  # cluster A (first centre) has weight 0.3, B 0.7


def _toy_data(n, seed):
    rng = np.random.default_rng(seed)
    lab = (rng.random(n) >= TOY_WEIGHT_A).astype(int)
    return (TOY_CENTRES[lab] + TOY_STD * rng.standard_normal((n, 3))).astype(np.float32)


TOY = replace(
    TINY, hidden=32, n_blocks=1, emb_dim=16, learning_rate=1e-2, batch_size=256, n_steps=500,
    ema_decay=0.99, val_every=250, checkpoint_every=10_000, log_every=100,
)  # fmt: skip
TOY_K = 50  # coarse sampling steps


def _nearest_centre(x: np.ndarray) -> np.ndarray:
    return np.argmin(((x[..., None, :] - TOY_CENTRES) ** 2).sum(-1), axis=-1)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """500 Adam steps on 4000 toy states (33 s measured on a 2-core machine at load ~20); EMA
    weights loaded."""
    lines = []
    ckpt = tmp_path_factory.mktemp("toy") / "c.ckpt"
    res = train_diffusion(
        TOY, _toy_data(4000, 1), _toy_data(500, 2), ckpt, progress=False, log=lines.append
    )
    model = build_model(TOY)
    model.network.load_state_dict(res.ema_state)
    return res, model.eval(), lines


def test_loss_history(toy):
    res, _, lines = toy
    h = res.history
    assert h["step"] == list(range(1, 501))
    assert len(h["train_loss"]) == len(h["val_loss"]) == len(h["wall_time"]) == 500
    val_steps = [s for s, v in zip(h["step"], h["val_loss"], strict=True) if not math.isnan(v)]
    assert val_steps == [250, 500]
    assert np.all(np.diff(h["wall_time"]) >= 0)
    assert any("step 500/500" in line and "val_loss" in line for line in lines)
    assert res.steps == 500 and res.config == TOY


def test_samples_reproduce_cluster_weights_and_means(toy):
    """4000 samples: weight of cluster A 0.3 +- 0.05 (sampling error 0.007), cluster means
    within 0.1 and within-cluster std 0.2 +- 0.08 (the model's own error at this size)."""
    _, model, _ = toy
    x = sample(model, model.schedule, 4000, TOY_K, seed=0, batch_size=4000).double().numpy()
    lab = _nearest_centre(x)
    assert abs((lab == 0).mean() - TOY_WEIGHT_A) < 0.05
    for j in (0, 1):
        np.testing.assert_allclose(x[lab == j].mean(0), TOY_CENTRES[j], atol=0.1)
        np.testing.assert_allclose(x[lab == j].std(0), TOY_STD, atol=0.08)


def test_ensembles_stay_in_their_cluster_or_forget_it_with_depth(toy):
    """Shallow ensembles (S = 10 of 50) around each centre stay in its cluster, centred on it;
    at full depth (S = K) the members forget the state and follow the cluster weights."""
    _, model, _ = toy
    states = torch.as_tensor(TOY_CENTRES, dtype=torch.float32)
    with torch.inference_mode():
        ens = diffusion_ensemble(model, model.schedule, states, 500, [10, TOY_K], TOY_K, seed=1)
    ens = ens.double().numpy()  # (2 states, 2 depths, 500 members, 3)
    for j in (0, 1):
        shallow = ens[j, 0]
        assert (_nearest_centre(shallow) == j).mean() > 0.98
        np.testing.assert_allclose(shallow.mean(0), TOY_CENTRES[j], atol=0.1)
        assert 0.5 * TOY_STD < shallow.std(0).mean() < 1.5 * TOY_STD
        deep = _nearest_centre(ens[j, 1])
        assert abs((deep == 0).mean() - TOY_WEIGHT_A) < 0.08  # 500 members: error ~0.02


def test_bfloat16_mixed_precision_learns_like_float32(tmp_path):
    cfg = replace(TINY, n_steps=400, val_every=100, checkpoint_every=1000, batch_size=128)
    runs = {
        p: train_diffusion(
            replace(cfg, precision=p), TRAIN, VAL, tmp_path / f"{p}.ckpt", progress=False
        )
        for p in ("float32", "bfloat16")
    }
    losses = {p: np.asarray(r.history["train_loss"]) for p, r in runs.items()}
    assert np.isfinite(losses["bfloat16"]).all()
    first, last = losses["bfloat16"][:20].mean(), losses["bfloat16"][-50:].mean()
    assert last < 0.75 * first, (first, last)
    # same data, noise and initialisation: the curves agree to bfloat16 accuracy
    assert abs(last - losses["float32"][-50:].mean()) < 0.05 * last
    bf16 = runs["bfloat16"].raw_state
    assert all(v.dtype == torch.float32 for v in bf16.values())  # float32 master weights
    assert any(not torch.equal(bf16[k], runs["float32"].raw_state[k]) for k in bf16)


def test_autocast_keeps_the_residual_stream_in_float32():
    net = build_model(replace(TINY, hidden=32, n_blocks=2)).network
    z, t = torch.randn(256, 3), torch.randint(1, TINY.timesteps + 1, (256,))
    ref_h, ref = net.hidden_state(z, t), net(z, t)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h, out = net.hidden_state(z, t), net(z, t)
    assert h.dtype == torch.float32
    torch.testing.assert_close(h, ref_h, rtol=0.02, atol=0.02)  # bfloat16: ~3 digits
    torch.testing.assert_close(out.float(), ref, rtol=0.05, atol=0.02)


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="precision must be one of"):
        replace(TINY, precision="float16")


def test_ema_initialised_at_initial_weights(tmp_path):
    frozen = train_diffusion(
        replace(TINY, n_steps=1, ema_decay=1.0), TRAIN, VAL, tmp_path / "a.ckpt", progress=False
    )
    init = frozen.ema_state  # decay 1 -> EMA never moves from the initial weights
    assert any(v.abs().sum() > 0 for v in init.values())
    assert not all(torch.equal(init[k], frozen.raw_state[k]) for k in init)
    res = train_diffusion(
        replace(TINY, n_steps=1, ema_decay=0.999), TRAIN, VAL, tmp_path / "b.ckpt", progress=False
    )
    for k in init:  # same seed -> same initial weights and the same first step
        assert torch.equal(res.raw_state[k], frozen.raw_state[k])
        expected = 0.999 * init[k] + 0.001 * res.raw_state[k]
        torch.testing.assert_close(res.ema_state[k], expected, atol=1e-7, rtol=1e-6)


def test_seeded_reproducible_and_seed_zero_is_real(tmp_path):
    a = train_diffusion(replace(TINY, n_steps=6), TRAIN, VAL, tmp_path / "a.ckpt", progress=False)
    b = train_diffusion(replace(TINY, n_steps=6), TRAIN, VAL, tmp_path / "b.ckpt", progress=False)
    c = train_diffusion(
        replace(TINY, n_steps=6, seed=1), TRAIN, VAL, tmp_path / "c.ckpt", progress=False
    )
    _assert_same_states(a.raw_state, b.raw_state)
    assert not torch.equal(a.raw_state["input_proj.weight"], c.raw_state["input_proj.weight"])


def test_kill_and_resume_is_bitwise_identical(tmp_path):
    ckpt, out = tmp_path / "run.ckpt", tmp_path / "out.pt"
    proc = _run_script(tmp_path, ckpt, out, slow=True)
    _wait_for(ckpt, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    step_at_kill = torch.load(ckpt, weights_only=True)["step"]
    assert 0 < step_at_kill < TINY.n_steps, "the run was not interrupted mid-way"
    proc = _run_script(tmp_path, ckpt, out, slow=False)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    resumed = torch.load(out, weights_only=True)
    ref = _uninterrupted(tmp_path)
    _assert_same_states(resumed["raw"], ref.raw_state)
    _assert_same_states(resumed["ema"], ref.ema_state)
    hist = torch.load(ckpt, weights_only=True)["history"]
    assert hist["train_loss"] == ref.history["train_loss"]
    np.testing.assert_array_equal(hist["val_loss"], ref.history["val_loss"])


def test_sigterm_checkpoints_and_raises(tmp_path):
    ckpt, out = tmp_path / "run.ckpt", tmp_path / "out.pt"
    proc = _run_script(tmp_path, ckpt, out, slow=True)
    _wait_for(ckpt, proc)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 3, (stdout, stderr)
    step = int(stdout.split("interrupted at")[1].split()[0])
    assert torch.load(ckpt, weights_only=True)["step"] == step < TINY.n_steps
    res = train_diffusion(replace(TINY, log_every=1), TRAIN, VAL, ckpt, progress=False)
    _assert_same_states(res.raw_state, _uninterrupted(tmp_path).raw_state)


def test_completed_checkpoint_is_reused_and_config_checked(tmp_path):
    ckpt = tmp_path / "c.ckpt"
    a = train_diffusion(replace(TINY, n_steps=5), TRAIN, VAL, ckpt, progress=False)
    mtime = ckpt.stat().st_mtime_ns
    b = train_diffusion(replace(TINY, n_steps=5), TRAIN, VAL, ckpt, progress=False)
    _assert_same_states(a.raw_state, b.raw_state)
    assert ckpt.stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="different config"):
        train_diffusion(replace(TINY, n_steps=5, hidden=8), TRAIN, VAL, ckpt, progress=False)
    # extending n_steps continues the same run
    c = train_diffusion(replace(TINY, n_steps=10), TRAIN, VAL, ckpt, progress=False)
    d = train_diffusion(replace(TINY, n_steps=10), TRAIN, VAL, tmp_path / "d.ckpt", progress=False)
    _assert_same_states(c.raw_state, d.raw_state)
    assert not list(tmp_path.glob(".*.tmp"))


def test_non_finite_loss_raises_and_keeps_checkpoint(tmp_path):
    ckpt = tmp_path / "c.ckpt"
    train_diffusion(replace(TINY, n_steps=5), TRAIN, VAL, ckpt, progress=False)
    before = ckpt.read_bytes()
    bad = TRAIN.copy()
    bad[::7] = np.inf
    with pytest.raises(NonFiniteLossError, match="step 6"):
        train_diffusion(replace(TINY, n_steps=20), bad, VAL, ckpt, progress=False)
    assert ckpt.read_bytes() == before


def test_train_save_load_sample_round_trip(toy, tmp_path):
    """Write the trained toy model's file, rebuild it alone: same weights, same samples and
    ensembles as the model in memory (and those were checked for what they learned above)."""
    res, model, _ = toy
    path = save_model(
        tmp_path / "model.pt",
        build_model(TOY),
        TOY,
        res.raw_state,
        res.ema_state,
        extra={"history": res.history},
    )
    for which, sd in (("raw", res.raw_state), ("ema", res.ema_state)):
        loaded = load_diffusion_model(path, which)
        for k, v in loaded.network.state_dict().items():
            assert torch.equal(v, sd[k])
    loaded = load_diffusion_model(path, "ema")
    for m in (model, loaded):
        m.eval()
    x = sample(loaded, loaded.schedule, 64, 10, seed=0, batch_size=32)
    assert torch.equal(x, sample(model, model.schedule, 64, 10, seed=0, batch_size=32))
    states = torch.as_tensor(TOY_CENTRES, dtype=torch.float32)
    with torch.inference_mode():
        ens = diffusion_ensemble(loaded, loaded.schedule, states, 5, [2, 5], 10)
        ref = diffusion_ensemble(model, model.schedule, states, 5, [2, 5], 10)
    assert ens.shape == (2, 2, 5, 3) and torch.equal(ens, ref)


def test_checkpoint_of_another_run_is_discarded_and_own_is_kept(tmp_path):
    from ddmdyn.checkpointing import claim_checkpoint, release_checkpoint

    ckpt = tmp_path / "state.pt"
    claim_checkpoint(ckpt, "run-a")
    ckpt.write_bytes(b"state of run a")
    claim_checkpoint(ckpt, "run-a")  # the same run resumes
    assert ckpt.read_bytes() == b"state of run a"
    messages = []
    claim_checkpoint(ckpt, "run-b", log=messages.append)  # other parameters or data
    assert not ckpt.exists() and "discarding" in messages[0]
    ckpt.write_bytes(b"state of run b")
    release_checkpoint(ckpt)
    assert list(tmp_path.iterdir()) == []
