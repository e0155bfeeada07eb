package dev.atelier.config;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;


/**
 * One PostgreSQL for everything (events, tokens, sagas, deadlines, read models): the external one named by
 * {@code ATELIER_DB_URL}, or the embedded one under the data dir.
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfiguration {

    private static final Logger log = LoggerFactory.getLogger(DatabaseConfiguration.class);

    @Bean(destroyMethod = "close")
    EmbeddedPostgresHolder embeddedPostgres(AtelierProperties properties) {
        if (properties.db().external()) {
            return new EmbeddedPostgresHolder(null);
        }
        return new EmbeddedPostgresHolder(EmbeddedPostgres.start(properties.dataDir(), properties.db().embeddedPort()));
    }

    @Bean(destroyMethod = "close")
    HikariDataSource dataSource(AtelierProperties properties, EmbeddedPostgresHolder embedded,
                                ObjectProvider<HikariConfigCustomizer> customizers) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("atelier");
        config.setMaximumPoolSize(20);
        if (properties.db().external()) {
            config.setJdbcUrl(properties.db().url());
            config.setUsername(properties.db().user());
            config.setPassword(properties.db().password());
            log.info("using external PostgreSQL {}", properties.db().url());
        } else {
            // Not the superuser: the owner of the atelier database and nothing more (see EmbeddedPostgres).
            config.setJdbcUrl(embedded.postgres().jdbcUrl(EmbeddedPostgres.DATABASE));
            config.setUsername(embedded.postgres().engineUser());
            config.setPassword(embedded.postgres().enginePassword());
        }
        customizers.orderedStream().forEach(c -> c.customize(config));
        HikariDataSource dataSource = new HikariDataSource(config);
        if (properties.db().external()) {
            warnAboutPrivileges(dataSource);
        }
        return dataSource;
    }

    /**
     * The engine needs to own its schema, nothing more (deploy/README.md). A role that can do more turns any SQL
     * injection or stolen password into control of the whole server (COPY ... TO PROGRAM runs shell commands).
     */
    private static void warnAboutPrivileges(HikariDataSource dataSource) {
        try (var c = dataSource.getConnection(); var s = c.createStatement(); var rs = s.executeQuery(
                "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, "
                        + "pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') "
                        + "FROM pg_roles WHERE rolname = current_user")) {
            if (rs.next() && (rs.getBoolean(2) || rs.getBoolean(3) || rs.getBoolean(4) || rs.getBoolean(5) || rs.getBoolean(6))) {
                log.warn("the database role '{}' has more privileges than the engine needs (superuser, CREATEROLE, "
                        + "CREATEDB, BYPASSRLS or pg_execute_server_program); give the engine a role that only owns "
                        + "its database, see deploy/README.md", rs.getString(1));
            }
        } catch (java.sql.SQLException e) {
            log.debug("could not check the privileges of the database role: {}", e.getMessage());
        }
    }

    /** Lets tests and deployments adjust the pool without replacing the data source. */
    public interface HikariConfigCustomizer {
        void customize(HikariConfig config);
    }

    /** Holds the embedded server (or nothing) so that it stops after the pool closed. */
    record EmbeddedPostgresHolder(EmbeddedPostgres postgres) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            if (postgres != null) {
                postgres.close();
            }
        }
    }

}
