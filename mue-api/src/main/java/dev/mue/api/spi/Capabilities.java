package dev.mue.api.spi;

import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.KvPolicy;
import java.util.List;
import java.util.Set;

/**
 * What a backend can do, declared up front so that a gap is reported as "unsupported", never
 * discovered as a wrong answer.
 *
 * @param devices          devices it can run on, e.g. {@code cpu}, {@code cuda:0}
 * @param computeType      arithmetic used for activations, e.g. {@code float32}
 * @param batchCompaction  whether exited rows are dropped from later layers of a batch
 * @param compiledBranches whether exit gates are compiled into the backend's graph (vs. evaluated on the host)
 * @param kvPolicies       supported decoder key/value policies
 * @param encoderModes     supported encoder modes
 * @param notes            what limits the backend in this JVM, one line each, e.g. the java backend
 *                         running its scalar kernels because {@code jdk.incubator.vector} is not
 *                         resolved; empty when nothing does
 */
public record Capabilities(List<String> devices, String computeType, boolean batchCompaction,
        boolean compiledBranches, Set<KvPolicy> kvPolicies, Set<EncoderMode> encoderModes, List<String> notes) {
    /** Copies the collections. */
    public Capabilities {
        devices = List.copyOf(devices);
        kvPolicies = Set.copyOf(kvPolicies);
        encoderModes = Set.copyOf(encoderModes);
        notes = List.copyOf(notes);
    }

    /** Capabilities without notes. */
    public Capabilities(List<String> devices, String computeType, boolean batchCompaction, boolean compiledBranches,
            Set<KvPolicy> kvPolicies, Set<EncoderMode> encoderModes) {
        this(devices, computeType, batchCompaction, compiledBranches, kvPolicies, encoderModes, List.of());
    }

    /** One-line description for {@code mue backends}. */
    public String describe() {
        return "devices " + devices + ", " + computeType + ", compaction " + (batchCompaction ? "yes" : "no")
                + ", branches " + (compiledBranches ? "compiled" : "host") + ", kv " + kvPolicies.stream().sorted()
                .map(k -> k.name().toLowerCase(java.util.Locale.ROOT)).toList() + ", encoder "
                + encoderModes.stream().sorted().map(k -> k.name().toLowerCase(java.util.Locale.ROOT)).toList()
                + (notes.isEmpty() ? "" : "; " + String.join("; ", notes));
    }
}
