/**
 * The threshold sweep behind {@code mue eval}: quality against expected and measured time reduction, in the manner of the paper's Tables 1 and 3.
 */
package dev.mue.train.eval;
