#!/usr/bin/env python3
"""Writes what OFA's image transform gives before ToTensor: Pillow's own bicubic resize.

Usage: pil_resize.py OUT_DIR SIZE IMAGE...

For each IMAGE, OFA's pipeline up to the 8-bit tensor input: Image.open, convert("RGB"),
resize((SIZE, SIZE), Image.BICUBIC) (what torchvision's Resize does on a PIL image). The RGB
bytes, row-major and interleaved, go to OUT_DIR/<image file name>.<SIZE>.rgb; mue's
ImagePreprocessor (PIL_BICUBIC) must reproduce them exactly.
"""
import os
import sys

from PIL import Image


def main():
    out_dir, size, images = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    for path in images:
        with Image.open(path) as im:
            rgb = im.convert("RGB").resize((size, size), Image.BICUBIC)
            name = os.path.join(out_dir, "%s.%d.rgb" % (os.path.basename(path), size))
            with open(name, "wb") as f:
                f.write(rgb.tobytes())
    print("pillow", Image.__version__ if hasattr(Image, "__version__") else "?", "wrote", len(images), "images")


if __name__ == "__main__":
    main()
