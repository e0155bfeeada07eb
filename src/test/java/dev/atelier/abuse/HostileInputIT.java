package dev.atelier.abuse;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.support.ApiClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Throws NUL, other control characters, overlong strings, unpaired UTF-16 surrogates and spreadsheet formulas at
 * every field of every endpoint, as the OpenAPI document lists them (a new endpoint is covered without touching
 * this test): no answer is a 5xx. Then a normal lifecycle still works, is listed and audited, the audit trail
 * verifies, and the CSV exports neutralise the formulas that were accepted.
 */
class HostileInputIT extends AbuseContext {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Writes every non-ASCII character as an escape, so that an unpaired surrogate reaches the server as one. */
    private static final ObjectMapper ESCAPING = JsonMapper.builder().enable(JsonGenerator.Feature.ESCAPE_NON_ASCII).build();

    /** A hostile value: as a JSON string, and as it goes raw into a URL (percent-encoded). */
    private record Hostile(String label, String text, String url) {
    }

    private static final List<Hostile> VALUES = List.of(
            new Hostile("NUL", "a\u0000b", "a%00b"),
            new Hostile("BEL and ESC", "a\u0007\u001b[31mb", "a%07%1B%5B31mb"),
            new Hostile("C1 control", "a\u0085b", "a%C2%85b"),
            new Hostile("line break", "a\nb", "a%0Ab"),
            new Hostile("unpaired surrogate", "a\ud800b", "a%ED%A0%80b"),
            new Hostile("overlong", "x".repeat(100_000), "x".repeat(9_000)),
            new Hostile("formula =", "=HYPERLINK(\"http://evil\",\"x\")", "%3DHYPERLINK(1)"),
            new Hostile("formula @", "@SUM(1+1)*cmd|' /C calc'!A0", "%40SUM(1%2B1)"),
            new Hostile("formula +", "+1+1", "%2B1%2B1"),
            new Hostile("formula -", "-1-1", "-1-1"));

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void noFieldOfAnyEndpointAnswersA5xxAndTheEngineStillWorksAfterwards() throws Exception {
        JsonNode api = admin.get("/v3/api-docs").json();
        List<String> failures = new ArrayList<>();
        int requests = 0;
        int operations = 0;
        for (Iterator<Map.Entry<String, JsonNode>> paths = api.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
                Map.Entry<String, JsonNode> op = ops.next();
                String method = op.getKey().toUpperCase();
                List<Field> fields = fields(api, op.getValue());
                if (fields.isEmpty()) {
                    continue;
                }
                operations++;
                for (Field field : fields) {
                    for (Hostile value : VALUES) {
                        Raw answer = send(api, path.getKey(), method, op.getValue(), field, value);
                        requests++;
                        if (answer.status() >= 500) {
                            failures.add(method + " " + path.getKey() + " " + field + " = " + value.label() + ": "
                                    + answer.status() + " " + answer.body());
                        } else if (answer.status() == 400) {
                            assertThat(answer.body()).as("%s %s %s", method, path.getKey(), field)
                                    .doesNotContain("\u0000").doesNotContain("x".repeat(200));
                        }
                    }
                }
            }
        }
        assertThat(operations).as("operations with fields in the OpenAPI document").isGreaterThan(25);
        assertThat(failures).as("5xx answers of %d hostile requests", requests).isEmpty();

        // Afterwards: a normal lifecycle, listed, audited; the trail is complete and verifies; nothing was parked.
        String template = createLocalTemplate("after-hostility", "exec sleep 300");
        // A formula cannot be a team: teams are real and their names start with a letter or digit.
        ApiClient.Response formulaTeam = admin.post("/api/v1/workspaces", Map.of("name", "formula-team",
                "templateId", template, "team", "=HYPERLINK(\"http://evil\")"));
        assertThat(formulaTeam.status()).as("%s", formulaTeam).isEqualTo(400);
        assertThat(admin.get("/api/v1/workspaces?limit=500").json().get("workspaces").findValuesAsText("name"))
                .doesNotContain("formula-team");
        ensureTeam("after-hostility");
        ApiClient.Response created = admin.post("/api/v1/workspaces", Map.of("name", "after-hostility",
                "templateId", template, "team", "after-hostility",
                "labels", Map.of("note", "@SUM(1+1)")));
        assertThat(created.status()).as("%s", created).isEqualTo(202);
        String id = created.json().get("id").asText();
        admin.awaitStatus(id, "RUNNING");
        JsonNode list = admin.get("/api/v1/workspaces?limit=500").json();
        assertThat(list.get("workspaces").findValuesAsText("id")).contains(id);
        assertThat(admin.post("/api/v1/workspaces/" + id + "/stop", Map.of()).status()).isEqualTo(202);
        admin.awaitStatus(id, "STOPPED");
        assertThat(admin.delete("/api/v1/workspaces/" + id).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM audit_entry WHERE resource_id = ? AND phase = 'completed' AND action = 'delete'",
                Long.class, id) == 1);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> admin.get("/api/v1/audit/status").json().get("caughtUp").asBoolean());
        JsonNode verify = admin.get("/api/v1/audit/verify").json();
        assertThat(verify.get("valid").asBoolean()).as("%s", verify).isTrue();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM deadletterentry", Long.class)).isZero();

        // Formulas that were accepted (a label) leave the CSV exports neutralised (CostCsv and AuditExport share
        // Text.spreadsheetSafe, whose unit test covers every prefix).
        String costs = admin.get("/api/v1/costs/export?report=costs&groupBy=team").body();
        assertThat(costs).contains("after-hostility");
        String audit = admin.get("/api/v1/audit/export?format=csv&resourceId=" + id).body();
        assertThat(audit).contains("after-hostility");
        for (String csv : List.of(costs, audit)) {
            for (String line : csv.split("\n")) {
                for (String cell : line.split(",")) {
                    String c = cell.startsWith("\"") ? cell.substring(1) : cell;
                    assertThat(c).as("a CSV cell").doesNotStartWith("=").doesNotStartWith("@").doesNotStartWith("+");
                }
            }
        }
    }

    /** A field to attack: a path or query parameter by name, or a JSON body field by its path. */
    private record Field(String in, String name, List<String> bodyPath) {
        @Override
        public String toString() {
            return in + " " + (bodyPath == null ? name : String.join(".", bodyPath));
        }
    }

    private static List<Field> fields(JsonNode api, JsonNode op) {
        List<Field> fields = new ArrayList<>();
        for (JsonNode p : op.path("parameters")) {
            String in = p.get("in").asText();
            if (in.equals("path") || in.equals("query")) {
                fields.add(new Field(in, p.get("name").asText(), null));
            }
        }
        JsonNode schema = op.at("/requestBody/content/application~1json/schema");
        if (!schema.isMissingNode()) {
            bodyFields(api, schema, new ArrayList<>(), fields, 0);
        }
        return fields;
    }

    private static void bodyFields(JsonNode api, JsonNode schema, List<String> path, List<Field> out, int depth) {
        JsonNode s = resolve(api, schema);
        if (depth > 3) {
            return;
        }
        if (s.has("properties")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = s.get("properties").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> property = it.next();
                List<String> next = new ArrayList<>(path);
                next.add(property.getKey());
                bodyFields(api, property.getValue(), next, out, depth + 1);
            }
            return;
        }
        if (s.has("additionalProperties")) {
            List<String> next = new ArrayList<>(path);
            next.add("k");
            out.add(new Field("body", null, next));
            return;
        }
        if (!path.isEmpty()) {
            out.add(new Field("body", null, path));
        }
    }

    private static JsonNode resolve(JsonNode api, JsonNode schema) {
        JsonNode s = schema;
        while (s.has("$ref")) {
            s = api.at(s.get("$ref").asText().substring(1));
        }
        return s;
    }

    private Raw send(JsonNode api, String pathTemplate, String method, JsonNode op, Field field, Hostile value)
            throws Exception {
        String path = pathTemplate;
        StringBuilder query = new StringBuilder();
        for (JsonNode p : op.path("parameters")) {
            String name = p.get("name").asText();
            boolean target = field.bodyPath() == null && field.name().equals(name);
            if ("path".equals(p.get("in").asText())) {
                path = path.replace("{" + name + "}", target ? value.url() : "x");
            } else if (target) {
                query.append(query.length() == 0 ? "?" : "&").append(name).append('=').append(value.url());
            }
        }
        String body = null;
        JsonNode schema = op.at("/requestBody/content/application~1json/schema");
        if (!schema.isMissingNode()) {
            JsonNode seed = example(api, schema, 0);
            if (field.bodyPath() != null) {
                set(seed, field.bodyPath(), value.text());
            }
            body = ESCAPING.writeValueAsString(seed);
        }
        boolean stream = op.toString().contains("text/event-stream");
        Raw answer = raw(method, path + query, "atl_test-admin-token", null, body,
                Duration.ofSeconds(stream ? 3 : 30));
        if (answer.status() == -1 && !stream) {
            return new Raw(599, "no answer within 30 s", null);
        }
        return answer;
    }

    /** A body that has every property, each with a plain valid-looking value, so that the hostile one gets far. */
    private static JsonNode example(JsonNode api, JsonNode schema, int depth) {
        JsonNode s = resolve(api, schema);
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (s.has("properties") && depth < 4) {
            ObjectNode o = f.objectNode();
            s.get("properties").fields().forEachRemaining(e -> o.set(e.getKey(), example(api, e.getValue(), depth + 1)));
            return o;
        }
        if (s.has("enum")) {
            return s.get("enum").get(0);
        }
        return switch (s.path("type").asText()) {
            case "integer", "number" -> f.numberNode(1);
            case "boolean" -> f.booleanNode(false);
            case "array" -> f.arrayNode();
            case "object" -> f.objectNode();
            default -> "duration".equals(s.path("format").asText()) ? f.textNode("PT1H")
                    : "date-time".equals(s.path("format").asText()) ? f.textNode("2030-01-01T00:00:00Z")
                    : f.textNode("hostile-test");
        };
    }

    private static void set(JsonNode root, List<String> path, String value) {
        JsonNode node = root;
        for (int i = 0; i < path.size() - 1; i++) {
            JsonNode next = node.get(path.get(i));
            if (next == null || !next.isObject()) {
                next = JsonNodeFactory.instance.objectNode();
                ((ObjectNode) node).set(path.get(i), next);
            }
            node = next;
        }
        String last = path.get(path.size() - 1);
        JsonNode existing = node.get(last);
        if (existing instanceof ArrayNode array) {
            array.add(value);
        } else {
            ((ObjectNode) node).put(last, value);
        }
    }

}
