#!/usr/bin/env bash
# Installs the real datasets mue's training and tests use, from Debian's packages:
# Fashion-MNIST (dataset-fashion-mnist: gzipped IDX, the official 60k/10k split) into
# /usr/share/datasets/fashion-mnist. Idempotent; needs root (or sudo) only when it installs.
set -euo pipefail
dir=/usr/share/datasets/fashion-mnist
if [[ -f "$dir/train-images-idx3-ubyte.gz" && -f "$dir/t10k-labels-idx1-ubyte.gz" ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "mue: Fashion-MNIST is missing and apt-get is not available; install the Debian package" \
       "dataset-fashion-mnist or point MUE_FASHION_MNIST at a folder with its four .gz files." >&2
  exit 1
fi
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "mue: installing dataset-fashion-mnist needs root; run: apt-get install dataset-fashion-mnist" >&2
    exit 1
  fi
fi
echo "mue: installing the Debian package dataset-fashion-mnist..." >&2
$sudo apt-get update -qq >&2 || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >&2
