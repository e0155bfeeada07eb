package dev.atelier.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Properties that start the real engine on a fresh database and data dir, fast enough for tests. */
public final class EngineTestSupport {

    public static final String ADMIN_TOKEN = "atl_test-admin-token";

    private EngineTestSupport() {
    }

    public static Map<String, Object> properties(TestDatabase.Database db, Path dataDir) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("atelier.db.url", db.url());
        p.put("atelier.db.user", db.user());
        if (db.password() != null) {
            p.put("atelier.db.password", db.password());
        }
        p.put("atelier.data-dir", dataDir.toString());
        p.put("atelier.admin-token", ADMIN_TOKEN);
        // The sandbox production uses, required: a test never passes because workspaces ran without it.
        TestInfra.bubblewrap();
        p.put("atelier.providers.local.sandbox", "bwrap");
        p.put("atelier.providers.local.readiness-delay", "PT0.2S");
        p.put("atelier.providers.local.stop-grace-period", "PT2S");
        p.put("db-scheduler.polling-interval", "PT0.1S");
        // Cached test contexts close together when the JVM exits: keep each shutdown short.
        p.put("server.shutdown", "immediate");
        p.put("spring.lifecycle.timeout-per-shutdown-phase", "PT2S");
        p.put("db-scheduler.shutdown-max-wait", "PT1S");
        // docker and ssh providers on the back ends of deploy/test-infra (TestInfra); nothing is contacted at start-up.
        p.put("atelier.providers.docker.enabled", "true");
        p.put("atelier.providers.docker.host", TestInfra.DOCKER_HOST);
        p.put("atelier.providers.docker.readiness-delay", "PT0.5S");
        p.put("atelier.providers.docker.stop-grace-period", "PT2S");
        p.put("atelier.providers.ssh.enabled", "true");
        p.put("atelier.providers.ssh.key-dir", TestInfra.SSH_KEY_DIR.toString());
        p.put("atelier.providers.ssh.readiness-delay", "PT0.3S");
        p.put("atelier.providers.ssh.stop-grace-period", "PT2S");
        p.put("atelier.costs.budget-check-interval", "PT1S");
        // Reconciliation runs only when a test asks for it (POST /api/v1/reconcile): a scheduled run in a long-lived
        // cached context would report the workspaces other tests left behind as drifted or orphaned.
        p.put("atelier.reconcile.enabled", "false");
        // The SSH gateway listens only in the tests that use it (SshGatewayIT gives it a free port through
        // atelier.test.ssh-gateway-port): its default, 2222, is where the test sshd of deploy/test-infra listens.
        p.put("atelier.ssh.gateway.port", "${atelier.test.ssh-gateway-port:0}");
        return p;
    }

    /**
     * The properties as command-line arguments, for an engine started with {@code SpringApplicationBuilder}: its
     * {@code properties(...)} are defaults, below application.yml, whose {@code ${SERVER_PORT:8080}} and
     * {@code ${ATELIER_DATA_DIR:./data}} would then win.
     */
    public static String[] arguments(Map<String, Object> properties, String... more) {
        return java.util.stream.Stream.concat(properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()),
                java.util.Arrays.stream(more)).toArray(String[]::new);
    }

    public static Path tempDataDir() {
        try {
            return Files.createTempDirectory("atelier-test-data");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
