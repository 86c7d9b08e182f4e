# SPDX-License-Identifier: GPL-3.0-or-later
"""The converter behind hyperdomain-convert: reads StyleGAN2 generators and
HyperDomainNet domains from PyTorch checkpoints and network pickles, without
PyTorch, and writes Hyperdomain's safetensors files (spec/formats.md)."""

__all__ = ["cli", "errors", "hyperdomainnet", "nvlabs", "rosinality", "safetensors",
           "stylegan2", "torchfile"]
