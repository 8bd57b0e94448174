# shellcheck shell=bash
# Finds a JDK 21 or newer for mue's scripts (./mue, ./test): JAVA_HOME first, then the newest in
# the usual JDK folders, then the java on PATH. Source it, then call mue_require_jdk.

# Prints the feature version (e.g. 21) of the java binary $1; fails if it cannot be run.
java_major() {
  local out ver
  out="$("$1" -version 2>&1)" || return 1
  ver="$(printf '%s\n' "$out" | sed -n 's/^[^"]* version "\([^"]*\)".*/\1/p' | head -n 1)"
  [ -n "$ver" ] || return 1
  case "$ver" in 1.*) ver="${ver#1.}" ;; esac
  ver="${ver%%[.+-]*}"
  case "$ver" in '' | *[!0-9]*) return 1 ;; esac
  printf '%s\n' "$ver"
}

# Succeeds if $1 is a JDK home (java and javac) of version 21 or newer; prints its version.
jdk_ok() {
  local home="$1" major
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  major="$(java_major "$home/bin/java")" || return 1
  [ "$major" -ge 21 ] || return 1
  printf '%s\n' "$major"
}

find_jdk() {
  local cand major best="" best_major=0 path_java
  if [ -n "${JAVA_HOME:-}" ] && jdk_ok "$JAVA_HOME" >/dev/null; then
    printf '%s\n' "$JAVA_HOME"
    return 0
  fi
  # The newest JDK 21+ in the usual folders.
  for cand in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
      /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$cand" ] || continue
    [ -L "$cand" ] && [ "$(basename "$cand")" = current ] && continue
    if major="$(jdk_ok "$cand")" && [ "$major" -gt "$best_major" ]; then
      best="$cand"
      best_major="$major"
    fi
  done
  if [ -z "$best" ] && path_java="$(command -v java 2>/dev/null)"; then
    cand="$(cd "$(dirname "$(readlink -f "$path_java")")/.." && pwd -P)"
    jdk_ok "$cand" >/dev/null && best="$cand"
  fi
  [ -n "$best" ] || return 1
  printf '%s\n' "$best"
}

# Sets JDK and exports JAVA_HOME to a JDK 21+, or explains how to get one and exits.
mue_require_jdk() {
  if ! JDK="$(find_jdk)"; then
    echo "mue: no JDK 21 or newer found (looked at JAVA_HOME and the usual JDK folders). Install one (e.g. 'apt-get install openjdk-21-jdk' or https://adoptium.net) or set JAVA_HOME to it." >&2
    exit 1
  fi
  export JAVA_HOME="$JDK"
}
