package dev.mue.importer;

import dev.mue.api.tensor.DType;
import java.util.Objects;

/**
 * What the caller tells {@link OfaImport} beyond the files: facts a checkpoint may not hold, the
 * bundle's weight type, and whether an existing bundle may be replaced.
 *
 * @param heads     attention heads, or null to infer them (they are in OFA's {@code c_attn} tensors)
 * @param imageSize input image side, or null to take the stored {@code patch_image_size}; required
 *                  when the checkpoint stores no arguments (a Hugging Face {@code pytorch_model.bin})
 * @param name      the config's name, or null for the stored {@code arch} (else the file name)
 * @param dtype     the bundle's weight type; F32 keeps every value exactly
 * @param force     replace the files of a non-empty output directory
 */
public record ImportOptions(Integer heads, Integer imageSize, String name, DType dtype, boolean force) {

    /** Checks the values. */
    public ImportOptions {
        Objects.requireNonNull(dtype, "dtype");
        if (heads != null && heads <= 0) {
            throw new IllegalArgumentException("heads must be positive, got " + heads);
        }
        if (imageSize != null && imageSize <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + imageSize);
        }
        if (name != null && name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
    }

    /** Infer everything, write F32, refuse a non-empty output directory. */
    public static ImportOptions defaults() {
        return new ImportOptions(null, null, null, DType.F32, false);
    }

    /** With the number of heads. */
    public ImportOptions withHeads(Integer h) {
        return new ImportOptions(h, imageSize, name, dtype, force);
    }

    /** With the image size. */
    public ImportOptions withImageSize(Integer s) {
        return new ImportOptions(heads, s, name, dtype, force);
    }

    /** With the config's name. */
    public ImportOptions withName(String n) {
        return new ImportOptions(heads, imageSize, n, dtype, force);
    }

    /** With the bundle's weight type. */
    public ImportOptions withDtype(DType t) {
        return new ImportOptions(heads, imageSize, name, t, force);
    }

    /** Whether a non-empty output directory may be overwritten. */
    public ImportOptions withForce(boolean f) {
        return new ImportOptions(heads, imageSize, name, dtype, f);
    }
}
