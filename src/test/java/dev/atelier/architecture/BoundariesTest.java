package dev.atelier.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.axonframework.commandhandling.CommandBus;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.eventhandling.EventBus;
import org.axonframework.eventhandling.gateway.EventGateway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The folder boundaries of docs/architecture.md: the engine decides, providers act, projections only read events.
 */
class BoundariesTest {

    private static final String[] CLOUD_SDKS = {"software.amazon..", "com.google.cloud..", "com.google.api.gax..",
            "com.azure..", "io.fabric8..", "com.github.dockerjava..", "org.apache.sshd.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.atelier");
    }

    @Test
    void theDomainImportsNoProviderSdkNorAnyOtherLayer() {
        ArchRule rule = noClasses().that().resideInAPackage("dev.atelier.domain..")
                .should().dependOnClassesThat().resideInAnyPackage(CLOUD_SDKS)
                .orShould().dependOnClassesThat().resideInAnyPackage("dev.atelier.provider..", "dev.atelier.providers..",
                        "dev.atelier.projections..", "dev.atelier.api..", "dev.atelier.lifecycle..",
                        "dev.atelier.security..", "dev.atelier.config..", "org.springframework..")
                .because("the domain decides on commands alone; infrastructure lives outside it");
        rule.check(classes);
    }

    @Test
    void projectionsDoNotCallProviders() {
        noClasses().that().resideInAPackage("dev.atelier.projections..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.atelier.provider..", "dev.atelier.providers..",
                        "dev.atelier.lifecycle..", "dev.atelier.api..")
                .orShould().dependOnClassesThat().resideInAnyPackage(CLOUD_SDKS)
                .because("read models are built from events only")
                .check(classes);
    }

    @Test
    void projectionsSendNoCommandsAndPublishNoEvents() {
        noClasses().that().resideInAPackage("dev.atelier.projections..")
                .should().dependOnClassesThat().belongToAnyOf(CommandGateway.class, CommandBus.class, EventBus.class,
                        EventGateway.class, DeadlineManager.class)
                // An EventStore is an EventBus too: reading it (a rebuild's head position) is fine, publishing is not.
                .orShould().callMethodWhere(target(name("publish")).and(target(owner(assignableTo(EventBus.class)))))
                .because("projections only read events; what acts on them (budget enforcement, audit records) lives "
                        + "in the engine")
                .check(classes);
    }

    @Test
    void onlyProvidersUseCloudSdks() {
        // The SSH gateway (dev.atelier.gateway) is the engine's own SSH server: MINA SSHD's server side is its
        // library, not a provider's SDK. It reaches workspaces only through WorkspaceShell, like the rest of the engine.
        noClasses().that().resideOutsideOfPackages("dev.atelier.providers..", "dev.atelier.gateway..")
                .should().dependOnClassesThat().resideInAnyPackage(CLOUD_SDKS)
                .because("cloud SDK code lives under providers/<name>/")
                .check(classes);
        noClasses().that().resideInAPackage("dev.atelier.gateway..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        java.util.Arrays.stream(CLOUD_SDKS).filter(p -> !p.equals("org.apache.sshd..")).toArray(String[]::new))
                .because("the SSH gateway uses MINA SSHD's server and reaches workspaces through WorkspaceShell only")
                .check(classes);
    }

    @Test
    void theEngineReachesProvidersOnlyThroughTheProviderInterface() {
        noClasses().that().resideOutsideOfPackage("dev.atelier.providers..")
                .should().dependOnClassesThat().resideInAPackage("dev.atelier.providers..")
                .because("providers are plugged in by configuration, the engine knows only WorkspaceProvider")
                .check(classes);
    }

    @Test
    void providersDoNotReachIntoTheEngine() {
        noClasses().that().resideInAPackage("dev.atelier.providers..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.atelier.domain..", "dev.atelier.lifecycle..",
                        "dev.atelier.api..", "dev.atelier.projections..", "dev.atelier.security..")
                .because("providers only act on what the provider interface hands them")
                .check(classes);
    }

    @Test
    void theCommandLineNeedsOnlyTheJdkPicocliAndJackson() {
        com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes().that().resideInAPackage("dev.atelier.cli..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.atelier.cli..", "java..", "javax..",
                        "picocli..", "com.fasterxml.jackson..")
                .because("target/atelier-cli.jar holds only the CLI's classes, picocli and Jackson (src/cli/assembly)")
                .check(classes);
        noClasses().that().resideOutsideOfPackage("dev.atelier.cli..")
                .should().dependOnClassesThat().resideInAPackage("dev.atelier.cli..")
                .because("the engine does not run the CLI; it only ships in the same build")
                .check(classes);
    }
}
