package dev.mue.tck.reference;

import dev.mue.api.plan.Plan;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.KvPolicy;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.Capabilities;
import dev.mue.api.spi.Prepared;
import java.util.EnumSet;
import java.util.List;

/**
 * The reference as a {@link Backend}, id {@code reference}. It is deliberately not registered with
 * {@link java.util.ServiceLoader}: it is an oracle for the TCK, far too slow to be selected by
 * {@link dev.mue.api.spi.Backends}.
 */
public final class ReferenceBackend implements Backend {
    /** The reference's id in reports. */
    public static final String ID = "reference";

    /** A reference backend; it holds nothing. */
    public ReferenceBackend() {
    }

    /** What the reference supports: everything, in float64 on the CPU. */
    public static Capabilities capabilities() {
        return new Capabilities(List.of("cpu"), "float64", false, false, EnumSet.allOf(KvPolicy.class),
                EnumSet.allOf(EncoderMode.class));
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String device() {
        return "cpu";
    }

    @Override
    public Prepared prepare(Plan plan) {
        return new Prepared.Compiled(new ReferenceExecutable(plan));
    }

    @Override
    public void close() {
        // nothing to release
    }
}
