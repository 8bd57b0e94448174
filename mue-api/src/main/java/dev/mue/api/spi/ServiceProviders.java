package dev.mue.api.spi;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;

/**
 * Loads the providers of a service with {@link ServiceLoader}, skipping (and logging) each one that
 * fails to load, so that one broken jar on the path never hides the others: how backends and exit
 * criteria are found.
 */
public final class ServiceProviders {
    private ServiceProviders() {
    }

    /**
     * Every provider of {@code service} the class loader of {@code service} finds, in discovery
     * order, broken ones skipped with a warning naming {@code what} (e.g. {@code backend provider}).
     */
    public static <T> List<T> load(Class<T> service, Logger log, String what) {
        List<T> found = new ArrayList<>();
        Iterator<T> it = ServiceLoader.load(service, service.getClassLoader()).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                log.warn("skipping a {} that failed to load: {}", what, e.getMessage());
            }
        }
        return found;
    }
}
