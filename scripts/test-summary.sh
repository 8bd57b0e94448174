#!/usr/bin/env bash
# Summarises a ./test run: one line per module from its surefire reports (tests, failures,
# errors, skipped), the name of every failing test, and a closing line "tests: N passed, N failed,
# N skipped". Exits 1 if any test failed or errored, if Maven's exit code ($2) was non-zero (a
# module that did not compile, a plugin failure), if Maven's log (optional $3) shows a crashed test
# JVM or test failures the reports do not hold, or if no report was found at all; else 0.
#
# Usage: scripts/test-summary.sh ROOT MAVEN_EXIT_CODE [MAVEN_LOG]
set -uo pipefail
root="${1:?usage: test-summary.sh ROOT MAVEN_EXIT_CODE}"
maven_rc="${2:?usage: test-summary.sh ROOT MAVEN_EXIT_CODE}"
maven_log="${3:-}"

# Reads one attribute of a report's <testsuite> element (the first line that has the element).
attr() { # file name
  sed -n 's/.*<testsuite[^>]* '"$2"'="\([0-9]*\)".*/\1/p' "$1" | head -n 1
}

total_tests=0 total_fail=0 total_err=0 total_skip=0 reports=0
failing=()
echo
echo "mue test summary (surefire reports per module)"
while IFS= read -r dir; do
  module="${dir#"$root"/}"
  module="${module%/target/surefire-reports}"
  t=0 f=0 e=0 s=0
  for xml in "$dir"/TEST-*.xml; do
    [[ -f "$xml" ]] || continue
    reports=$((reports + 1))
    xf="$(attr "$xml" failures)" xe="$(attr "$xml" errors)"
    t=$((t + $(attr "$xml" tests))) f=$((f + xf)) e=$((e + xe)) s=$((s + $(attr "$xml" skipped)))
    if [[ "$xf" != 0 || "$xe" != 0 ]]; then
      # Each failing <testcase> is followed by a <failure> or <error> element.
      while IFS= read -r name; do
        failing+=("$module: $name")
      done < <(awk '
        /<testcase / {
          match($0, /name="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7)
          match($0, /classname="[^"]*"/); c = substr($0, RSTART + 11, RLENGTH - 12)
        }
        /<(failure|error)[ >]/ { if (n != "") { print c "." n; n = "" } }
      ' "$xml")
    fi
  done
  printf '  %-20s %5d tests, %d failures, %d errors, %d skipped\n' "$module" "$t" "$f" "$e" "$s"
  total_tests=$((total_tests + t)) total_fail=$((total_fail + f)) total_err=$((total_err + e))
  total_skip=$((total_skip + s))
done < <(find "$root" -path '*/target/surefire-reports' -type d | sort)

if ((${#failing[@]} > 0)); then
  echo "failing tests:"
  printf '  %s\n' "${failing[@]:0:40}"
  if ((${#failing[@]} > 40)); then
    echo "  ... and $((${#failing[@]} - 40)) more (see each module's target/surefire-reports)"
  fi
fi
failed=$((total_fail + total_err))
passed=$((total_tests - failed - total_skip))
rc=0
if ((failed > 0)); then
  rc=1
fi
if [[ "$maven_rc" != 0 ]]; then
  echo "mue: Maven exited with $maven_rc (a module failed to build or a plugin failed; see its [ERROR] lines and the Reactor Summary above)"
  rc=1
fi
if [[ -n "$maven_log" && -f "$maven_log" ]]; then
  # With test failures ignored, a crashed fork only shows in the log: its tests wrote no report.
  crashes="$(grep -c -E 'The forked VM terminated|There was an error in the forked process|Crashed tests:' "$maven_log")"
  if ((crashes > 0)); then
    echo "mue: a test JVM crashed ($crashes lines in Maven's output, e.g.:)"
    grep -m 3 -E 'The forked VM terminated|There was an error in the forked process|Crashed tests:' "$maven_log" | sed 's/^/  /'
    rc=1
  fi
  if ((failed == 0)) && grep -q 'There are test failures' "$maven_log"; then
    echo "mue: surefire reported test failures that no report file holds"
    rc=1
  fi
fi
if ((reports == 0)); then
  echo "mue: no surefire report was written: no test ran"
  rc=1
fi
echo "tests: $passed passed, $failed failed, $total_skip skipped"
exit "$rc"
