package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.shared.DomainRuleViolation.Kind;
import dev.atelier.domain.template.TemplateCatalog;
import dev.atelier.domain.template.TemplateDefinition;
import dev.atelier.domain.template.TemplateParameter;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.axonframework.test.aggregate.FixtureConfiguration;
import org.hamcrest.Matcher;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

import static dev.atelier.domain.shared.Violations.violation;
import static dev.atelier.domain.template.TemplateParameter.Type.BOOL;
import static dev.atelier.domain.template.TemplateParameter.Type.NUMBER;
import static dev.atelier.domain.template.TemplateParameter.Type.STRING;
import static org.axonframework.test.matchers.Matchers.andNoMore;
import static org.axonframework.test.matchers.Matchers.exactSequenceOf;
import static org.axonframework.test.matchers.Matchers.matches;
import static org.axonframework.test.matchers.Matchers.payloadsMatching;

/**
 * Given/when/then tests of the {@link Workspace} aggregate. Histories are built from events; the template catalog the
 * aggregate decides with is an in-memory test double.
 */
class WorkspaceTest {

    private static final String WS = "ws-1";
    private static final String NAME = "dev-box";
    private static final String OWNER = "alice";
    private static final String TEAM = "platform";
    private static final String TPL = "tpl-1";
    private static final String ARCHIVED_TPL = "tpl-old";
    private static final String LOCAL = "local";
    private static final String RES = "res-1";
    private static final Actor ALICE = Actor.user(OWNER);
    private static final Map<String, String> LABELS = Map.of("env", "dev");
    private static final Map<String, String> CONNECTION = Map.of("url", "https://ws-1.example");

    private static final TemplateParameter REGION = new TemplateParameter("region", STRING, "where it runs", null,
            List.of("eu", "us"), false, true);
    private static final TemplateParameter CPU = new TemplateParameter("cpu", NUMBER, "cores", "2", List.of(), true,
            false);
    private static final TemplateParameter CPU_V2 = new TemplateParameter("cpu", NUMBER, "cores", "4", List.of(), true,
            false);
    private static final TemplateParameter GPU = new TemplateParameter("gpu", BOOL, "attach a GPU", "false", List.of(),
            true, false);
    /** Immutable but optional: the home volume cannot be resized once created. */
    private static final TemplateParameter DISK = new TemplateParameter("disk", NUMBER, "home volume in GiB", "20",
            List.of(), false, false);
    private static final TemplateParameter DOTFILES = new TemplateParameter("dotfiles", STRING, "dotfiles repo", null,
            List.of(), true, false);

    private static final TemplateDefinition V1 = new TemplateDefinition(LOCAL, Map.of("image", "ubuntu:24.04"),
            List.of(REGION, CPU, GPU, DISK), null, null);
    private static final TemplateDefinition V2 = new TemplateDefinition(LOCAL, Map.of("image", "ubuntu:26.04"),
            List.of(REGION, CPU_V2, GPU, DISK, DOTFILES), null, null);
    private static final TemplateDefinition V3_DOCKER = new TemplateDefinition("docker", Map.of("image", "ubuntu"),
            List.of(REGION), null, null);

    /** What the workspace resolved at creation from v1: region chosen, the others from their defaults. */
    private static final Map<String, String> PARAMS = Map.of("region", "eu", "cpu", "2", "gpu", "false", "disk", "20");

    private FixtureConfiguration<Workspace> fixture;
    private InMemoryTemplateCatalog catalog;

    @BeforeEach
    void setUp() {
        catalog = new InMemoryTemplateCatalog();
        catalog.publish(TPL, 1, V1);
        catalog.publish(TPL, 2, V2);
        catalog.publish(TPL, 3, V3_DOCKER);
        catalog.activate(TPL, 1);
        catalog.publish(ARCHIVED_TPL, 1, V1);
        catalog.activate(ARCHIVED_TPL, 1);
        catalog.archive(ARCHIVED_TPL);

        fixture = new AggregateTestFixture<>(Workspace.class);
        fixture.registerInjectableResource(catalog);
        fixture.registerInjectableResource(PolicyDefaults.NONE);
        fixture.registerInjectableResource(dev.atelier.domain.budget.BudgetGuard.NONE);
    }

    // ---------------------------------------------------------------------------------------------- create

    @Nested
    class Create {

        @Test
        void createsTheWorkspaceAndStartsBuildOne() {
            fixture.givenNoPriorActivity()
                    .when(create(Map.of("region", "us", "cpu", "8")))
                    .expectSuccessfulHandlerExecution()
                    .expectEvents(
                            new WorkspaceCreatedEvent(WS, NAME, OWNER, TEAM, WorkspaceKind.AGENT, TPL, 1, LOCAL,
                                    Map.of("region", "us", "cpu", "8", "gpu", "false", "disk", "20"), LABELS, ALICE, null),
                            new WorkspaceTransitionStartedEvent(WS, 1, Transition.START, TransitionReason.API, ALICE,
                                    TPL, 1, LOCAL, null, false, OWNER,
                                    Map.of("region", "us", "cpu", "8", "gpu", "false", "disk", "20")));
        }

        @Test
        void fillsInDefaultsAndDefaultsKindReasonAndLabels() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, null, null, TPL, null, Map.of("region", "eu"),
                            null, null, null, ALICE))
                    .expectEvents(
                            new WorkspaceCreatedEvent(WS, NAME, OWNER, null, WorkspaceKind.HUMAN, TPL, 1, LOCAL, PARAMS,
                                    Map.of(), ALICE, null),
                            new WorkspaceTransitionStartedEvent(WS, 1, Transition.START, TransitionReason.USER, ALICE,
                                    TPL, 1, LOCAL, null, false, OWNER, PARAMS));
        }

        @Test
        void withoutAVersionUsesTheActiveVersion() {
            catalog.activate(TPL, 2);
            Map<String, String> v2Params = Map.of("region", "eu", "cpu", "4", "gpu", "false", "disk", "20");

            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, WorkspaceKind.HUMAN, TPL, null,
                            Map.of("region", "eu"), LABELS, null, TransitionReason.USER, ALICE))
                    .expectEvents(
                            new WorkspaceCreatedEvent(WS, NAME, OWNER, TEAM, WorkspaceKind.HUMAN, TPL, 2, LOCAL,
                                    v2Params, LABELS, ALICE, null),
                            new WorkspaceTransitionStartedEvent(WS, 1, Transition.START, TransitionReason.USER, ALICE,
                                    TPL, 2, LOCAL, null, false, OWNER, v2Params));
        }

        @Test
        void anExplicitVersionWinsOverTheActiveOne() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, WorkspaceKind.HUMAN, TPL, 3,
                            Map.of("region", "us"), LABELS, null, TransitionReason.USER, ALICE))
                    .expectEvents(
                            new WorkspaceCreatedEvent(WS, NAME, OWNER, TEAM, WorkspaceKind.HUMAN, TPL, 3, "docker",
                                    Map.of("region", "us"), LABELS, ALICE, null),
                            new WorkspaceTransitionStartedEvent(WS, 1, Transition.START, TransitionReason.USER, ALICE,
                                    TPL, 3, "docker", null, false, OWNER, Map.of("region", "us")));
        }

        @Test
        void immutableParametersCanBeChosenFreelyAtCreation() {
            fixture.givenNoPriorActivity()
                    .when(create(Map.of("region", "us")))
                    .expectSuccessfulHandlerExecution()
                    .expectEventsMatching(payloadsMatching(exactSequenceOf(
                            event(WorkspaceCreatedEvent.class, e -> e.parameters().get("region").equals("us")),
                            event(WorkspaceTransitionStartedEvent.class, e -> e.parameters().get("region").equals("us")),
                            andNoMore())));
        }

        @ParameterizedTest
        @CsvSource(value = {"Dev-Box", "dev_box", "-devbox", "devbox-", "''", "NULL"}, nullValues = "NULL")
        void rejectsAnInvalidName(String name) {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, name, OWNER, TEAM, null, TPL, null, Map.of("region", "eu"),
                            null, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "workspace name " + dev.atelier.domain.shared.Text.quote(name) + " is invalid"));
        }

        @Test
        void rejectsANameLongerThan63Characters() {
            String name = "a".repeat(64);
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, name, OWNER, TEAM, null, TPL, null, Map.of("region", "eu"),
                            null, null, null, ALICE))
                    .expectNoEvents()
                    // Only an escaped prefix of what was sent is echoed.
                    .expectException(violation(Kind.INVALID, "'" + "a".repeat(40) + "' (first 40 of 64 characters)"));
        }

        @Test
        void acceptsANameOf63Characters() {
            String name = "a".repeat(63);
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, name, OWNER, TEAM, null, TPL, null, Map.of("region", "eu"),
                            null, null, null, ALICE))
                    .expectSuccessfulHandlerExecution();
        }

        @Test
        void rejectsAnInvalidLabelKey() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, TPL, null, Map.of("region", "eu"),
                            Map.of("cost center!", "42"), null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "label key 'cost center!' is invalid"));
        }

        @Test
        void rejectsALabelWithoutValue() {
            Map<String, String> labels = new HashMap<>();
            labels.put("team", null);
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, TPL, null, Map.of("region", "eu"),
                            labels, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "label 'team' needs a value"));
        }

        @Test
        void rejectsALabelValueLongerThan256Characters() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, TPL, null, Map.of("region", "eu"),
                            Map.of("note", "x".repeat(257)), null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "label 'note'", "256"));
        }

        @Test
        void rejectsMoreThan50Labels() {
            Map<String, String> labels = new HashMap<>();
            for (int i = 0; i < 51; i++) {
                labels.put("k" + i, "v");
            }
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, TPL, null, Map.of("region", "eu"),
                            labels, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "at most 50 labels", "got 51"));
        }

        @ParameterizedTest
        @CsvSource(value = {"NULL", "''", "'   '"}, nullValues = "NULL")
        void rejectsAMissingOwner(String owner) {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, owner, TEAM, null, TPL, null, Map.of("region", "eu"),
                            null, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "needs an owner"));
        }

        @Test
        void rejectsAMissingTemplateId() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, " ", null, Map.of("region", "eu"),
                            null, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "templateId is required"));
        }

        @Test
        void rejectsAnUnknownTemplate() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, "tpl-nope", null,
                            Map.of("region", "eu"), null, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "template tpl-nope does not exist"));
        }

        @Test
        void rejectsAnUnknownTemplateVersion() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, TPL, 9, Map.of("region", "eu"),
                            null, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "template tpl-1 has no version 9"));
        }

        @Test
        void rejectsAnArchivedTemplate() {
            fixture.givenNoPriorActivity()
                    .when(new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, null, ARCHIVED_TPL, null,
                            Map.of("region", "eu"), null, null, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "template tpl-old is archived"));
        }

        @Test
        void rejectsAnUnknownParameter() {
            fixture.givenNoPriorActivity()
                    .when(create(Map.of("region", "eu", "colour", "blue")))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "unknown parameter 'colour'", "[region, cpu, gpu, disk]"));
        }

        @Test
        void rejectsAMissingRequiredParameter() {
            fixture.givenNoPriorActivity()
                    .when(create(Map.of("cpu", "4")))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "parameter 'region' is required"));
        }

        @Test
        void rejectsAParameterOfTheWrongType() {
            fixture.givenNoPriorActivity()
                    .when(create(Map.of("region", "eu", "cpu", "lots", "gpu", "yes")))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "parameter 'cpu' must be a number, was 'lots'",
                            "parameter 'gpu' must be true or false, was 'yes'"));
        }

        @Test
        void rejectsAParameterValueThatIsNotAllowed() {
            fixture.givenNoPriorActivity()
                    .when(create(Map.of("region", "mars")))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "parameter 'region' must be one of [eu, us], was 'mars'"));
        }
    }

    // ------------------------------------------------------------------------------- start / stop / delete

    /** Who may do what from which state. Accepted transitions get the next build number. */
    @ParameterizedTest(name = "{1} from {0}: {2}")
    @CsvSource({
            "PENDING,  START,  REJECTED",
            "PENDING,  STOP,   REJECTED",
            "PENDING,  DELETE, ACCEPTED",
            "STARTING, START,  REJECTED",
            "STARTING, STOP,   REJECTED",
            "STARTING, DELETE, ACCEPTED",
            "RUNNING,  START,  REJECTED",
            "RUNNING,  STOP,   ACCEPTED",
            "RUNNING,  DELETE, ACCEPTED",
            "STOPPING, START,  REJECTED",
            "STOPPING, STOP,   REJECTED",
            "STOPPING, DELETE, ACCEPTED",
            "STOPPED,  START,  ACCEPTED",
            "STOPPED,  STOP,   REJECTED",
            "STOPPED,  DELETE, ACCEPTED",
            "DELETING, START,  REJECTED",
            "DELETING, STOP,   REJECTED",
            "DELETING, DELETE, REJECTED",
            "DELETED,  START,  REJECTED",
            "DELETED,  STOP,   REJECTED",
            "DELETED,  DELETE, REJECTED",
            "FAILED,   START,  ACCEPTED",
            "FAILED,   STOP,   ACCEPTED",
            "FAILED,   DELETE, ACCEPTED",
    })
    void transitionTable(WorkspaceStatus from, Transition transition, Outcome outcome) {
        History history = history(from);
        Object command = switch (transition) {
            case START -> new StartWorkspaceCommand(WS, TransitionReason.SCHEDULE, ALICE);
            case STOP -> new StopWorkspaceCommand(WS, TransitionReason.SCHEDULE, ALICE);
            case DELETE -> new DeleteWorkspaceCommand(WS, false, TransitionReason.SCHEDULE, ALICE);
        };

        var result = fixture.given(history.events()).when(command);

        if (outcome == Outcome.ACCEPTED) {
            long next = history.build() + 1;
            result.expectSuccessfulHandlerExecution()
                    .expectResultMessagePayload(next)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, next, transition, TransitionReason.SCHEDULE,
                            ALICE, TPL, 1, LOCAL, history.resourceId(), false, OWNER, PARAMS));
        } else {
            result.expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "workspace " + WS, from.name()));
        }
    }

    @Nested
    class Start {

        @Test
        void startFromStoppedUsesTheNextBuildAndKeepsTheResource() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new StartWorkspaceCommand(WS, TransitionReason.AUTOSTART, Actor.SYSTEM))
                    .expectResultMessagePayload(3L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 3, Transition.START,
                            TransitionReason.AUTOSTART, Actor.SYSTEM, TPL, 1, LOCAL, RES, false, OWNER, PARAMS));
        }

        @Test
        void aMissingReasonMeansUser() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new StartWorkspaceCommand(WS, null, ALICE))
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 3, Transition.START, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, RES, false, OWNER, PARAMS));
        }

        @Test
        void retryAfterAFailedFirstStartHasNoResourceYet() {
            fixture.given(history(WorkspaceStatus.FAILED).events())
                    .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(2L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 2, Transition.START, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, null, false, OWNER, PARAMS));
        }

        @Test
        void startingARunningWorkspaceSaysItIsAlreadyRunning() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "cannot start workspace ws-1: it is already RUNNING"));
        }

        @Test
        void startingAStartingWorkspaceNamesTheBuildInProgress() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "it is already STARTING (build 1)"));
        }
    }

    @Nested
    class Stop {

        @Test
        void stopFromRunningUsesTheNextBuild() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new StopWorkspaceCommand(WS, TransitionReason.IDLE, Actor.SYSTEM))
                    .expectResultMessagePayload(2L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 2, Transition.STOP, TransitionReason.IDLE,
                            Actor.SYSTEM, TPL, 1, LOCAL, RES, false, OWNER, PARAMS));
        }

        @Test
        void stoppingAStoppedWorkspaceSaysItIsAlreadyStopped() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new StopWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "cannot stop workspace ws-1: it is already STOPPED"));
        }

        @Test
        void stopAfterAnUpdateStillStopsTheRunningVersion() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .andGivenCommands(new UpdateWorkspaceCommand(WS, 2, null, ALICE))
                    .when(new StopWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(2L)
                    .expectEventsMatching(payloadsMatching(exactSequenceOf(
                            event(WorkspaceTransitionStartedEvent.class, e -> e.transition() == Transition.STOP
                                    && e.buildNumber() == 2 && e.templateVersion() == 1),
                            andNoMore())));
        }

        @Test
        void stopAfterAnUpdateStillUsesTheParametersOfTheRunningBuild() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .andGivenCommands(new UpdateWorkspaceCommand(WS, 1, Map.of("cpu", "8"), ALICE))
                    .when(new StopWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 2, Transition.STOP, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, RES, false, OWNER, PARAMS));
        }
    }

    @Nested
    class Delete {

        @Test
        void deleteFromRunningUsesTheNextBuild() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new DeleteWorkspaceCommand(WS, false, TransitionReason.MAX_LIFETIME, Actor.SYSTEM))
                    .expectResultMessagePayload(2L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 2, Transition.DELETE,
                            TransitionReason.MAX_LIFETIME, Actor.SYSTEM, TPL, 1, LOCAL, RES, false, OWNER, PARAMS));
        }

        @Test
        void deleteFromFailed() {
            fixture.given(history(WorkspaceStatus.FAILED).events())
                    .when(new DeleteWorkspaceCommand(WS, false, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(2L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 2, Transition.DELETE, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, null, false, OWNER, PARAMS));
        }

        @Test
        void deleteWhileDeletingNeedsForce() {
            fixture.given(history(WorkspaceStatus.DELETING).events())
                    .when(new DeleteWorkspaceCommand(WS, false, TransitionReason.USER, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "workspace ws-1 is already DELETING (build 2)",
                            "force=true"));
        }

        @Test
        void forcedDeleteWhileDeletingStartsANewBuild() {
            fixture.given(history(WorkspaceStatus.DELETING).events())
                    .when(new DeleteWorkspaceCommand(WS, true, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(3L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 3, Transition.DELETE, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, RES, true, OWNER, PARAMS));
        }

        @Test
        void forcedDeleteFromRunningIsMarkedForced() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new DeleteWorkspaceCommand(WS, true, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(2L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 2, Transition.DELETE, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, RES, true, OWNER, PARAMS));
        }

        @ParameterizedTest(name = "force={0}")
        @CsvSource({"false", "true"})
        void deletingADeletedWorkspaceIsRejectedEvenWithForce(boolean force) {
            fixture.given(history(WorkspaceStatus.DELETED).events())
                    .when(new DeleteWorkspaceCommand(WS, force, TransitionReason.USER, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "workspace ws-1 is already DELETED"));
        }
    }

    // ---------------------------------------------------------------------------------------------- update

    @Nested
    class Update {

        @Test
        void movesToANewVersionKeepingPreviousValues() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new UpdateWorkspaceCommand(WS, 2, null, ALICE))
                    .expectSuccessfulHandlerExecution()
                    // cpu keeps its previous value 2, not v2's new default 4
                    .expectEvents(new WorkspaceTemplateVersionChangedEvent(WS, TPL, 1, 2, PARAMS, ALICE));
        }

        @Test
        void withoutAVersionMovesToTheActiveVersion() {
            catalog.activate(TPL, 2);
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new UpdateWorkspaceCommand(WS, null, Map.of("dotfiles", "git@example.com:me/dots"), ALICE))
                    .expectEvents(new WorkspaceTemplateVersionChangedEvent(WS, TPL, 1, 2,
                            with(PARAMS, "dotfiles", "git@example.com:me/dots"), ALICE));
        }

        @Test
        void changesAMutableParameterOnTheSameVersion() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new UpdateWorkspaceCommand(WS, 1, Map.of("cpu", "16"), ALICE))
                    .expectEvents(new WorkspaceTemplateVersionChangedEvent(WS, TPL, 1, 1, with(PARAMS, "cpu", "16"),
                            ALICE));
        }

        @Test
        void newVersionIsAppliedOnTheNextStart() {
            Map<String, String> v2Params = with(PARAMS, "dotfiles", "git@example.com:me/dots");
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .andGivenCommands(new UpdateWorkspaceCommand(WS, 2, Map.of("dotfiles", "git@example.com:me/dots"),
                            ALICE))
                    .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(3L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 3, Transition.START, TransitionReason.USER,
                            ALICE, TPL, 2, LOCAL, RES, false, OWNER, v2Params));
        }

        @Test
        void afterTheStartTheNewVersionIsTheCurrentOne() {
            Map<String, String> v2Params = with(PARAMS, "cpu", "4");
            List<Object> events = new ArrayList<>(history(WorkspaceStatus.STOPPED).events());
            events.add(new WorkspaceTemplateVersionChangedEvent(WS, TPL, 1, 2, v2Params, ALICE));
            events.add(started(3, Transition.START, RES, 2, v2Params));
            events.add(succeeded(3, Transition.START));

            fixture.given(events)
                    .when(new StopWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(4L)
                    .expectEvents(new WorkspaceTransitionStartedEvent(WS, 4, Transition.STOP, TransitionReason.USER,
                            ALICE, TPL, 2, LOCAL, RES, false, OWNER, v2Params));
        }

        @Test
        void aSecondUpdateStartsFromThePendingVersion() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .andGiven(new WorkspaceTemplateVersionChangedEvent(WS, TPL, 1, 2, PARAMS, ALICE))
                    .when(new UpdateWorkspaceCommand(WS, 1, null, ALICE))
                    .expectEvents(new WorkspaceTemplateVersionChangedEvent(WS, TPL, 2, 1, PARAMS, ALICE));
        }

        @Test
        void rejectsAChangeOfProvider() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new UpdateWorkspaceCommand(WS, 3, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "template version 3 uses provider 'docker'",
                            "workspace ws-1 runs on 'local'"));
        }

        @Test
        void rejectsTheSameVersionWithTheSameParameters() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new UpdateWorkspaceCommand(WS, 1, Map.of("cpu", "2"), ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT,
                            "workspace ws-1 is already on template version 1 with these parameters"));
        }

        @Test
        void rejectsTheVersionAlreadyPendingWithTheSameParameters() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .andGiven(new WorkspaceTemplateVersionChangedEvent(WS, TPL, 1, 2, PARAMS, ALICE))
                    .when(new UpdateWorkspaceCommand(WS, 2, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "already on template version 2"));
        }

        @Test
        void rejectsAChangeOfAnImmutableParameter() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new UpdateWorkspaceCommand(WS, 2, Map.of("region", "us"), ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID,
                            "parameter 'region' is immutable and cannot change from 'eu'"));
        }

        @Test
        void rejectsRemovingAnImmutableParameterWithAnExplicitNull() {
            // {"parameters": {"disk": null}} in a PATCH body: without this check the immutable value would be dropped
            // and a later update could set it to anything.
            Map<String, String> parameters = new HashMap<>();
            parameters.put("disk", null);
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new UpdateWorkspaceCommand(WS, 2, parameters, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID,
                            "parameter 'disk' is immutable and cannot change from '20'"));
        }

        @Test
        void rejectsAnUnknownVersion() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new UpdateWorkspaceCommand(WS, 7, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "template tpl-1 has no version 7"));
        }

        @Test
        void rejectsInvalidParameters() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new UpdateWorkspaceCommand(WS, 2, Map.of("cpu", "many", "colour", "red"), ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "unknown parameter 'colour'",
                            "parameter 'cpu' must be a number, was 'many'"));
        }

        @ParameterizedTest
        @EnumSource(value = WorkspaceStatus.class, names = {"DELETING", "DELETED"})
        void rejectsAnUpdateOfADeletedOrDeletingWorkspace(WorkspaceStatus status) {
            fixture.given(history(status).events())
                    .when(new UpdateWorkspaceCommand(WS, 2, null, ALICE))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "cannot update workspace ws-1", status.name()));
        }
    }

    // ----------------------------------------------------------------------------- complete / fail reports

    @Nested
    class CompleteTransition {

        @Test
        void completedStartMakesItRunning() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .when(new CompleteTransitionCommand(WS, 1, RES, CONNECTION, null))
                    .expectSuccessfulHandlerExecution()
                    .expectEvents(new WorkspaceTransitionSucceededEvent(WS, 1, Transition.START, RES, CONNECTION,
                            false, null));
        }

        @Test
        void completedStopMakesItStoppedAndKeepsTheKnownResource() {
            fixture.given(history(WorkspaceStatus.STOPPING).events())
                    .when(new CompleteTransitionCommand(WS, 2, null, null, null))
                    .expectEvents(new WorkspaceTransitionSucceededEvent(WS, 2, Transition.STOP, RES, Map.of(),
                            false, null));
        }

        @Test
        void completedDeleteMakesItDeleted() {
            fixture.given(history(WorkspaceStatus.DELETING).events())
                    .when(new CompleteTransitionCommand(WS, 2, RES, Map.of(), null))
                    .expectEvents(new WorkspaceTransitionSucceededEvent(WS, 2, Transition.DELETE, RES, Map.of(),
                            false, null));
        }

        @Test
        void aCompletedStartLeavesItRunning() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .andGivenCommands(new CompleteTransitionCommand(WS, 1, RES, CONNECTION, null))
                    .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectException(violation(Kind.CONFLICT, "already RUNNING"));
        }

        @Test
        void aReportForAnOlderBuildIsIgnored() {
            List<Object> events = new ArrayList<>(history(WorkspaceStatus.STARTING).events());
            events.add(new WorkspaceTransitionStartedEvent(WS, 2, Transition.DELETE, TransitionReason.USER, ALICE,
                    TPL, 1, LOCAL, null, false, OWNER, PARAMS));
            fixture.given(events)
                    .when(new CompleteTransitionCommand(WS, 1, RES, CONNECTION, null))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }

        @Test
        void aReportForAFutureBuildIsIgnored() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .when(new CompleteTransitionCommand(WS, 2, RES, CONNECTION, null))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }

        @Test
        void aDuplicateReportAfterTheTransitionEndedIsIgnored() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new CompleteTransitionCommand(WS, 1, "res-other", CONNECTION, null))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }

        @Test
        void aForcedDeleteWithAProviderErrorIsMarkedForced() {
            fixture.given(history(WorkspaceStatus.DELETING).events())
                    .andGiven(new WorkspaceTransitionStartedEvent(WS, 3, Transition.DELETE, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, RES, true, OWNER, PARAMS))
                    .when(new CompleteTransitionCommand(WS, 3, RES, Map.of(), "volume still attached"))
                    .expectEvents(new WorkspaceTransitionSucceededEvent(WS, 3, Transition.DELETE, RES, Map.of(),
                            true, "volume still attached"));
        }

        @Test
        void aProviderErrorOnAnythingButAForcedDeleteIsAFailure() {
            fixture.given(history(WorkspaceStatus.DELETING).events())
                    .when(new CompleteTransitionCommand(WS, 2, RES, Map.of(), "volume still attached"))
                    .expectEvents(new WorkspaceTransitionFailedEvent(WS, 2, Transition.DELETE, "volume still attached"));
        }

        @Test
        void theSupersededDeleteBuildIsIgnoredAfterAForcedDelete() {
            fixture.given(history(WorkspaceStatus.DELETING).events())
                    .andGiven(new WorkspaceTransitionStartedEvent(WS, 3, Transition.DELETE, TransitionReason.USER,
                            ALICE, TPL, 1, LOCAL, RES, true, OWNER, PARAMS))
                    .when(new CompleteTransitionCommand(WS, 2, RES, Map.of(), null))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }
    }

    /** The agent's report of its machine's SSH host keys: what the gateway's hop into a VM trusts. */
    @Nested
    class HostKeys {

        private static final String ED25519 = "SHA256:" + "A".repeat(42) + "E";
        private static final String RSA = "SHA256:" + "b".repeat(42) + "8";

        @Test
        void theCurrentBuildsAgentReportsOnceSortedAndWithoutDuplicates() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new ReportHostKeysCommand(WS, 1, List.of(RSA, ED25519, RSA)))
                    .expectResultMessagePayload(true)
                    .expectEvents(new WorkspaceHostKeysReportedEvent(WS, 1, List.of(ED25519, RSA)));
        }

        @Test
        void aStartingWorkspaceTakesTheReportTooForItsAgentStartsBeforeTheProviderSaysRunning() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .when(new ReportHostKeysCommand(WS, 1, List.of(ED25519)))
                    .expectEvents(new WorkspaceHostKeysReportedEvent(WS, 1, List.of(ED25519)));
        }

        @Test
        void theSameReportAgainChangesNothing() {
            fixture.given(events(history(WorkspaceStatus.RUNNING), new WorkspaceHostKeysReportedEvent(WS, 1,
                            List.of(ED25519, RSA))))
                    .when(new ReportHostKeysCommand(WS, 1, List.of(RSA, ED25519)))
                    .expectResultMessagePayload(false)
                    .expectNoEvents();
        }

        @Test
        void aDifferentReportInTheSameBuildIsRefusedForTheFirstIsPinned() {
            fixture.given(events(history(WorkspaceStatus.RUNNING), new WorkspaceHostKeysReportedEvent(WS, 1,
                            List.of(ED25519))))
                    .when(new ReportHostKeysCommand(WS, 1, List.of(RSA)))
                    .expectException(violation(Kind.CONFLICT, "already reported and differ"))
                    .expectNoEvents();
        }

        @Test
        void theNextBuildsAgentReportsAfreshForTheOldKeysEndWithTheirBuild() {
            List<Object> events = new ArrayList<>(history(WorkspaceStatus.STOPPED).events());
            events.add(2, new WorkspaceHostKeysReportedEvent(WS, 1, List.of(ED25519)));
            events.add(started(3, Transition.START, RES, 1, PARAMS));
            fixture.given(events)
                    .when(new ReportHostKeysCommand(WS, 3, List.of(RSA)))
                    .expectEvents(new WorkspaceHostKeysReportedEvent(WS, 3, List.of(RSA)));
        }

        @Test
        void anOlderBuildsAgentIsRefused() {
            List<Object> events = new ArrayList<>(history(WorkspaceStatus.STOPPED).events());
            events.add(started(3, Transition.START, RES, 1, PARAMS));
            fixture.given(events)
                    .when(new ReportHostKeysCommand(WS, 1, List.of(ED25519)))
                    .expectException(violation(Kind.CONFLICT, "host keys of build 1 are not taken"))
                    .expectNoEvents();
        }

        @Test
        void aStoppedWorkspaceTakesNoReport() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new ReportHostKeysCommand(WS, 2, List.of(ED25519)))
                    .expectException(violation(Kind.CONFLICT, "taken only while it starts or runs"))
                    .expectNoEvents();
        }

        @Test
        void somethingThatIsNotAFingerprintOrTooManyKeysAreInvalid() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new ReportHostKeysCommand(WS, 1, List.of("MD5:aa:bb")))
                    .expectException(violation(Kind.INVALID, "SHA256: and 43 base64 characters"))
                    .expectNoEvents();
            List<String> nine = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                nine.add("SHA256:" + "A".repeat(42) + (char) ('A' + i));
            }
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new ReportHostKeysCommand(WS, 1, nine))
                    .expectException(violation(Kind.INVALID, "1 to 8 keys"))
                    .expectNoEvents();
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new ReportHostKeysCommand(WS, 1, List.of()))
                    .expectException(violation(Kind.INVALID, "1 to 8 keys"))
                    .expectNoEvents();
        }

        private static List<Object> events(History history, Object more) {
            List<Object> events = new ArrayList<>(history.events());
            events.add(more);
            return events;
        }
    }

    @Nested
    class Drift {

        @Test
        void aRunningWorkspaceFoundStoppedBecomesStoppedForReasonSystem() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new RecordDriftCommand(WS, 1, DriftFinding.STOPPED, "container exited"))
                    .expectResultMessagePayload(true)
                    .expectEvents(new WorkspaceDriftedEvent(WS, 1, WorkspaceStatus.RUNNING, WorkspaceStatus.STOPPED,
                            DriftFinding.STOPPED, TransitionReason.SYSTEM, "container exited"));
        }

        @Test
        void aRunningWorkspaceWhoseResourceIsGoneBecomesFailed() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new RecordDriftCommand(WS, 1, DriftFinding.GONE, null))
                    .expectEvents(new WorkspaceDriftedEvent(WS, 1, WorkspaceStatus.RUNNING, WorkspaceStatus.FAILED,
                            DriftFinding.GONE, TransitionReason.SYSTEM, "resource not found"));
        }

        @Test
        void aStoppedWorkspaceWhoseResourceIsGoneBecomesFailed() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new RecordDriftCommand(WS, 2, DriftFinding.GONE, "no container"))
                    .expectEvents(new WorkspaceDriftedEvent(WS, 2, WorkspaceStatus.STOPPED, WorkspaceStatus.FAILED,
                            DriftFinding.GONE, TransitionReason.SYSTEM, "no container"));
        }

        @Test
        void aStoppedWorkspaceFoundStoppedRecordsNothing() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new RecordDriftCommand(WS, 2, DriftFinding.STOPPED, "exited"))
                    .expectResultMessagePayload(false)
                    .expectNoEvents();
        }

        @Test
        void aFindingAboutAnOlderBuildIsStale() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new RecordDriftCommand(WS, 1, DriftFinding.GONE, "no container"))
                    .expectResultMessagePayload(false)
                    .expectNoEvents();
        }

        @Test
        void aWorkspaceInTransitionIsLeftToItsSaga() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .when(new RecordDriftCommand(WS, 1, DriftFinding.GONE, "no container"))
                    .expectResultMessagePayload(false)
                    .expectNoEvents();
        }

        @Test
        void aDriftedWorkspaceCanBeStartedAgain() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .andGivenCommands(new RecordDriftCommand(WS, 1, DriftFinding.STOPPED, "exited"))
                    .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(2L);
        }

        @Test
        void aDeletedWorkspaceIgnoresFindings() {
            fixture.given(history(WorkspaceStatus.DELETED).events())
                    .when(new RecordDriftCommand(WS, 2, DriftFinding.GONE, "no container"))
                    .expectResultMessagePayload(false)
                    .expectNoEvents();
        }

        @Test
        void aFindingMustSayWhatWasFound() {
            fixture.given(history(WorkspaceStatus.RUNNING).events())
                    .when(new RecordDriftCommand(WS, 1, null, "x"))
                    .expectException(dev.atelier.domain.shared.DomainRuleViolation.class)
                    .expectNoEvents();
        }
    }

    @Nested
    class FailTransition {

        @Test
        void aFailedStartMakesItFailed() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .when(new FailTransitionCommand(WS, 1, "image not found"))
                    .expectSuccessfulHandlerExecution()
                    .expectEvents(new WorkspaceTransitionFailedEvent(WS, 1, Transition.START, "image not found"));
        }

        @Test
        void aFailedStopNamesTheStopTransition() {
            fixture.given(history(WorkspaceStatus.STOPPING).events())
                    .when(new FailTransitionCommand(WS, 2, "timed out"))
                    .expectEvents(new WorkspaceTransitionFailedEvent(WS, 2, Transition.STOP, "timed out"));
        }

        @Test
        void aFailedDeleteNamesTheDeleteTransition() {
            fixture.given(history(WorkspaceStatus.DELETING).events())
                    .when(new FailTransitionCommand(WS, 2, "permission denied"))
                    .expectEvents(new WorkspaceTransitionFailedEvent(WS, 2, Transition.DELETE, "permission denied"));
        }

        @Test
        void aMissingErrorIsReportedAsUnknown() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .when(new FailTransitionCommand(WS, 1, null))
                    .expectEvents(new WorkspaceTransitionFailedEvent(WS, 1, Transition.START,
                            "unknown provider error"));
        }

        @Test
        void afterAFailureTheWorkspaceCanBeStartedAgain() {
            fixture.given(history(WorkspaceStatus.STARTING).events())
                    .andGivenCommands(new FailTransitionCommand(WS, 1, "boom"))
                    .when(new StartWorkspaceCommand(WS, TransitionReason.USER, ALICE))
                    .expectResultMessagePayload(2L);
        }

        @Test
        void aReportForAnOlderBuildIsIgnored() {
            fixture.given(history(WorkspaceStatus.STOPPING).events())
                    .when(new FailTransitionCommand(WS, 1, "late failure of build 1"))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }

        @Test
        void aFailureReportAfterTheTransitionEndedIsIgnored() {
            fixture.given(history(WorkspaceStatus.STOPPED).events())
                    .when(new FailTransitionCommand(WS, 2, "late"))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }
    }

    // ------------------------------------------------------------------------------------------- fixtures

    enum Outcome { ACCEPTED, REJECTED }

    /** Events that bring a workspace into a status, its current build number and its known resource. */
    record History(List<Object> events, long build, String resourceId) {
    }

    private static History history(WorkspaceStatus status) {
        List<Object> events = new ArrayList<>();
        events.add(new WorkspaceCreatedEvent(WS, NAME, OWNER, TEAM, WorkspaceKind.HUMAN, TPL, 1, LOCAL, PARAMS, LABELS,
                ALICE, null));
        if (status == WorkspaceStatus.PENDING) {
            return new History(events, 0, null);
        }
        events.add(started(1, Transition.START, null, 1, PARAMS));
        switch (status) {
            case STARTING -> {
                return new History(events, 1, null);
            }
            case FAILED -> {
                events.add(new WorkspaceTransitionFailedEvent(WS, 1, Transition.START, "image not found"));
                return new History(events, 1, null);
            }
            default -> events.add(succeeded(1, Transition.START));
        }
        switch (status) {
            case RUNNING -> {
                return new History(events, 1, RES);
            }
            case STOPPING, STOPPED -> {
                events.add(started(2, Transition.STOP, RES, 1, PARAMS));
                if (status == WorkspaceStatus.STOPPED) {
                    events.add(succeeded(2, Transition.STOP));
                }
                return new History(events, 2, RES);
            }
            case DELETING, DELETED -> {
                events.add(started(2, Transition.DELETE, RES, 1, PARAMS));
                if (status == WorkspaceStatus.DELETED) {
                    events.add(succeeded(2, Transition.DELETE));
                }
                return new History(events, 2, RES);
            }
            default -> throw new IllegalArgumentException("no history for " + status);
        }
    }

    private static WorkspaceTransitionStartedEvent started(long build, Transition transition, String resourceId,
                                                           int version, Map<String, String> parameters) {
        return new WorkspaceTransitionStartedEvent(WS, build, transition, TransitionReason.USER, ALICE, TPL, version,
                LOCAL, resourceId, false, OWNER, parameters);
    }

    private static WorkspaceTransitionSucceededEvent succeeded(long build, Transition transition) {
        return new WorkspaceTransitionSucceededEvent(WS, build, transition, RES, CONNECTION, false, null);
    }

    private static CreateWorkspaceCommand create(Map<String, String> parameters) {
        return new CreateWorkspaceCommand(WS, NAME, OWNER, TEAM, WorkspaceKind.AGENT, TPL, 1, parameters, LABELS, null,
                TransitionReason.API, ALICE);
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> copy = new TreeMap<>(base);
        copy.put(key, value);
        return copy;
    }

    /** Matches an event payload of the given type that satisfies the condition. */
    private static <T> Matcher<Object> event(Class<T> type, Predicate<T> condition) {
        return matches(payload -> type.isInstance(payload) && condition.test(type.cast(payload)));
    }

    /** A template catalog as the projection would answer it: null version means the active one. */
    public static final class InMemoryTemplateCatalog implements TemplateCatalog {

        private final Map<String, Map<Integer, TemplateDefinition>> versions = new HashMap<>();
        private final Map<String, Integer> active = new HashMap<>();
        private final Map<String, Boolean> archived = new HashMap<>();

        void publish(String templateId, int version, TemplateDefinition definition) {
            versions.computeIfAbsent(templateId, id -> new HashMap<>()).put(version, definition);
        }

        void activate(String templateId, int version) {
            active.put(templateId, version);
        }

        void archive(String templateId) {
            archived.put(templateId, true);
        }

        @Override
        public Optional<TemplateVersionRef> find(String templateId, Integer version) {
            Map<Integer, TemplateDefinition> known = versions.get(templateId);
            if (known == null) {
                return Optional.empty();
            }
            int wanted = version != null ? version : active.get(templateId);
            return Optional.ofNullable(known.get(wanted)).map(definition -> new TemplateVersionRef(templateId, wanted,
                    archived.getOrDefault(templateId, false), definition));
        }
    }
}
