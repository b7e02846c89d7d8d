package io.meshguard.xds.snapshot;

/** The configuration's objects a virtual host is built from, equal when they are the same instances. */
final class SameObjects {
    private final Object[] objects;
    private final int hash;

    SameObjects(Object[] objects) {
        this.objects = objects;
        int h = 1;
        for (Object o : objects) {
            h = 31 * h + System.identityHashCode(o);
        }
        this.hash = h;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SameObjects other) || other.objects.length != objects.length || other.hash != hash) {
            return false;
        }
        for (int i = 0; i < objects.length; i++) {
            if (objects[i] != other.objects[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
