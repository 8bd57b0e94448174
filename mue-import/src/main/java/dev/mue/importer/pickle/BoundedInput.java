package dev.mue.importer.pickle;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream that knows how many bytes are left, so that a length read from a pickle can be
 * checked against what the file still holds before anything that size is allocated.
 */
public final class BoundedInput extends InputStream {
    private final InputStream in;
    private final long limit;
    private long position;

    /**
     * Wraps {@code in}, which holds {@code limit} more bytes.
     *
     * @param start the position of {@code in}'s first byte in its file, for messages and offsets
     */
    public BoundedInput(InputStream in, long start, long limit) {
        this.in = in;
        this.position = start;
        this.limit = start + limit;
    }

    /** Bytes consumed so far plus the start offset: the file position of the next byte. */
    public long position() {
        return position;
    }

    /** Bytes that remain to be read. */
    public long remaining() {
        return limit - position;
    }

    @Override
    public int read() throws IOException {
        if (position >= limit) {
            return -1;
        }
        int b = in.read();
        if (b >= 0) {
            position++;
        }
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (position >= limit) {
            return -1;
        }
        int n = in.read(buf, off, (int) Math.min(len, limit - position));
        if (n > 0) {
            position += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long done = in.skip(Math.min(n, remaining()));
        position += done;
        return done;
    }

    /** Skips exactly {@code n} bytes or fails. */
    public void skipExactly(long n) throws IOException {
        if (n > remaining()) {
            throw new IOException("skipping " + n + " bytes runs past the end (" + remaining() + " left)");
        }
        in.skipNBytes(n);
        position += n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
