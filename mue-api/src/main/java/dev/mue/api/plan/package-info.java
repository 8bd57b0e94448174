/**
 * The immutable execution plan: typed nodes with explicit exit branches, costs and constant-folded position biases.
 */
package dev.mue.api.plan;
