#!/usr/bin/env bash
# Installs the real datasets mue's training and tests use, from Debian's packages:
# Fashion-MNIST (dataset-fashion-mnist: gzipped IDX, the official 60k/10k split) into
# /usr/share/datasets/fashion-mnist. Idempotent; needs root (or sudo) only when it installs.
set -euo pipefail
dir=/usr/share/datasets/fashion-mnist
if [[ -f "$dir/train-images-idx3-ubyte.gz" && -f "$dir/t10k-labels-idx1-ubyte.gz" ]]; then
  exit 0
fi
# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
mue_apt_install "Fashion-MNIST (or point MUE_FASHION_MNIST at a folder with its four .gz files)" dataset-fashion-mnist
