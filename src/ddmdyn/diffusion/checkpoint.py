"""Model files: weights loadable with ``torch.load(weights_only=True)`` plus a JSON sidecar.

A model file ``<path>`` is a dict of plain types and tensors:
    {"format": "ddmdyn-diffusion/1", "hparams": {...}, "raw": state_dict, "ema": state_dict,
     "extra": {...}}
and ``<path>.json`` repeats "hparams" and "extra" for humans and tools. "hparams" holds
everything needed to rebuild the model: network kwargs, schedule description, head and loss,
and the training config. Both files are written atomically (temporary file, then os.replace).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, is_dataclass
from pathlib import Path

import torch

from ..io import atomic_write_text, save_torch
from .heads import make_head
from .model import DiffusionModel
from .network import DenseResidualDenoiser
from .schedules import NoiseSchedule, make_schedule

__all__ = ["load_diffusion_model", "read_model_file", "save_model", "sidecar_path"]

FORMAT = "ddmdyn-diffusion/1"


def sidecar_path(path: str | os.PathLike) -> Path:
    """Path of the JSON sidecar of a model file: '<path>.json'."""
    p = Path(path)
    return p.with_name(p.name + ".json")


def _json_safe(obj):
    """Plain JSON types; NaN/inf become None, tensors/arrays become lists."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return _json_safe(obj.tolist())
    if hasattr(obj, "tolist"):
        return _json_safe(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def save_model(
    path: str | os.PathLike,
    model: DiffusionModel,
    cfg=None,
    raw_state: dict[str, torch.Tensor] | None = None,
    ema_state: dict[str, torch.Tensor] | None = None,
    extra: dict | None = None,
) -> Path:
    """Write a model file and its JSON sidecar atomically; returns the model file path.

    Args:
        path: output torch file.
        model: the `DiffusionModel` (architecture, schedule, head); its current network weights
            are stored as "raw" unless raw_state is given.
        cfg: training config (dataclass or dict) recorded in hparams["train_config"]; its
            'loss' entry is also recorded as hparams["loss"].
        raw_state, ema_state: network state dicts; ema_state defaults to raw_state.
        extra: further plain metadata (history, provenance, ...): tensors, dicts, lists, str,
            int, float, bool, None only.
    """
    path = Path(path)
    net = model.network
    cfg_dict = asdict(cfg) if is_dataclass(cfg) else dict(cfg or {})
    hparams = {
        "network": {"class": type(net).__name__, **net.hparams},
        "schedule": model.schedule.to_dict(),
        "head": model.head.name,
        "loss": cfg_dict.get("loss", "mse"),
        "train_config": cfg_dict,
    }
    raw = {k: v.detach().cpu() for k, v in (raw_state or net.state_dict()).items()}
    ema = {k: v.detach().cpu() for k, v in (ema_state or raw).items()}
    payload = {
        "format": FORMAT,
        "hparams": hparams,
        "alpha_bar": model.schedule.alpha_bar.clone(),
        "raw": raw,
        "ema": ema,
        "extra": extra or {},
    }
    save_torch(payload, path)
    text = json.dumps(
        _json_safe({"format": FORMAT, "hparams": hparams, "extra": extra or {}}), indent=2
    )
    atomic_write_text(sidecar_path(path), text)
    return path


def read_model_file(path: str | os.PathLike) -> dict:
    """The raw model-file dict (loaded on CPU with weights_only=True)."""
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} model file")
    return payload


def load_diffusion_model(
    path: str | os.PathLike, weights: str = "raw", device: str | torch.device = "cpu"
) -> DiffusionModel:
    """Rebuild a `DiffusionModel` from a model file alone ('raw' or 'ema' weights), in eval mode."""
    if weights not in ("raw", "ema"):
        raise ValueError("weights must be 'raw' or 'ema'")
    payload = read_model_file(path)
    hp = payload["hparams"]
    net_hp = dict(hp["network"])
    cls = net_hp.pop("class")
    if cls != "DenseResidualDenoiser":
        raise ValueError(f"unsupported network class {cls!r}")
    net = DenseResidualDenoiser(**net_hp)
    net.load_state_dict(payload[weights])
    sched_hp = dict(hp["schedule"])
    name, timesteps = sched_hp.pop("name"), sched_hp.pop("timesteps")
    if name == "custom":
        schedule = NoiseSchedule(payload["alpha_bar"])
    else:
        schedule = make_schedule(name, timesteps, **sched_hp)
    model = DiffusionModel(net, schedule, make_head(hp["head"]))
    return model.to(device).eval()
