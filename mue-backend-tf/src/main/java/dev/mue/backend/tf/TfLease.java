package dev.mue.backend.tf;

/**
 * A reference count on something native that several decoder rows share (the {@link org.tensorflow.Result}
 * of a decoding step holds every row's new caches; after a beam reorder several rows point at one
 * parent's tensors). Closed when the last row lets go. Not thread-safe: a stepper is used by one
 * thread at a time.
 */
final class TfLease {
    private final AutoCloseable resource;
    private int refs;

    TfLease(AutoCloseable resource, int refs) {
        this.resource = resource;
        this.refs = refs;
        if (refs == 0) {
            close();
        }
    }

    void retain() {
        if (refs <= 0) {
            throw new IllegalStateException("lease already released");
        }
        refs++;
    }

    void release() {
        if (refs <= 0) {
            throw new IllegalStateException("lease released twice");
        }
        if (--refs == 0) {
            close();
        }
    }

    private void close() {
        try {
            resource.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing TensorFlow tensors failed: " + e, e);
        }
    }
}
