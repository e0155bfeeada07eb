package dev.atelier.config;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import org.axonframework.common.Registration;
import org.axonframework.common.caching.Cache;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Axon's aggregate {@link Cache} on a size-bounded Caffeine cache: a command on an aggregate that was used recently
 * does not read its events again. Bounded by count (least recently used go first) rather than by the garbage
 * collector as Axon's {@code WeakReferenceCache} is, so the memory it takes is known and a busy engine does not lose
 * every entry at each collection. One instance per aggregate type: Axon keys the cache by aggregate identifier only.
 */
public final class BoundedAggregateCache implements Cache {

    private final com.github.benmanes.caffeine.cache.Cache<Object, Object> entries;
    private final List<EntryListener> listeners = new CopyOnWriteArrayList<>();

    public BoundedAggregateCache(long maximumSize) {
        this(maximumSize, null);
    }

    /**
     * @param timeToLive how long an entry is trusted after the last command wrote it (null: until evicted by size).
     *                   With several nodes an entry can be out of date: an append on it is caught by the event
     *                   store, but a command that only refuses is not, so the entry must not outlive this
     */
    public BoundedAggregateCache(long maximumSize, java.time.Duration timeToLive) {
        this(maximumSize, timeToLive, com.github.benmanes.caffeine.cache.Ticker.systemTicker());
    }

    BoundedAggregateCache(long maximumSize, java.time.Duration timeToLive, com.github.benmanes.caffeine.cache.Ticker ticker) {
        Caffeine<Object, Object> builder = Caffeine.newBuilder().ticker(ticker);
        if (timeToLive != null) {
            builder = builder.expireAfterWrite(timeToLive);
        }
        this.entries = builder
                .maximumSize(maximumSize)
                .executor(Runnable::run) // evict in the caller's thread: the bound holds the moment a put returns
                .removalListener((Object key, Object value, RemovalCause cause) -> {
                    if (key != null && cause != RemovalCause.REPLACED) {
                        listeners.forEach(l -> {
                            if (cause.wasEvicted()) {
                                l.onEntryExpired(key);
                            } else {
                                l.onEntryRemoved(key);
                            }
                        });
                    }
                })
                .build();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, V> V get(K key) {
        return (V) entries.getIfPresent(key);
    }

    @Override
    public void put(Object key, Object value) {
        Object previous = entries.asMap().put(key, value);
        listeners.forEach(l -> {
            if (previous == null) {
                l.onEntryCreated(key, value);
            } else {
                l.onEntryUpdated(key, value);
            }
        });
    }

    @Override
    public boolean putIfAbsent(Object key, Object value) {
        boolean added = entries.asMap().putIfAbsent(key, value) == null;
        if (added) {
            listeners.forEach(l -> l.onEntryCreated(key, value));
        }
        return added;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T computeIfAbsent(Object key, Supplier<T> valueSupplier) {
        return (T) entries.get(key, k -> valueSupplier.get());
    }

    @Override
    @SuppressWarnings("unchecked")
    public <V> void computeIfPresent(Object key, UnaryOperator<V> update) {
        entries.asMap().computeIfPresent(key, (k, v) -> update.apply((V) v));
    }

    @Override
    public boolean remove(Object key) {
        return entries.asMap().remove(key) != null;
    }

    @Override
    public void removeAll() {
        entries.invalidateAll();
    }

    @Override
    public boolean containsKey(Object key) {
        return entries.asMap().containsKey(key);
    }

    /** How many aggregates are held now (after pending evictions). */
    public long size() {
        entries.cleanUp();
        return entries.estimatedSize();
    }

    @Override
    public Registration registerCacheEntryListener(EntryListener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }
}
