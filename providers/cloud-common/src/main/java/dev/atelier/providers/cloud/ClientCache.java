package dev.atelier.providers.cloud;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The SDK clients of a cloud provider, built on first use (so that an engine with the provider enabled but unused
 * never loads credentials) and kept for the life of the engine. A failed build is not kept: the next call tries
 * again, after the operator fixed the credentials, say.
 */
public final class ClientCache<C> {

    private final Function<String, C> factory;
    private final Function<String, String> key;
    private final Map<String, C> clients = new ConcurrentHashMap<>();

    private ClientCache(Function<String, C> factory, Function<String, String> key) {
        this.factory = factory;
        this.key = key;
    }

    /** A client per scope: an EC2 client per region, ARM clients per subscription. */
    public static <C> ClientCache<C> perScope(Function<String, C> factory) {
        return new ClientCache<>(factory, scope -> scope);
    }

    /** One client for every scope (Compute Engine's REST clients are not bound to a project). */
    public static <C> ClientCache<C> one(Supplier<C> factory) {
        return new ClientCache<>(scope -> factory.get(), scope -> "");
    }

    public C get(String scope) {
        return clients.computeIfAbsent(key.apply(scope), k -> factory.apply(scope));
    }
}
