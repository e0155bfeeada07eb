package dev.atelier.providers.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import dev.atelier.provider.ResourceDescription;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the status of a workspace's pod (and its StatefulSet) says: ready, on its way, or failed in a way that will
 * not get better by itself, in the words Kubernetes uses.
 */
final class PodStatus {

    /** Container states that will not get better on their own: the transition fails with the pod's reason. */
    private static final Set<String> FATAL_WAITING = Set.of("ImagePullBackOff", "ErrImageNeverPull",
            "InvalidImageName", "CrashLoopBackOff", "CreateContainerConfigError");

    private PodStatus() {
    }

    static boolean ready(Pod pod) {
        return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())
                && conditions(pod).stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Why a pod will not become ready by itself, in the words Kubernetes uses; empty while there is hope. */
    static Optional<String> failure(Pod pod) {
        if (pod.getStatus() == null) {
            return Optional.empty();
        }
        if ("Failed".equals(pod.getStatus().getPhase())) {
            return Optional.of("pod failed" + detail(pod.getStatus().getReason(), pod.getStatus().getMessage()));
        }
        for (PodCondition c : conditions(pod)) {
            if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
                    && "Unschedulable".equals(c.getReason())) {
                return Optional.of("Unschedulable" + detail(null, c.getMessage()));
            }
        }
        List<ContainerStatus> statuses = new ArrayList<>();
        Optional.ofNullable(pod.getStatus().getInitContainerStatuses()).ifPresent(statuses::addAll);
        Optional.ofNullable(pod.getStatus().getContainerStatuses()).ifPresent(statuses::addAll);
        for (ContainerStatus s : statuses) {
            if (s.getState() != null && s.getState().getWaiting() != null
                    && FATAL_WAITING.contains(s.getState().getWaiting().getReason())) {
                String reason = s.getState().getWaiting().getReason();
                String message = s.getState().getWaiting().getMessage();
                if ("CrashLoopBackOff".equals(reason) && s.getLastState() != null
                        && s.getLastState().getTerminated() != null) {
                    var last = s.getLastState().getTerminated();
                    message = "container " + s.getName() + " keeps exiting (last exit code " + last.getExitCode()
                            + (last.getReason() != null ? ", " + last.getReason() : "") + ")"
                            + (message != null ? "; " + message : "");
                }
                return Optional.of(reason + detail(null, message));
            }
        }
        return Optional.empty();
    }

    private static String detail(String reason, String message) {
        StringBuilder out = new StringBuilder();
        if (reason != null && !reason.isBlank()) {
            out.append(" (").append(reason).append(')');
        }
        if (message != null && !message.isBlank()) {
            out.append(": ").append(message.length() > 500 ? message.substring(0, 500) + "…" : message);
        }
        return out.toString();
    }

    private static List<PodCondition> conditions(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getConditions() == null ? List.of()
                : pod.getStatus().getConditions();
    }

    static Optional<Instant> eventTime(Event e) {
        return Stream.of(e.getLastTimestamp(), e.getEventTime() == null ? null : e.getEventTime().getTime(),
                        e.getFirstTimestamp(), e.getMetadata() == null ? null : e.getMetadata().getCreationTimestamp())
                .filter(Objects::nonNull).findFirst().flatMap(t -> {
                    try {
                        return Optional.of(OffsetDateTime.parse(t).toInstant());
                    } catch (RuntimeException ex) {
                        return Optional.empty();
                    }
                });
    }

    static ResourceDescription.State state(StatefulSet set, Pod pod) {
        Integer replicas = set.getSpec() == null ? null : set.getSpec().getReplicas();
        if (replicas != null && replicas == 0) {
            return ResourceDescription.State.STOPPED;
        }
        if (pod == null) {
            return ResourceDescription.State.PROVISIONING;
        }
        return ready(pod) ? ResourceDescription.State.RUNNING
                : failure(pod).isPresent() ? ResourceDescription.State.FAILED : ResourceDescription.State.PROVISIONING;
    }
}
