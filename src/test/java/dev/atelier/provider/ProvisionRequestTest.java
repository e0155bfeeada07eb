package dev.atelier.provider;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ProvisionRequestTest {

    @Test
    void theWorkspaceEnvironmentIsIdentityThenParametersByName() {
        ProvisionRequest request = new ProvisionRequest("ws-1", 3, "alice", null, null,
                Map.of("region", "eu", "colour", "blue"), null, null);
        assertThat(request.workspaceEnvironment()).containsExactly(Map.entry("ATELIER_WORKSPACE_ID", "ws-1"),
                Map.entry("ATELIER_BUILD", "3"), Map.entry("ATELIER_WORKSPACE_OWNER", "alice"),
                Map.entry("ATELIER_PARAM_COLOUR", "blue"), Map.entry("ATELIER_PARAM_REGION", "eu"));
        assertThat(new ProvisionRequest("ws-1", 3, null, null, null, null, null, null).workspaceEnvironment())
                .as("no owner known").containsOnlyKeys("ATELIER_WORKSPACE_ID", "ATELIER_BUILD");
    }
}
