/**
 * Running a case on the reference or a backend, and comparing the runs under the suite's
 * tolerances ({@link dev.mue.tck.check.Tolerances}).
 */
package dev.mue.tck.check;
