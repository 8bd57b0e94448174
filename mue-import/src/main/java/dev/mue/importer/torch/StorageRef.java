package dev.mue.importer.torch;

/**
 * One storage of a checkpoint as its pickle describes it: key, element type and element count. The
 * bytes stay in the file until a tensor that views the storage is read.
 *
 * @param key   the storage's key (its zip entry name under {@code data/}, or the legacy root key)
 * @param dtype the element type
 * @param numel elements in the storage
 */
public record StorageRef(String key, TorchDType dtype, long numel) {

    /** Bytes the storage occupies. */
    public long byteSize() {
        return Math.multiplyExact(numel, (long) dtype.elementSize());
    }
}
