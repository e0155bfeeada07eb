package dev.atelier.domain.workspace;

import java.time.Instant;

/** Payload of a policy deadline: for which build it was scheduled, and for when. */
public record PolicyCheck(
        long buildNumber,
        Instant dueAt) {
}
