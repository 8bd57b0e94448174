/**
 * Reading pickles without trusting them: {@link dev.mue.importer.pickle.SafeUnpickler} runs
 * Razorvine's opcode interpreter but answers every global from an allow-list, builds only the
 * Python values a PyTorch checkpoint holds ({@link dev.mue.importer.pickle.PyDict},
 * {@link dev.mue.importer.pickle.PyNamespace}, lists, tuples, scalars) and bounds every length
 * before allocating it.
 */
package dev.mue.importer.pickle;
