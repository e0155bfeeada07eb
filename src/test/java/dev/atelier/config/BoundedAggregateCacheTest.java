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
}
