package dev.mue.train.calibrate;

import dev.mue.api.model.ConfigJson;
import dev.mue.api.model.Model;
import dev.mue.api.tensor.FloatTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 hashes a certificate carries. A model loaded from a bundle is named by its files'
 * bytes ({@link dev.mue.api.model.ModelBundle#sha256}), which a later version of mue reads the
 * same; a model built in memory (tests, the trainer) has no files and is hashed over what it is
 * (the config as {@code config.json} writes it, the vocabulary's symbols, every tensor's name,
 * shape and float32 values in load order).
 */
public final class Hashes {
    private Hashes() {
    }

    /** A SHA-256 being fed: strings as UTF-8 with a terminator, numbers little-endian. */
    static final class Sha {
        private final MessageDigest md;

        Sha() {
            try {
                md = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK lacks SHA-256", e);
            }
        }

        Sha text(String s) {
            md.update(s.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            return this;
        }

        Sha number(long v) {
            md.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        Sha ints(int[] v) {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length + 4).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(v.length);
            for (int x : v) {
                b.putInt(x);
            }
            md.update(b.array());
            return this;
        }

        Sha floats(float[] v) {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            md.update(b.array());
            return this;
        }

        String hex() {
            return HexFormat.of().formatHex(md.digest());
        }
    }

    /** The model's hash (see the class comment). */
    public static String model(Model m) {
        if (m.sha256() != null) {
            return m.sha256();
        }
        Sha h = new Sha().text("mue-model v1").text(ConfigJson.toJson(m.config()));
        h.number(m.vocabulary().size());
        for (int i = 0; i < m.vocabulary().size(); i++) {
            h.text(m.vocabulary().symbol(i));
        }
        for (FloatTensor t : m.weights().all()) {
            h.text(t.name()).ints(t.shape()).floats(t.data());
        }
        return h.hex();
    }
}
