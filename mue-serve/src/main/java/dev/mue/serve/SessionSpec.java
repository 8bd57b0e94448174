package dev.mue.serve;

import dev.mue.api.model.Model;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.Task;
import dev.mue.api.spi.BackendOptions;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.session.decode.DecodingOptions;
import java.util.Objects;

/**
 * What the server's sessions are opened with: the model, the backend, its options, the decoding
 * settings and each task's policy (the server's own; requests may override thresholds within the
 * server's limits, in sessions of their own).
 *
 * @param model          the loaded model
 * @param modelSource    where it came from, for metadata and logs
 * @param backend        the backend id, or null / {@code auto} for the best available
 * @param backendOptions the backend's options
 * @param decoding       beam search settings
 * @param caption        captioning's policy and its source
 * @param entail         entailment's policy and its source
 */
public record SessionSpec(Model model, String modelSource, String backend, BackendOptions backendOptions,
        DecodingOptions decoding, PolicyChoice caption, PolicyChoice entail) {

    /** Requires everything but the backend id. */
    public SessionSpec {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(modelSource, "modelSource");
        Objects.requireNonNull(backendOptions, "backendOptions");
        Objects.requireNonNull(decoding, "decoding");
        Objects.requireNonNull(caption, "caption");
        Objects.requireNonNull(entail, "entail");
    }

    /**
     * The model with its own conventions: the best available backend, default options and decoding,
     * each task's policy from the bundle's {@code policy.json} (else the paper's).
     */
    public static SessionSpec of(Model model, String modelSource) {
        return new SessionSpec(model, modelSource, null, BackendOptions.defaults(), DecodingOptions.captioning(model.config()),
                PolicyChoice.resolve(Task.CAPTION, null, null, model.policies()),
                PolicyChoice.resolve(Task.ENTAIL, null, null, model.policies()));
    }

    /** This spec on another backend. */
    public SessionSpec withBackend(String id) {
        return new SessionSpec(model, modelSource, id, backendOptions, decoding, caption, entail);
    }

    /** This spec with {@code choice} for both tasks. */
    public SessionSpec withPolicy(PolicyChoice choice) {
        return new SessionSpec(model, modelSource, backend, backendOptions, decoding, choice, choice);
    }

    /** Opens the session with each task's own policy. */
    public MueSession open() {
        return Mue.session().model(model).backend(backend).backendOptions(backendOptions).decoding(decoding)
                .policy(Task.CAPTION, caption).policy(Task.ENTAIL, entail).open();
    }

    /** Opens a session whose tasks both run {@code choice}. */
    public MueSession open(PolicyChoice choice) {
        return withPolicy(choice).open();
    }
}
