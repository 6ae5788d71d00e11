"""Counter-based random numbers: noise as a pure function of (seed, keys..., component).

A stateful generator hands out numbers in the order they are asked for, so the noise a sample gets
depends on how many samples were drawn before it (batch size, device count, resumption point).
Here every number is a hash of its *coordinates* instead: ``counter_normal(seed, i, step, n=3)``
gives sample ``i`` at ``step`` the same three normals whatever else is computed in the same call.

The hash is the "lowbias32" 32-bit integer finaliser (Chris Wellons' hash prospector), chained over
the 32-bit words of the seed and of every key. It runs in int64 torch arithmetic on the device of
the key tensors. Products are split into 16-bit halves so that no intermediate exceeds 2**49: no
int64 overflow can occur anywhere, and the results are identical on every device and platform.
Normals come from the Box-Muller transform of two independent 32-bit uniforms per component
(cosine branch only), so component ``j`` does not depend on ``n``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["CounterKey", "counter_key", "counter_normal", "counter_uniform", "hash32"]

_MASK32 = 0xFFFFFFFF
_C1 = 0x7FEB352D
_C2 = 0x846CA68B
_GOLDEN = 0x9E3779B9
_TWO_PI = 2.0 * math.pi


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2**32 for x in [0, 2**32) without any intermediate above 2**49."""
    lo = x * (c & 0xFFFF)
    hi = ((x * (c >> 16)) & 0xFFFF) << 16
    return (lo + hi) & _MASK32


def hash32(x: torch.Tensor) -> torch.Tensor:
    """lowbias32 finaliser on int64 tensors holding values in [0, 2**32); a bijection."""
    x = x ^ (x >> 16)
    x = _mul32(x, _C1)
    x = x ^ (x >> 15)
    x = _mul32(x, _C2)
    return x ^ (x >> 16)


def _as_key(k: int | torch.Tensor, device: torch.device) -> torch.Tensor:
    if isinstance(k, torch.Tensor):
        if k.dtype.is_floating_point or k.dtype == torch.bool:
            raise TypeError(f"keys must be integers, got a {k.dtype} tensor")
        return k.to(device=device, dtype=torch.int64)
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"keys must be int or integer tensors, got {type(k).__name__}")
    if not -(2**63) <= k < 2**64:
        raise ValueError(f"key {k} does not fit in 64 bits")
    if k >= 2**63:
        k -= 2**64
    return torch.tensor(k, dtype=torch.int64, device=device)


def _absorb(h: torch.Tensor, word: torch.Tensor, position: int) -> torch.Tensor:
    """Mix one 32-bit word into the running hash; position makes the order matter."""
    salt = (position * _GOLDEN + 0x632BE5AB) & _MASK32
    return hash32(h ^ hash32((word + salt) & _MASK32))


class CounterKey:
    """A hashed key prefix (seed, keys...); extend it with further keys, then draw numbers.

    ``counter_key(seed, a, b).extend(c).normal(n)`` equals ``counter_normal(seed, a, b, c, n=n)``;
    hashing a long-lived prefix once (e.g. sample ids) and extending it per step saves work.
    """

    def __init__(self, h: torch.Tensor, n_words: int) -> None:
        self.h = h
        self.n_words = n_words

    @property
    def device(self) -> torch.device:
        return self.h.device

    def extend(self, *keys: int | torch.Tensor) -> CounterKey:
        """New prefix with `keys` appended (tensor keys broadcast against the prefix)."""
        h, pos = self.h, self.n_words
        for k in keys:
            kt = _as_key(k, h.device)
            h = _absorb(h, kt & _MASK32, pos)
            h = _absorb(h, (kt >> 32) & _MASK32, pos + 1)
            pos += 2
        return CounterKey(h, pos)

    def index(self, rows: torch.Tensor) -> CounterKey:
        """Rows of a 1-D prefix (e.g. the active samples), as a new prefix."""
        return CounterKey(self.h[rows], self.n_words)

    def uniform(self, n: int, stream: int = 0) -> torch.Tensor:
        """Uniforms in (0, 1), float64, shape h.shape + (n,)."""
        return (_component_bits(self.h, n, stream).to(torch.float64) + 0.5) * (1.0 / 2**32)

    def normal(self, n: int, dtype=torch.float32) -> torch.Tensor:
        """Standard normals (Box-Muller, cosine branch), shape h.shape + (n,)."""
        j = torch.arange(2 * n, dtype=torch.int64, device=self.h.device)  # word 2j + stream
        bits = hash32(self.h.unsqueeze(-1) ^ hash32((j + 0x2545F491) & _MASK32))
        u = (bits.to(torch.float64) + 0.5) * (1.0 / 2**32)
        u1, u2 = u[..., 0::2], u[..., 1::2]
        return (torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(_TWO_PI * u2)).to(dtype)


def counter_key(seed: int, *keys: int | torch.Tensor, device=None) -> CounterKey:
    """Hash (seed, keys...) into a `CounterKey`; device defaults to the first tensor key's."""
    tensor_keys = [k for k in keys if isinstance(k, torch.Tensor)]
    if device is None:
        device = tensor_keys[0].device if tensor_keys else torch.device("cpu")
    h = torch.tensor(0x1B873593, dtype=torch.int64, device=torch.device(device))
    return CounterKey(h, 0).extend(seed, *keys)


def _component_bits(h: torch.Tensor, n: int, stream: int) -> torch.Tensor:
    """32-bit words (..., n) for components 0..n-1 of sub-stream `stream` (0 or 1)."""
    j = torch.arange(n, dtype=torch.int64, device=h.device)
    word = hash32((j * 2 + stream + 0x2545F491) & _MASK32)
    return hash32(h.unsqueeze(-1) ^ word)


def counter_uniform(
    seed: int, *keys: int | torch.Tensor, n: int, device=None, stream: int = 0
) -> torch.Tensor:
    """Uniforms in the open interval (0, 1), float64, shape broadcast(keys) + (n,).

    ``seed`` and each key are integers (Python ints or integer tensors, which broadcast against each
    other). ``stream`` selects one of two independent sub-streams (used by Box-Muller).
    """
    return counter_key(seed, *keys, device=device).uniform(n, stream)


def counter_normal(
    seed: int, *keys: int | torch.Tensor, n: int, device=None, dtype=torch.float32
) -> torch.Tensor:
    """Standard normals as a deterministic function of (seed, keys..., component).

    Args:
        seed: integer seed (any 64-bit value; 0 is a valid seed).
        *keys: integers or integer tensors (e.g. sample ids (B,), a step number); tensor keys
            broadcast together. Order matters: (1, 2) and (2, 1) give different numbers.
        n: number of components per key tuple (the last output axis).
        device: device of the result; defaults to the device of the first tensor key, else CPU.
        dtype: floating dtype of the result (computed in float64, then cast).

    Returns:
        Tensor of shape broadcast(keys) + (n,) with i.i.d. N(0, 1) entries; component j does not
        depend on n. The magnitude is bounded by sqrt(2 ln 2**33) ~= 6.8.
    """
    return counter_key(seed, *keys, device=device).normal(n, dtype)
