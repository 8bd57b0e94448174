package dev.mue.spark.exec;

import dev.mue.api.policy.ModelPolicies;
import dev.mue.api.policy.PolicyFile;
import dev.mue.api.spi.BackendOptions;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import java.io.Serializable;
import java.util.Objects;

/**
 * What identifies an executor's session: the model, the exit policies, the backend and its
 * options. Two jobs with equal specs share one {@link MueSession} per executor JVM
 * ({@link ExecutorSessions}).
 *
 * @param model        where the bundle is
 * @param backend      backend id, or null for the highest-priority available one
 * @param threads      backend worker threads; 0 means one per core
 * @param policyJson   the exit policies as policy-file JSON ({@link PolicyFile#toJson}), or null
 *                     for the bundle's own (then the paper's)
 * @param policySource where those policies came from, for traces (e.g. {@code policy file p.json})
 * @param truncateText whether over-long texts are truncated instead of rejected
 */
public record SessionSpec(ModelSource model, String backend, int threads, String policyJson, String policySource,
        boolean truncateText) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Validates. */
    public SessionSpec {
        Objects.requireNonNull(model, "model");
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 or more, got " + threads);
        }
        if (policyJson != null) {
            Objects.requireNonNull(policySource, "policySource");
        }
    }

    /** Loads the model and opens a session on this JVM. */
    MueSession open() {
        Mue.SessionBuilder b = Mue.session().model(model.load()).backend(backend)
                .backendOptions(BackendOptions.defaults().withThreads(threads)).truncateText(truncateText);
        if (policyJson != null) {
            ModelPolicies p = PolicyFile.parse(policyJson, policySource, policySource);
            b.policies(p);
        }
        return b.open();
    }
}
