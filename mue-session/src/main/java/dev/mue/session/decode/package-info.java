/**
 * Backend-independent decoding: beam search, no-repeat-ngram blocking and candidate scoring for visual entailment, driven over a backend's decoder steps.
 */
package dev.mue.session.decode;
