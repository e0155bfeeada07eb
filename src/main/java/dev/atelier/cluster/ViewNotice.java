package dev.atelier.cluster;

/**
 * One node's word to the others that a read model changed: which kind of view, its id, the position of the change
 * when a view needs it ({@code seq}, e.g. a budget's history entry), and the node that projected it. Ids only: no
 * user data travels through PostgreSQL's notification channel.
 */
public record ViewNotice(String kind, String id, Long seq, String node) {
}
