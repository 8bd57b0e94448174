/**
 * Text to token ids and back: GPT-2 byte-level BPE mapped through a fairseq-style dictionary.
 */
package dev.mue.api.text;
