package dev.atelier.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;

/**
 * Engine settings. Spring's relaxed binding maps the operator-facing environment variables of the product brief
 * onto them: {@code ATELIER_DATA_DIR}, {@code ATELIER_DB_URL}/{@code _USER}/{@code _PASSWORD},
 * {@code ATELIER_ADMIN_TOKEN}.
 *
 * @param dataDir    embedded PostgreSQL data, local workspaces and the hashed bootstrap token live here
 * @param db         an external PostgreSQL; when {@code url} is empty an embedded one is started
 * @param adminToken bootstrap admin API token; generated and printed once when unset
 */
@ConfigurationProperties("atelier")
public record AtelierProperties(@DefaultValue("./data") Path dataDir, @DefaultValue Db db, String adminToken) {

    public record Db(String url, String user, String password, @DefaultValue("0") int embeddedPort) {

        public boolean external() {
            return url != null && !url.isBlank();
        }
    }
}
