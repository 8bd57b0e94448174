package dev.mue.train.data;

import dev.mue.api.ModelFormatException;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads an IDX file (the MNIST format: magic {@code 0x0000 08 rank}, big-endian dimensions,
 * unsigned bytes), optionally gzipped, validating it before allocating.
 *
 * @param dims the dimensions, outermost first
 * @param data the values, row-major
 */
public record IdxFile(int[] dims, byte[] data) {
    /** Largest file read: the full Fashion-MNIST training images are 47 MB. */
    public static final long MAX_ELEMENTS = 200_000_000L;

    /** Reads {@code file}; a name ending in {@code .gz} is decompressed. */
    public static IdxFile read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("IDX file not found: " + file);
        }
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
                DataInputStream d = new DataInputStream(in)) {
            int magic = d.readInt();
            if ((magic >>> 8) != 0x08) {
                throw new ModelFormatException(file + ": not an unsigned-byte IDX file (magic 0x"
                        + Integer.toHexString(magic) + ")");
            }
            int rank = magic & 0xff;
            if (rank < 1 || rank > 4) {
                throw new ModelFormatException(file + ": IDX rank " + rank + " outside 1..4");
            }
            int[] dims = new int[rank];
            long n = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = d.readInt();
                if (dims[i] <= 0) {
                    throw new ModelFormatException(file + ": IDX dimension " + i + " is " + dims[i]);
                }
                n *= dims[i];
                if (n > MAX_ELEMENTS) {
                    throw new ModelFormatException(file + ": IDX claims more than " + MAX_ELEMENTS + " values");
                }
            }
            byte[] data = new byte[(int) n];
            try {
                d.readFully(data);
            } catch (EOFException e) {
                throw new ModelFormatException(file + ": IDX data truncated: expected " + n + " values", e);
            }
            return new IdxFile(dims, data);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read IDX file: " + e.getMessage(), e);
        }
    }

    /** The unsigned value at flat index {@code i}. */
    public int at(int i) {
        return data[i] & 0xff;
    }
}
