#!/usr/bin/env bash
# Session-open costs at the sizes users serve (issue 12, item 5): for each preset and backend, in a
# JVM of its own, the plan's compile time, the session open (compile + prepare), the first and a
# second visual-entailment pass, and the peak resident set; printed as a Markdown table.
#
# Usage: benchmarks/open.sh [PRESET...]   (default: ofa-tiny ofa-base; 480 px)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=../scripts/jdk.sh
source "$ROOT/scripts/jdk.sh"
mue_require_jdk
cd "$ROOT"
./mvnw -B -q -ntp -pl benchmarks -am package -DskipTests
jar=benchmarks/target/benchmarks.jar
presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(ofa-tiny ofa-base)
echo "| model | px | backend | plan compile (ms) | session open (ms) | first VE pass (ms) | second VE pass (ms) | peak RSS (MB) |"
echo "|---|---|---|---|---|---|---|---|"
for p in "${presets[@]}"; do
  for b in java torch tf; do
    line="$("$JDK/bin/java" --add-modules jdk.incubator.vector -Xss4m -Xmx12g --enable-native-access=ALL-UNNAMED \
      -cp "$jar" dev.mue.benchmarks.open.SessionOpen "$p" 480 "$b" 2>/dev/null | tail -n 1)"
    IFS=$'\t' read -r -a f <<< "$line"
    echo "| ${f[0]} | ${f[1]} | ${f[2]} | ${f[3]} | ${f[4]} | ${f[5]} | ${f[6]} | ${f[7]} |"
  done
done
