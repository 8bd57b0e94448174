#!/usr/bin/env python3
"""Writes the seed corpora of mue-fuzz's fuzz tests (run once; the output is committed).

Each target gets a few small, valid inputs of the kinds mue reads, so that fuzzing starts from
inputs that reach deep into the readers: safetensors files in every dtype, config.json files,
fairseq dictionaries, tokenizer texts, images in every format ImageIO may decode (PNG of several
colour types and depths, JPEG RGB/grey/CMYK, GIF, BMP, TIFF, WebP), and PyTorch checkpoints in both
of torch.save's formats. Needs Pillow and PyTorch (Debian's python3-pil and python3-torch).
Usage: scripts/fuzz-seeds.py [REPO_ROOT]
"""
import argparse
import io
import json
import os
import struct
import sys

import torch
from PIL import Image

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
BASE = os.path.join(ROOT, "mue-fuzz", "src", "test", "resources", "dev", "mue", "fuzz")


def out(test, method, name, data):
    d = os.path.join(BASE, test + "Inputs", method)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


# ---- safetensors ----
T = "SafetensorsFuzzTest"
M = "readsOrRefuses"
out(T, M, "f32", safetensors({"w": ("F32", [2, 3], f32(1, -2.5, 0.125, 3e-5, 1e6, -0.0)), "b": ("F32", [2], f32(0.5, 7))}))
out(T, M, "f16", safetensors({"w": ("F16", [4], struct.pack("<4e", 1, -2, 0.5, 65504))}, {"format": "pt"}))
out(T, M, "bf16", safetensors({"x": ("BF16", [2, 2], bytes([0x80, 0x3f, 0x00, 0x40, 0x00, 0xc0, 0x80, 0x7f]))}))
out(T, M, "empty-tensor", safetensors({"e": ("F32", [0, 3], b""), "s": ("F32", [], f32(42))}))
out(T, M, "no-tensors", safetensors({}))
out(T, M, "trailing", safetensors({"w": ("F32", [1], f32(1))}) + b"junk")

# ---- config.json ----
T = "ConfigJsonFuzzTest"
M = "parsesOrRefuses"
grid = open(os.path.join(ROOT, "mue-model-grid/src/main/resources/dev/mue/model/grid/mue-grid/config.json"), "rb").read()
out(T, M, "grid", grid)
tiny = {"name": "ofa-tiny", "d_model": 256, "encoder_layers": 4, "decoder_layers": 4, "heads": 4, "ffn_dim": 1024,
        "vocab_size": 59457, "max_positions": 1024, "token_bucket_size": 256, "image_bucket_size": 42,
        "image_size": 480, "resnet": {"stem_channels": 64, "base_width": 64, "blocks": [3, 4, 6]},
        "attn_scale_factor": 2.0, "layer_norm_eps": 1e-5,
        "conventions": {"token_bucket_positions": 1024, "image_resize": "pil-bicubic", "text_normalization": "ofa",
                        "max_words": 128, "ban_bos_in_generation": False}}
out(T, M, "ofa-tiny", json.dumps(tiny, indent=2).encode())
big = dict(tiny, encoder_layers=100000)
out(T, M, "many-layers", json.dumps(big).encode())
out(T, M, "overflow", json.dumps(dict(tiny, max_positions=2147483647, token_bucket_size=2000000000)).encode())

# ---- dict.txt ----
T = "DictionaryFuzzTest"
M = "readsOrRefuses"
out(T, M, "grid", open(os.path.join(ROOT, "mue-model-grid/src/main/resources/dev/mue/model/grid/mue-grid/dict.txt"), "rb").read())
out(T, M, "ofa-like", b"13 850314\n262 800385\n11 800251\n284 432911\nmadeupword0000 0\n<mask> 1\n<code_0> 1\n<bin_0> 1\n")
out(T, M, "flags", b"50256 1 #fairseq:overwrite\n")

# ---- tokenizer (FuzzedDataProvider bytes: any bytes are a valid input) ----
T = "TokenizerFuzzTest"
M = "encodesAndDecodes"
for i, text in enumerate(["a dress and a sneaker, two bags.", "  <person> rides; a HORSE!? ", "déjà vu \u3000 ünïcödé 😀",
                          " what does the image describe?"]):
    out(T, M, "text-%d" % i, text.encode() + bytes(range(0, 64)))

# ---- images ----
T = "ImageFuzzTest"
M = "decodesAndPreprocessesOrRefuses"


def saved(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


rgb = Image.new("RGB", (12, 9))
for y in range(9):
    for x in range(12):
        rgb.putpixel((x, y), (x * 21, y * 28, (x * y * 7) % 256))
out(T, M, "rgb.png", saved(rgb, "PNG"))
out(T, M, "rgba.png", saved(rgb.convert("RGBA"), "PNG"))
out(T, M, "gray.png", saved(rgb.convert("L"), "PNG"))
out(T, M, "gray16.png", saved(rgb.convert("L").convert("I;16"), "PNG"))
out(T, M, "palette.png", saved(rgb.convert("P"), "PNG"))
out(T, M, "bilevel.png", saved(rgb.convert("1"), "PNG"))
out(T, M, "rgb.jpg", saved(rgb, "JPEG", quality=90))
out(T, M, "gray.jpg", saved(rgb.convert("L"), "JPEG"))
out(T, M, "cmyk.jpg", saved(rgb.convert("CMYK"), "JPEG"))
out(T, M, "progressive.jpg", saved(rgb, "JPEG", progressive=True))
out(T, M, "rgb.gif", saved(rgb, "GIF"))
out(T, M, "rgb.bmp", saved(rgb, "BMP"))
out(T, M, "rgb.tiff", saved(rgb, "TIFF"))
try:
    out(T, M, "rgb.webp", saved(rgb, "WEBP", lossless=True))
    out(T, M, "lossy.webp", saved(rgb, "WEBP", quality=80))
except (KeyError, OSError):
    pass  # Pillow without WebP support

# ---- checkpoints ----
T = "CheckpointFuzzTest"
M = "readsOrRefuses"


def saved_torch(obj, zip_format):
    b = io.BytesIO()
    torch.save(obj, b, _use_new_zipfile_serialization=zip_format)
    return b.getvalue()


torch.manual_seed(1)
state = {"encoder.layers.0.fc1.weight": torch.randn(3, 2), "encoder.layers.0.fc1.bias": torch.randn(3)}
out(T, M, "zip.pt", saved_torch({"model": state}, True))
out(T, M, "legacy.pt", saved_torch({"model": state}, False))
half = {k: v.half() for k, v in state.items()}
out(T, M, "f16-args.pt", saved_torch({"model": half, "args": argparse.Namespace(arch="ofa_tiny", patch_image_size=64)}, True))
base = torch.randn(4, 4)
views = {"t": base.t(), "row": base[1], "plain": base}
out(T, M, "views.pt", saved_torch({"model": views}, False))
print("seeds written under", BASE)
