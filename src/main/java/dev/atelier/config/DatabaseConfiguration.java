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
            config.setJdbcUrl(embedded.postgres().jdbcUrl(EmbeddedPostgres.DATABASE));
            config.setUsername("postgres");
        }
        customizers.orderedStream().forEach(c -> c.customize(config));
        return new HikariDataSource(config);
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
