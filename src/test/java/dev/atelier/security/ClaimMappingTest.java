package dev.atelier.security;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClaimMappingTest {

    private static OidcProperties properties(String rolesClaim, Map<String, String> roleMapping, String teamsClaim,
                                             Map<String, String> teamMapping) {
        return new OidcProperties("https://idp.example", "atelier", null, null, null, rolesClaim, roleMapping,
                List.of("member"), teamsClaim, teamMapping, Duration.ofSeconds(60), List.of("openid"),
                "{baseUrl}/login/oauth2/code/{registrationId}", null);
    }

    @Test
    void rolesComeThroughTheMappingPlusRoleIdsAndTheDefaultRoles() {
        ClaimMapping mapping = new ClaimMapping(properties("roles", Map.of("Platform Admins", "owner,auditor"),
                "groups", Map.of()));
        ExternalIdentity identity = mapping.map(Map.of("sub", "auth0|42", "preferred_username", "ada",
                "email", "ada@example.com", "roles", List.of("Platform Admins", "finance", "something-else"),
                "groups", List.of("/platform", "data", "has space")));
        assertThat(identity.subject()).isEqualTo("auth0|42");
        assertThat(identity.name()).isEqualTo("ada");
        assertThat(identity.roles()).containsExactlyInAnyOrder(Role.MEMBER, Role.OWNER, Role.AUDITOR, Role.FINANCE);
        // Keycloak's group paths lose their leading slash; names a team cannot have are left out.
        assertThat(identity.teams()).containsExactlyInAnyOrder("platform", "data");
    }

    @Test
    void nestedClaimsSpaceSeparatedValuesAndATeamMappingThatSelects() {
        ClaimMapping mapping = new ClaimMapping(properties("realm_access.roles", Map.of(), "groups",
                Map.of("eng-platform", "platform")));
        ExternalIdentity identity = mapping.map(Map.of("sub", "u1", "name", "Ada",
                "realm_access", Map.of("roles", List.of("template-admin")), "groups", "eng-platform eng-data"));
        assertThat(identity.roles()).containsExactlyInAnyOrder(Role.MEMBER, Role.TEMPLATE_ADMIN);
        assertThat(identity.teams()).containsExactly("platform");
    }

    @Test
    void aSubjectThatIsNoUsableIdIsRefusedAndSettingsAreChecked() {
        ClaimMapping mapping = new ClaimMapping(properties("roles", Map.of(), "groups", Map.of()));
        assertThatThrownBy(() -> mapping.map(Map.of("sub", "../etc"))).hasMessageContaining("subject (sub)")
                .hasMessageNotContaining("etc");
        assertThatThrownBy(() -> mapping.map(Map.of("name", "nobody"))).hasMessageContaining("subject (sub)");
        assertThatThrownBy(() -> new OidcProperties("https://idp", "atelier", null, null, null, "roles", Map.of(),
                List.of(), "groups", Map.of(), Duration.ofMinutes(10), List.of(), "x", null))
                .hasMessageContaining("clock-skew");
        assertThatThrownBy(() -> properties("roles", Map.of("admins", "superuser"), "groups", Map.of()))
                .hasMessageContaining("unknown role");
    }
}
