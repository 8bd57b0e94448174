/**
 * Compiles a model and an exit policy into an immutable {@link dev.mue.api.plan.Plan}.
 */
package dev.mue.planner;
