package dev.atelier.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.projections.audit.AuditEntry;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.IntFunction;

/**
 * Issue phase 4: the audit trail's query API over {@code bench.auditEntries} entries, and its export.
 *
 * <p>The trail is filled up to that many entries (what the earlier phases recorded counts) with entries of a
 * realistic organisation over 90 days: a few thousand users of very different activity, tens of thousands of
 * workspaces started and stopped (a request entry by the user and an outcome entry by the engine, sharing a request
 * id), idle stops, creates and deletes, failed transitions, refused and denied attempts, templates, tokens and reads
 * of the trail. Each entry is sealed with the engine's own code ({@link AuditEntry#computeHash()}: canonical JSON and
 * SHA-256, continuing the chain's head) and written with {@code COPY}, in chunks, each chunk in a transaction that
 * holds the chain's head row ({@code audit_chain ... FOR UPDATE}) as the engine's appender does and moves the head
 * past it; so entries the engine records afterwards (every query records a {@code read}) continue the same chain and
 * {@code GET /api/v1/audit/verify} still passes (timed once when {@code bench.auditVerify} is set).
 *
 * <p>Then each filter of {@code GET /api/v1/audit} is timed over HTTP with an auditor's API token, default page
 * size, one query at a time after a warm-up, each repetition with another value that has entries; a second page via
 * the cursor; and the whole trail is exported as JSON Lines and as CSV, read as a stream (lines counted, nothing
 * kept).
 */
final class AuditQueryPhase implements BenchPhase {

    static final String TITLE = "4 Audit queries";
    private static final String COPY = "COPY audit_entry (seq, time, actor_id, actor_type, action, phase, resource_type, "
            + "resource_id, resource_name, outcome, reason, build_number, status_code, error, request_id, client_ip, "
            + "user_agent, diff, details, event_id, event_index, prev_hash, hash) FROM STDIN";
    private static final int CHUNK = 100_000;
    private static final Duration SPAN = Duration.ofDays(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String id() {
        return "audit";
    }

    @Override
    public String title() {
        return TITLE;
    }

    @Override
    public void run(BenchRun run) throws Exception {
        JdbcTemplate jdbc = run.engine.jdbc();
        Map<String, Object> p = run.report.phase(id());
        String auditor = run.http.send("POST", "/api/v1/tokens", run.admin(),
                "{\"name\":\"bench-auditor\",\"subject\":\"bench-auditor\",\"roles\":[\"auditor\"]}")
                .expect(201, "issue an auditor token").field("token");
        run.engine.awaitProcessorsCaughtUp(Duration.ofMinutes(2));
        awaitChained(jdbc, Duration.ofSeconds(30));

        Long before = jdbc.queryForObject("SELECT count(*) FROM audit_entry", Long.class);
        long existing = before == null ? 0 : before;
        int toSeed = (int) Math.max(0, run.config.auditEntries() - existing);
        BenchRun.log("audit: %,d entries in the trail, seeding %,d", existing, toSeed);
        long seedStart = System.nanoTime();
        Generator generator = new Generator(toSeed, Instant.now().truncatedTo(ChronoUnit.MICROS));
        Seeded seeded = seed(run.engine.bean(DataSource.class), generator, toSeed);
        double seedSeconds = BenchRun.seconds(System.nanoTime() - seedStart);
        long analyzeStart = System.nanoTime();
        // What autovacuum does to an append-only table as it grows (after every 20% new rows): statistics, and the
        // visibility map that lets the time index answer without reading the table.
        jdbc.execute("VACUUM (ANALYZE) audit_entry");
        double analyzeSeconds = BenchRun.seconds(System.nanoTime() - analyzeStart);
        Long total = jdbc.queryForObject("SELECT count(*) FROM audit_entry", Long.class);
        p.put("entries", total);
        p.put("entriesBefore", existing);
        p.put("seeded", seeded.rows);
        p.put("seedSeconds", Report.round(seedSeconds));
        p.put("seedHashSeconds", Report.round(seeded.hashSeconds));
        p.put("seedEntriesPerSecond", Report.round(seeded.rows / Math.max(seedSeconds, 1e-9)));
        p.put("vacuumAnalyzeSeconds", Report.round(analyzeSeconds));
        p.put("tableMegabytes", jdbc.queryForObject(
                "SELECT round(pg_total_relation_size('audit_entry') / 1e6)", Long.class));
        BenchRun.log("audit: seeded %,d entries in %.1f s (%.1f s of it sealing), %,d in the trail", seeded.rows,
                seedSeconds, seeded.hashSeconds, total);
        run.report.line(TITLE, String.format(Locale.ROOT,
                "%,d entries in the trail (%,d recorded by the earlier phases, %,d seeded over 90 days: %,d actors, "
                        + "%,d workspaces, sealed with the engine's hash chain and COPYed in %.1f s, %.1f s of it hashing; "
                        + "VACUUM (ANALYZE) %.1f s; table with indexes %,d MB)",
                total, existing, seeded.rows, generator.actors.length, generator.workspaces.length, seedSeconds,
                seeded.hashSeconds, analyzeSeconds, p.get("tableMegabytes")));

        if (run.config.auditVerify()) {
            verify(run, auditor, p);
        }
        queries(run, auditor, generator, p, total == null ? 0 : total);
        for (String format : List.of("jsonl", "csv")) {
            export(run, auditor, format, p, total == null ? 0 : total);
        }
    }

    /** The audit chain has taken in every event so far (nothing waits for a gap). */
    private static void awaitChained(JdbcTemplate jdbc, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long pending = jdbc.queryForObject("SELECT count(*) FROM audit_pending", Long.class);
            if (pending == null || pending == 0) {
                return;
            }
            BenchEngine.sleep(100);
        }
        BenchRun.log("audit: entries still wait for a gap after %s; seeding continues the chain before them", timeout);
    }

    // ---------------------------------------------------------------------------------------------------- seeding

    private record Seeded(long rows, double hashSeconds) {
    }

    /**
     * Appends the generator's entries to the chain in chunks; each chunk locks the head row, continues from it and
     * moves it (seq and hash; the event-store index the chain has reached stays: these entries come from no event).
     */
    private static Seeded seed(DataSource dataSource, Generator generator, int count) throws Exception {
        long hashNanos = 0;
        long rows = 0;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                PGConnection pg = c.unwrap(PGConnection.class);
                for (int from = 0; from < count; from += CHUNK) {
                    int to = Math.min(count, from + CHUNK);
                    long seq;
                    String hash;
                    long index;
                    try (PreparedStatement lock = c.prepareStatement(
                            "SELECT last_seq, last_hash, last_index FROM audit_chain WHERE id = 1 FOR UPDATE");
                         ResultSet rs = lock.executeQuery()) {
                        rs.next();
                        seq = rs.getLong(1);
                        hash = rs.getString(2);
                        index = rs.getLong(3);
                    }
                    CopyIn copy = pg.getCopyAPI().copyIn(COPY);
                    StringBuilder buffer = new StringBuilder(1 << 20);
                    try {
                        for (int i = from; i < to; i++) {
                            long t0 = System.nanoTime();
                            AuditEntry entry = generator.entry(i, ++seq, hash, index);
                            entry = entry.withHash(entry.computeHash());
                            hashNanos += System.nanoTime() - t0;
                            hash = entry.hash();
                            row(buffer, entry);
                            if (buffer.length() > (1 << 20) - 4096) {
                                byte[] bytes = buffer.toString().getBytes(StandardCharsets.UTF_8);
                                copy.writeToCopy(bytes, 0, bytes.length);
                                buffer.setLength(0);
                            }
                        }
                        byte[] bytes = buffer.toString().getBytes(StandardCharsets.UTF_8);
                        copy.writeToCopy(bytes, 0, bytes.length);
                        rows += copy.endCopy();
                    } finally {
                        if (copy.isActive()) {
                            copy.cancelCopy();
                        }
                    }
                    try (PreparedStatement head = c.prepareStatement(
                            "UPDATE audit_chain SET last_seq = ?, last_hash = ?, updated_at = now() WHERE id = 1")) {
                        head.setLong(1, seq);
                        head.setString(2, hash);
                        head.executeUpdate();
                    }
                    c.commit();
                }
            } catch (Exception e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
        return new Seeded(rows, BenchRun.seconds(hashNanos));
    }

    /** One row of COPY's text format. */
    private static void row(StringBuilder b, AuditEntry e) {
        b.append(e.seq()).append('\t').append(AuditEntry.formatTime(e.time()));
        text(b, e.actorId());
        text(b, e.actorType());
        text(b, e.action());
        text(b, e.phase());
        text(b, e.resourceType());
        text(b, e.resourceId());
        text(b, e.resourceName());
        text(b, e.outcome());
        text(b, e.reason());
        text(b, e.buildNumber() == null ? null : e.buildNumber().toString());
        text(b, e.statusCode() == null ? null : e.statusCode().toString());
        text(b, e.error());
        text(b, e.requestId());
        text(b, e.clientIp());
        text(b, e.userAgent());
        text(b, e.diffJson());
        text(b, e.detailsJson());
        text(b, e.eventId());
        text(b, Long.toString(e.eventIndex()));
        text(b, e.prevHash());
        text(b, e.hash());
        b.append('\n');
    }

    private static void text(StringBuilder b, String value) {
        b.append('\t');
        if (value == null) {
            b.append("\\N");
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '\\' -> b.append("\\\\");
                case '\t' -> b.append("\\t");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                default -> b.append(ch);
            }
        }
    }

    /**
     * Entries of an organisation over the last 90 days. Activity is skewed (a few users do most), times follow office
     * hours, a workspace transition is a request entry by its owner and an outcome entry by the engine with the same
     * request id, right after each other. Deterministic (fixed seed) apart from the end time.
     */
    static final class Generator {
        private static final String[] AGENTS = {"atelier-cli/1.4.2", "curl/8.5.0",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                "terraform-provider-atelier/0.9.1", "atelier-vscode/0.7.0"};
        private static final String[] STOP_ERRORS = {"workspace is STOPPED: it cannot stop",
                "workspace is STARTING: wait until it is RUNNING", "template version 3 is archived"};
        final String[] actors;
        final String[] workspaces;
        final String[] templates;
        final String[] tokens;
        private final int[] builds;
        private final boolean[] running;
        private final long[] times;
        private final SplittableRandom random = new SplittableRandom(20261127L);
        /** The rest of a multi-entry action (request, then its outcome), handed out by the next calls. */
        private final List<Draft> queued = new ArrayList<>();
        /** Every 1-in-{@code sampleEvery} entry, for query values that have entries. */
        final List<Sample> samples = new ArrayList<>();
        private final int sampleEvery;

        record Sample(String actor, String action, String resourceType, String resourceId, String requestId, Instant time) {
        }

        private record Draft(String actorId, String actorType, String action, String phase, String resourceType,
                             String resourceId, String resourceName, String outcome, String reason, Long build,
                             Integer status, String error, String requestId, String clientIp, String userAgent,
                             Map<String, AuditEntry.Change> diff, Map<String, String> details) {
        }

        Generator(int count, Instant end) {
            int n = Math.max(count, 1);
            actors = names("user-", Math.max(20, Math.min(5_000, n / 200)));
            workspaces = ids(Math.max(50, n / 20));
            templates = ids(Math.max(5, Math.min(300, n / 5_000)));
            tokens = ids(Math.max(5, Math.min(1_000, n / 2_000)));
            builds = new int[workspaces.length];
            running = new boolean[workspaces.length];
            times = officeHours(n, end);
            sampleEvery = Math.max(1, n / 5_000);
        }

        private String[] names(String prefix, int count) {
            String[] out = new String[count];
            for (int i = 0; i < count; i++) {
                out[i] = prefix + String.format(Locale.ROOT, "%04d", i);
            }
            return out;
        }

        private String[] ids(int count) {
            String[] out = new String[count];
            for (int i = 0; i < count; i++) {
                out[i] = uuid();
            }
            return out;
        }

        private String uuid() {
            long msb = (random.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L;
            long lsb = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
            return new UUID(msb, lsb).toString();
        }

        /** {@code count} instants in the 90 days before {@code end}, ascending, denser on weekdays 8-19 h UTC. */
        private long[] officeHours(int count, Instant end) {
            long endMicros = ChronoUnit.MICROS.between(Instant.EPOCH, end);
            long span = SPAN.toNanos() / 1000;
            long[] t = new long[count];
            for (int i = 0; i < count; ) {
                long micros = endMicros - 1 - random.nextLong(span);
                ZonedDateTime at = Instant.EPOCH.plus(micros, ChronoUnit.MICROS).atZone(ZoneOffset.UTC);
                boolean weekday = at.getDayOfWeek().getValue() <= 5;
                boolean office = at.getHour() >= 8 && at.getHour() < 19;
                double weight = weekday ? (office ? 1.0 : 0.15) : 0.08;
                if (random.nextDouble() < weight) {
                    t[i++] = micros;
                }
            }
            Arrays.sort(t);
            return t;
        }

        /** Index skewed towards 0: a few are very active, most seldom. */
        private int skewed(int n) {
            double u = random.nextDouble();
            return (int) Math.min(n - 1, Math.floor(n * u * u * u));
        }

        private String actorOf(int workspace) {
            return actors[(workspace * 7919) % actors.length];
        }

        private String ip(String actor) {
            int h = actor.hashCode() & 0x7fffffff;
            return "10." + (h % 200) + "." + ((h / 200) % 250) + "." + (1 + (h / 50_000) % 250);
        }

        private String agent(String actor) {
            return AGENTS[(actor.hashCode() & 0x7fffffff) % AGENTS.length];
        }

        /** The {@code i}-th seeded entry at the given place in the chain. */
        AuditEntry entry(int i, long seq, String prevHash, long eventIndex) {
            if (queued.isEmpty()) {
                next();
            }
            Draft d = queued.remove(0);
            Instant time = Instant.EPOCH.plus(times[i], ChronoUnit.MICROS);
            if (i % sampleEvery == 0) {
                samples.add(new Sample(d.actorId(), d.action(), d.resourceType(), d.resourceId(), d.requestId(), time));
            }
            return new AuditEntry(seq, time, d.actorId(), d.actorType(), d.action(), d.phase(), d.resourceType(),
                    d.resourceId(), d.resourceName(), d.outcome(), d.reason(), d.build(), d.status(), d.error(),
                    d.requestId(), d.clientIp(), d.userAgent(), null, d.diff(), d.details(), uuid(), eventIndex, prevHash, null);
        }

        /** Queues the entries of the next thing that happens. */
        private void next() {
            int roll = random.nextInt(1000);
            int w = skewed(workspaces.length);
            String ws = workspaces[w];
            String name = "ws-" + w;
            String owner = actorOf(w);
            String request = uuid();
            if (roll < 700) {                                   // start or stop by its owner, or an idle stop
                boolean idle = running[w] && roll >= 600;
                String verb = running[w] ? "stop" : "start";
                String actor = idle ? "atelier" : owner;
                String type = idle ? "SYSTEM" : "USER";
                String reason = idle ? "IDLE" : "USER";
                long build = ++builds[w];
                String during = running[w] ? "STOPPING" : "STARTING";
                String after = running[w] ? "STOPPED" : "RUNNING";
                String prior = running[w] ? "RUNNING" : "STOPPED";
                queued.add(new Draft(actor, type, verb, AuditEntry.REQUESTED, "workspace", ws, name, AuditEntry.SUCCESS,
                        reason, build, null, null, idle ? null : request, idle ? null : ip(actor), idle ? null : agent(actor),
                        diff("buildNumber", Long.toString(build - 1), Long.toString(build), "status", prior, during),
                        null));
                boolean failed = random.nextInt(100) == 0;
                queued.add(new Draft("atelier", "SYSTEM", verb, AuditEntry.COMPLETED, "workspace", ws, name,
                        failed ? AuditEntry.FAILURE : AuditEntry.SUCCESS, reason, build, null,
                        failed ? "provider: the instance did not become ready within 15 minutes" : null,
                        idle ? null : request, null, null, diff("status", during, failed ? "FAILED" : after), null));
                running[w] = !running[w] && !failed;
            } else if (roll < 760) {                            // create: the record, then its first build
                String actor = owner;
                queued.add(new Draft(actor, "USER", "create", AuditEntry.COMPLETED, "workspace", ws, name,
                        AuditEntry.SUCCESS, null, null, null, null, request, ip(actor), agent(actor),
                        diff("name", null, name, "owner", null, actor, "status", null, "PENDING"), null));
                long build = ++builds[w];
                queued.add(new Draft(actor, "USER", "create", AuditEntry.REQUESTED, "workspace", ws, name,
                        AuditEntry.SUCCESS, "USER", build, null, null, request, ip(actor), agent(actor),
                        diff("status", "PENDING", "CREATING"), null));
                queued.add(new Draft("atelier", "SYSTEM", "create", AuditEntry.COMPLETED, "workspace", ws, name,
                        AuditEntry.SUCCESS, "USER", build, null, null, request, null, null,
                        diff("status", "CREATING", "RUNNING"), null));
                running[w] = true;
            } else if (roll < 790) {                            // delete
                long build = ++builds[w];
                queued.add(new Draft(owner, "USER", "delete", AuditEntry.REQUESTED, "workspace", ws, name,
                        AuditEntry.SUCCESS, "USER", build, null, null, request, ip(owner), agent(owner),
                        diff("status", running[w] ? "RUNNING" : "STOPPED", "DELETING"), null));
                queued.add(new Draft("atelier", "SYSTEM", "delete", AuditEntry.COMPLETED, "workspace", ws, name,
                        AuditEntry.SUCCESS, "USER", build, null, null, request, null, null,
                        diff("status", "DELETING", "DELETED"), null));
                running[w] = false;
            } else if (roll < 850) {                            // refused: a transition that does not apply now
                queued.add(new Draft(owner, "USER", running[w] ? "start" : "stop", AuditEntry.REQUESTED, "workspace", ws,
                        null, AuditEntry.FAILURE, null, null, 409, STOP_ERRORS[random.nextInt(STOP_ERRORS.length)],
                        request, ip(owner), agent(owner), null,
                        Map.of("method", "POST", "path", "/api/v1/workspaces/" + ws + (running[w] ? "/start" : "/stop"))));
            } else if (roll < 880) {                            // denied: somebody else's workspace, or no token
                boolean anonymous = roll >= 872;
                String actor = anonymous ? "anonymous" : actors[skewed(actors.length)];
                queued.add(new Draft(actor, anonymous ? "ANONYMOUS" : "USER",
                        anonymous ? "list" : "delete", AuditEntry.REQUESTED, anonymous ? "api" : "workspace",
                        anonymous ? null : ws, null, AuditEntry.DENIED, null, null, anonymous ? 401 : 404,
                        anonymous ? "no valid bearer token" : "workspace " + ws + " does not exist", request,
                        "10.99." + random.nextInt(250) + "." + (1 + random.nextInt(250)), AGENTS[1], null,
                        Map.of("method", anonymous ? "GET" : "DELETE",
                                "path", anonymous ? "/api/v1/workspaces" : "/api/v1/workspaces/" + ws)));
            } else if (roll < 920) {                            // templates
                int t = skewed(templates.length);
                String admin = "platform-admin-" + (t % 4);
                String verb = new String[]{"create", "publish", "publish", "activate", "archive"}[random.nextInt(5)];
                int version = 1 + random.nextInt(12);
                queued.add(new Draft(admin, "USER", verb, AuditEntry.COMPLETED, "template", templates[t],
                        "template-" + t, AuditEntry.SUCCESS, null, null, null, null, request, ip(admin), agent(admin),
                        switch (verb) {
                            case "create" -> diff("name", null, "template-" + t);
                            case "publish" -> diff("latestVersion", Integer.toString(version - 1), Integer.toString(version),
                                    "definition.spec.image", "ubuntu:22.04", "ubuntu:24.04");
                            case "activate" -> diff("activeVersion", Integer.toString(version - 1), Integer.toString(version));
                            default -> diff("archived", null, "true");
                        }, null));
            } else if (roll < 930) {                            // API tokens
                int k = random.nextInt(tokens.length);
                String verb = random.nextInt(4) == 0 ? "revoke" : "create";
                queued.add(new Draft("admin", "API_TOKEN", verb, AuditEntry.COMPLETED, "token", tokens[k], null,
                        AuditEntry.SUCCESS, null, null, verb.equals("create") ? 201 : 204, null, request, ip("admin"),
                        AGENTS[1], null, verb.equals("create")
                        ? Map.of("name", "ci-" + k, "subject", "ci-bot-" + (k % 20), "roles", "member") : null));
            } else if (roll < 990) {                            // API token of a CI bot starting workspaces
                String bot = "ci-bot-" + random.nextInt(20);
                long build = ++builds[w];
                queued.add(new Draft(bot, "API_TOKEN", "start", AuditEntry.REQUESTED, "workspace", ws, name,
                        AuditEntry.SUCCESS, "API", build, null, null, request, "10.200.0." + (1 + random.nextInt(20)),
                        "atelier-cli/1.4.2", diff("status", "STOPPED", "STARTING"), null));
                queued.add(new Draft("atelier", "SYSTEM", "start", AuditEntry.COMPLETED, "workspace", ws, name,
                        AuditEntry.SUCCESS, "API", build, null, null, request, null, null,
                        diff("status", "STARTING", "RUNNING"), null));
                running[w] = true;
            } else {                                            // compliance reading the trail
                String officer = "auditor-" + random.nextInt(3);
                Map<String, String> details = new TreeMap<>();
                details.put("filter.resourceType", "workspace");
                details.put("filter.resourceId", ws);
                details.put("limit", "50");
                queued.add(new Draft(officer, "USER", random.nextInt(10) == 0 ? "export" : "read", AuditEntry.COMPLETED,
                        "audit", null, null, AuditEntry.SUCCESS, null, null, 200, null, request, ip(officer),
                        agent(officer), null, details));
            }
        }

        private static Map<String, AuditEntry.Change> diff(String... pathOldNew) {
            Map<String, AuditEntry.Change> diff = new TreeMap<>();
            for (int i = 0; i < pathOldNew.length; i += 3) {
                diff.put(pathOldNew[i], new AuditEntry.Change(pathOldNew[i + 1], pathOldNew[i + 2]));
            }
            return diff;
        }
    }

    // ---------------------------------------------------------------------------------------------------- queries

    /** One filter of the query API: its name and, per repetition, the query string. */
    private record Filter(String name, String description, IntFunction<String> query) {
    }

    private static void queries(BenchRun run, String token, Generator generator, Map<String, Object> p, long entries) {
        List<Generator.Sample> samples = generator.samples;
        if (samples.isEmpty()) {
            throw new IllegalStateException("no seeded entries to take query values from (bench.auditEntries="
                    + run.config.auditEntries() + ")");
        }
        List<Generator.Sample> workspaceSamples = samples.stream().filter(s -> "workspace".equals(s.resourceType())
                && s.actor() != null).toList();
        List<Generator.Sample> withRequest = samples.stream().filter(s -> s.requestId() != null).toList();
        List<Generator.Sample> withActor = samples.stream().filter(s -> s.actor() != null).toList();
        List<Generator.Sample> withResource = samples.stream().filter(s -> s.resourceId() != null).toList();
        String[] actions = {"start", "stop", "create", "delete", "read", "publish"};
        String[] types = {"workspace", "template", "audit", "token"};
        String[] outcomes = {"success", "failure", "denied"};
        Instant first = samples.get(0).time();
        Instant last = samples.get(samples.size() - 1).time();
        long spanSeconds = Math.max(1, Duration.between(first, last).getSeconds() - 86_400);
        SplittableRandom random = new SplittableRandom(42);
        List<Filter> filters = List.of(
                new Filter("none", "no filter (newest first)", i -> ""),
                new Filter("actor", "`actor` (a different user each time)",
                        i -> "actor=" + enc(pick(withActor, random).actor())),
                new Filter("action", "`action` (start, stop, create, delete, read, publish in turn)",
                        i -> "action=" + actions[i % actions.length]),
                new Filter("resourceType", "`resourceType` (workspace, template, audit, token in turn)",
                        i -> "resourceType=" + types[i % types.length]),
                new Filter("resourceId", "`resourceId` (a different resource each time)",
                        i -> "resourceId=" + enc(pick(withResource, random).resourceId())),
                new Filter("outcome", "`outcome` (success, failure, denied in turn)",
                        i -> "outcome=" + outcomes[i % outcomes.length]),
                new Filter("requestId", "`requestId` (a different request each time)",
                        i -> "requestId=" + enc(pick(withRequest, random).requestId())),
                new Filter("timeRange", "`from`/`to` (one day at a random place in the 90 days)", i -> {
                    Instant from = first.plusSeconds(random.nextLong(spanSeconds)).truncatedTo(ChronoUnit.SECONDS);
                    return "from=" + enc(from.toString()) + "&to=" + enc(from.plusSeconds(86_400).toString());
                }),
                new Filter("search", "`q=resource_type:… action:… actor:…` (of a different entry each time)", i -> {
                    Generator.Sample s = pick(workspaceSamples.isEmpty() ? withActor : workspaceSamples, random);
                    return "q=" + enc("resource_type:" + s.resourceType() + " action:" + s.action() + " actor:" + s.actor());
                }));
        int repetitions = run.config.auditQueries();
        int warmup = Math.max(2, repetitions / 5);
        BenchRun.log("audit: %d filters, warm-up %d, then %d queries each", filters.size(), warmup, repetitions);
        for (Filter filter : filters) {
            for (int i = 0; i < warmup; i++) {
                query(run, token, filter.query().apply(i));
            }
        }
        Map<String, Object> byFilter = new LinkedHashMap<>();
        double worst = 0;
        String worstFilter = null;
        for (Filter filter : filters) {
            // Every query records a read (an event every processor reads, and an entry the chain seals): let the
            // engine finish those of the previous filter, so that each filter is measured with its own only.
            run.engine.awaitProcessorsCaughtUp(Duration.ofMinutes(1));
            Stats.Samples latency = new Stats.Samples();
            long returned = 0;
            int empty = 0;
            for (int i = 0; i < repetitions; i++) {
                Page page = query(run, token, filter.query().apply(i));
                latency.add(page.nanos());
                returned += page.entries();
                empty += page.entries() == 0 ? 1 : 0;
            }
            Stats.Summary s = latency.summary();
            Map<String, Object> m = new LinkedHashMap<>(s.toMap());
            m.put("entriesReturned", returned);
            m.put("meanEntriesPerPage", Report.round((double) returned / repetitions));
            m.put("emptyPages", empty);
            byFilter.put(filter.name(), m);
            if (s.p99Ms() > worst) {
                worst = s.p99Ms();
                worstFilter = filter.name();
            }
            run.report.line(TITLE, String.format(Locale.ROOT, "%s: %s, %.1f entries per page", filter.description(), s,
                    (double) returned / repetitions));
            BenchRun.log("audit: %-12s %s, %.1f entries/page", filter.name(), s, (double) returned / repetitions);
        }
        // The second page of a filter, through the cursor of the first.
        run.engine.awaitProcessorsCaughtUp(Duration.ofMinutes(1));
        Stats.Samples second = new Stats.Samples();
        long returned = 0;
        String[] common = {"start", "stop", "create", "delete"};
        for (int i = 0; i < repetitions + warmup; i++) {
            String q = "action=" + common[i % common.length];
            Page page = query(run, token, q);
            if (page.nextCursor() == null) {
                continue;
            }
            Page next = query(run, token, q + "&cursor=" + enc(page.nextCursor()));
            if (i >= warmup) {
                second.add(next.nanos());
                returned += next.entries();
            }
        }
        Stats.Summary s2 = second.summary();
        Map<String, Object> m2 = new LinkedHashMap<>(s2.toMap());
        m2.put("entriesReturned", returned);
        byFilter.put("actionSecondPage", m2);
        if (s2.count() > 0 && s2.p99Ms() > worst) {
            worst = s2.p99Ms();
            worstFilter = "actionSecondPage";
        }
        run.report.line(TITLE, String.format(Locale.ROOT, "`action` (start, stop, create, delete in turn), second page (`cursor` of the first): %s", s2));
        BenchRun.log("audit: action, page 2 %s", s2);
        p.put("queries", byFilter);
        p.put("pageSize", 50);
        p.put("worstP99Ms", worst);
        p.put("worstFilter", worstFilter);
        String scale = entries >= 1_000_000 ? String.format(Locale.ROOT, "%,d entries", entries)
                : String.format(Locale.ROOT, "only %,d entries", entries);
        run.report.atMost("audit.p99", "Audit query p99 at 1M entries", "≤ 50 ms", 50, worst, "ms",
                String.format(Locale.ROOT, "worst filter: %s; %s, one query at a time, %d per filter", worstFilter,
                        scale, repetitions));
    }

    private static <T> T pick(List<T> list, SplittableRandom random) {
        return list.get(random.nextInt(list.size()));
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private record Page(long nanos, int entries, String nextCursor) {
    }

    private static Page query(BenchRun run, String token, String query) {
        BenchHttp.Response r = run.http.send("GET", "/api/v1/audit" + (query.isEmpty() ? "" : "?" + query), token, null)
                .expect(200, "audit query " + query);
        try {
            JsonNode body = JSON.readTree(r.body());
            JsonNode next = body.get("nextCursor");
            return new Page(r.latencyNanos(), body.get("entries").size(),
                    next == null || next.isNull() ? null : next.asText());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("unreadable audit page: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------------- verify

    private static void verify(BenchRun run, String token, Map<String, Object> p) {
        BenchRun.log("audit: verifying the chain");
        BenchHttp.Response r = run.http.send("GET", "/api/v1/audit/verify", token, null).expect(200, "audit verify");
        double seconds = BenchRun.seconds(r.latencyNanos());
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("unreadable verification: " + e.getMessage(), e);
        }
        boolean valid = body.path("valid").asBoolean(false);
        long entries = body.path("entries").asLong();
        p.put("verify", Benchmark.map("valid", valid, "entries", entries, "seconds", Report.round(seconds),
                "entriesPerSecond", Report.round(entries / Math.max(seconds, 1e-9)), "problem",
                body.path("problem").asText(null)));
        run.report.line(TITLE, String.format(Locale.ROOT,
                "`GET /api/v1/audit/verify` over the whole chain (seeded part included): %s, %,d entries in %.1f s (%,.0f entries/s)",
                valid ? "valid" : "**invalid** (" + body.path("problem").asText() + ")", entries, seconds,
                entries / Math.max(seconds, 1e-9)));
        BenchRun.log("audit: verify %s, %,d entries in %.1f s", valid, entries, seconds);
        if (!valid) {
            throw new IllegalStateException("the seeded audit chain does not verify: " + body);
        }
    }

    // ---------------------------------------------------------------------------------------------------- export

    private static void export(BenchRun run, String token, String format, Map<String, Object> p, long entries)
            throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(run.engine.baseUrl() + "/api/v1/audit/export?format=" + format))
                .timeout(Duration.ofMinutes(15)).header("Authorization", "Bearer " + token).GET().build();
        BenchRun.log("audit: exporting the trail as %s", format);
        long start = System.nanoTime();
        HttpResponse<InputStream> response = run.http.client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        long firstByte = 0;
        long lines = 0;
        long bytes = 0;
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                throw new IllegalStateException("export " + format + ": HTTP " + response.statusCode() + " "
                        + new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = body.read(buffer)) > 0) {
                if (firstByte == 0) {
                    firstByte = System.nanoTime();
                }
                bytes += n;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        lines++;
                    }
                }
            }
        }
        double seconds = BenchRun.seconds(System.nanoTime() - start);
        long rows = format.equals("csv") ? lines - 1 : lines; // CSV starts with its header
        double rowsPerSecond = rows / seconds;
        double megabytesPerSecond = bytes / 1e6 / seconds;
        p.put("export." + format, Benchmark.map("rows", rows, "megabytes", Report.round(bytes / 1e6), "seconds",
                Report.round(seconds), "rowsPerSecond", Report.round(rowsPerSecond), "megabytesPerSecond",
                Report.round(megabytesPerSecond), "firstByteMs", Report.round((firstByte - start) / 1e6)));
        run.report.line(TITLE, String.format(Locale.ROOT,
                "export of the whole trail as %s (`GET /api/v1/audit/export?format=%s`, read as a stream): %,d rows, "
                        + "%,.0f MB in %.1f s → %,.0f rows/s, %.1f MB/s (first byte after %.0f ms)",
                format.equals("csv") ? "CSV" : "JSON Lines", format, rows, bytes / 1e6, seconds, rowsPerSecond,
                megabytesPerSecond, (firstByte - start) / 1e6));
        BenchRun.log("audit: export %s: %,d rows in %.1f s (%.0f rows/s, %.1f MB/s)", format, rows, seconds,
                rowsPerSecond, megabytesPerSecond);
        if (rows < entries) {
            throw new IllegalStateException("export " + format + " has " + rows + " rows, the trail " + entries);
        }
    }
}
