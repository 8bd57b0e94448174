package dev.mue.spark.exec;

import dev.mue.session.MueSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions of this JVM, one per {@link SessionSpec}: opened by the first task that needs one and
 * shared by every later task on the same executor, so a model is loaded and its plans compiled once
 * per executor, not once per task or partition. Sessions never travel with a task (only their
 * {@link SessionSpec} does); they are closed when the JVM shuts down, or by {@link #closeAll()}.
 */
public final class ExecutorSessions {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorSessions.class);
    private static final Map<SessionSpec, MueSession> SESSIONS = new ConcurrentHashMap<>();
    private static final AtomicInteger CREATED = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorSessions::closeAll, "mue-spark-close-sessions"));
    }

    private ExecutorSessions() {
    }

    /**
     * This JVM's session for {@code spec}, opened on first use; concurrent first calls wait for the
     * one that opens it.
     */
    public static MueSession get(SessionSpec spec) {
        return SESSIONS.computeIfAbsent(spec, s -> {
            long t0 = System.nanoTime();
            MueSession session = s.open();
            int n = CREATED.incrementAndGet();
            LOG.info("mue session {} opened in {} ms: model {}, backend {}, policies from {}", n,
                    (System.nanoTime() - t0) / 1_000_000, s.model(), session.backendId(),
                    s.policyJson() == null ? "the bundle" : s.policySource());
            return session;
        });
    }

    /** How many sessions this JVM has opened so far (closed ones included). */
    public static int created() {
        return CREATED.get();
    }

    /**
     * Closes every open session of this JVM; a later {@link #get} opens a new one. For the end of an
     * application (a driver in local mode, tests): a task still running on a closed session fails.
     */
    public static void closeAll() {
        List<RuntimeException> failures = new ArrayList<>();
        for (SessionSpec spec : List.copyOf(SESSIONS.keySet())) {
            MueSession s = SESSIONS.remove(spec);
            if (s != null) {
                try {
                    s.close();
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
