package dev.mue.serve.batch;

import dev.mue.serve.protocol.RequestException;
import dev.mue.serve.protocol.UnavailableException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Dynamic batching: requests with the same key that wait together are run as one batch of at most
 * {@code maxBatch} items, which forms when it is full or when its oldest request has waited
 * {@code maxDelay}; requests with different keys never share a batch.
 *
 * <p>The queue is bounded in items: a request that does not fit is refused at once with an
 * {@link UnavailableException} (503), never queued. A request whose deadline passes while it waits
 * is taken out and refused the same way, and never runs. If a batch fails, each of its requests is
 * run again alone, so that one bad request fails by itself and the others get their results.
 *
 * <p>The batcher owns its worker threads; {@link #close()} refuses new requests, runs every
 * queued one and joins the workers.
 *
 * @param <K> what requests must share to be batched together (e.g. the exit policy)
 * @param <I> one item of a request (e.g. an image)
 * @param <R> one item's result
 */
public final class Batcher<K, I, R> implements AutoCloseable {
    /** Runs one batch: {@code items.size()} results, in order. */
    @FunctionalInterface
    public interface Runner<K, I, R> {
        /** The results of {@code items}, one each, in order. */
        List<R> run(K key, List<I> items);
    }

    /** Told of every batch run, for metrics. */
    @FunctionalInterface
    public interface Listener {
        /** A batch of {@code items} items from {@code requests} requests ran (before any retry alone). */
        void batchRan(int items, int requests);
    }

    /**
     * One request's results.
     *
     * @param results    its items' results, in order
     * @param batchItems the items in the batch it ran in (its own when it ran alone after a failed batch)
     * @param queuedNanos how long it waited before its batch started
     */
    public record Outcome<R>(List<R> results, int batchItems, long queuedNanos) {
        /** Copies the results. */
        public Outcome {
            results = List.copyOf(results);
        }
    }

    private final String name;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final int capacity;
    private final Runner<K, I, R> runner;
    private final Listener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Job<K, I, R>> queue = new ArrayDeque<>();
    private final List<Thread> workers = new ArrayList<>();
    private int queuedItems;
    private boolean closed;

    /**
     * Starts a batcher.
     *
     * @param name     for thread names and messages (e.g. the model)
     * @param maxBatch most items in one batch; 1 turns batching off
     * @param maxDelayNanos longest a batch waits, from its oldest request's arrival, for more requests
     * @param capacity most items waiting
     * @param workers  batches that may run at once
     */
    public Batcher(String name, int maxBatch, long maxDelayNanos, int capacity, int workers, Runner<K, I, R> runner,
            Listener listener) {
        if (maxBatch < 1 || maxDelayNanos < 0 || capacity < maxBatch || workers < 1) {
            throw new IllegalArgumentException("batcher " + name + ": need maxBatch >= 1, maxDelay >= 0, capacity >= maxBatch,"
                    + " workers >= 1; got " + maxBatch + ", " + maxDelayNanos + " ns, " + capacity + ", " + workers);
        }
        this.name = name;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = maxDelayNanos;
        this.capacity = capacity;
        this.runner = Objects.requireNonNull(runner);
        this.listener = Objects.requireNonNull(listener);
        for (int w = 0; w < workers; w++) {
            Thread t = Thread.ofPlatform().name("mue-batch-" + name + "-" + w).daemon(true).unstarted(this::work);
            this.workers.add(t);
        }
        this.workers.forEach(Thread::start);
    }

    /** Items waiting now. */
    public int queuedItems() {
        lock.lock();
        try {
            return queuedItems;
        } finally {
            lock.unlock();
        }
    }

    /** The most items one batch holds. */
    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Queues a request.
     *
     * @param deadlineNanos the {@link System#nanoTime()} after which it must not start
     * @return a ticket to wait on
     * @throws RequestException     if it has more items than a batch holds (400)
     * @throws UnavailableException if the queue has no room or the batcher is closed (503)
     */
    public Ticket submit(K key, List<I> items, long deadlineNanos) {
        if (items.isEmpty()) {
            throw new RequestException("a request needs at least one element");
        }
        if (items.size() > maxBatch) {
            throw new RequestException(items.size() + " elements in one request, over this server's --max-batch "
                    + maxBatch);
        }
        Job<K, I, R> job = new Job<>(key, List.copyOf(items), System.nanoTime(), deadlineNanos);
        lock.lock();
        try {
            if (closed) {
                throw new UnavailableException("the server is shutting down", 1);
            }
            if (queuedItems + items.size() > capacity) {
                throw new UnavailableException(name + " queue is full (" + queuedItems + " of " + capacity
                        + " elements waiting); retry later", 1);
            }
            queue.addLast(job);
            queuedItems += items.size();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return new Ticket(job);
    }

    /** A queued request: wait for its outcome. */
    public final class Ticket {
        private final Job<K, I, R> job;

        private Ticket(Job<K, I, R> job) {
            this.job = job;
        }

        /**
         * Waits for the outcome until the request's deadline.
         *
         * @throws UnavailableException if the deadline passes first (the request is taken out of the
         *                              queue if it is still there)
         * @throws RuntimeException     what running it threw
         */
        public Outcome<R> await() throws InterruptedException {
            long wait = job.deadlineNanos - System.nanoTime();
            try {
                return job.future.get(Math.max(0, wait), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                boolean wasQueued = remove(job);
                job.future.cancel(false);
                throw new UnavailableException("the request's deadline passed " + (wasQueued ? "while it waited in the "
                        + name + " queue" : "while it ran"), 1);
            } catch (InterruptedException e) {
                remove(job);
                job.future.cancel(false);
                throw e;
            } catch (CancellationException e) {
                throw new UnavailableException("the request was cancelled", 1);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(e.getCause());
            }
        }
    }

    private boolean remove(Job<K, I, R> job) {
        lock.lock();
        try {
            if (queue.remove(job)) {
                queuedItems -= job.items.size();
                changed.signalAll();
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        while (true) {
            List<Job<K, I, R>> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                return;
            }
            if (batch == null) {
                return;
            }
            run(batch);
        }
    }

    /** The next batch, or null once closed and empty. */
    private List<Job<K, I, R>> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (queue.isEmpty()) {
                    if (closed) {
                        return null;
                    }
                    changed.await();
                    continue;
                }
                Job<K, I, R> head = queue.peekFirst();
                long now = System.nanoTime();
                if (now - head.deadlineNanos > 0) {
                    queue.pollFirst();
                    queuedItems -= head.items.size();
                    head.future.completeExceptionally(new UnavailableException("the request's deadline passed while it"
                            + " waited in the " + name + " queue", 1));
                    continue;
                }
                long waitUntil = head.arrivedNanos + maxDelayNanos;
                // Wait for more of the same key unless the batch is full, its time is up, or we are draining.
                if (!closed && itemsFor(head.key) < maxBatch && waitUntil - now > 0) {
                    changed.awaitNanos(waitUntil - now);
                    continue;
                }
                return take(head.key);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Items of {@code key}'s jobs, in queue order, that one batch would take. */
    private int itemsFor(K key) {
        int n = 0;
        for (Job<K, I, R> j : queue) {
            if (j.key.equals(key)) {
                if (n + j.items.size() > maxBatch) {
                    break;
                }
                n += j.items.size();
            }
        }
        return n;
    }

    private List<Job<K, I, R>> take(K key) {
        List<Job<K, I, R>> batch = new ArrayList<>();
        int n = 0;
        for (Iterator<Job<K, I, R>> it = queue.iterator(); it.hasNext();) {
            Job<K, I, R> j = it.next();
            if (j.key.equals(key)) {
                if (n + j.items.size() > maxBatch) {
                    break;
                }
                n += j.items.size();
                batch.add(j);
                it.remove();
            }
        }
        queuedItems -= n;
        changed.signalAll();
        return batch;
    }

    private void run(List<Job<K, I, R>> batch) {
        long start = System.nanoTime();
        List<I> items = new ArrayList<>();
        for (Job<K, I, R> j : batch) {
            items.addAll(j.items);
        }
        K key = batch.get(0).key;
        listener.batchRan(items.size(), batch.size());
        List<R> results;
        try {
            results = runner.run(key, items);
            if (results.size() != items.size()) {
                throw new IllegalStateException(name + " batch of " + items.size() + " items gave " + results.size()
                        + " results");
            }
        } catch (RuntimeException | Error e) {
            if (batch.size() == 1) {
                batch.get(0).future.completeExceptionally(e);
            } else {
                // One request may have failed the whole batch: run each alone so only that one fails.
                for (Job<K, I, R> j : batch) {
                    runAlone(j, start);
                }
            }
            return;
        }
        int at = 0;
        for (Job<K, I, R> j : batch) {
            int n = j.items.size();
            j.future.complete(new Outcome<>(results.subList(at, at + n), items.size(), start - j.arrivedNanos));
            at += n;
        }
    }

    private void runAlone(Job<K, I, R> j, long start) {
        try {
            List<R> r = runner.run(j.key, j.items);
            if (r.size() != j.items.size()) {
                throw new IllegalStateException(name + " request of " + j.items.size() + " items gave " + r.size()
                        + " results");
            }
            j.future.complete(new Outcome<>(r, j.items.size(), start - j.arrivedNanos));
        } catch (RuntimeException | Error e) {
            j.future.completeExceptionally(e);
        }
    }

    /** Refuses new requests, runs every queued one (without waiting for fuller batches), joins the workers. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        for (Thread t : workers) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Job<K, I, R> {
        final K key;
        final List<I> items;
        final long arrivedNanos;
        final long deadlineNanos;
        final CompletableFuture<Outcome<R>> future = new CompletableFuture<>();

        Job(K key, List<I> items, long arrivedNanos, long deadlineNanos) {
            this.key = key;
            this.items = items;
            this.arrivedNanos = arrivedNanos;
            this.deadlineNanos = deadlineNanos;
        }
    }
}
