package dev.atelier.config;

import org.axonframework.common.caching.Cache;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class BoundedAggregateCacheTest {

    @Test
    void holdsAtMostItsSizeAndTellsListenersWhatLeft() {
        BoundedAggregateCache cache = new BoundedAggregateCache(3);
        List<Object> gone = new CopyOnWriteArrayList<>();
        cache.registerCacheEntryListener(new Cache.EntryListenerAdapter() {
            @Override
            public void onEntryExpired(Object key) {
                gone.add(key);
            }

            @Override
            public void onEntryRemoved(Object key) {
                gone.add("removed:" + key);
            }
        });
        for (int i = 0; i < 10; i++) {
            cache.put("agg-" + i, "state-" + i);
        }
        assertThat(cache.size()).isEqualTo(3);
        assertThat(gone).as("evicted, not removed").hasSize(7).allMatch(key -> key.toString().startsWith("agg-"));
        String held = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "agg-" + i)
                .filter(cache::containsKey).findFirst().orElseThrow();
        assertThat(cache.<String, String>get(held)).isEqualTo("state-" + held.substring(4));
        assertThat(cache.remove(held)).isTrue();
        assertThat(cache.containsKey(held)).isFalse();
        assertThat(gone).contains("removed:" + held);
        assertThat(cache.putIfAbsent("a", 1)).isTrue();
        assertThat(cache.putIfAbsent("a", 2)).isFalse();
        assertThat(cache.<String, Integer>get("a")).isEqualTo(1);
        cache.computeIfPresent("a", (Integer v) -> v + 1);
        assertThat(cache.<String, Integer>get("a")).isEqualTo(2);
        cache.removeAll();
        assertThat(cache.size()).isZero();
    }

    @Test
    void anEntryIsNotTrustedLongerThanItsTimeToLiveAfterTheLastWrite() {
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        BoundedAggregateCache cache = new BoundedAggregateCache(10, java.time.Duration.ofSeconds(10), nanos::get);
        cache.put("workspace", "as this node last saw it");
        nanos.addAndGet(java.time.Duration.ofSeconds(9).toNanos());
        assertThat(cache.<String, String>get("workspace")).isEqualTo("as this node last saw it");
        cache.put("workspace", "after another command here"); // a write starts the time again
        nanos.addAndGet(java.time.Duration.ofSeconds(9).toNanos());
        assertThat(cache.containsKey("workspace")).isTrue();
        nanos.addAndGet(java.time.Duration.ofSeconds(2).toNanos());
        assertThat(cache.containsKey("workspace")).as("another node may have changed it meanwhile").isFalse();
        assertThat(cache.<String, String>get("workspace")).isNull();
    }
}
