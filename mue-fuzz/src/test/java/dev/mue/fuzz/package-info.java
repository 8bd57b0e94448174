/**
 * Jazzer fuzz tests of mue's readers of untrusted input. Each test feeds one reader arbitrary bytes
 * and accepts only a clean result or a {@link dev.mue.api.MueException} subtype: anything else (an
 * unchecked exception of another kind, an {@link java.lang.OutOfMemoryError}, a hang) is a finding.
 * The seed corpora live beside them as test resources ({@code <Test>Inputs/<method>/}); findings
 * that were fixed are added there, so every run of {@code ./test} replays them.
 */
package dev.mue.fuzz;
