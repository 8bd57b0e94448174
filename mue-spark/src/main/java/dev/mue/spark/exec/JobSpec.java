package dev.mue.spark.exec;

import dev.mue.api.policy.Task;
import java.io.Serializable;
import java.util.Objects;

/**
 * Everything a task needs to run its partition, and all that travels with it: the task, the input
 * columns, the session it runs on (as a {@link SessionSpec}, never a session) and the batching.
 *
 * @param task             captioning or visual entailment
 * @param imageColumn      the image: a path string (local path or {@code file:} URI) or the bytes
 * @param nameColumn       a string column that names the image in messages (e.g. {@code binaryFile}'s
 *                         {@code path}), or null
 * @param hypothesisColumn entailment's hypothesis (string); null for captioning
 * @param premiseColumn    entailment's optional premise (string), or null
 * @param session          the session's model, policies and backend
 * @param batchSize        rows per call to the session's batch path
 * @param failFast         whether a bad row fails the task (and the job) instead of getting an error
 */
public record JobSpec(Task task, String imageColumn, String nameColumn, String hypothesisColumn,
        String premiseColumn, SessionSpec session, int batchSize, boolean failFast) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Validates. */
    public JobSpec {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(imageColumn, "imageColumn");
        Objects.requireNonNull(session, "session");
        if (task == Task.ENTAIL && hypothesisColumn == null) {
            throw new IllegalArgumentException("entailment needs a hypothesis column");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
    }
}
