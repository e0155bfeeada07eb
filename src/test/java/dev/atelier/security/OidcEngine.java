package dev.atelier.security;

import dev.atelier.support.OidcIssuer;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.util.OpenSSHPublicKeyUtil;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** The engine's single sign-on settings against {@link OidcIssuer}, as an operator would set them. */
public final class OidcEngine {

    private OidcEngine() {
    }

    public static Map<String, String> properties(OidcIssuer issuer) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("atelier.oidc.issuer-uri", issuer.issuerUri());
        p.put("atelier.oidc.client-id", "atelier-console");
        p.put("atelier.oidc.client-secret", "console-secret");
        p.put("atelier.oidc.roles-claim", "groups");
        p.put("atelier.oidc.teams-claim", "groups");
        p.put("atelier.oidc.role-mapping.platform-admins", "owner");
        p.put("atelier.oidc.team-mapping.team-blue", "blue");
        p.put("atelier.oidc.team-mapping.team-green", "green");
        p.put("atelier.tokens.expiry-check-interval", "PT1S");
        return p;
    }

    /** A fresh OpenSSH ed25519 public key line, as {@code ssh-keygen -t ed25519} writes it. */
    static String ed25519PublicKey() {
        Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
        generator.init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        AsymmetricCipherKeyPair pair = generator.generateKeyPair();
        try {
            return "ssh-ed25519 " + Base64.getEncoder().encodeToString(
                    OpenSSHPublicKeyUtil.encodePublicKey(pair.getPublic())) + " someone@laptop";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
