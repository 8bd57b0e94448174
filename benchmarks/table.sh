#!/usr/bin/env bash
# Runs the benchmarks at real scale and prints the README's tables in Markdown: the FP32 FMA
# peak (1 and all threads), the Java kernels at OFA-base shapes (GEMM, convolution, attention),
# then whole visual-entailment and caption passes of OFA tiny, medium
# and base at 480 and 384 px, batch 1 and 8, full depth and a forced half-depth exit, on java,
# torch and tf, with GFLOP/s as a fraction of the measured peak, measured against expected
# saving, and ratios between backends of this one run.
#
# Usage: benchmarks/table.sh [quick|full] [extra JMH arguments]
#   quick (default): ofa-tiny and ofa-base at 480 px, batch 1, entailment, in two rounds; about
#     ten minutes.
#   full: every parameter of PassBenchmark, one round (hours on 2 cores).
# MUE_BENCH_ROUNDS overrides the number of rounds: every pass row's forks run once per round, one
# round after the other, and the report keeps each row's faster round (on a shared machine a
# burst of load only ever slows a fork down; see Table's class comment).
# The JMH JSON and the plan costs are kept in benchmarks/target/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=../scripts/jdk.sh
source "$ROOT/scripts/jdk.sh"
mue_require_jdk
cd "$ROOT"
mode="${1:-quick}"
shift || true
./mvnw -B -q -ntp -pl benchmarks -am package -DskipTests
jar=benchmarks/target/benchmarks.jar
out=benchmarks/target/table-$mode.json
costs=benchmarks/target/pass-costs.tsv
rm -f "$costs"
case "$mode" in
  quick) params=(-p model=ofa-tiny,ofa-base -p size=480 -p batch=1 -p task=ve); rounds=2 ;;
  full) params=(); rounds=1 ;;
  *) echo "usage: benchmarks/table.sh [quick|full] [JMH arguments]" >&2; exit 2 ;;
esac
rounds="${MUE_BENCH_ROUNDS:-$rounds}"
if ! [[ "$rounds" =~ ^[1-9][0-9]?$ ]]; then
  echo "MUE_BENCH_ROUNDS must be a number of rounds from 1 to 99, not '$rounds'" >&2
  exit 2
fi
# The forks inherit the environment; a -jvmArgsAppend here would replace the benchmarks' own
# (--add-modules jdk.incubator.vector among them) and leave the Java backend without its kernels.
MUE_BENCH_COSTS="$ROOT/$costs" "$JDK/bin/java" -jar "$jar" 'FmaPeakBenchmark|OfaShapesBenchmark' \
  -rf json -rff "$out" "$@" >&2
results="$out"
for ((round = 1; round <= rounds; round++)); do
  echo "table.sh: passes, round $round of $rounds" >&2
  MUE_BENCH_COSTS="$ROOT/$costs" "$JDK/bin/java" -jar "$jar" 'PassBenchmark' "${params[@]}" \
    -rf json -rff "${out%.json}-passes-$round.json" "$@" >&2
  results="$results,${out%.json}-passes-$round.json"
done
lanes="$("$JDK/bin/java" --add-modules jdk.incubator.vector -cp "$jar" dev.mue.benchmarks.report.Lanes 2>/dev/null)"
"$JDK/bin/java" -cp "$jar" dev.mue.benchmarks.report.Table "$results" "$costs" "$lanes"
