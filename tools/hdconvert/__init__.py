# SPDX-License-Identifier: GPL-3.0-or-later
"""The converter behind hyperdomain-convert: reads StyleGAN2 generators,
HyperDomainNet domains and hypernetworks, and CLIP text towers from PyTorch
checkpoints and network pickles, without PyTorch, and writes Hyperdomain's
safetensors files (spec/formats.md, spec/text-domains.md)."""

__all__ = ["cli", "clip", "errors", "hyperdomainnet", "hypernetwork", "nvlabs", "rosinality",
           "safetensors", "stylegan2", "torchfile"]
