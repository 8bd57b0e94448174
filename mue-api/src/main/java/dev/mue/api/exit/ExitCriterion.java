package dev.mue.api.exit;

import dev.mue.api.plan.Stream;
import java.util.Set;

/**
 * The test of an exit gate (the exit SPI): which measures a gate needs and how they become the
 * score that is compared with the gate's threshold (exit when {@code score > threshold}, strictly,
 * as design §4 says of the similarity).
 *
 * <p>Implementations are stateless and thread-safe. Besides the two built in ({@link
 * CosineCriterion}, {@link SoftmaxConfidenceCriterion}) they are found with
 * {@link java.util.ServiceLoader} ({@code provides dev.mue.api.exit.ExitCriterion with ...}) and
 * named in an {@link dev.mue.api.policy.ExitPolicy} by {@link #id()}. Backends never see a
 * criterion: the runtime asks them for the {@link #measures()} and decides.
 */
public interface ExitCriterion {

    /** The name policies use, lower-case letters, digits and dashes, e.g. {@code cosine}. */
    String id();

    /** What the score is, for plans and traces, e.g. {@code cos(out,in)}. */
    String describe();

    /** Whether gates of {@code stream} may use this criterion. */
    boolean appliesTo(Stream stream);

    /** The measures the score is made from; backends compute only these. */
    Set<GateMeasure> measures();

    /** The score of one gate group, compared with the threshold. */
    double score(GateMeasures m);
}
