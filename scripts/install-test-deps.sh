#!/usr/bin/env bash
# Installs the Python packages some tests run at test time, from Debian's packages:
# python3-torch (mue-import's tests write OFA-shaped checkpoints with PyTorch's own torch.save)
# and python3-pil (the OFA-exact resize is checked against PIL's output). Idempotent; needs root
# (or sudo) only when it installs.
set -euo pipefail
# Debian's packages land in the system interpreter, /usr/bin/python3, which a pyenv or venv python3
# on PATH does not see; the tests look there first as well.
for py in /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch, PIL' >/dev/null 2>&1; then
    exit 0
  fi
done
# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
mue_apt_install "python3 with torch and PIL for mue-import's tests (or set MUE_PYTHON)" python3-torch python3-pil
