"""Surrogate models of the Lorenz 63 flow map on top of learned or fixed features.

The experiments are those of docs/decisions.md, E12-E17.

Modules: ``pairs`` (training pairs, roll-out starts), ``backbones`` (feature extractors),
``heads`` (linear / MLP), ``ridge`` (closed-form streaming ridge head), ``training`` (Adam
training, ridge fit), ``rollout`` (autoregressive roll-outs and their scores), ``runner``
(one configuration end to end), ``collect`` (tables of roll-out scores).

Import from the modules: the package itself imports nothing, so that the torch-free ``collect``
does not pay torch's import time (about 1.5 s per job).
"""
