package dev.mue.serve.infer;

import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.PolicyChoice;
import dev.mue.api.policy.Task;
import dev.mue.serve.protocol.UnavailableException;
import dev.mue.session.MueSession;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The sessions the served models run on: the server's own (each task with its policy: flags, a
 * policy file, the bundle's or the paper's), and, for requests that override the policy, one
 * session per distinct overridden policy, at most {@code maxOverrides} at once.
 *
 * <p>An override session is opened on first use and kept; when the pool is full the least recently
 * used one that no batch is running on is closed to make room, and if every one is busy the
 * request is refused with a 503. A plan is compiled per policy, so requests with different
 * policies can never share a batch; the batch key is the effective {@link ExitPolicy}.
 */
public final class SessionPool implements AutoCloseable {
    /** Source label of a policy a request set. */
    public static final String OVERRIDE_SOURCE = "request parameters";

    private final MueSession base;
    private final Function<PolicyChoice, MueSession> opener;
    private final int maxOverrides;
    private final Map<ExitPolicy, Entry> overrides = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    /**
     * A pool over {@code base}, opening override sessions with {@code opener}.
     *
     * @param maxOverrides override sessions held at once; 0 allows none
     */
    public SessionPool(MueSession base, Function<PolicyChoice, MueSession> opener, int maxOverrides) {
        if (maxOverrides < 0) {
            throw new IllegalArgumentException("maxOverrides must be >= 0, got " + maxOverrides);
        }
        this.base = Objects.requireNonNull(base);
        this.opener = Objects.requireNonNull(opener);
        this.maxOverrides = maxOverrides;
    }

    /** The server's own session. */
    public MueSession base() {
        return base;
    }

    /** The policy {@code task} runs with unless a request overrides it. */
    public PolicyChoice baseChoice(Task task) {
        return base.policy(task);
    }

    /** What a request of {@code task} with effective policy {@code p} runs with, and where it came from. */
    public PolicyChoice choice(Task task, ExitPolicy p) {
        PolicyChoice b = base.policy(task);
        return b.policy().equals(p) ? b : new PolicyChoice(p, OVERRIDE_SOURCE + " over " + b.source(), null);
    }

    /** Override sessions open now. */
    public synchronized int overrideSessions() {
        return overrides.size();
    }

    /** A session for {@code task} with policy {@code p}; close the lease when the batch is done. */
    public Lease lease(Task task, ExitPolicy p) {
        if (base.policy(task).policy().equals(p)) {
            return new Lease(base, null);
        }
        List<MueSession> evicted = new ArrayList<>();
        Lease lease;
        synchronized (this) {
            if (closed) {
                throw new UnavailableException("the server is shutting down", 1);
            }
            Entry e = overrides.get(p);
            if (e == null) {
                if (maxOverrides == 0) {
                    throw new IllegalStateException("policy overrides are off, yet a batch asked for " + p.describe());
                }
                while (overrides.size() >= maxOverrides) {
                    Entry idle = eldestIdle();
                    if (idle == null) {
                        throw new UnavailableException("all " + maxOverrides + " sessions for overridden policies are busy;"
                                + " retry later", 1);
                    }
                    overrides.values().remove(idle);
                    evicted.add(idle.session);
                }
                // Opened under the lock: a second request for the same policy must wait for this one.
                e = new Entry(opener.apply(new PolicyChoice(p, OVERRIDE_SOURCE, null)));
                overrides.put(p, e);
            }
            e.users++;
            lease = new Lease(e.session, e);
        }
        evicted.forEach(MueSession::close);
        return lease;
    }

    private Entry eldestIdle() {
        for (Iterator<Entry> it = overrides.values().iterator(); it.hasNext();) {
            Entry e = it.next();
            if (e.users == 0) {
                return e;
            }
        }
        return null;
    }

    /** Closes every session (call once no batch runs). */
    @Override
    public void close() {
        List<MueSession> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>();
            overrides.values().forEach(e -> all.add(e.session));
            overrides.clear();
        }
        all.add(base);
        RuntimeException first = null;
        for (MueSession s : all) {
            try {
                s.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private static final class Entry {
        final MueSession session;
        int users;

        Entry(MueSession session) {
            this.session = session;
        }
    }

    /** A session in use by one batch. */
    public final class Lease implements AutoCloseable {
        private final MueSession session;
        private final Entry entry;

        private Lease(MueSession session, Entry entry) {
            this.session = session;
            this.entry = entry;
        }

        /** The session. */
        public MueSession session() {
            return session;
        }

        /** Returns the session to the pool. */
        @Override
        public void close() {
            if (entry != null) {
                synchronized (SessionPool.this) {
                    entry.users--;
                }
            }
        }
    }
}
