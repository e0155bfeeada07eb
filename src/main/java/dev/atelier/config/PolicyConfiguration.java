package dev.atelier.config;

import dev.atelier.domain.template.LifecyclePolicy;
import dev.atelier.domain.workspace.PolicyDefaults;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;

import java.time.Duration;

/**
 * Default lifecycle policies per workspace kind ({@code atelier.policies.*}); a template's own policy wins field by
 * field. Agent workspaces default to short limits: nobody watches them.
 */
@Configuration(proxyBeanMethods = false)
@EnableScheduling
@EnableConfigurationProperties(PolicyConfiguration.PolicyProperties.class)
public class PolicyConfiguration {

    @Bean
    PolicyDefaults policyDefaults(PolicyProperties properties) {
        return new PolicyDefaults(properties.human().toPolicy(), properties.agent().toPolicy(), properties.idleWarning());
    }

    @ConfigurationProperties("atelier.policies")
    public record PolicyProperties(@DefaultValue("PT5M") Duration idleWarning, @DefaultValue Human human,
                                   @DefaultValue Agent agent) {
    }

    public record Human(@DefaultValue("PT1H") Duration idleTimeout, Duration maxLifetime,
                        @DefaultValue("PT1H") Duration autostopAfterFailure, @DefaultValue("P30D") Duration dormancyAfter,
                        Duration deleteAfterDormant) {
        LifecyclePolicy toPolicy() {
            return new LifecyclePolicy(idleTimeout, maxLifetime, autostopAfterFailure, dormancyAfter, deleteAfterDormant);
        }
    }

    public record Agent(@DefaultValue("PT15M") Duration idleTimeout, @DefaultValue("PT4H") Duration maxLifetime,
                        @DefaultValue("PT10M") Duration autostopAfterFailure, @DefaultValue("P1D") Duration dormancyAfter,
                        @DefaultValue("P7D") Duration deleteAfterDormant) {
        LifecyclePolicy toPolicy() {
            return new LifecyclePolicy(idleTimeout, maxLifetime, autostopAfterFailure, dormancyAfter, deleteAfterDormant);
        }
    }
}
