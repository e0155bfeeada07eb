package dev.atelier.providers.docker;

import com.github.dockerjava.api.exception.DockerException;
import dev.atelier.provider.ProviderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Pulls the images a workspace needs in the background, so that no provider call waits for a pull: the provider
 * answers "in progress" and asks again at the next poll. Two pulls run at a time; a second workspace that needs an
 * image being pulled waits for the same pull. A pull that fails fails the transition with the daemon's words.
 */
final class ImagePuller implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ImagePuller.class);

    private final DockerApi api;
    private final Duration timeout;
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "docker-pull");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Future<?>> pulls = new ConcurrentHashMap<>();

    ImagePuller(DockerApi api, Duration timeout) {
        this.api = api;
        this.timeout = timeout;
    }

    /** Whether the daemon has every image; starts (or checks on) a pull of each one it has not. */
    boolean ready(Collection<String> images) {
        boolean pulling = false;
        for (String image : images) {
            if (!present(image)) {
                pull(image);
                pulling = true;
            }
        }
        return !pulling;
    }

    private boolean present(String image) {
        if (api.image(image) == null) {
            return false;
        }
        pulls.remove(image);
        return true;
    }

    private void pull(String image) {
        Future<?> pull = pulls.computeIfAbsent(image, i -> executor.submit(() -> {
            log.info("docker provider: pulling {}", i);
            try {
                if (!api.pull(i, timeout)) {
                    throw new IllegalStateException("the pull did not finish within " + timeout);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
            return null;
        }));
        if (pull.isDone()) {
            pulls.remove(image);
            try {
                pull.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                String detail = cause instanceof DockerException d && d.getMessage() != null ? d.getMessage()
                        : String.valueOf(cause.getMessage());
                throw ProviderException.permanent("could not pull image " + image + " on " + api.host() + ": "
                        + detail.trim());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
