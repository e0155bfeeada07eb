package dev.atelier.projections.workspaces;

import java.util.List;

/** Queries answered by {@link WorkspaceProjection}. */
public final class WorkspaceQueries {

    private WorkspaceQueries() {
    }

    public record FindWorkspace(String workspaceId) {
    }

    /** Filters are exact matches; null means "any". The cursor comes from the previous page. */
    public record ListWorkspaces(
            String owner,
            String team,
            String status,
            String templateId,
            String kind,
            int limit,
            String cursor) {
    }

    public record Page(
            List<WorkspaceView> workspaces,
            String nextCursor) {
    }

    public record History(String workspaceId) {
    }

    /** How many workspaces {@code owner} has that are not deleted (answered with a Long). */
    public record CountOwned(String owner) {
    }
}
