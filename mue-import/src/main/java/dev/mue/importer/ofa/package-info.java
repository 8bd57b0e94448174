/**
 * What makes a checkpoint OFA's: its key names (fairseq's and the Hugging Face port's), the
 * parameters and buffers mue does not keep, the architecture written in the tensor shapes and the
 * stored arguments, and the dictionary OFA's task builds from {@code dict.txt}.
 */
package dev.mue.importer.ofa;
