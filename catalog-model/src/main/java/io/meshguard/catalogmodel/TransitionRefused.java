package io.meshguard.catalogmodel;

import java.util.List;

/** A state change the entity's lifecycle does not allow; the admin API answers it with 409. */
public final class TransitionRefused extends RuntimeException {

    private final String entity;
    private final String from;
    private final String to;

    TransitionRefused(String entity, String from, String to, List<String> allowed) {
        super(entity + " cannot move from " + from + " to " + to
                + (allowed.isEmpty() ? " (" + from + " is final)" : "; from " + from + " it may move to " + allowed));
        this.entity = entity;
        this.from = from;
        this.to = to;
    }

    public String entity() {
        return entity;
    }

    public String from() {
        return from;
    }

    public String to() {
        return to;
    }
}
