package dev.mue.serve;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT into a graceful shutdown instead of the JVM's default (run the
 * shutdown hooks and exit with 128 + the signal's number): the first one starts {@code drain} on a
 * thread of its own, whose end the caller awaits before exiting 0; a second one, while draining,
 * exits at once with status 1.
 *
 * <p>For a process that serves and nothing else (the {@code mue serve} command); an embedding
 * application keeps its own signal handling and calls {@link MueServer#shutdown()} itself.
 */
public final class TerminationSignals {
    private static final Logger LOG = LoggerFactory.getLogger(TerminationSignals.class);
    private static final String[] SIGNALS = {"TERM", "INT"};

    private TerminationSignals() {
    }

    /**
     * Installs the handlers; {@code drain} runs once, on the first signal. A signal the process was
     * started ignoring stays ignored (as the JVM itself does): a shell starts a background command
     * with SIGINT ignored, so that a Ctrl-C meant for the foreground does not reach it.
     */
    public static void install(Runnable drain) {
        AtomicBoolean draining = new AtomicBoolean();
        for (String name : SIGNALS) {
            Signal signal = new Signal(name);
            SignalHandler previous = Signal.handle(signal, sig -> {
                if (draining.compareAndSet(false, true)) {
                    LOG.warn("SIG{}: draining in-flight requests, then exiting", sig.getName());
                    Thread.ofPlatform().name("mue-drain").start(drain);
                } else {
                    LOG.warn("SIG{} while draining: exiting now", sig.getName());
                    System.exit(1);
                }
            });
            if (previous == SignalHandler.SIG_IGN) {
                Signal.handle(signal, SignalHandler.SIG_IGN);
            }
        }
    }
}
