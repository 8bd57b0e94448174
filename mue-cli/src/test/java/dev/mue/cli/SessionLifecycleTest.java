package dev.mue.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.api.GenerationResult;
import dev.mue.api.InvalidInputException;
import dev.mue.api.MueException;
import dev.mue.model.grid.GridModel;
import dev.mue.session.Mue;
import dev.mue.session.MueSession;
import dev.mue.session.SessionClosedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A session closed while captions are in flight (the issue: they failed with
 * {@code RejectedExecutionException: null}), calls after close, and null arguments, on the java
 * backend with the shipped model.
 */
class SessionLifecycleTest {
    private static final Path IMAGE = SampleImagesFixture.SAMPLES.resolve("fmnist-test-0.png");

    @Test
    void closeLetsCallsInFlightFinishAndRefusesLaterOnes() throws Exception {
        MueSession s = Mue.session().model(GridModel.load()).backend("java").open();
        GenerationResult reference = s.caption(IMAGE);
        int threads = 4;
        CountDownLatch started = new CountDownLatch(threads);
        List<Throwable> unexpected = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                started.countDown();
                try {
                    while (true) {
                        GenerationResult r = s.caption(IMAGE);
                        if (!r.text().equals(reference.text())) {
                            unexpected.add(new AssertionError("a caption in flight changed: " + r.text()));
                        }
                        finished.incrementAndGet();
                    }
                } catch (SessionClosedException e) {
                    refused.incrementAndGet();
                } catch (Throwable e) {
                    unexpected.add(e);
                }
            });
            w.start();
            workers.add(w);
        }
        started.await();
        s.close(); // while the workers caption in a loop
        for (Thread w : workers) {
            w.join();
        }
        assertEquals(List.of(), unexpected);
        assertEquals(threads, refused.get(), "every worker ends on the closed session, none on a failure");
        SessionClosedException e = assertThrows(SessionClosedException.class, () -> s.caption(IMAGE));
        assertEquals("this session on backend java is closed", e.getMessage());
        assertTrue(e instanceof MueException);
        s.close(); // idempotent
    }

    @Test
    void nullArgumentsAreInvalidInputNamingThem() {
        try (MueSession s = Mue.session().model(GridModel.load()).backend("java").open()) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> s.entail(IMAGE, null));
            assertEquals("hypothesis must not be null", e.getMessage());
            e = assertThrows(InvalidInputException.class, () -> s.caption((Path) null));
            assertEquals("image must not be null", e.getMessage());
            e = assertThrows(InvalidInputException.class, () -> s.captionBatch(java.util.Arrays.asList(IMAGE, null)));
            assertEquals("images element 1 is null", e.getMessage());
            e = assertThrows(InvalidInputException.class, () -> s.entailBatch(List.of(IMAGE), null, null));
            assertEquals("hypotheses must not be null", e.getMessage());
            assertFalse(s.entail(IMAGE, "there is a bag").answer().isEmpty(), "the session still works");
        }
    }
}
