# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the training tools: loading a generator file into the
trainable module, seeds as the app computes them, domain packs."""
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import stylegan2 as sg  # noqa: E402
import torch_reference as ref  # noqa: E402

# Domain id -> (display name, dataset groups it targets, description)
DOMAINS = {
    "smileys": ("Smileys", ["smileys"], "Trained toward the smiley faces of Noto Color Emoji"),
    "animals": ("Animals", ["animals"], "Trained toward the animal emoji of Noto Color Emoji"),
    "food": ("Food", ["food"], "Trained toward the food and drink emoji of Noto Color Emoji"),
    "flags": ("Flags", ["flags"], "Trained toward the flag emoji of Noto Color Emoji"),
    "plants": ("Plants", ["plants"], "Trained toward the plant and flower emoji of Noto Color Emoji"),
}


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_generator(path, device="cpu"):
    """The trainable Generator with the weights of a generator file (as the app reads them)."""
    tensors, meta = ref.read_safetensors(path)
    cfg = json.loads(meta["hyperdomain.config"])
    G = sg.Generator(z_dim=cfg["z_dim"], w_dim=cfg["w_dim"], img_resolution=cfg["img_resolution"],
                     img_channels=cfg["img_channels"], map_layers=cfg["mapping"]["num_layers"],
                     map_lr=cfg["mapping"]["lr_multiplier"],
                     channel_base=cfg["synthesis"]["channel_base"],
                     channel_max=cfg["synthesis"]["channel_max"],
                     conv_clamp=cfg["synthesis"]["conv_clamp"])
    G.load_state_dict({k: v for k, v in tensors.items() if not k.endswith("resample_filter")})
    return G.to(device).eval(), meta


def seed_z(seeds, z_dim):
    """z of each seed exactly as hyperdomain-render computes it."""
    return torch.from_numpy(np.stack([ref.randn_numpy_legacy(s, z_dim).astype(np.float32) for s in seeds]))


def write_domain_pack(path, domains, generator_name):
    """domains: id -> (name, description, {layer: tensor})."""
    tensors, meta = {}, {
        "hyperdomain.kind": "domain-pack",
        "hyperdomain.version": "1",
        "hyperdomain.modulation": "input-after-demod",
        "hyperdomain.generator": generator_name,
    }
    for did, (name, desc, layers) in domains.items():
        meta[f"{did}.name"] = name
        if desc:
            meta[f"{did}.description"] = desc
        for layer, v in layers.items():
            tensors[f"{did}/{layer}"] = v
    sg.write_safetensors(path, tensors, meta, "F16")
