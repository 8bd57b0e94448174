/**
 * Training-side tools of mue: real datasets (Fashion-MNIST from the Debian package), the
 * visual-entailment and captioning tasks built from them, and the COCO caption metrics.
 */
module dev.mue.train {
    requires transitive dev.mue.api;

    exports dev.mue.train.data;
    exports dev.mue.train.metrics;
    exports dev.mue.train.eval;
}
