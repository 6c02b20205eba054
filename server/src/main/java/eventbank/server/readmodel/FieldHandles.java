package eventbank.server.readmodel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Makes the {@link VarHandle}s through which the read models publish a field with release semantics. */
final class FieldHandles {
    private FieldHandles() {}

    /** The handle of the field {@code name} of the class that made {@code lookup}, which may be private. */
    static VarHandle of(MethodHandles.Lookup lookup, String name, Class<?> type) {
        try {
            return lookup.findVarHandle(lookup.lookupClass(), name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
