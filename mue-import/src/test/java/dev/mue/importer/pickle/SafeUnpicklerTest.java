package dev.mue.importer.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mue.importer.CheckpointFormatException;
import dev.mue.importer.UnsafePickleException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Hand-assembled pickles (protocol 2 and 4 opcodes) against the allow-list; no Python needed. */
class SafeUnpicklerTest {
    private final AtomicInteger calls = new AtomicInteger();
    private final Map<String, Object> globals = Map.of(
            "collections.OrderedDict", (PyCallable) a -> new PyDict(),
            "argparse.Namespace", (PyCallable) a -> new PyNamespace(),
            "test.count", (PyCallable) a -> calls.incrementAndGet());

    /** A tiny assembler: opcodes (chars or ints), text and raw bytes, in order, after PROTO 2. */
    private static byte[] pickle(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x80);
        out.write(2);
        for (Object p : parts) {
            if (p instanceof Integer b) {
                out.write(b);
            } else if (p instanceof Character c) {
                out.write(c);
            } else if (p instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else {
                out.writeBytes((byte[]) p);
            }
        }
        out.write('.');
        return out.toByteArray();
    }

    private Object read(byte[] data) {
        return new SafeUnpickler(globals, null, "test.pkl").read(new BoundedInput(new ByteArrayInputStream(data), 0,
                data.length));
    }

    private static byte[] uint32(long v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    @Test
    void buildsOrderedDictsAndNamespacesFromTheAllowList() {
        // OrderedDict() with one item, then Namespace() with state {'heads': 12}
        Object o = read(pickle('}', 'X', uint32(1), "d",
                'c', "collections\nOrderedDict\n", ')', 'R', 'X', uint32(1), "k", 'K', 7, 's',
                's', 'X', uint32(1), "n", 'c', "argparse\nNamespace\n", ')', 0x81, '}', 'X', uint32(5), "heads",
                'K', 12, 's', 'b', 's'));
        Map<?, ?> top = assertInstanceOf(Map.class, o);
        assertEquals(7, ((PyDict) top.get("d")).get("k"));
        assertEquals(12, ((PyNamespace) top.get("n")).get("heads"));
    }

    @Test
    void aGlobalOffTheListIsRefusedBeforeAnythingIsCalled() {
        // GLOBAL posix.system, then a call of the allow-listed counter that must never be reached
        UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> read(pickle(
                'c', "test\ncount\n", ')', 'R', '0', 'c', "posix\nsystem\n", 'X', uint32(4), "true", 0x85, 'R')));
        assertTrue(e.getMessage().startsWith("test.pkl: pickle refers to the Python global posix.system"), e.getMessage());
        assertEquals(1, calls.get(), "only the call before the refused global ran");
        // STACK_GLOBAL (protocol 4) spells builtins.eval as two strings on the stack
        e = assertThrows(UnsafePickleException.class, () -> read(pickle(
                0x8c, 8, "builtins", 0x8c, 4, "eval", 0x93, 0x8c, 2, "42", 0x85, 'R')));
        assertTrue(e.getMessage().contains("builtins.eval"), e.getMessage());
    }

    @Test
    void razorvinesOwnConstructorsAreUnreachable() {
        // copy_reg._reconstructor and __builtin__.set are in Razorvine's registry, not in ours
        for (String g : List.of("copy_reg\n_reconstructor\n", "__builtin__\nset\n", "builtins\nbytearray\n")) {
            assertThrows(UnsafePickleException.class, () -> read(pickle('c', g)));
        }
    }

    @Test
    void opcodesTorchNeverWritesAreRefused() {
        assertThrows(UnsafePickleException.class, () -> read(pickle('(', 'i', "os\nsystem\n")));  // INST
        assertThrows(UnsafePickleException.class, () -> read(pickle('(', 'c', "test\ncount\n", 'o'))); // OBJ
        assertThrows(UnsafePickleException.class, () -> read(pickle(0x82, 1))); // EXT1
        assertThrows(UnsafePickleException.class, () -> read(pickle('P', "0\n"))); // text PERSID
    }

    @Test
    void aLengthBeyondTheDataIsRefusedBeforeAllocating() {
        // BINBYTES claiming 4 GiB - 1 in a 20-byte pickle
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> read(pickle('B', uint32(0xFFFF_FFFFL), "abc")));
        assertTrue(e.getMessage().contains("pickle declares 4294967295 bytes"), e.getMessage());
        assertThrows(CheckpointFormatException.class, () -> read(pickle('X', uint32(1_000_000), "x")));
    }

    @Test
    void aGlobalWithoutItsNewlineIsNotBufferedWhole() {
        // 'c' then 1 MB without a newline: refused after 256 bytes, not read to the end
        byte[] data = new byte[1 << 20];
        java.util.Arrays.fill(data, (byte) 'a');
        UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> read(pickle('c', data)));
        assertTrue(e.getMessage().contains("over-long global"), e.getMessage());
    }

    @Test
    void aSelfContainingListCannotBeADictKey() {
        // l = []; l.append(l); {l: None} -- hashing l would recurse forever
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> read(pickle(
                ']', 'q', 0, 'h', 0, 'a', '0', '}', 'h', 0, 'N', 's')));
        assertTrue(e.getMessage().contains("a ArrayList cannot be a dict key"), e.getMessage());
    }

    @Test
    void callingANonCallableOrBuildingAScalarIsMalformed() {
        assertThrows(CheckpointFormatException.class, () -> read(pickle('K', 1, ')', 'R')));
        assertThrows(CheckpointFormatException.class, () -> read(pickle('K', 1, '}', 'b')));
        assertThrows(CheckpointFormatException.class, () -> read(pickle('K', 1, 'K', 2, 's'))); // SETITEM on an int
        assertThrows(CheckpointFormatException.class, () -> read(new byte[] {(byte) 0x80, 2, ']'})); // no STOP
    }
}
