package dev.mue.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mue.api.ModelFormatException;
import dev.mue.api.safetensors.SafetensorsFile;
import dev.mue.api.tensor.FloatTensor;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** The safetensors reader, from a file and from memory: open, then read every tensor. */
class SafetensorsFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void readsOrRefuses(byte[] data) {
        try (SafetensorsFile st = SafetensorsFile.read(ByteBuffer.wrap(data), "fuzz")) {
            readAll(st);
        } catch (ModelFormatException expected) {
            // a refused file: what every malformed input must give
        }
        Path file = Scratch.file("model.safetensors", data);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            readAll(st);
        } catch (ModelFormatException expected) {
            // the same for a file
        }
    }

    private static void readAll(SafetensorsFile st) {
        for (String name : st.names()) {
            try {
                FloatTensor t = st.readFloat(name);
                if (t.data().length != st.info(name).elementCount()) {
                    throw new AssertionError("tensor " + name + " read " + t.data().length + " values, header says "
                            + st.info(name).elementCount());
                }
            } catch (ModelFormatException expected) {
                // empty tensors are refused one by one
            }
        }
    }
}
