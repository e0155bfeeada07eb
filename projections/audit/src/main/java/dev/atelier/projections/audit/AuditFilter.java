package dev.atelier.projections.audit;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which entries a query or an export wants. Every filter is optional; a filter with several values (comma-separated,
 * or the same search key repeated) matches any of them; different filters must all match. {@code from} is
 * inclusive, {@code to} exclusive.
 * <p>
 * Filters come as query parameters ({@code actor, action, resourceType, resourceId, outcome, requestId, from, to})
 * or in Coder-style search syntax {@code q=resource_type:workspace action:delete actor:alice} (values with spaces in
 * double quotes); an unknown key is an error that lists the known ones.
 */
public record AuditFilter(List<String> actors, List<String> actions, List<String> resourceTypes,
                          List<String> resourceIds, List<String> outcomes, List<String> requestIds, Instant from,
                          Instant to) {

    public static final AuditFilter NONE = new AuditFilter(List.of(), List.of(), List.of(), List.of(), List.of(),
            List.of(), null, null);
    public static final Set<String> OUTCOMES = Set.of(AuditEntry.SUCCESS, AuditEntry.FAILURE, AuditEntry.DENIED);
    private static final int MAX_VALUES = 20;
    private static final Pattern TERM = Pattern.compile("([A-Za-z_]+):(?:\"([^\"]*)\"|(\\S+))");

    /** A filter: its query parameter, its search key in {@code q}, and its column. */
    public enum Key {
        ACTOR("actor", "actor", "actor_id"),
        ACTION("action", "action", "action"),
        RESOURCE_TYPE("resourceType", "resource_type", "resource_type"),
        RESOURCE_ID("resourceId", "resource_id", "resource_id"),
        OUTCOME("outcome", "outcome", "outcome"),
        REQUEST_ID("requestId", "request_id", "request_id"),
        FROM("from", "from", "time"),
        TO("to", "to", "time");

        private final String parameter;
        private final String searchKey;
        private final String column;

        Key(String parameter, String searchKey, String column) {
            this.parameter = parameter;
            this.searchKey = searchKey;
            this.column = column;
        }

        public String parameter() {
            return parameter;
        }

        public String searchKey() {
            return searchKey;
        }

        public String column() {
            return column;
        }
    }

    public AuditFilter {
        actors = List.copyOf(actors);
        actions = List.copyOf(actions);
        resourceTypes = List.copyOf(resourceTypes);
        resourceIds = List.copyOf(resourceIds);
        outcomes = List.copyOf(outcomes);
        requestIds = List.copyOf(requestIds);
    }

    public static List<String> parameterNames() {
        return java.util.Arrays.stream(Key.values()).map(Key::parameter).toList();
    }

    public static List<String> searchKeys() {
        return java.util.Arrays.stream(Key.values()).map(Key::searchKey).sorted().toList();
    }

    /**
     * @param parameters query parameters by name ({@link Key#parameter()}); others are ignored here
     * @param q          search syntax, may be null
     * @throws IllegalArgumentException with a message for the caller when a filter is malformed
     */
    public static AuditFilter parse(Map<String, String> parameters, String q) {
        Map<Key, List<String>> values = new LinkedHashMap<>();
        Map<Key, String> source = new LinkedHashMap<>();
        for (Key key : Key.values()) {
            String value = parameters.get(key.parameter());
            if (value != null) {
                add(values, key, value);
                source.put(key, "parameter");
            }
        }
        if (q != null && !q.isBlank()) {
            Matcher m = TERM.matcher(q);
            int at = 0;
            while (m.find()) {
                String between = q.substring(at, m.start());
                if (!between.isBlank()) {
                    throw notATerm(between.trim());
                }
                at = m.end();
                String name = m.group(1).toLowerCase(Locale.ROOT);
                Key key = java.util.Arrays.stream(Key.values()).filter(k -> k.searchKey().equals(name)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("unknown search key " + dev.atelier.domain.shared.Text.quote(m.group(1))
                                + " in q (known keys: " + String.join(", ", searchKeys()) + ")"));
                if ("parameter".equals(source.get(key))) {
                    throw new IllegalArgumentException("filter '" + key.searchKey() + "' is given both as parameter '"
                            + key.parameter() + "' and in q; give it once");
                }
                source.put(key, "q");
                add(values, key, m.group(2) != null ? m.group(2) : m.group(3));
            }
            if (!q.substring(at).isBlank()) {
                throw notATerm(q.substring(at).trim());
            }
        }
        List<String> outcomes = lower(values.get(Key.OUTCOME));
        for (String outcome : outcomes) {
            if (!OUTCOMES.contains(outcome)) {
                throw new IllegalArgumentException("outcome " + dev.atelier.domain.shared.Text.quote(outcome) + " is unknown (known: denied, failure, success)");
            }
        }
        Instant from = single(values, Key.FROM);
        Instant to = single(values, Key.TO);
        if (from != null && to != null && !from.isBefore(to)) {
            throw new IllegalArgumentException("from (" + from + ") must be before to (" + to + ")");
        }
        return new AuditFilter(list(values.get(Key.ACTOR)), lower(values.get(Key.ACTION)),
                lower(values.get(Key.RESOURCE_TYPE)), list(values.get(Key.RESOURCE_ID)), outcomes,
                list(values.get(Key.REQUEST_ID)), from, to);
    }

    /** The filters as given (normalised), for the entry that records a read of the trail. */
    public Map<String, String> describe() {
        Map<String, String> out = new TreeMap<>();
        put(out, Key.ACTOR, actors);
        put(out, Key.ACTION, actions);
        put(out, Key.RESOURCE_TYPE, resourceTypes);
        put(out, Key.RESOURCE_ID, resourceIds);
        put(out, Key.OUTCOME, outcomes);
        put(out, Key.REQUEST_ID, requestIds);
        if (from != null) {
            out.put("filter.from", from.toString());
        }
        if (to != null) {
            out.put("filter.to", to.toString());
        }
        return out;
    }

    /** SQL conditions (joined with AND, starting with " AND ") and their arguments, in order. */
    public Sql where() {
        StringBuilder sql = new StringBuilder();
        List<Object> args = new ArrayList<>();
        in(sql, args, Key.ACTOR, actors);
        in(sql, args, Key.ACTION, actions);
        in(sql, args, Key.RESOURCE_TYPE, resourceTypes);
        in(sql, args, Key.RESOURCE_ID, resourceIds);
        in(sql, args, Key.OUTCOME, outcomes);
        in(sql, args, Key.REQUEST_ID, requestIds);
        if (from != null) {
            sql.append(" AND time >= ?");
            args.add(java.sql.Timestamp.from(from));
        }
        if (to != null) {
            sql.append(" AND time < ?");
            args.add(java.sql.Timestamp.from(to));
        }
        return new Sql(sql.toString(), List.copyOf(args));
    }

    public record Sql(String conditions, List<Object> args) {
    }

    /**
     * The whole query of a page or an export: filters, keyset cursor ({@code seq} after or before, null for the
     * first page) and order.
     */
    public Sql select(Long cursor, boolean ascending, Integer limit) {
        Sql where = where();
        StringBuilder sql = new StringBuilder("SELECT ").append(AuditRows.COLUMNS)
                .append(" FROM audit_entry WHERE TRUE").append(where.conditions());
        List<Object> args = new ArrayList<>(where.args());
        if (cursor != null) {
            sql.append(ascending ? " AND seq > ?" : " AND seq < ?");
            args.add(cursor);
        }
        sql.append(ascending ? " ORDER BY seq ASC" : " ORDER BY seq DESC");
        if (limit != null) {
            sql.append(" LIMIT ?");
            args.add(limit);
        }
        return new Sql(sql.toString(), List.copyOf(args));
    }

    /**
     * The same page as {@link #select} with a limit, read time range first: the {@code seq}s of the matching entries
     * come from the time index (index-only when the other filters allow), the {@code limit} highest (or lowest) are
     * kept, and only those rows are read. {@link #select} lets the order come from an index on {@code seq}, which the
     * planner prefers for a small limit as if the matching entries were spread evenly over {@code seq}; but time
     * grows with {@code seq}, so for a range far from the end the order starts at, that plan reads every entry in
     * between. Ordering by the expression {@code seq + 0} keeps the planner from taking the order from an index.
     */
    public Sql selectTimeRangeFirst(Long cursor, boolean ascending, int limit) {
        Sql where = where();
        StringBuilder inner = new StringBuilder("SELECT seq FROM audit_entry WHERE TRUE").append(where.conditions());
        List<Object> args = new ArrayList<>(where.args());
        if (cursor != null) {
            inner.append(ascending ? " AND seq > ?" : " AND seq < ?");
            args.add(cursor);
        }
        inner.append(ascending ? " ORDER BY seq + 0 ASC" : " ORDER BY seq + 0 DESC").append(" LIMIT ?");
        args.add(limit);
        String sql = "SELECT " + AuditRows.COLUMNS + " FROM audit_entry WHERE seq IN (" + inner + ")"
                + (ascending ? " ORDER BY seq ASC" : " ORDER BY seq DESC");
        return new Sql(sql, List.copyOf(args));
    }

    /**
     * Counts, up to {@code max}, the entries between the time range and the end a page starts from (newer than
     * {@code to} for newest first, older than {@code from} for oldest first): what a scan in {@code seq} order would
     * pass before reaching the range. Reads at most {@code max} entries of the time index. Null when the range is
     * open on that side.
     */
    public Sql beyondTimeRange(boolean ascending, int max) {
        Instant bound = ascending ? from : to;
        if (bound == null) {
            return null;
        }
        String sql = ascending
                ? "SELECT count(*) FROM (SELECT 1 FROM audit_entry WHERE time < ? ORDER BY time DESC LIMIT ?) beyond"
                : "SELECT count(*) FROM (SELECT 1 FROM audit_entry WHERE time >= ? ORDER BY time ASC LIMIT ?) beyond";
        return new Sql(sql, List.of(java.sql.Timestamp.from(bound), max));
    }

    private static void in(StringBuilder sql, List<Object> args, Key key, List<String> values) {
        if (values.isEmpty()) {
            return;
        }
        if (values.size() == 1) {
            sql.append(" AND ").append(key.column()).append(" = ?");
        } else {
            sql.append(" AND ").append(key.column()).append(" IN (")
                    .append(values.stream().map(v -> "?").collect(Collectors.joining(", "))).append(")");
        }
        args.addAll(values);
    }

    private static void put(Map<String, String> out, Key key, List<String> values) {
        if (!values.isEmpty()) {
            out.put("filter." + key.parameter(), String.join(",", values));
        }
    }

    private static void add(Map<Key, List<String>> values, Key key, String raw) {
        List<String> list = values.computeIfAbsent(key, k -> new ArrayList<>());
        for (String part : raw.split(",")) {
            String value = part.trim();
            if (value.isEmpty()) {
                throw new IllegalArgumentException("filter '" + key.parameter() + "' has an empty value");
            }
            if (value.length() > 200) {
                throw new IllegalArgumentException("filter '" + key.parameter() + "' has a value longer than 200 characters");
            }
            list.add(value);
        }
        if (list.size() > MAX_VALUES) {
            throw new IllegalArgumentException("filter '" + key.parameter() + "' has more than " + MAX_VALUES + " values");
        }
    }

    private static Instant single(Map<Key, List<String>> values, Key key) {
        List<String> given = values.get(key);
        if (given == null) {
            return null;
        }
        if (given.size() != 1) {
            throw new IllegalArgumentException("filter '" + key.parameter() + "' takes one time, not " + given.size());
        }
        return instant(key.parameter(), given.get(0));
    }

    static Instant instant(String name, String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException ignored) {
            // try the other accepted forms
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException ignored) {
            // try the other accepted forms
        }
        try {
            return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException ignored) {
            throw new IllegalArgumentException(name + " " + dev.atelier.domain.shared.Text.quote(value) + " is not a time; use a date (2026-11-01, "
                    + "midnight UTC) or an instant (2026-11-01T09:30:00Z)");
        }
    }

    private static List<String> list(List<String> values) {
        return values == null ? List.of() : List.copyOf(new LinkedHashSet<>(values));
    }

    private static List<String> lower(List<String> values) {
        return values == null ? List.of()
                : List.copyOf(new LinkedHashSet<>(values.stream().map(v -> v.toLowerCase(Locale.ROOT)).toList()));
    }

    private static IllegalArgumentException notATerm(String text) {
        return new IllegalArgumentException("search term " + dev.atelier.domain.shared.Text.quote(text) + " is not key:value (known keys: "
                + String.join(", ", searchKeys()) + ")");
    }
}
