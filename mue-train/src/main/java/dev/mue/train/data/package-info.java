/**
 * Datasets read from their real files, and the deterministic visual-entailment and captioning tasks built from them.
 */
package dev.mue.train.data;
