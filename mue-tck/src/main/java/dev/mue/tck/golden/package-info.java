/**
 * Golden files: each golden case's specification and the reference's key results on it, committed
 * as resources so that any change to the reference (or to the catalogue) is caught.
 */
package dev.mue.tck.golden;
