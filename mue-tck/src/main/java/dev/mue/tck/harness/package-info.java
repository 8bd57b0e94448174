/**
 * Reusable checks that every backend module runs on itself, beside the conformance suite: its
 * provider registered both ways and selectable ({@link dev.mue.tck.harness.ProviderRegistration}),
 * and native memory that stays flat over many requests ({@link dev.mue.tck.harness.NativeMemory}).
 * A backend's own test class supplies what differs (its provider, its module's jars, its
 * executable) and calls these; the harness classes are not tests themselves, so scanning the TCK
 * does not run them.
 */
package dev.mue.tck.harness;
