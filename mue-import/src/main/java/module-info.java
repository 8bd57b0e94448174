/**
 * Imports OFA checkpoints into mue bundles: fairseq {@code .pt} files (PyTorch's zip and legacy
 * formats) and the Hugging Face port's {@code pytorch_model.bin}.
 *
 * <p>A checkpoint is untrusted input. Its pickles are read by {@code net.razorvine.pickle} behind an
 * allow-list of globals ({@link dev.mue.importer.pickle.SafeUnpickler}); nothing in a checkpoint is
 * ever executed. Only {@link dev.mue.importer} is exported.
 */
module dev.mue.importer {
    requires transitive dev.mue.api;
    requires pickle;

    exports dev.mue.importer;
}
