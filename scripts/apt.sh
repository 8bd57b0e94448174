# shellcheck shell=bash
# Installs Debian packages for the project's scripts: as root directly, else through sudo; says
# what to run when neither works. Source it, then call: mue_apt_install WHAT PACKAGE...
# (WHAT names the need in messages, e.g. "Fashion-MNIST").

mue_apt_install() {
  local what="$1"
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "mue: $what is missing and apt-get is not available; install the Debian package(s) $*." >&2
    return 1
  fi
  local sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "mue: installing $* needs root; run: apt-get install $*" >&2
      return 1
    fi
  fi
  echo "mue: installing the Debian package(s) $* ($what)..." >&2
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}
