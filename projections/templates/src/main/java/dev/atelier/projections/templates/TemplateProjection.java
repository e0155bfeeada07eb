package dev.atelier.projections.templates;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.domain.template.TemplateActiveVersionChangedEvent;
import dev.atelier.domain.template.TemplateArchivedEvent;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.template.TemplateCreatedEvent;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.template.TemplateVersionPublishedEvent;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.queryhandling.QueryHandler;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Templates and their versions. Runs in a subscribing processor (same transaction as the command), so a workspace
 * can be created from a template the moment the template's creation returned; it is also the
 * {@link TemplateCatalog} the workspace aggregate decides with.
 */
@Component
@ProcessingGroup(TemplateProjection.PROCESSING_GROUP)
public class TemplateProjection implements TemplateCatalog {

    public static final String PROCESSING_GROUP = "templates";

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;

    public TemplateProjection(JdbcTemplate jdbc, ObjectMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    @EventHandler
    void on(TemplateCreatedEvent event, @org.axonframework.eventhandling.Timestamp Instant time) {
        jdbc.update("""
                INSERT INTO template_view (id, name, description, active_version, latest_version, archived,
                                           created_by, created_at, updated_at)
                VALUES (?, ?, ?, 0, 0, FALSE, ?, ?, ?)""",
                event.templateId(), event.name(), event.description(), event.actor().id(), ts(time), ts(time));
    }

    @EventHandler
    void on(TemplateVersionPublishedEvent event, @org.axonframework.eventhandling.Timestamp Instant time) {
        jdbc.update("""
                INSERT INTO template_version_view (template_id, version, provider, definition, published_by, published_at,
                                                   released)
                VALUES (?, ?, ?, ?::jsonb, ?, ?, FALSE)""",
                event.templateId(), event.version(), event.definition().provider(), write(event.definition()),
                event.actor().id(), ts(time));
        jdbc.update("UPDATE template_view SET latest_version = ?, updated_at = ? WHERE id = ?",
                event.version(), ts(time), event.templateId());
    }

    @EventHandler
    void on(TemplateActiveVersionChangedEvent event, @org.axonframework.eventhandling.Timestamp Instant time) {
        jdbc.update("UPDATE template_view SET active_version = ?, updated_at = ? WHERE id = ?",
                event.version(), ts(time), event.templateId());
        jdbc.update("UPDATE template_version_view SET released = TRUE WHERE template_id = ? AND version = ?",
                event.templateId(), event.version());
    }

    @EventHandler
    void on(TemplateArchivedEvent event, @org.axonframework.eventhandling.Timestamp Instant time) {
        jdbc.update("UPDATE template_view SET archived = TRUE, updated_at = ? WHERE id = ?", ts(time),
                event.templateId());
    }

    @ResetHandler
    void reset() {
        jdbc.update("DELETE FROM template_version_view");
        jdbc.update("DELETE FROM template_view");
    }

    @QueryHandler
    public Optional<TemplateView> handle(TemplateQueries.FindTemplate query) {
        return jdbc.query("SELECT * FROM template_view WHERE id = ?", this::template, query.templateId())
                .stream().findFirst();
    }

    @QueryHandler
    public List<TemplateView> handle(TemplateQueries.ListTemplates query) {
        return jdbc.query("SELECT * FROM template_view WHERE archived = FALSE OR ? ORDER BY name, id",
                this::template, query.includeArchived());
    }

    @Override
    public Optional<TemplateVersionRef> find(String templateId, Integer version) {
        return jdbc.query("""
                        SELECT t.archived, v.version, v.definition FROM template_view t
                        JOIN template_version_view v ON v.template_id = t.id
                        WHERE t.id = ? AND v.version = COALESCE(?, t.active_version)""",
                (rs, i) -> new TemplateVersionRef(templateId, rs.getInt("version"), rs.getBoolean("archived"),
                        read(rs.getString("definition"))),
                templateId, version).stream().findFirst();
    }

    private TemplateView template(ResultSet rs, int row) throws SQLException {
        String id = rs.getString("id");
        List<TemplateView.Version> versions = jdbc.query(
                "SELECT * FROM template_version_view WHERE template_id = ? ORDER BY version",
                (v, i) -> new TemplateView.Version(v.getInt("version"), read(v.getString("definition")),
                        v.getString("published_by"), v.getTimestamp("published_at").toInstant(),
                        v.getBoolean("released")), id);
        return new TemplateView(id, rs.getString("name"), rs.getString("description"), rs.getInt("active_version"),
                rs.getInt("latest_version"), rs.getBoolean("archived"), rs.getString("created_by"),
                rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant(), versions);
    }

    private String write(TemplateDefinition definition) {
        try {
            return json.writeValueAsString(definition);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("template definition not serializable", e);
        }
    }

    private TemplateDefinition read(String definition) {
        try {
            return json.readValue(definition, TemplateDefinition.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("template definition not readable", e);
        }
    }

    private static Timestamp ts(Instant instant) {
        return Timestamp.from(instant);
    }
}
