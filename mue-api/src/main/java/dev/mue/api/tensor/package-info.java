/**
 * Dense float tensors and the on-disk element types that weights are stored in.
 */
package dev.mue.api.tensor;
