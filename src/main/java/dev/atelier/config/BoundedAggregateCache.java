package dev.atelier.config;

import org.axonframework.eventsourcing.AggregateCacheEntry;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import org.axonframework.common.Registration;
import org.axonframework.common.caching.Cache;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Axon's aggregate {@link Cache} on a size-bounded Caffeine cache: a command on an aggregate that was used recently
 * does not read its events again. Bounded by count (least recently used go first) rather than by the garbage
 * collector as Axon's {@code WeakReferenceCache} is, so the memory it takes is known and a busy engine does not lose
 * every entry at each collection. One instance per aggregate type: Axon keys the cache by aggregate identifier only.
 *
 * <p>With several nodes on one event store an entry goes out of date whenever another node handles a command for
 * the same aggregate. An append on such an entry collides at the event store, but a command that decides on it
 * without appending (a refusal, or a completion the aggregate takes for a stale build and ignores) would be lost
 * silently: a workspace's stop completed on the node that had cached the start never became STOPPED. So an engine's
 * cache checks every hit against the event store ({@link StoredVersions}, one indexed query): an entry whose version
 * is not the aggregate's last sequence number is dropped and Axon loads the aggregate from its snapshot and events.
 */
public final class BoundedAggregateCache implements Cache {

    /** The version the event store holds for an aggregate: its last sequence number, empty if it has no events. */
    @FunctionalInterface
    public interface StoredVersions {
        Optional<Long> lastSequenceNumber(String aggregateId);
    }

    /** Axon keeps an entry's version private; read once here, so an Axon that renames it disables hits, not checks. */
    private static final Field ENTRY_VERSION = entryVersionField();

    private final com.github.benmanes.caffeine.cache.Cache<Object, Object> entries;
    private final List<EntryListener> listeners = new CopyOnWriteArrayList<>();
    private final StoredVersions storedVersions;

    public BoundedAggregateCache(long maximumSize) {
        this(maximumSize, null);
    }

    /**
     * A cache whose hits are checked against the event store: what the engine uses (see the class comment).
     */
    public BoundedAggregateCache(long maximumSize, java.time.Duration timeToLive, StoredVersions storedVersions) {
        this(maximumSize, timeToLive, com.github.benmanes.caffeine.cache.Ticker.systemTicker(), storedVersions);
    }

    /**
     * @param timeToLive how long an entry is trusted after the last command wrote it (null: until evicted by size).
     *                   With several nodes an entry can be out of date: an append on it is caught by the event
     *                   store, but a command that only refuses is not, so the entry must not outlive this
     */
    public BoundedAggregateCache(long maximumSize, java.time.Duration timeToLive) {
        this(maximumSize, timeToLive, com.github.benmanes.caffeine.cache.Ticker.systemTicker(), null);
    }

    BoundedAggregateCache(long maximumSize, java.time.Duration timeToLive, com.github.benmanes.caffeine.cache.Ticker ticker) {
        this(maximumSize, timeToLive, ticker, null);
    }

    BoundedAggregateCache(long maximumSize, java.time.Duration timeToLive, com.github.benmanes.caffeine.cache.Ticker ticker,
                          StoredVersions storedVersions) {
        this.storedVersions = storedVersions;
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
        Object value = entries.getIfPresent(key);
        if (value == null || storedVersions == null) {
            return (V) value;
        }
        Long cached = version(value);
        if (cached != null && storedVersions.lastSequenceNumber(key.toString()).filter(cached::equals).isPresent()) {
            return (V) value;
        }
        entries.asMap().remove(key, value); // out of date: Axon loads the aggregate from the event store and puts it again
        return null;
    }

    /** The version of an Axon cache entry (its aggregate's last sequence number), null if it cannot be read. */
    static Long version(Object entry) {
        if (ENTRY_VERSION == null || !(entry instanceof AggregateCacheEntry<?>)) {
            return null;
        }
        try {
            return (Long) ENTRY_VERSION.get(entry);
        } catch (IllegalAccessException | ClassCastException e) {
            return null;
        }
    }

    private static Field entryVersionField() {
        try {
            Field field = AggregateCacheEntry.class.getDeclaredField("version");
            field.setAccessible(true);
            return field;
        } catch (NoSuchFieldException | RuntimeException e) {
            return null;
        }
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
