/**
 * The TCK's case catalogue: seeded random models of several shapes, seeded inputs, and exit
 * policies whose thresholds are placed between the reference's own similarities.
 */
package dev.mue.tck.cases;
