package dev.mue.importer.pickle;

import dev.mue.api.MueException;
import dev.mue.importer.CheckpointFormatException;
import dev.mue.importer.UnsafePickleException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

/**
 * Razorvine's pickle interpreter with every way to reach code closed.
 *
 * <p>Globals ({@code GLOBAL}, {@code STACK_GLOBAL}) are looked up in the caller's allow-list and
 * anything else is refused there and then, before an object is built; there is no fallback, so
 * Razorvine's own constructor registry (which includes {@code copy_reg._reconstructor}) is never
 * consulted. {@code REDUCE}, {@code NEWOBJ} and {@code BUILD} apply only the allow-listed
 * {@link PyCallable}s and {@link PyBuildable}s, never reflection. Opcodes PyTorch never writes
 * (protocol-0 text forms, {@code INST}, {@code OBJ}, extension codes, out-of-band buffers) are
 * refused. Every length prefix is checked against the bytes left before it is allocated, dict keys
 * must be scalars or tuples (so hashing never recurses), and the number of opcodes is capped.
 */
public final class SafeUnpickler extends Unpickler {
    /**
     * Most opcodes one pickle may hold. A checkpoint needs about 30 per tensor (OFA-huge with its
     * optimizer state: under 200,000); the cap bounds the objects a hostile pickle can make.
     */
    public static final long MAX_OPCODES = 10_000_000L;
    private static final int MAX_GLOBAL_NAME = 256;

    private final Map<String, Object> globals;
    private final Function<Object, Object> persistentLoader;
    private final String source;
    private BoundedInput in;
    private long opcodes;

    /**
     * Creates an unpickler.
     *
     * @param globals          allow-list: {@code module.name} to the value the global stands for
     *                         (a {@link PyCallable}, or a marker such as a storage type)
     * @param persistentLoader resolves a persistent id ({@code BINPERSID}); null refuses them
     * @param source           names the file (and entry) in error messages
     */
    public SafeUnpickler(Map<String, Object> globals, Function<Object, Object> persistentLoader, String source) {
        this.globals = Map.copyOf(globals);
        this.persistentLoader = persistentLoader;
        this.source = source;
    }

    /** The allow-listed names, for messages. */
    public java.util.Set<String> allowedGlobals() {
        return globals.keySet();
    }

    /**
     * Reads one pickle from {@code input}, up to and including its {@code STOP}.
     *
     * @throws UnsafePickleException      if the pickle names a global or opcode outside the allow-list
     * @throws CheckpointFormatException if the pickle is malformed or truncated
     */
    public Object read(BoundedInput input) {
        this.in = input;
        long start = input.position();
        try {
            return load(input);
        } catch (MueException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Razorvine reports malformed input as PickleException, ClassCastException or an index
            // error from its stack; all mean the same to the user: this pickle is not well formed.
            throw new CheckpointFormatException(source + ": malformed pickle (opcode at byte "
                    + Math.max(start, input.position() - 1) + "): " + describe(e), e);
        } catch (StackOverflowError e) {
            throw new CheckpointFormatException(source + ": malformed pickle: nesting too deep", e);
        }
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.strip().replace('\n', ' ');
    }

    @Override
    protected Object dispatch(short key) throws IOException {
        if (++opcodes > MAX_OPCODES) {
            throw new CheckpointFormatException(source + ": pickle has more than " + MAX_OPCODES + " opcodes");
        }
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = nameLine();
                String name = nameLine();
                stack.add(global(module, name));
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw new CheckpointFormatException(source + ": STACK_GLOBAL needs two strings");
                }
                stack.add(global(m, n));
            }
            case Opcodes.REDUCE, Opcodes.NEWOBJ -> {
                Object args = stack.pop();
                Object callable = stack.pop();
                stack.add(call(callable, args));
            }
            case Opcodes.NEWOBJ_EX -> {
                Object kwargs = stack.pop();
                Object args = stack.pop();
                Object callable = stack.pop();
                if (!(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
                    throw new CheckpointFormatException(source + ": NEWOBJ_EX with keyword arguments is not supported");
                }
                stack.add(call(callable, args));
            }
            case Opcodes.BUILD -> {
                Object state = stack.pop();
                Object target = stack.peek();
                if (!(target instanceof PyBuildable b)) {
                    throw new CheckpointFormatException(source + ": BUILD on a " + typeName(target)
                            + ", which takes no state");
                }
                try {
                    b.build(state);
                } catch (IllegalArgumentException e) {
                    throw new CheckpointFormatException(source + ": " + e.getMessage(), e);
                }
            }
            case Opcodes.BINPERSID -> {
                Object pid = stack.pop();
                if (persistentLoader == null) {
                    throw new CheckpointFormatException(source + ": unexpected persistent id in this pickle");
                }
                stack.add(persistentLoader.apply(pid));
            }
            case Opcodes.EMPTY_DICT -> stack.add(new java.util.LinkedHashMap<Object, Object>());
            case Opcodes.DICT -> {
                List<Object> items = stack.pop_all_since_marker();
                if (items.size() % 2 != 0) {
                    throw new CheckpointFormatException(source + ": DICT with an odd number of items");
                }
                Map<Object, Object> m = new java.util.LinkedHashMap<>();
                for (int i = 0; i < items.size(); i += 2) {
                    m.put(key(items.get(i)), items.get(i + 1));
                }
                stack.add(m);
            }
            case Opcodes.SETITEM -> {
                Object value = stack.pop();
                Object k = stack.pop();
                map(stack.peek()).put(key(k), value);
            }
            case Opcodes.SETITEMS -> {
                List<Object> items = stack.pop_all_since_marker();
                if (items.size() % 2 != 0) {
                    throw new CheckpointFormatException(source + ": SETITEMS with an odd number of items");
                }
                Map<Object, Object> m = map(stack.peek());
                for (int i = 0; i < items.size(); i += 2) {
                    m.put(key(items.get(i)), items.get(i + 1));
                }
            }
            case Opcodes.APPEND -> {
                Object value = stack.pop();
                list(stack.peek()).add(value);
            }
            case Opcodes.APPENDS -> {
                List<Object> items = stack.pop_all_since_marker();
                list(stack.peek()).addAll(items);
            }
            // Sets are kept as lists: nothing here needs membership, and hashing their elements
            // could recurse through a self-referencing list.
            case Opcodes.EMPTY_SET -> stack.add(new ArrayList<Object>());
            case Opcodes.ADDITEMS -> {
                List<Object> items = stack.pop_all_since_marker();
                list(stack.peek()).addAll(items);
            }
            case Opcodes.FROZENSET -> stack.add(new ArrayList<Object>(stack.pop_all_since_marker()));
            case Opcodes.BINSTRING -> stack.add(new String(bytes(int32()), StandardCharsets.ISO_8859_1));
            case Opcodes.BINUNICODE -> stack.add(new String(bytes(uint32()), StandardCharsets.UTF_8));
            case Opcodes.BINUNICODE8 -> stack.add(new String(bytes(int64()), StandardCharsets.UTF_8));
            case Opcodes.BINBYTES -> stack.add(bytes(uint32()));
            case Opcodes.BINBYTES8, Opcodes.BYTEARRAY8 -> stack.add(bytes(int64()));
            case Opcodes.LONG4 -> {
                byte[] data = bytes(int32());
                stack.add(PickleUtils.decode_long(data));
            }
            case Opcodes.INST, Opcodes.OBJ, Opcodes.PERSID, Opcodes.INT, Opcodes.LONG, Opcodes.FLOAT,
                    Opcodes.STRING, Opcodes.UNICODE, Opcodes.GET, Opcodes.PUT, Opcodes.EXT1, Opcodes.EXT2,
                    Opcodes.EXT4, Opcodes.NEXT_BUFFER, Opcodes.READONLY_BUFFER ->
                    throw new UnsafePickleException(source + ": pickle opcode 0x" + Integer.toHexString(key)
                            + " is not one torch.save writes; refused (nothing was executed)");
            default -> {
                return super.dispatch(key);
            }
        }
        return NO_RETURN_VALUE;
    }

    /**
     * One line of a {@code GLOBAL}, read at most {@link #MAX_GLOBAL_NAME} bytes far: Razorvine's
     * readline would buffer a whole file that lacks the newline.
     */
    private String nameLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i <= MAX_GLOBAL_NAME; i++) {
            int b = in.read();
            if (b < 0) {
                throw new CheckpointFormatException(source + ": pickle ends inside a GLOBAL");
            }
            if (b == '\n') {
                return sb.toString();
            }
            sb.append((char) b);
        }
        throw new UnsafePickleException(source + ": pickle names an over-long global; refused");
    }

    private Object global(String module, String name) {
        String full = module + "." + name;
        Object value = globals.get(full);
        if (value == null) {
            throw new UnsafePickleException(source + ": pickle refers to the Python global " + full
                    + ", which is not on mue's allow-list (" + String.join(", ", new java.util.TreeSet<>(globals.keySet()))
                    + "); refused before building anything, nothing was executed");
        }
        return value;
    }

    private Object call(Object callable, Object args) {
        if (!(callable instanceof PyCallable c)) {
            throw new CheckpointFormatException(source + ": pickle calls a " + typeName(callable)
                    + ", which is not an allow-listed callable");
        }
        if (!(args instanceof Object[] a)) {
            throw new CheckpointFormatException(source + ": call arguments must be a tuple");
        }
        return c.call(a);
    }

    /** Dict keys must be hashable without recursion: what Python allows and PyTorch writes. */
    private Object key(Object k) {
        if (k == null || k instanceof String || k instanceof Integer || k instanceof Long || k instanceof BigInteger
                || k instanceof Double || k instanceof Boolean || k instanceof Object[] || k instanceof byte[]) {
            return k;
        }
        throw new CheckpointFormatException(source + ": a " + typeName(k) + " cannot be a dict key");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(Object o) {
        if (!(o instanceof Map<?, ?>)) {
            throw new CheckpointFormatException(source + ": SETITEM on a " + typeName(o));
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (!(o instanceof List<?>)) {
            throw new CheckpointFormatException(source + ": APPEND on a " + typeName(o));
        }
        return (List<Object>) o;
    }

    private long int32() throws IOException {
        return PickleUtils.bytes_to_integer(PickleUtils.readbytes(input, 4));
    }

    private long uint32() throws IOException {
        return PickleUtils.bytes_to_uint(PickleUtils.readbytes(input, 4), 0);
    }

    private long int64() throws IOException {
        return PickleUtils.bytes_to_long(PickleUtils.readbytes(input, 8), 0);
    }

    private byte[] bytes(long length) throws IOException {
        if (length < 0 || length > in.remaining() || length > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(source + ": pickle declares " + length + " bytes at byte "
                    + in.position() + " but only " + in.remaining() + " remain");
        }
        return in.readNBytes((int) length);
    }

    private static String typeName(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }
}
