package dev.atelier.cluster;

/**
 * A read model whose live subscribers must hear of changes projected on another node. The node that projected a
 * change pushes it to its own subscribers itself; every other node receives a {@link ViewNotice} and calls this.
 */
public interface ViewChangeHandler {

    /** The {@link ViewNotice#kind()} this handler answers. */
    String kind();

    /** The view {@code notice} names changed on another node: push it to local subscribers, if there are any. */
    void changedElsewhere(ViewNotice notice);
}
