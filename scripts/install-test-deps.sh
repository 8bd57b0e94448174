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
if ! command -v apt-get >/dev/null 2>&1; then
  echo "mue: python3 with torch and PIL is missing and apt-get is not available; install the" \
       "Debian packages python3-torch and python3-pil (or pip torch and pillow)." >&2
  exit 1
fi
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "mue: installing python3-torch and python3-pil needs root; run: apt-get install python3-torch python3-pil" >&2
    exit 1
  fi
fi
echo "mue: installing the Debian packages python3-torch and python3-pil..." >&2
$sudo apt-get update -qq >&2 || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-torch python3-pil >&2
