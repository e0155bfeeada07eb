package dev.atelier.projections.cost;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;

/**
 * The cost area's settings. (Its scheduled budget check sends commands, so it lives with the lifecycle code:
 * {@code dev.atelier.lifecycle.BudgetChecks}.)
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(CostSettings.class)
public class CostConfiguration {
}
