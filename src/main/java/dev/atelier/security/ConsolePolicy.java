package dev.atelier.security;

import org.springframework.core.io.ClassPathResource;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Content-Security-Policy of every answer, written for the web console served from {@code static/index.html}.
 * Scripts come only from this origin, as files: no inline script, no {@code eval}, no other host. The one inline
 * element the console needs is its import map (JSON that tells the browser where {@code lit} and {@code chart.js}
 * live under {@code /webjars/}; browsers accept import maps only inline), which is allowed by its SHA-256, computed
 * here from the page itself so that editing the map cannot silently break or widen the policy.
 */
@Component
public class ConsolePolicy {

    static final String INDEX = "static/index.html";
    private static final Pattern IMPORT_MAP = Pattern.compile("<script type=\"importmap\">(.*?)</script>", Pattern.DOTALL);

    private final String contentSecurityPolicy;

    public ConsolePolicy() {
        this(readIndex());
    }

    ConsolePolicy(String indexHtml) {
        String importMapSource = "";
        if (indexHtml != null) {
            Matcher m = IMPORT_MAP.matcher(indexHtml);
            if (m.find()) {
                importMapSource = " '" + sha256(m.group(1)) + "'";
            }
        }
        this.contentSecurityPolicy = "default-src 'none'; script-src 'self'" + importMapSource
                + "; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'"
                + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    }

    public String contentSecurityPolicy() {
        return contentSecurityPolicy;
    }

    static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String readIndex() {
        ClassPathResource index = new ClassPathResource(INDEX);
        if (!index.exists()) {
            return null;
        }
        try (InputStream in = index.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + INDEX + ": " + e.getMessage(), e);
        }
    }
}
