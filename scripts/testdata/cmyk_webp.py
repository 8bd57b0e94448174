#!/usr/bin/env python3
"""Writes the CMYK JPEG and WebP images mue-session's tests decode, and Pillow's reading of each.

Usage: cmyk_webp.py OUT_DIR   (the output is committed under
mue-session/src/test/resources/dev/mue/session/image; rerun only to change it)

A 48x32 picture with smooth gradients and saturated patches, saved as:
  photo-rgb.png       the picture itself (lossless)
  photo-cmyk.jpg      Image.convert("CMYK") saved as JPEG: libjpeg writes an Adobe marker and, as
                      Photoshop does, inverted CMYK values
  photo-cmyk.rgb      what OFA's pipeline reads from it: Image.open(...).convert("RGB"), raw bytes
  photo-rgb.jpg       the picture as an RGB JPEG of the same quality, for comparison
  photo-lossless.webp the picture as lossless WebP (decodes to photo-rgb.png exactly)
  photo-lossy.webp    the picture as lossy WebP (VP8)
  photo-lossy.rgb     Pillow's decode of photo-lossy.webp, raw RGB bytes
"""
import os
import sys

from PIL import Image


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    w, h = 48, 32
    img = Image.new("RGB", (w, h))
    for y in range(h):
        for x in range(w):
            if 8 <= x < 20 and 8 <= y < 20:
                px = (230, 30, 40)
            elif 28 <= x < 40 and 12 <= y < 26:
                px = (20, 60, 220)
            else:
                px = (x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2))
            img.putpixel((x, y), px)
    img.save(os.path.join(out, "photo-rgb.png"))
    img.save(os.path.join(out, "photo-rgb.jpg"), quality=95)
    img.convert("CMYK").save(os.path.join(out, "photo-cmyk.jpg"), quality=95)
    with open(os.path.join(out, "photo-cmyk.rgb"), "wb") as f:
        f.write(Image.open(os.path.join(out, "photo-cmyk.jpg")).convert("RGB").tobytes())
    img.save(os.path.join(out, "photo-lossless.webp"), lossless=True)
    img.save(os.path.join(out, "photo-lossy.webp"), quality=90)
    with open(os.path.join(out, "photo-lossy.rgb"), "wb") as f:
        f.write(Image.open(os.path.join(out, "photo-lossy.webp")).convert("RGB").tobytes())


if __name__ == "__main__":
    main()
