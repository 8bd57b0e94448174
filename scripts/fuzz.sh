#!/usr/bin/env bash
# Fuzzes one of mue's readers of untrusted input with Jazzer for MINUTES minutes:
#   scripts/fuzz.sh TARGET [MINUTES]      (default 10)
# TARGET: safetensors, config, dictionary, tokenizer, image, checkpoint (or all: each in turn).
#
# The fuzz tests live in mue-fuzz; ./test runs them on their seed corpora only (Jazzer's regression
# mode). Here JAZZER_FUZZ=1 makes Jazzer mutate inputs with libFuzzer instead. A finding (anything
# but a clean result or a MueException subtype) is written as crash-<hash> into the test's inputs
# folder (mue-fuzz/src/test/resources/dev/mue/fuzz/<Test>Inputs/<method>/), so that once the bug is
# fixed the file stays there as a regression input; the generated corpus accumulates in
# mue-fuzz/.cifuzz-corpus (ignored by git). The last lines printed are the run's figures:
# libFuzzer's "Done N runs in S second(s)" and the findings.
set -uo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
# shellcheck source=scripts/jdk.sh
source "$ROOT/scripts/jdk.sh"
mue_require_jdk || exit 1
export JAVA_HOME="$JDK"

usage() {
  echo "usage: scripts/fuzz.sh safetensors|config|dictionary|tokenizer|image|checkpoint|all [MINUTES]" >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
minutes="${2:-10}"
case "$minutes" in '' | *[!0-9]*) usage ;; esac

class_of() {
  case "$1" in
    safetensors) echo SafetensorsFuzzTest ;;
    config) echo ConfigJsonFuzzTest ;;
    dictionary) echo DictionaryFuzzTest ;;
    tokenizer) echo TokenizerFuzzTest ;;
    image) echo ImageFuzzTest ;;
    checkpoint) echo CheckpointFuzzTest ;;
    *) return 1 ;;
  esac
}

if [ "$1" = all ]; then
  rc=0
  for t in safetensors config dictionary tokenizer image checkpoint; do
    "$0" "$t" "$minutes" || rc=1
  done
  exit "$rc"
fi
class="$(class_of "$1")" || usage

cd "$ROOT" || exit 1
log="$ROOT/mue-fuzz/target/fuzz-$1.log"
mkdir -p "$ROOT/mue-fuzz/target"
# Quiet the JDK 24+ warnings about Maven's own libraries.
export MAVEN_OPTS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow ${MAVEN_OPTS:-}"
# Instrument mue and the libraries that parse for it (Jackson, Razorvine's pickle, jtokkit, the
# ImageIO plugins), so that coverage guides the mutations through them too. keep_going: report up
# to 20 distinct findings instead of stopping at the first. An input slower than 10 s is reported
# by libFuzzer as "Slowest unit: N s" and kept as slow-unit-<hash>: treat it as a finding (a
# truncated WebP once took minutes). (JUnit's timeout cannot bound one input: it would bound the
# whole fuzzing run, which is a single test invocation.)
JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${minutes}m" JAZZER_KEEP_GOING=20 \
JAZZER_INSTRUMENTATION_INCLUDES='dev.mue.**:com.fasterxml.jackson.**:net.razorvine.**:com.knuddels.**:com.twelvemonkeys.**' \
  ./mvnw -B -ntp -pl mue-fuzz -am verify -Dtest="$class" -Dsurefire.failIfNoSpecifiedTests=false 2>&1 | tee "$log"
maven_rc=${PIPESTATUS[0]}
echo "== $1 ($class), $minutes min:"
grep -E '^Done [0-9]+ runs|^#[0-9]+.*(DONE|pulse)|== Java Exception|FuzzerSecurityIssue|Slowest unit|(crash|timeout|slow-unit)-[0-9a-f]+' "$log" | tail -n 25
exit "$maven_rc"
