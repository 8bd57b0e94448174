package dev.mue.session.image;

import dev.mue.api.InvalidInputException;
import dev.mue.api.MueException;
import dev.mue.api.model.ModelConfig.ImageResize;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DirectColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns an image into the input an OFA image encoder expects, matching OFA's Python pipeline:
 * {@code Image.convert("RGB")}, {@code resize((size, size), BICUBIC)}, {@code ToTensor()},
 * {@code Normalize(mean=0.5, std=0.5)}.
 *
 * <p>Two resizes, named by {@link ImageResize}: {@link ImageResize#PIL_BICUBIC} is Pillow's own
 * (OFA's, through torchvision on a PIL image): both separable passes in 8 bits, each output pixel
 * summed in Pillow's 22-bit fixed point, rounded and clipped after each pass, bit for bit the same
 * as {@code Image.resize} for 8-bit images. {@link ImageResize#FLOAT_BICUBIC} is what mue's own
 * bundles were trained with: the same filter in floating point, rounded and clipped once at the
 * end (up to about 12/255 apart from Pillow's at 64 to 480 px).
 *
 * <p>The result is a channel-major (CHW) float array of length {@code 3 * size * size} with values
 * in [-1, 1]. Files are never trusted: missing, empty, unrecognised, truncated or absurdly large
 * images are rejected with an {@link InvalidInputException} naming the file, and the size check
 * uses the dimensions from the image header, before any pixel buffer is allocated. So does the
 * memory check: the pixels an image decodes to, and the planes preprocessing makes of them, must
 * fit the heap that is free at that moment ({@link Runtime#maxMemory()} less what is used); what
 * still runs out of memory while decoding is reported the same way, never as an
 * {@link OutOfMemoryError}.
 *
 * <p>Formats: whatever ImageIO reads, less WBMP: PNG, JPEG, GIF, BMP and TIFF from the JDK, and
 * through TwelveMonkeys' plugins JPEG in CMYK and YCCK (Adobe) and WebP (lossy, lossless, alpha).
 * A CMYK JPEG is read as its CMYK samples and converted as Pillow's {@code convert("RGB")} does
 * ({@code R = (255 - C)(255 - K) / 255}, ...; no colour profile), so it gives what OFA's pipeline
 * gives, not a colorimetric conversion.
 */
public final class ImagePreprocessor {
    /** Largest image accepted, in pixels (width times height), checked before decoding. */
    public static final long MAX_PIXELS = 50_000_000L;
    /** Largest width or height accepted, checked before decoding. */
    public static final int MAX_SIDE = 20_000;
    /** Largest output side accepted by {@link #load} and {@link #preprocess}. */
    public static final int MAX_SIZE = 4096;
    /** The formats read, for messages. */
    public static final String FORMATS = "PNG, JPEG, GIF, BMP, TIFF or WebP";

    // PIL's bicubic filter: Keys' cubic convolution with a = -0.5 and a support of 2 input pixels.
    private static final double BICUBIC_A = -0.5;
    private static final double BICUBIC_SUPPORT = 2.0;

    private ImagePreprocessor() {
    }

    /**
     * Reads an image file (any format ImageIO decodes: PNG, JPEG, GIF, BMP, ...) and preprocesses it.
     *
     * @param size the side of the square output, 1 to {@link #MAX_SIZE}
     * @return {@code 3 * size * size} floats, channel-major, in [-1, 1]
     * @throws InvalidInputException if the file is missing, empty, not an image, truncated, too
     *                               large, or {@code size} is out of range
     */
    public static float[] load(Path file, int size) {
        return load(file, size, ImageResize.FLOAT_BICUBIC);
    }

    /**
     * Reads an image file and preprocesses it with the given resize.
     *
     * @param size the side of the square output, 1 to {@link #MAX_SIZE}
     * @return {@code 3 * size * size} floats, channel-major, in [-1, 1]
     * @throws InvalidInputException as {@link #load(Path, int)}
     */
    public static float[] load(Path file, int size, ImageResize resize) {
        checkSize(size);
        BufferedImage image = read(file);
        return preprocess(image, size, resize);
    }

    /**
     * Preprocesses an image already in memory: RGB conversion (alpha dropped), bicubic resize to
     * {@code size x size}, scaling to [0, 1] and normalisation to [-1, 1].
     *
     * @param size the side of the square output, 1 to {@link #MAX_SIZE}
     * @return {@code 3 * size * size} floats, channel-major
     * @throws InvalidInputException if {@code size} is out of range
     */
    public static float[] preprocess(BufferedImage image, int size) {
        return preprocess(image, size, ImageResize.FLOAT_BICUBIC);
    }

    /**
     * Preprocesses an image already in memory with the given resize.
     *
     * @param size the side of the square output, 1 to {@link #MAX_SIZE}
     * @return {@code 3 * size * size} floats, channel-major
     * @throws InvalidInputException if {@code size} is out of range
     */
    public static float[] preprocess(BufferedImage image, int size, ImageResize resize) {
        if (image == null) {
            throw new InvalidInputException("image must not be null");
        }
        Objects.requireNonNull(resize, "resize");
        checkSize(size);
        int w = image.getWidth();
        int h = image.getHeight();
        checkMemory("image of " + w + "x" + h + " pixels", 0, (long) w * h);
        try {
            return preprocess(image, size, resize, w, h);
        } catch (OutOfMemoryError e) {
            throw outOfMemory("image of " + w + "x" + h + " pixels", e);
        }
    }

    private static float[] preprocess(BufferedImage image, int size, ImageResize resize, int w, int h) {
        float[] out = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            // One plane at a time: for a large photo the full-resolution planes dominate memory.
            float[] src = plane(image, c);
            int base = c * size * size;
            if (resize == ImageResize.PIL_BICUBIC) {
                int[] resized = resizePil(eightBit(src), w, h, size, size);
                for (int i = 0; i < resized.length; i++) {
                    out[base + i] = (resized[i] / 255f - 0.5f) / 0.5f;
                }
            } else {
                float[] resized = resize(src, w, h, size, size);
                for (int i = 0; i < resized.length; i++) {
                    float v = Math.min(255f, Math.max(0f, resized[i]));
                    out[base + i] = (v / 255f - 0.5f) / 0.5f;
                }
            }
        }
        return out;
    }

    /**
     * Pillow's bicubic resize of one 8-bit plane, bit for bit ({@code ImagingResample}): the
     * horizontal pass first (when the width changes), then the vertical one, each output an 8-bit
     * value. Exposed for tests that compare it with Pillow's own output.
     *
     * @param src  {@code inW * inH} values in 0..255, row-major
     * @return {@code outW * outH} values in 0..255, row-major
     */
    public static int[] resizePil(int[] src, int inW, int inH, int outW, int outH) {
        if (src.length != (long) inW * inH) {
            throw new IllegalArgumentException("plane has " + src.length + " values, expected " + inW + "x" + inH);
        }
        int[] horizontal = inW == outW ? src : pilHorizontal(src, inW, inH, outW);
        return inH == outH ? horizontal : pilVertical(horizontal, outW, inH, outH);
    }

    /** Pillow's fixed point for 8-bit resampling: 32 bits less 8 for the value, 2 for the sign and overshoot. */
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private static int[] eightBit(float[] plane) {
        int[] out = new int[plane.length];
        for (int i = 0; i < plane.length; i++) {
            // 8-bit decodes are integers already; deeper samples were scaled to 0..255 by plane().
            out[i] = Math.round(Math.min(255f, Math.max(0f, plane[i])));
        }
        return out;
    }

    /** Pillow's {@code normalize_coeffs_8bpc}: each weight to fixed point, rounded half away from zero. */
    private static int[] fixedPoint(Coefficients k) {
        int[] out = new int[k.weights.length];
        for (int i = 0; i < out.length; i++) {
            double w = k.weights[i] * (1 << PRECISION_BITS);
            out[i] = (int) (w < 0 ? w - 0.5 : w + 0.5);
        }
        return out;
    }

    /** Pillow's {@code clip8}: the fixed-point sum back to 0..255. */
    private static int clip8(int in) {
        if (in >= (1 << PRECISION_BITS << 8)) {
            return 255;
        }
        if (in <= 0) {
            return 0;
        }
        return in >> PRECISION_BITS;
    }

    private static int[] pilHorizontal(int[] src, int inW, int h, int outW) {
        Coefficients k = coefficients(inW, outW);
        int[] kk = fixedPoint(k);
        int[] out = new int[outW * h];
        for (int y = 0; y < h; y++) {
            int rowIn = y * inW;
            for (int x = 0; x < outW; x++) {
                int first = k.first[x];
                int base = x * k.taps;
                int ss = 1 << (PRECISION_BITS - 1);
                for (int t = 0; t < k.count[x]; t++) {
                    ss += src[rowIn + first + t] * kk[base + t];
                }
                out[y * outW + x] = clip8(ss);
            }
        }
        return out;
    }

    private static int[] pilVertical(int[] src, int w, int inH, int outH) {
        Coefficients k = coefficients(inH, outH);
        int[] kk = fixedPoint(k);
        int[] out = new int[w * outH];
        for (int y = 0; y < outH; y++) {
            int first = k.first[y];
            int base = y * k.taps;
            for (int x = 0; x < w; x++) {
                int ss = 1 << (PRECISION_BITS - 1);
                for (int t = 0; t < k.count[y]; t++) {
                    ss += src[(first + t) * w + x] * kk[base + t];
                }
                out[y * w + x] = clip8(ss);
            }
        }
        return out;
    }

    private static void checkSize(int size) {
        if (size < 1 || size > MAX_SIZE) {
            throw new InvalidInputException("image size " + size + " is outside the allowed range 1.." + MAX_SIZE);
        }
    }

    /**
     * Reads an image file with the checks of {@link #load} (missing, empty, unrecognised,
     * truncated or too large files rejected, dimensions checked before any pixel buffer is
     * allocated) and returns it without preprocessing, so that a caller can reject a bad input
     * before it joins a batch.
     *
     * @throws InvalidInputException naming the file when it cannot be used
     */
    public static BufferedImage read(Path file) {
        if (!Files.exists(file)) {
            throw new InvalidInputException("image file not found: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("image path is not a regular file: " + file);
        }
        try {
            if (Files.size(file) == 0) {
                throw new InvalidInputException("image file is empty (0 bytes): " + file);
            }
        } catch (IOException e) {
            throw new InvalidInputException("cannot read image file " + file + ": " + e.getMessage(), e);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new InvalidInputException("cannot open image file " + file);
            }
            return decode(new EndGuard(in), file.toString(), "image file " + file);
        } catch (IOException e) {
            throw new InvalidInputException("image file " + file + " is damaged or truncated: " + e.getMessage(), e);
        }
    }

    /**
     * Decodes an image held in memory (e.g. the bytes of a request) with the same checks as a file:
     * an unrecognised format, a header over {@link #MAX_PIXELS} or {@link #MAX_SIDE} (checked before
     * any pixel buffer is allocated), a truncated or damaged stream are each rejected.
     *
     * @param data the encoded image (PNG, JPEG, GIF, BMP, ...)
     * @param name what the bytes are, for messages, e.g. {@code input 'image' element 0}
     * @throws InvalidInputException naming {@code name} and the defect
     */
    public static BufferedImage decode(byte[] data, String name) {
        Objects.requireNonNull(data, "data");
        if (data.length == 0) {
            throw new InvalidInputException("image " + name + " is empty (0 bytes)");
        }
        // An in-memory stream: ImageIO's default for an InputStream may cache it in a temporary file.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            return decode(new EndGuard(in), name, "image " + name);
        } catch (IOException e) {
            throw new InvalidInputException("image " + name + " is damaged or truncated: " + e.getMessage(), e);
        }
    }

    /** Decodes the first image of {@code in}; {@code label} names it, {@code subject} begins messages about it. */
    private static BufferedImage decode(ImageInputStream in, String label, String subject) throws IOException {
        try {
            ImageReader reader = findReader(in, label);
            try {
                reader.setInput(in, true, true);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                checkDimensions(label, width, height);
                ImageTypeSpecifier raw = reader.getRawImageType(0);
                checkMemory("image " + label, decodedBytes(raw, width, height), (long) width * height);
                List<String> warnings = new ArrayList<>();
                // Collect rather than throw from the listener: the JPEG decoder calls it from native
                // code, where an exception would not unwind cleanly.
                reader.addIIOReadWarningListener(new IIOReadWarningListener() {
                    @Override
                    public void warningOccurred(ImageReader source, String warning) {
                        // A missing or odd colour profile is not damage: mue converts as Pillow does,
                        // without profiles (TwelveMonkeys warns about every CMYK JPEG without one).
                        if (!warning.contains("ICC")) {
                            warnings.add(warning);
                        }
                    }
                });
                ImageReadParam param = reader.getDefaultReadParam();
                boolean cmyk = raw != null && raw.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK;
                if (cmyk) {
                    // the samples as stored (Adobe's inversion undone), converted below as Pillow does
                    param.setDestinationType(raw);
                }
                BufferedImage image;
                try {
                    image = reader.read(0, param);
                    if (cmyk && image != null) {
                        image = pilCmykToRgb(image, adobe(reader));
                    }
                } catch (OutOfMemoryError e) {
                    throw outOfMemory("image " + label, e);
                }
                if (!warnings.isEmpty()) {
                    throw new InvalidInputException(subject + " is damaged or truncated: " + String.join("; ", warnings));
                }
                if (image == null) {
                    throw new InvalidInputException(subject + " decoded to nothing");
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (MueException e) {
            throw e;
        } catch (EndGuard.ReadPastEnd e) {
            throw new InvalidInputException(subject + " is truncated: its decoder kept reading past the end of the data", e);
        } catch (RuntimeException e) {
            // ImageIO plugins report malformed input with whatever unchecked exception their parser
            // hits (IllegalArgumentException, IndexOutOfBounds, and, as fuzzing found in TwelveMonkeys'
            // JPEG and WebP readers, NegativeArraySizeException and NullPointerException): all mean
            // the same to the caller, an image that cannot be decoded.
            throw new InvalidInputException(subject + " is malformed: " + e, e);
        }
    }

    /**
     * The stream a reader gets: the file's or the bytes', with a limit on reads past the end. A
     * decoder that goes on past the end of truncated data would otherwise decode the rest of a large
     * picture from nothing; TwelveMonkeys' WebP lossless reader does so one byte at a time, each
     * through an EOFException, and fuzzing found a 178-byte file that took minutes that way.
     */
    private static final class EndGuard extends javax.imageio.stream.ImageInputStreamImpl {
        /** Reads at the end tolerated: decoders look ahead a little; a truncated image reads on and on. */
        static final int MAX_READS_AT_END = 4096;

        /** Thrown once the limit is passed; unchecked, so that no decoder swallows it as it does EOFException. */
        static final class ReadPastEnd extends RuntimeException {
            private static final long serialVersionUID = 1L;

            ReadPastEnd() {
                super("read past the end " + MAX_READS_AT_END + " times", null, false, false);
            }
        }

        private final ImageInputStream in;
        private int readsAtEnd;

        EndGuard(ImageInputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            sync();
            bitOffset = 0;
            int b = in.read();
            if (b < 0) {
                atEnd();
            } else {
                streamPos++;
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            sync();
            bitOffset = 0;
            int n = in.read(buf, off, len);
            if (n < 0) {
                atEnd();
            } else {
                streamPos += n;
            }
            return n;
        }

        private void sync() throws IOException {
            if (in.getStreamPosition() != streamPos) {
                in.seek(streamPos);
            }
        }

        private void atEnd() {
            if (++readsAtEnd > MAX_READS_AT_END) {
                throw new ReadPastEnd();
            }
        }

        @Override
        public long length() {
            try {
                return in.length();
            } catch (IOException e) {
                return -1; // unknown, as the interface allows
            }
        }

        @Override
        public void close() throws IOException {
            super.close();
            in.close();
        }
    }

    private static ImageReader findReader(ImageInputStream in, String label) throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        while (readers.hasNext()) {
            ImageReader r = readers.next();
            // WBMP has no magic number, so its plugin claims almost any file starting with two zero
            // bytes; nobody feeds WBMP to a vision-language model, so never trust that match.
            if (!"wbmp".equalsIgnoreCase(r.getFormatName())) {
                return r;
            }
            r.dispose();
        }
        throw new InvalidInputException("not a readable image (" + FORMATS + " expected): " + label);
    }

    /** Bytes of the decoded pixels: bands times bytes per sample of the reader's raw type (4 bytes a pixel if unknown). */
    private static long decodedBytes(ImageTypeSpecifier raw, int width, int height) {
        long pixels = (long) width * height;
        if (raw == null) {
            return pixels * 4;
        }
        java.awt.image.SampleModel sm = raw.getSampleModel(1, 1);
        long bits = 0;
        for (int b = 0; b < sm.getNumBands(); b++) {
            bits += sm.getSampleSize(b);
        }
        // packed or interleaved, a band takes at least a byte when it is decoded
        return pixels * Math.max(sm.getNumBands(), (bits + 7) / 8)
                * Math.max(1, java.awt.image.DataBuffer.getDataTypeSize(sm.getDataType()) / 8);
    }

    /**
     * Refuses an image whose decoded pixels ({@code decoded} bytes) and the planes preprocessing
     * makes of it (a float and an int plane of {@code pixels} values, and an image the size of the
     * decoded one in the worst case, when Java2D converts it) do not fit the heap that is free now.
     */
    private static void checkMemory(String subject, long decoded, long pixels) {
        long need = 2 * decoded + pixels * (Float.BYTES + Integer.BYTES + Float.BYTES);
        java.lang.Runtime rt = java.lang.Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need > free) {
            throw new InvalidInputException(subject + " needs about " + mib(need) + " MiB to decode and preprocess but only "
                    + mib(free) + " MiB of the " + mib(rt.maxMemory()) + " MiB heap are free; send a smaller image or"
                    + " give the JVM more memory (-Xmx, e.g. through MUE_JAVA_OPTS)");
        }
    }

    private static InvalidInputException outOfMemory(String subject, OutOfMemoryError e) {
        java.lang.Runtime rt = java.lang.Runtime.getRuntime();
        return new InvalidInputException(subject + " ran out of memory while decoding (" + e.getMessage() + ", heap "
                + mib(rt.maxMemory()) + " MiB); send a smaller image or give the JVM more memory (-Xmx)", e);
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }

    /**
     * Pillow's {@code cmyk2rgb}: each of R, G and B is {@code (255 - K) - C (255 - K) / 255}, in
     * Pillow's rounding ({@code MULDIV255}), without any colour profile.
     */
    private static BufferedImage pilCmykToRgb(BufferedImage cmyk, boolean inverted) {
        Raster r = cmyk.getRaster();
        int w = r.getWidth();
        int h = r.getHeight();
        if (r.getNumBands() != 4) {
            throw new InvalidInputException("CMYK image has " + r.getNumBands() + " bands, not 4");
        }
        double[] scale = new double[4];
        for (int b = 0; b < 4; b++) {
            scale[b] = 255.0 / ((1L << cmyk.getColorModel().getComponentSize(b)) - 1);
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] px = new int[4];
        int[] rgb = new int[w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(r.getMinX() + x, r.getMinY() + y, px);
                int k = (int) Math.round(px[3] * scale[3]);
                int nk = 255 - (inverted ? 255 - k : k);
                int v = 0;
                for (int c = 0; c < 3; c++) {
                    int ink = (int) Math.round(px[c] * scale[c]);
                    ink = inverted ? 255 - ink : ink;
                    int t = ink * nk + 128;
                    int mul = ((t >> 8) + t) >> 8;
                    v = (v << 8) | Math.min(255, Math.max(0, nk - mul));
                }
                rgb[x] = v;
            }
            out.setRGB(0, y, w, 1, rgb, 0, w);
        }
        return out;
    }

    /**
     * Whether the JPEG has Adobe's APP14 marker: Adobe's applications (and libjpeg, writing for
     * Pillow) store CMYK inverted then, and Pillow reads such files as {@code CMYK;I}.
     */
    private static boolean adobe(ImageReader reader) throws IOException {
        javax.imageio.metadata.IIOMetadata md = reader.getImageMetadata(0);
        String format = "javax_imageio_jpeg_image_1.0";
        if (md == null || !java.util.Arrays.asList(md.getMetadataFormatNames() == null ? new String[0]
                : md.getMetadataFormatNames()).contains(format)) {
            return false;
        }
        return hasNode(md.getAsTree(format), "app14Adobe");
    }

    private static boolean hasNode(org.w3c.dom.Node n, String name) {
        if (name.equals(n.getNodeName())) {
            return true;
        }
        for (org.w3c.dom.Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (hasNode(c, name)) {
                return true;
            }
        }
        return false;
    }

    private static void checkDimensions(String label, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new InvalidInputException("image " + label + " has no pixels (" + width + "x" + height + ")");
        }
        if (width > MAX_SIDE || height > MAX_SIDE || (long) width * height > MAX_PIXELS) {
            throw new InvalidInputException("image " + label + " is " + width + "x" + height
                    + " pixels, more than the limit of " + MAX_PIXELS + " pixels or " + MAX_SIDE + " per side");
        }
    }

    /**
     * Extracts channel {@code c} (0 = R, 1 = G, 2 = B) as 0..255 floats, converting like PIL's
     * {@code convert("RGB")}: gray is replicated, palettes are looked up, and alpha is dropped
     * without compositing.
     */
    private static float[] plane(BufferedImage image, int c) {
        int w = image.getWidth();
        int h = image.getHeight();
        float[] plane = new float[w * h];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int csType = cm.getColorSpace().getType();
        boolean rawComponents = (cm instanceof ComponentColorModel || cm instanceof DirectColorModel)
                && !cm.isAlphaPremultiplied();
        int[] row = new int[w];
        if (rawComponents && csType == ColorSpace.TYPE_GRAY && cm.getNumColorComponents() == 1) {
            // Read samples directly: getRGB would push gray through a linear-to-sRGB conversion and
            // change every value, while PIL copies L into R, G and B unchanged.
            copyBand(raster, 0, scale(cm, 0), plane, row);
        } else if (rawComponents && csType == ColorSpace.TYPE_RGB && cm.getNumColorComponents() == 3) {
            // Raw samples rather than getRGB: PIL ignores embedded colour profiles, so must we.
            copyBand(raster, c, scale(cm, c), plane, row);
        } else {
            // Palettes, CMYK and premultiplied images: let Java2D convert to non-premultiplied sRGB.
            int shift = 16 - 8 * c;
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    plane[y * w + x] = (row[x] >>> shift) & 0xFF;
                }
            }
        }
        return plane;
    }

    private static double scale(ColorModel cm, int component) {
        return 255.0 / ((1L << cm.getComponentSize(component)) - 1);
    }

    private static void copyBand(Raster raster, int band, double scale, float[] plane, int[] row) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        for (int y = 0; y < h; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, band, row);
            for (int x = 0; x < w; x++) {
                // For 8-bit samples the scale is exactly 1, so values pass through unchanged.
                plane[y * w + x] = (float) (row[x] * scale);
            }
        }
    }

    /** Separable bicubic resize of one plane, horizontal pass first, as PIL does. */
    private static float[] resize(float[] src, int inW, int inH, int outW, int outH) {
        float[] horizontal = inW == outW ? src : resizeHorizontal(src, inW, inH, outW);
        return inH == outH ? horizontal : resizeVertical(horizontal, outW, inH, outH);
    }

    private static float[] resizeHorizontal(float[] src, int inW, int h, int outW) {
        Coefficients k = coefficients(inW, outW);
        float[] out = new float[outW * h];
        for (int y = 0; y < h; y++) {
            int rowIn = y * inW;
            int rowOut = y * outW;
            for (int x = 0; x < outW; x++) {
                int first = k.first[x];
                int base = x * k.taps;
                double sum = 0;
                for (int t = 0; t < k.count[x]; t++) {
                    sum += src[rowIn + first + t] * k.weights[base + t];
                }
                out[rowOut + x] = (float) sum;
            }
        }
        return out;
    }

    private static float[] resizeVertical(float[] src, int w, int inH, int outH) {
        Coefficients k = coefficients(inH, outH);
        float[] out = new float[w * outH];
        double[] acc = new double[w];
        for (int y = 0; y < outH; y++) {
            Arrays.fill(acc, 0);
            int first = k.first[y];
            int base = y * k.taps;
            for (int t = 0; t < k.count[y]; t++) {
                double wt = k.weights[base + t];
                int rowIn = (first + t) * w;
                for (int x = 0; x < w; x++) {
                    acc[x] += src[rowIn + x] * wt;
                }
            }
            int rowOut = y * w;
            for (int x = 0; x < w; x++) {
                out[rowOut + x] = (float) acc[x];
            }
        }
        return out;
    }

    /** Per-output-pixel filter taps: {@code count[i]} weights from input index {@code first[i]}. */
    private record Coefficients(int taps, int[] first, int[] count, double[] weights) {
    }

    /**
     * PIL's {@code precompute_coeffs} for a full-image box: output pixel {@code i} is centred at
     * input coordinate {@code (i + 0.5) * scale}; when shrinking, the kernel is stretched by the
     * scale factor so that every input pixel contributes (antialiasing); weights are normalised to
     * sum to 1, which also renormalises the taps cut off at the image border.
     */
    private static Coefficients coefficients(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = BICUBIC_SUPPORT * filterScale;
        int taps = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        double[] weights = new double[outSize * taps];
        double inverse = 1.0 / filterScale;
        for (int i = 0; i < outSize; i++) {
            double center = (i + 0.5) * scale;
            // (int) truncates toward zero exactly like the C cast PIL uses.
            int min = Math.max((int) (center - support + 0.5), 0);
            int max = Math.min((int) (center + support + 0.5), inSize);
            int n = max - min;
            double total = 0;
            for (int t = 0; t < n; t++) {
                double w = cubic((t + min - center + 0.5) * inverse);
                weights[i * taps + t] = w;
                total += w;
            }
            if (total != 0) {
                for (int t = 0; t < n; t++) {
                    weights[i * taps + t] /= total;
                }
            }
            first[i] = min;
            count[i] = n;
        }
        return new Coefficients(taps, first, count, weights);
    }

    private static double cubic(double x) {
        double a = BICUBIC_A;
        double ax = Math.abs(x);
        if (ax < 1.0) {
            return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1;
        }
        if (ax < 2.0) {
            return (((ax - 5) * ax + 8) * ax - 4) * a;
        }
        return 0.0;
    }
}
