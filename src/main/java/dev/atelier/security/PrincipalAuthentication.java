package dev.atelier.security;

import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

import java.util.stream.Collectors;

/** A checked caller, whatever the credential (API token, bearer JWT, browser session, agent token). */
public final class PrincipalAuthentication extends AbstractAuthenticationToken {

    private final AtelierPrincipal principal;

    public PrincipalAuthentication(AtelierPrincipal principal) {
        super(principal.roles().stream().map(r -> new SimpleGrantedAuthority("ROLE_" + r.id()))
                .collect(Collectors.toList()));
        this.principal = principal;
        setAuthenticated(true);
    }

    @Override
    public Object getCredentials() {
        return "";
    }

    @Override
    public AtelierPrincipal getPrincipal() {
        return principal;
    }
}
