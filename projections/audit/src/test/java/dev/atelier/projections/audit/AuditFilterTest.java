package dev.atelier.projections.audit;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AuditFilterTest {

    @Test
    void searchSyntaxLikeCoders() {
        AuditFilter filter = AuditFilter.parse(Map.of(),
                "resource_type:workspace action:delete,Stop actor:alice actor:\"bob smith\" outcome:DENIED "
                        + "from:2026-11-01 to:2026-12-01T00:00:00Z request_id:r-1 resource_id:ws-1");
        assertThat(filter.resourceTypes()).containsExactly("workspace");
        assertThat(filter.actions()).containsExactly("delete", "stop");
        assertThat(filter.actors()).containsExactly("alice", "bob smith");
        assertThat(filter.outcomes()).containsExactly("denied");
        assertThat(filter.requestIds()).containsExactly("r-1");
        assertThat(filter.resourceIds()).containsExactly("ws-1");
        assertThat(filter.from()).isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));
        assertThat(filter.to()).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
    }

    @Test
    void parametersAndSearchCombine() {
        AuditFilter filter = AuditFilter.parse(Map.of("resourceType", "template", "from", "2026-11-01T10:00:00+02:00"),
                "actor:alice");
        assertThat(filter.resourceTypes()).containsExactly("template");
        assertThat(filter.actors()).containsExactly("alice");
        assertThat(filter.from()).isEqualTo(Instant.parse("2026-11-01T08:00:00Z"));
        AuditFilter.Sql sql = filter.select(10L, false, 51);
        assertThat(sql.conditions()).endsWith("WHERE TRUE AND actor_id = ? AND resource_type = ? AND time >= ? "
                + "AND seq < ? ORDER BY seq DESC LIMIT ?");
        assertThat(sql.args()).hasSize(5);
        assertThat(AuditFilter.parse(Map.of("actor", "a,b"), null).where().conditions())
                .isEqualTo(" AND actor_id IN (?, ?)");
    }

    @Test
    void mistakesAreExplained() {
        assertThatThrownBy(() -> AuditFilter.parse(Map.of(), "resource:workspace"))
                .hasMessage("unknown search key 'resource' in q (known keys: action, actor, from, outcome, request_id, "
                        + "resource_id, resource_type, to)");
        assertThatThrownBy(() -> AuditFilter.parse(Map.of(), "alice"))
                .hasMessageStartingWith("search term 'alice' is not key:value");
        assertThatThrownBy(() -> AuditFilter.parse(Map.of("actor", "bob"), "actor:alice"))
                .hasMessageContaining("given both as parameter 'actor' and in q");
        assertThatThrownBy(() -> AuditFilter.parse(Map.of("outcome", "ok"), null))
                .hasMessageContaining("outcome 'ok' is unknown (known: denied, failure, success)");
        assertThatThrownBy(() -> AuditFilter.parse(Map.of("from", "yesterday"), null))
                .hasMessageContaining("from 'yesterday' is not a time");
        assertThatThrownBy(() -> AuditFilter.parse(Map.of("from", "2026-12-01", "to", "2026-11-01"), null))
                .hasMessageContaining("must be before to");
        assertThatThrownBy(() -> AuditFilter.parse(Map.of("actor", "a,,b"), null)).hasMessageContaining("empty value");
        assertThatThrownBy(() -> AuditFilter.parse(Map.of("actor", String.join(",",
                java.util.Collections.nCopies(21, "x"))), null)).hasMessageContaining("more than 20 values");
    }

    @Test
    void describesItselfForTheRecordOfARead() {
        assertThat(AuditFilter.parse(Map.of("actor", "alice", "to", "2026-11-01"), null).describe())
                .isEqualTo(Map.of("filter.actor", "alice", "filter.to", "2026-11-01T00:00:00Z"));
        assertThat(AuditFilter.NONE.describe()).isEmpty();
        assertThat(AuditFilter.searchKeys()).isEqualTo(List.of("action", "actor", "from", "outcome", "request_id",
                "resource_id", "resource_type", "to"));
    }
}
