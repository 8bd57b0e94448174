#!/usr/bin/env bash
# The check that mue works as a library, as a new Maven user would use it: installs the library's
# artifacts (the BOM, the facade and what it needs, the Java backend, the model) into a private
# local repository, writes a fresh Maven project in a temporary folder from the README's pom
# snippet and its CaptionSample class (the Java block after the "library-sample" marker), builds it
# offline against that repository and runs it on a shipped sample image.
#
#   scripts/library-check.sh [PRIVATE_REPO]     (default: a new temporary folder)
#
# Only the private repository is written: ~/.m2/repository is read as Maven's read-only "tail"
# (maven.repo.local.tail, Maven 3.9+), for the third-party artifacts the build already fetched.
# Prints the sample's output, the project's dependency list and its size; fails if the sample
# does not caption, or if a logging binding, the CLI or a native library leaks into the dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
# shellcheck source=scripts/jdk.sh
source "$ROOT/scripts/jdk.sh"
mue_require_jdk
export JAVA_HOME="$JDK"
export MAVEN_OPTS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow ${MAVEN_OPTS:-}"
repo="${1:-$(mktemp -d "${TMPDIR:-/tmp}/mue-lib-m2.XXXXXX")}"
work="$(mktemp -d "${TMPDIR:-/tmp}/mue-lib-project.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tail_repo="$HOME/.m2/repository"
mvn_private=(-B -ntp -Dmaven.repo.local="$repo" -Dmaven.repo.local.tail="$tail_repo")

echo "== installing mue's library artifacts into $repo"
(cd "$ROOT" && ./mvnw "${mvn_private[@]}" -q install -DskipTests \
  -pl mue-bom,mue-api,mue-planner,mue-runtime,mue-session,mue-backend-java,mue-model-grid -am)

# The README's pom snippet: the XML block that follows the "### mue as a library (Maven)" heading.
snippet="$(awk '/^### mue as a library \(Maven\)/{f=1} f&&/^```xml/{x=1;next} x&&/^```/{exit} x{print}' "$ROOT/README.md")"
[ -n "$snippet" ] || { echo "library-check: no pom snippet found in README.md" >&2; exit 1; }
sample="$(awk '/<!-- library-sample/{f=1;next} f&&/^```java/{x=1;next} x&&/^```/{exit} x{print}' "$ROOT/README.md")"
[ -n "$sample" ] || { echo "library-check: no library-sample class found in README.md" >&2; exit 1; }

mkdir -p "$work/src/main/java"
printf '%s\n' "$sample" > "$work/src/main/java/CaptionSample.java"
cat > "$work/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>mue-library-user</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>21</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
$snippet
</project>
POM
cp "$ROOT/samples/fmnist-test-0.png" "$work/"

echo "== building the user's project offline"
(cd "$work" && "$ROOT/mvnw" "${mvn_private[@]}" -o -q -f "$work/pom.xml" package dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$work/lib")
(cd "$work" && "$ROOT/mvnw" "${mvn_private[@]}" -o -q -f "$work/pom.xml" dependency:list -DincludeScope=runtime \
  -DoutputFile="$work/deps.txt" >/dev/null)
echo "== runtime dependencies of the user's project"
grep ':' "$work/deps.txt" | sed 's/^ *//' | sort
echo "$(ls "$work/lib" | wc -l) jars, $(du -sh "$work/lib" | cut -f1)"
if grep -E 'slf4j-simple|logback|log4j-slf4j|picocli|mue-cli|pytorch|tensorflow' "$work/deps.txt"; then
  echo "library-check: a logging binding, the CLI or native libraries leaked into the library's dependencies" >&2
  exit 1
fi

echo "== running CaptionSample (class path, --add-modules jdk.incubator.vector)"
out="$(cd "$work" && "$JDK/bin/java" --add-modules jdk.incubator.vector -cp "target/classes:lib/*" CaptionSample \
  fmnist-test-0.png 2> "$work/stderr.txt")"
printf '%s\n' "$out"
echo "-- stderr:"; cat "$work/stderr.txt"
printf '%s\n' "$out" | grep -q '^fmnist-test-0.png: .* (.*% fewer layers)$' \
  || { echo "library-check: the sample did not caption" >&2; exit 1; }
echo "== running CaptionSample (module path: the sample as an unnamed-module class, mue's jars as modules)"
mout="$(cd "$work" && "$JDK/bin/java" -p lib --add-modules dev.mue.session,dev.mue.model.grid -cp target/classes \
  CaptionSample fmnist-test-0.png 2> "$work/stderr-mp.txt")"
printf '%s\n' "$mout"
echo "-- stderr:"; cat "$work/stderr-mp.txt"
[ "$mout" = "$out" ] || { echo "library-check: the module path gave another result" >&2; exit 1; }
echo "library-check: OK"
