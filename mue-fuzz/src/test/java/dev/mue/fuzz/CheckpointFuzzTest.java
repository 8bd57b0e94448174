package dev.mue.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mue.api.MueException;
import dev.mue.importer.ofa.CheckpointContents;
import dev.mue.importer.torch.TensorRef;
import dev.mue.importer.torch.TorchCheckpoint;
import java.nio.file.Path;
import java.util.Map;

/**
 * The checkpoint importer's reader: a PyTorch file (zip or legacy pickle format) opened through the
 * allow-listed unpickler, its state dict found, and every tensor read as {@code mue import} reads it.
 */
class CheckpointFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void readsOrRefuses(byte[] data) {
        Path file = Scratch.file("checkpoint.pt", data);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            CheckpointContents contents = CheckpointContents.of(ckpt.root(), file);
            for (Map.Entry<String, TensorRef> e : contents.tensors().entrySet()) {
                float[] v = ckpt.readFloats(e.getValue(), e.getKey());
                if (v.length != e.getValue().numel()) {
                    throw new AssertionError(e.getKey() + ": read " + v.length + " values of " + e.getValue().numel());
                }
            }
        } catch (MueException expected) {
            // refused: unsafe, malformed or out of bounds
        }
    }
}
