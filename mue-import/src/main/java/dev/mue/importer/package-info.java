/**
 * The way in for OFA checkpoints: {@link dev.mue.importer.OfaImport} reads a fairseq or Hugging Face
 * checkpoint and OFA's {@code dict.txt}, infers the architecture, maps the key names and writes a
 * normal mue bundle, and says in an {@link dev.mue.importer.ImportReport} where each fact came from.
 */
package dev.mue.importer;
