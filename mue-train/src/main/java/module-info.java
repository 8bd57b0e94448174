/**
 * Training-side tools of mue: real datasets (Fashion-MNIST from the Debian package), the
 * visual-entailment and captioning tasks built from them, the COCO caption metrics, and training
 * with MuE's layer-wise task loss on the PyTorch backend's forward code (DJL autograd).
 */
module dev.mue.train {
    requires transitive dev.mue.api;
    requires dev.mue.planner;
    requires transitive dev.mue.session;
    requires dev.mue.backend.torch;
    requires ai.djl.api;

    exports dev.mue.train.data;
    exports dev.mue.train.metrics;
    exports dev.mue.train.eval;
    exports dev.mue.train.calibrate;
    exports dev.mue.train.trainer;
}
