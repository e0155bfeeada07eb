package dev.atelier.projections.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.Text;
import dev.atelier.domain.template.TemplateActiveVersionChangedEvent;
import dev.atelier.domain.template.TemplateArchivedEvent;
import dev.atelier.domain.template.TemplateCreatedEvent;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.template.TemplateParameter;
import dev.atelier.domain.template.TemplateVersionPublishedEvent;
import dev.atelier.domain.workspace.Transition;
import dev.atelier.domain.workspace.WorkspaceCreatedEvent;
import dev.atelier.domain.workspace.WorkspaceDriftedEvent;
import dev.atelier.domain.workspace.WorkspaceTemplateVersionChangedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionFailedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionStartedEvent;
import dev.atelier.domain.workspace.WorkspaceTransitionSucceededEvent;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.MetaData;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each event means for the audit trail: action, resource, outcome and the fields it sets. Depends on the event
 * alone (payload, metadata, time, identity), never on the time of processing, so that a rebuild from the event store
 * produces the same entries.
 */
final class AuditEntryFactory {

    static final String WORKSPACE = "workspace";
    static final String TEMPLATE = "template";
    /** Internal state keys: the reason and build of a workspace's current transition, inherited by its outcome. */
    static final String REASON = "_reason";
    static final String BUILD = "_build";

    private static final TypeReference<Map<String, Object>> OBJECT_MAP = new TypeReference<>() {
    };
    /** Stable, independent of the application's JSON settings: decimals exact, durations and times as ISO text. */
    static final ObjectMapper VALUES = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();

    private final AuditSecrets secrets;

    AuditEntryFactory(AuditSecrets secrets) {
        this.secrets = secrets;
    }

    AuditDraft draft(EventMessage<?> event, long globalIndex) {
        Object payload = event.getPayload();
        Base base = new Base(event, globalIndex);
        if (payload instanceof TemplateCreatedEvent e) {
            return base.actor(e.actor()).entry("create", AuditEntry.COMPLETED, TEMPLATE, e.templateId(), e.name())
                    .set(fields("name", e.name(), "description", e.description())).build();
        }
        if (payload instanceof TemplateVersionPublishedEvent e) {
            Map<String, String> set = new TreeMap<>(secrets.flatten("definition", definition(e.definition())));
            set.put("latestVersion", Integer.toString(e.version()));
            return base.actor(e.actor()).entry("publish", AuditEntry.COMPLETED, TEMPLATE, e.templateId(), null)
                    .set(set).replace("definition.").build();
        }
        if (payload instanceof TemplateActiveVersionChangedEvent e) {
            return base.actor(e.actor()).entry("activate", AuditEntry.COMPLETED, TEMPLATE, e.templateId(), null)
                    .set(fields("activeVersion", Integer.toString(e.version()))).build();
        }
        if (payload instanceof TemplateArchivedEvent e) {
            return base.actor(e.actor()).entry("archive", AuditEntry.COMPLETED, TEMPLATE, e.templateId(), null)
                    .set(fields("archived", "true")).build();
        }
        if (payload instanceof WorkspaceCreatedEvent e) {
            Map<String, String> set = new TreeMap<>(fields("name", e.name(), "owner", e.owner(), "team", e.team(),
                    "kind", e.kind().name(), "templateId", e.templateId(),
                    "templateVersion", Integer.toString(e.templateVersion()), "provider", e.provider(),
                    "status", "PENDING"));
            set.putAll(secrets.flatten("parameters", e.parameters()));
            set.putAll(secrets.flatten("labels", e.labels()));
            return base.actor(e.actor()).entry("create", AuditEntry.COMPLETED, WORKSPACE, e.workspaceId(), e.name())
                    .set(set).build();
        }
        if (payload instanceof WorkspaceTransitionStartedEvent e) {
            Map<String, String> set = new TreeMap<>(fields("status", e.transition().during().name(),
                    "buildNumber", Long.toString(e.buildNumber()),
                    "templateVersion", Integer.toString(e.templateVersion()),
                    REASON, e.reason().name(), BUILD, Long.toString(e.buildNumber())));
            set.putAll(secrets.flatten("parameters", e.parameters()));
            Builder entry = base.actor(e.actor()).entry(verb(e.transition()), AuditEntry.REQUESTED, WORKSPACE,
                            e.workspaceId(), null)
                    .reason(e.reason().name()).build(e.buildNumber()).set(set).replace("parameters.");
            if (e.force()) {
                entry.details(Map.of("force", "true"));
            }
            return entry.build();
        }
        if (payload instanceof WorkspaceTransitionSucceededEvent e) {
            Map<String, String> set = new TreeMap<>(fields("status", e.transition().after().name(),
                    "providerResourceId", e.resourceId()));
            set.putAll(secrets.flatten("connection", e.connection()));
            Builder entry = base.metadataActor().entry(verb(e.transition()), AuditEntry.COMPLETED, WORKSPACE,
                    e.workspaceId(), null).build(e.buildNumber()).set(set).replace("connection.");
            if (e.forced()) {
                // A forced delete removed the record although the provider failed: the resource may still exist.
                entry.details(Map.of("forced", "true")).error(e.providerError());
            }
            return entry.build();
        }
        if (payload instanceof WorkspaceTransitionFailedEvent e) {
            return base.metadataActor().entry(verb(e.transition()), AuditEntry.COMPLETED, WORKSPACE, e.workspaceId(),
                            null).outcome(AuditEntry.FAILURE).build(e.buildNumber()).error(e.error())
                    .set(fields("status", "FAILED")).build();
        }
        if (payload instanceof WorkspaceDriftedEvent e) {
            // Reconciliation's finding: the engine (actor system) recorded what the provider reported.
            return base.metadataActor().entry("drift", AuditEntry.COMPLETED, WORKSPACE, e.workspaceId(), null)
                    .reason(e.reason().name()).build(e.buildNumber()).error(e.detail())
                    .set(fields("status", e.to().name(), "found", e.found().name())).build();
        }
        if (payload instanceof WorkspaceTemplateVersionChangedEvent e) {
            Map<String, String> set = new TreeMap<>(fields("templateVersion", Integer.toString(e.toVersion())));
            set.putAll(secrets.flatten("parameters", e.parameters()));
            return base.actor(e.actor()).entry("update", AuditEntry.COMPLETED, WORKSPACE, e.workspaceId(), null)
                    .set(set).replace("parameters.").build();
        }
        if (payload instanceof AuditRecordedEvent e) {
            return base.metadataActor().entry(lower(e.action()), e.phase(), lower(e.resourceType()), e.resourceId(),
                            null).outcome(e.outcome()).status(e.statusCode()).error(e.error())
                    .details(e.details() == null ? Map.of() : AuditSecrets.masked(e.details())).build();
        }
        return generic(base, event, payload);
    }

    /** An event this version does not know in detail (a newer area's): still one entry, named after the event. */
    private AuditDraft generic(Base base, EventMessage<?> event, Object payload) {
        String type = event.getPayloadType().getSimpleName().replaceAll("Event$", "");
        String action = type.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
        String resourceType = "event";
        String resourceId = null;
        if (event instanceof DomainEventMessage<?> domain && domain.getType() != null) {
            resourceType = domain.getType().toLowerCase(Locale.ROOT);
            resourceId = domain.getAggregateIdentifier();
        }
        Map<String, String> set = Map.of();
        try {
            set = secrets.flatten("", VALUES.convertValue(payload, OBJECT_MAP));
        } catch (IllegalArgumentException notAnObject) {
            // a payload that is no JSON object (or of an unknown type) contributes no fields
        }
        Map<String, String> visible = new TreeMap<>();
        set.forEach((k, v) -> visible.put(k, AuditSecrets.visible(v)));
        return base.metadataActor().entry(action, AuditEntry.COMPLETED, resourceType, resourceId, null)
                .details(visible).build();
    }

    private static Map<String, Object> definition(TemplateDefinition definition) {
        Map<String, Object> map = new LinkedHashMap<>(VALUES.convertValue(definition, OBJECT_MAP));
        // Parameters by name, so that a diff says which parameter changed.
        Map<String, Object> parameters = new LinkedHashMap<>();
        for (TemplateParameter parameter : definition.parameters()) {
            parameters.put(parameter.name(), VALUES.convertValue(parameter, OBJECT_MAP));
        }
        map.put("parameters", parameters);
        return map;
    }

    private static String verb(Transition transition) {
        return transition.name().toLowerCase(Locale.ROOT);
    }

    private static String lower(String value) {
        return value == null ? null : value.toLowerCase(Locale.ROOT);
    }

    private static Map<String, String> fields(String... keysAndValues) {
        Map<String, String> map = new TreeMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) {
                map.put(keysAndValues[i], keysAndValues[i + 1]);
            }
        }
        return map;
    }

    /** Longest {@code error} kept (a provider's error can be long). */
    static final int MAX_ERROR = 4000;

    /**
     * Every text of an entry is stored whatever the event holds: an event recorded before the API refused NUL (or
     * written by any other path) must not stop the trail, so NUL and unpaired surrogates become U+FFFD
     * ({@link Text#storable}) and each column's length is respected. Ordinary text is unchanged, so are hashes.
     */
    static String limit(String value, int max) {
        String storable = Text.storable(value);
        if (storable == null || storable.length() <= max) {
            return storable;
        }
        int end = Character.isHighSurrogate(storable.charAt(max - 1)) ? max - 1 : max;
        return storable.substring(0, end);
    }

    private static Map<String, String> storable(Map<String, String> values) {
        if (values == null || values.isEmpty()) {
            return values;
        }
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> out.put(Text.storable(k), Text.storable(v)));
        return out;
    }

    /** What every entry takes from the event message itself. */
    private static final class Base {
        private final EventMessage<?> event;
        private final long globalIndex;
        private String actorId;
        private String actorType;

        Base(EventMessage<?> event, long globalIndex) {
            this.event = event;
            this.globalIndex = globalIndex;
        }

        Base actor(Actor actor) {
            if (actor == null) {
                return metadataActor();
            }
            actorId = actor.id();
            actorType = actor.type().name();
            return this;
        }

        /** Outcomes reported by the engine and recorded attempts carry their actor in the metadata. */
        Base metadataActor() {
            actorId = text(event.getMetaData(), "actorId");
            actorType = text(event.getMetaData(), "actorType");
            if (actorId == null) {
                actorId = Actor.SYSTEM.id();
                actorType = Actor.SYSTEM.type().name();
            }
            return this;
        }

        Builder entry(String action, String phase, String resourceType, String resourceId, String resourceName) {
            return new Builder(this, action, phase, resourceType, resourceId, resourceName);
        }
    }

    private static String text(MetaData metadata, String key) {
        Object value = metadata.get(key);
        return value == null ? null : value.toString();
    }

    private static final class Builder {
        private final Base base;
        private final String action;
        private final String phase;
        private final String resourceType;
        private final String resourceId;
        private final String resourceName;
        private String outcome = AuditEntry.SUCCESS;
        private String reason;
        private Long buildNumber;
        private Integer statusCode;
        private String error;
        private Map<String, String> details = Map.of();
        private Map<String, String> set = Map.of();
        private List<String> replace = List.of();

        Builder(Base base, String action, String phase, String resourceType, String resourceId, String resourceName) {
            this.base = base;
            this.action = action;
            this.phase = phase;
            this.resourceType = resourceType;
            this.resourceId = resourceId;
            this.resourceName = resourceName;
        }

        Builder outcome(String value) {
            outcome = value == null ? AuditEntry.FAILURE : value.toLowerCase(Locale.ROOT);
            return this;
        }

        Builder reason(String value) {
            reason = value;
            return this;
        }

        Builder build(long value) {
            buildNumber = value;
            return this;
        }

        Builder status(Integer value) {
            statusCode = value;
            return this;
        }

        Builder error(String value) {
            error = value;
            return this;
        }

        Builder details(Map<String, String> value) {
            details = value;
            return this;
        }

        Builder set(Map<String, String> value) {
            set = value;
            return this;
        }

        Builder replace(String prefix) {
            replace = List.of(prefix);
            return this;
        }

        AuditDraft build() {
            EventMessage<?> event = base.event;
            MetaData metadata = event.getMetaData();
            Instant time = event.getTimestamp().truncatedTo(ChronoUnit.MICROS);
            return new AuditDraft(time, limit(base.actorId, 200), limit(base.actorType, 20),
                    limit(action == null ? "unknown" : action, 60), limit(phase == null ? AuditEntry.REQUESTED : phase, 10),
                    limit(resourceType == null ? "api" : resourceType, 40), limit(resourceId, 200),
                    limit(resourceName, 200), limit(outcome, 10), limit(reason, 30), buildNumber, statusCode,
                    limit(error, MAX_ERROR), limit(text(metadata, "requestId"), 120),
                    limit(text(metadata, "clientIp"), 64), limit(text(metadata, "userAgent"), 300),
                    limit(text(metadata, "tokenId"), 100), storable(details), storable(set), replace,
                    event.getIdentifier(), base.globalIndex);
        }
    }
}
