package dev.atelier.projections.audit;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AuditSecretsTest {

    private final AuditSecrets secrets = new AuditSecrets(new byte[32]);

    @Test
    void secretKeysAndEnvValuesAreMaskedAndNothingElse() {
        Map<String, String> flat = secrets.flatten("spec", Map.of(
                "image", "ubuntu:24.04",
                "dbPassword", "hunter2",
                "apiKey", "k-123",
                "Client_Secret", "s",
                "auth", Map.of("TOKEN", "t", "user", "u"),
                "credentials", Map.of("user", "nested-under-a-secret-key"),
                "env", Map.of("GREETING", "hello", "PATH", "/bin"),
                "cpus", 2));
        assertThat(flat.keySet()).containsExactlyInAnyOrder("spec.image", "spec.dbPassword", "spec.apiKey",
                "spec.Client_Secret", "spec.auth.TOKEN", "spec.auth.user", "spec.credentials.user", "spec.env.GREETING",
                "spec.env.PATH", "spec.cpus");
        assertThat(AuditSecrets.visible(flat.get("spec.image"))).isEqualTo("ubuntu:24.04");
        assertThat(AuditSecrets.visible(flat.get("spec.auth.user"))).isEqualTo("u");
        assertThat(AuditSecrets.visible(flat.get("spec.cpus"))).isEqualTo("2");
        for (String secret : List.of("spec.dbPassword", "spec.apiKey", "spec.Client_Secret", "spec.auth.TOKEN",
                "spec.credentials.user", "spec.env.GREETING", "spec.env.PATH")) {
            assertThat(AuditSecrets.visible(flat.get(secret))).as(secret).isEqualTo("[secret]");
        }
        assertThat(String.join(" ", flat.values())).doesNotContain("hunter2", "k-123", "hello", "nested-under");
    }

    @Test
    void aChangedSecretIsAChangeButShowsOnlyTheMarker() {
        String before = secrets.flatten("env", Map.of("A", "one")).get("env.A");
        String after = secrets.flatten("env", Map.of("A", "two")).get("env.A");
        String same = secrets.flatten("env", Map.of("A", "one")).get("env.A");
        assertThat(before).isNotEqualTo(after).isEqualTo(same);
        assertThat(AuditSecrets.visible(before)).isEqualTo(AuditSecrets.visible(after)).isEqualTo("[secret]");
        // The digest is keyed: another installation's key gives another digest.
        assertThat(new AuditSecrets(new byte[]{1}).flatten("env", Map.of("A", "one")).get("env.A")).isNotEqualTo(before);
    }

    @Test
    void listsAreOneFieldWithSecretsInsideMasked() {
        Map<String, String> flat = secrets.flatten("spec", Map.of("sidecars", List.of(
                Map.of("image", "redis", "env", Map.of("REDIS_PASSWORD", "pw")),
                Map.of("image", "proxy", "token", "tk"))));
        String sidecars = AuditSecrets.visible(flat.get("spec.sidecars"));
        assertThat(sidecars).isEqualTo("[{\"env\":{\"REDIS_PASSWORD\":\"[secret]\"},\"image\":\"redis\"},"
                + "{\"image\":\"proxy\",\"token\":\"[secret]\"}]");
        String changed = secrets.flatten("spec", Map.of("sidecars", List.of(
                Map.of("image", "redis", "env", Map.of("REDIS_PASSWORD", "other")),
                Map.of("image", "proxy", "token", "tk")))).get("spec.sidecars");
        assertThat(changed).isNotEqualTo(flat.get("spec.sidecars"));
        assertThat(AuditSecrets.visible(changed)).isEqualTo(sidecars);
        assertThat(secrets.flatten("ports", List.of(8080, 8443))).containsEntry("ports", "[8080,8443]");
    }

    @Test
    void detailsOfAnAttemptAreMaskedByKey() {
        assertThat(AuditSecrets.masked(Map.of("name", "ci", "token", "atl_x"))).containsEntry("name", "ci")
                .containsEntry("token", "[secret]");
    }
}
