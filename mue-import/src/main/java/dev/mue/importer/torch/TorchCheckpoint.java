package dev.mue.importer.torch;

import dev.mue.importer.CheckpointFormatException;
import dev.mue.importer.pickle.BoundedInput;
import dev.mue.importer.pickle.PyCallable;
import dev.mue.importer.pickle.PyDict;
import dev.mue.importer.pickle.PyNamespace;
import dev.mue.importer.pickle.SafeUnpickler;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch checkpoint opened for reading: its unpickled object (tensors as {@link TensorRef}s) and
 * access to its storages. Reads both of {@code torch.save}'s formats:
 *
 * <ul>
 *   <li><b>zip</b> (PyTorch 1.6+): {@code ROOT/data.pkl} with persistent ids
 *       {@code ('storage', torch.XStorage, key, location, numel)} and one entry {@code ROOT/data/key}
 *       per storage; the root folder's name varies with the file name it was saved under;</li>
 *   <li><b>legacy</b> ({@code _use_new_zipfile_serialization=False}): pickles of the magic number,
 *       the protocol version (1001) and the system info, then the object with persistent ids
 *       {@code ('storage', torch.XStorage, key, location, numel, view)}, then the list of storage
 *       keys, then each storage as an int64 element count and its raw bytes.</li>
 * </ul>
 *
 * <p>Not thread-safe: reads share one cached storage.
 *
 * <p>The only globals allowed are {@code torch._utils._rebuild_tensor_v2}, the typed storages
 * {@code torch.FloatStorage} etc., {@code collections.OrderedDict} and {@code argparse.Namespace}.
 */
public final class TorchCheckpoint implements AutoCloseable {
    /** Most zip entries accepted; a checkpoint has one per storage, a few thousand at most. */
    public static final int MAX_ZIP_ENTRIES = 200_000;
    /** Largest {@code data.pkl} accepted. A state dict's pickle is a few hundred bytes per tensor. */
    public static final long MAX_PICKLE_BYTES = 64L << 20;
    /** Largest storage read into memory, the largest Java array. */
    public static final long MAX_STORAGE_BYTES = Integer.MAX_VALUE - 8;

    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]{1,64}");

    private final Path file;
    private final String format;
    private final Object root;
    private final ZipFile zip;
    private final String zipRoot;
    private final FileChannel channel;
    private final Map<String, Long> legacyOffsets;
    // The last storage read: consecutive tensors often view one storage (a flattened parameter
    // buffer, or a tensor and its tied copies), which would otherwise be read once per tensor.
    private StorageRef cachedStorage;
    private byte[] cachedBytes;

    private TorchCheckpoint(Path file, String format, Object root, ZipFile zip, String zipRoot, FileChannel channel,
            Map<String, Long> legacyOffsets) {
        this.file = file;
        this.format = format;
        this.root = root;
        this.zip = zip;
        this.zipRoot = zipRoot;
        this.channel = channel;
        this.legacyOffsets = legacyOffsets;
    }

    /**
     * Opens and unpickles {@code file}, reading no storage yet.
     *
     * @throws dev.mue.importer.UnsafePickleException if a pickle names anything outside the allow-list
     * @throws CheckpointFormatException              if the file is in neither format, truncated or out of bounds
     */
    public static TorchCheckpoint open(Path file) {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n < 2) {
                throw new CheckpointFormatException(file + ": too short to be a PyTorch checkpoint (" + n + " bytes)");
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CheckpointFormatException("checkpoint not found: " + file, e);
        } catch (IOException e) {
            throw new CheckpointFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (head[0] == 'P' && head[1] == 'K') {
            return openZip(file);
        }
        if ((head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return openLegacy(file);
        }
        throw new CheckpointFormatException(file + ": neither PyTorch's zip format nor its legacy pickle format"
                + " (first bytes " + String.format("%02x %02x", head[0], head[1]) + ")");
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** {@code zip} or {@code legacy}. */
    public String format() {
        return format;
    }

    /** The unpickled object: dicts, namespaces, lists, tuples, scalars and {@link TensorRef}s. */
    public Object root() {
        return root;
    }

    /**
     * The values of {@code tensor} as row-major float32, converted from its storage type and gathered
     * through its strides.
     *
     * @param key names the tensor in error messages
     * @throws CheckpointFormatException if the storage is not floating point or cannot be read
     */
    public float[] readFloats(TensorRef tensor, String key) {
        TorchDType dtype = tensor.storage().dtype();
        if (!dtype.isFloating()) {
            throw new CheckpointFormatException(file + ": tensor " + key + " is " + dtype + ", not floating point");
        }
        long n = tensor.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(file + ": tensor " + key + " has " + n + " elements, more than mue holds");
        }
        if (!tensor.storage().equals(cachedStorage)) {
            cachedBytes = null; // drop the old one before reading the next: at most one held
            cachedBytes = readStorage(tensor.storage(), key);
            cachedStorage = tensor.storage();
        }
        ByteBuffer le = TorchDType.littleEndian(cachedBytes);
        float[] out = new float[(int) n];
        int[] shape = tensor.shape();
        long[] stride = tensor.stride();
        if (tensor.isContiguous()) {
            for (int i = 0; i < out.length; i++) {
                out[i] = dtype.floatAt(le, tensor.offset() + i);
            }
            return out;
        }
        // General strided view: walk a row-major index, carrying like an odometer.
        int rank = shape.length;
        int[] idx = new int[rank];
        long at = tensor.offset();
        for (int i = 0; i < out.length; i++) {
            out[i] = dtype.floatAt(le, at);
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    at += stride[d];
                    break;
                }
                at -= stride[d] * (shape[d] - 1);
                idx[d] = 0;
            }
        }
        return out;
    }

    private byte[] readStorage(StorageRef s, String key) {
        long bytes = s.byteSize();
        if (bytes > MAX_STORAGE_BYTES) {
            throw new CheckpointFormatException(file + ": storage " + s.key() + " of tensor " + key + " has " + bytes
                    + " bytes, more than the " + MAX_STORAGE_BYTES + " mue reads at once");
        }
        try {
            if (zip != null) {
                ZipEntry e = zip.getEntry(zipRoot + "/data/" + s.key());
                try (InputStream in = zip.getInputStream(e)) {
                    byte[] data = in.readNBytes((int) bytes);
                    if (data.length != bytes || in.read() != -1) {
                        throw new CheckpointFormatException(file + ": storage entry " + e.getName() + " of tensor "
                                + key + " does not hold the " + bytes + " bytes its zip directory declares");
                    }
                    return data;
                }
            }
            long offset = legacyOffsets.get(s.key());
            ByteBuffer buf = ByteBuffer.allocate((int) bytes);
            while (buf.hasRemaining()) {
                if (channel.read(buf, offset + buf.position()) < 0) {
                    throw new CheckpointFormatException(file + ": storage " + s.key() + " of tensor " + key
                            + " ends early");
                }
            }
            return buf.array();
        } catch (ZipException e) {
            throw new CheckpointFormatException(file + ": storage " + s.key() + " of tensor " + key
                    + " is damaged: " + e.getMessage(), e);
        } catch (IOException e) {
            // a zip entry whose local header or data runs past the end of the file reads as an
            // EOFException here: a truncated or damaged checkpoint, like the cases above
            throw new CheckpointFormatException(file + ": cannot read storage " + s.key() + " of tensor " + key + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
    }

    @Override
    public void close() {
        try {
            if (zip != null) {
                zip.close();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file, e);
        }
    }

    // ---- zip format --------------------------------------------------------------------------

    private static TorchCheckpoint openZip(Path file) {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointFormatException(file + ": not a readable zip archive (truncated or damaged?): "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new CheckpointFormatException(file + ": cannot open: " + e.getMessage(), e);
        }
        boolean ok = false;
        try {
            if (zip.size() > MAX_ZIP_ENTRIES) {
                throw new CheckpointFormatException(file + ": zip archive has " + zip.size() + " entries, more than "
                        + MAX_ZIP_ENTRIES);
            }
            String root = null;
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements();) {
                String name = en.nextElement().getName();
                int slash = name.indexOf('/');
                if (slash > 0 && name.substring(slash).equals("/data.pkl")) {
                    if (root != null) {
                        throw new CheckpointFormatException(file + ": zip archive has more than one data.pkl");
                    }
                    root = name.substring(0, slash);
                }
            }
            if (root == null) {
                throw new CheckpointFormatException(file + ": zip archive has no ROOT/data.pkl; not a PyTorch checkpoint");
            }
            ZipEntry byteorder = zip.getEntry(root + "/byteorder");
            if (byteorder != null) {
                String order = new String(readEntry(zip, byteorder, 16, file), StandardCharsets.US_ASCII).strip();
                if (!order.equals("little")) {
                    throw new CheckpointFormatException(file + ": storages are " + order + "-endian; mue reads little-endian");
                }
            }
            ZipEntry pkl = zip.getEntry(root + "/data.pkl");
            byte[] pickle = readEntry(zip, pkl, MAX_PICKLE_BYTES, file);
            String where = file + " (" + pkl.getName() + ")";
            String zipRoot = root;
            Map<String, StorageRef> storages = new HashMap<>();
            SafeUnpickler u = new SafeUnpickler(globals(where), pid -> {
                StorageRef s = storage(pid, where, storages, 5);
                ZipEntry e = zip.getEntry(zipRoot + "/data/" + s.key());
                if (e == null) {
                    throw new CheckpointFormatException(where + ": storage " + s.key() + " has no entry "
                            + zipRoot + "/data/" + s.key());
                }
                if (e.getSize() != s.byteSize()) {
                    throw new CheckpointFormatException(where + ": storage " + s.key() + " declares " + s.numel()
                            + " " + s.dtype() + " elements (" + s.byteSize() + " bytes) but its entry holds "
                            + e.getSize() + " bytes");
                }
                return s;
            }, where);
            Object obj = u.read(new BoundedInput(new ByteArrayInputStream(pickle), 0, pickle.length));
            ok = true;
            return new TorchCheckpoint(file, "zip", obj, zip, root, null, null);
        } finally {
            if (!ok) {
                try {
                    zip.close();
                } catch (IOException e) {
                    // Already failing with the more useful error; a close failure adds nothing.
                }
            }
        }
    }

    private static byte[] readEntry(ZipFile zip, ZipEntry e, long max, Path file) {
        long size = e.getSize();
        if (size < 0 || size > max) {
            throw new CheckpointFormatException(file + ": zip entry " + e.getName() + " has size " + size
                    + ", outside 0.." + max);
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] data = in.readNBytes((int) size);
            if (data.length != size || in.read() != -1) {
                throw new CheckpointFormatException(file + ": zip entry " + e.getName()
                        + " does not hold the size its directory declares");
            }
            return data;
        } catch (ZipException ex) {
            throw new CheckpointFormatException(file + ": zip entry " + e.getName() + " is damaged: " + ex.getMessage(), ex);
        } catch (IOException ex) {
            throw new CheckpointFormatException(file + ": cannot read zip entry " + e.getName() + ": " + ex.getMessage(), ex);
        }
    }

    // ---- legacy format -----------------------------------------------------------------------

    private static TorchCheckpoint openLegacy(Path file) {
        FileChannel channel = null;
        boolean ok = false;
        try {
            long size = Files.size(file);
            channel = FileChannel.open(file, StandardOpenOption.READ);
            Map<String, StorageRef> storages = new LinkedHashMap<>();
            Map<String, Long> offsets = new HashMap<>();
            Object obj;
            try (BoundedInput in = new BoundedInput(new BufferedInputStream(Files.newInputStream(file), 1 << 16), 0, size)) {
                Object magic = new SafeUnpickler(Map.of(), null, file + " (magic number)").read(in);
                // the magic number is an integer pickle; a float (or anything else) is simply not it
                if (!((magic instanceof BigInteger || magic instanceof Long || magic instanceof Integer)
                        && new BigInteger(magic.toString()).equals(LEGACY_MAGIC))) {
                    throw new CheckpointFormatException(file + ": a pickle that is not a PyTorch checkpoint (wrong magic number)");
                }
                Object protocol = new SafeUnpickler(Map.of(), null, file + " (protocol)").read(in);
                if (!(protocol instanceof Number p) || p.longValue() != LEGACY_PROTOCOL) {
                    throw new CheckpointFormatException(file + ": legacy protocol " + protocol + ", mue reads " + LEGACY_PROTOCOL);
                }
                Object sysInfo = new SafeUnpickler(Map.of(), null, file + " (system info)").read(in);
                if (!(sysInfo instanceof Map<?, ?> info) || !Boolean.TRUE.equals(info.get("little_endian"))) {
                    throw new CheckpointFormatException(file + ": saved on a big-endian machine or without system info");
                }
                String where = file + " (legacy object)";
                obj = new SafeUnpickler(globals(where), pid -> storage(pid, where, storages, 6), where).read(in);
                Object keys = new SafeUnpickler(Map.of(), null, file + " (storage keys)").read(in);
                if (!(keys instanceof List<?> list)) {
                    throw new CheckpointFormatException(file + ": legacy storage key list missing");
                }
                byte[] count = new byte[8];
                for (Object k : list) {
                    StorageRef s = k instanceof String ks ? storages.get(ks) : null;
                    if (s == null) {
                        throw new CheckpointFormatException(file + ": legacy storage " + k + " is listed but no tensor uses it");
                    }
                    if (offsets.containsKey(s.key())) {
                        throw new CheckpointFormatException(file + ": legacy storage " + k + " is listed twice");
                    }
                    if (in.readNBytes(count, 0, 8) != 8) {
                        throw new CheckpointFormatException(file + ": truncated before legacy storage " + k);
                    }
                    long numel = ByteBuffer.wrap(count).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                    if (numel != s.numel()) {
                        throw new CheckpointFormatException(file + ": legacy storage " + k + " holds " + numel
                                + " elements but its tensors declare " + s.numel());
                    }
                    if (s.byteSize() > in.remaining()) {
                        throw new CheckpointFormatException(file + ": legacy storage " + k + " needs " + s.byteSize()
                                + " bytes at offset " + in.position() + " but the file has " + in.remaining() + " left");
                    }
                    offsets.put(s.key(), in.position());
                    in.skipExactly(s.byteSize());
                }
                for (String k : storages.keySet()) {
                    if (!offsets.containsKey(k)) {
                        throw new CheckpointFormatException(file + ": legacy storage " + k + " is used but not in the file");
                    }
                }
            }
            ok = true;
            return new TorchCheckpoint(file, "legacy", obj, null, null, channel, Collections.unmodifiableMap(offsets));
        } catch (IOException e) {
            throw new CheckpointFormatException(file + ": cannot read: " + e.getMessage(), e);
        } finally {
            if (!ok && channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // Already failing with the more useful error.
                }
            }
        }
    }

    // ---- the allow-list ----------------------------------------------------------------------

    /** What a checkpoint's object pickle may name: tensors, storages, OrderedDict, Namespace. */
    private static Map<String, Object> globals(String where) {
        Map<String, Object> g = new HashMap<>();
        g.put("torch._utils._rebuild_tensor_v2", (PyCallable) args -> rebuildTensor(args, where));
        for (TorchDType t : TorchDType.values()) {
            g.put("torch." + t.storageClass(), t);
        }
        g.put("collections.OrderedDict", (PyCallable) args -> orderedDict(args, where));
        g.put("argparse.Namespace", (PyCallable) args -> {
            if (args.length != 0) {
                throw new CheckpointFormatException(where + ": argparse.Namespace is rebuilt without arguments");
            }
            return new PyNamespace();
        });
        return g;
    }

    private static Object orderedDict(Object[] args, String where) {
        PyDict d = new PyDict();
        if (args.length == 1 && args[0] instanceof List<?> pairs) {
            for (Object p : pairs) {
                if (!(p instanceof Object[] kv) || kv.length != 2 || !(kv[0] instanceof String || kv[0] instanceof Number)) {
                    throw new CheckpointFormatException(where + ": OrderedDict items must be (key, value) pairs");
                }
                d.put(kv[0], kv[1]);
            }
        } else if (args.length != 0) {
            throw new CheckpointFormatException(where + ": OrderedDict takes no or one argument, got " + args.length);
        }
        return d;
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static TensorRef rebuildTensor(Object[] a, String where) {
        if (a.length < 6 || a.length > 7 || !(a[0] instanceof StorageRef storage)) {
            throw new CheckpointFormatException(where + ": _rebuild_tensor_v2 needs (storage, offset, size, stride,"
                    + " requires_grad, hooks[, metadata])");
        }
        if (!(a[2] instanceof Object[] size) || !(a[3] instanceof Object[] stride)) {
            throw new CheckpointFormatException(where + ": tensor size and stride must be tuples");
        }
        int[] shape = new int[size.length];
        long[] strides = new long[stride.length];
        for (int i = 0; i < size.length; i++) {
            long d = integer(size[i], "size", where);
            if (d > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(where + ": tensor size " + d + " in storage " + storage.key()
                        + " exceeds " + Integer.MAX_VALUE + " (the shape's element count overflows)");
            }
            shape[i] = (int) d;
        }
        for (int i = 0; i < stride.length; i++) {
            strides[i] = integer(stride[i], "stride", where);
        }
        try {
            return new TensorRef(storage, integer(a[1], "offset", where), shape, strides);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CheckpointFormatException(where + ": tensor in storage " + storage.key() + ": "
                    + (e instanceof ArithmeticException ? "shape or stride overflows" : e.getMessage()), e);
        }
    }

    private static long integer(Object o, String what, String where) {
        if (o instanceof Integer || o instanceof Long) {
            return ((Number) o).longValue();
        }
        throw new CheckpointFormatException(where + ": tensor " + what + " " + (o instanceof BigInteger ? o + " is out of range"
                : "must be an integer"));
    }

    /** A persistent id {@code ('storage', type, key, location, numel[, view])}, deduplicated by key. */
    private static StorageRef storage(Object pid, String where, Map<String, StorageRef> seen, int arity) {
        if (!(pid instanceof Object[] t) || t.length != arity || !"storage".equals(t[0])) {
            throw new CheckpointFormatException(where + ": persistent id is not a " + arity + "-tuple ('storage', ...)");
        }
        if (!(t[1] instanceof TorchDType dtype)) {
            throw new CheckpointFormatException(where + ": storage type must be a torch storage class");
        }
        if (!(t[2] instanceof String key) || !STORAGE_KEY.matcher(key).matches()) {
            throw new CheckpointFormatException(where + ": storage key must be a short alphanumeric string");
        }
        long numel = integer(t[4], "storage size", where);
        // Only an overflow bound here: a storage nobody reads (optimizer state) may be any size the
        // file holds; the zip entry size or the legacy layout is checked next, reads are capped later.
        if (numel < 0 || numel > Long.MAX_VALUE / 8) {
            throw new CheckpointFormatException(where + ": storage " + key + " declares " + numel + " elements");
        }
        if (arity == 6 && t[5] != null) {
            throw new CheckpointFormatException(where + ": storage " + key + " is a view of another storage, which"
                    + " legacy checkpoints written by PyTorch 1.x do not contain; not supported");
        }
        StorageRef s = new StorageRef(key, dtype, numel);
        StorageRef before = seen.putIfAbsent(key, s);
        if (before != null && !before.equals(s)) {
            throw new CheckpointFormatException(where + ": storage " + key + " is described twice, differently");
        }
        return before != null ? before : s;
    }
}
