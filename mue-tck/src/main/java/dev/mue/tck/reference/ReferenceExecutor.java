package dev.mue.tck.reference;

import static dev.mue.tck.reference.ReferenceMath.cosine;
import static dev.mue.tck.reference.ReferenceMath.gelu;

import dev.mue.api.EncoderExit;
import dev.mue.api.GateRecord;
import dev.mue.api.UnsupportedFeatureException;
import dev.mue.api.exit.CosineCriterion;
import dev.mue.api.exit.SoftmaxConfidenceCriterion;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.plan.Stream;
import dev.mue.api.policy.EncoderMode;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.policy.KvPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The float64 reference of an OFA-style encoder-decoder with MuE exits: the executable form of
 * design §3-4, written from the design and the paper digest (A.1-A.3, C.4-C.9), never from a
 * backend's code.
 *
 * <p>It works on one example (or one decoder row) at a time with straightforward loops, and
 * reads positions straight from the weights: it ignores the plan's folded biases, so a folding
 * error in the planner shows up as a disagreement. Inputs are assumed valid here;
 * {@link ReferenceExecutable} validates them.
 *
 * <p>Semantics in brief (see the package documentation for the full list):
 * <ul>
 *   <li>Image: truncated ResNet (BN with running statistics, eps = layer-norm eps), row-major
 *       grid tokens, {@code image_proj}, type embedding 1, {@code patch_layernorm_embedding}.</li>
 *   <li>Text: {@code embed_tokens} + type embedding 0, {@code layernorm_embedding}; the decoder:
 *       {@code embed_tokens} then {@code decoder.layernorm_embedding}.</li>
 *   <li>Attention logits: {@code q.k + abs bias + relative bias}, queries (and position queries)
 *       scaled by {@code (attnScaleFactor * headDim)^-1/2}; heads scaled by {@code c_attn}.</li>
 *   <li>Pre-LN layers with NormFormer extras; exact-erf GELU; LayerNorm eps from the config.</li>
 *   <li>A gate after layer i &lt; L: cosine between the flattened output and input of the
 *       example's real tokens; exit iff enabled ({@code i >= minExitLayer}) and strictly above
 *       the threshold.</li>
 * </ul>
 */
public final class ReferenceExecutor {
    private final Model model;
    private final ModelConfig c;
    private final ExitPolicy policy;
    private final PlanShapes shapes;
    private final int d;
    private final int heads;
    private final int headDim;
    private final double scale;
    private final double eps;
    private final Map<String, double[]> params = new ConcurrentHashMap<>();
    /** Decoder self-attention position queries and keys, per position. */
    private final double[][] decSelfQ;
    private final double[][] decSelfK;
    /** Decoder cross-attention position queries, per position. */
    private final double[][] decCrossQ;

    /** A reference for the model under the policy, for inputs up to {@code shapes}. */
    public ReferenceExecutor(Model model, ExitPolicy policy, PlanShapes shapes) {
        if (!policy.encoderCriterion().equals(CosineCriterion.ID)) {
            throw new UnsupportedFeatureException("the reference's encoder gates know the cosine criterion only, not '"
                    + policy.encoderCriterion() + "'");
        }
        this.model = model;
        this.c = model.config();
        this.policy = policy;
        this.shapes = shapes;
        this.d = c.dModel();
        this.heads = c.heads();
        this.headDim = c.headDim();
        this.scale = StrictMath.pow(c.attnScaleFactor() * headDim, -0.5);
        this.eps = c.layerNormEps();
        int n = shapes.maxDecoderTokens();
        double[][] pos = new double[n][];
        for (int t = 0; t < n; t++) {
            pos[t] = ln(row("decoder.embed_positions.weight", t, d), "decoder.pos_ln");
        }
        decSelfQ = new double[n][];
        decSelfK = new double[n][];
        decCrossQ = new double[n][];
        for (int t = 0; t < n; t++) {
            decSelfQ[t] = scaled(linear(pos[t], "decoder.self_pos_q_linear"));
            decSelfK[t] = linear(pos[t], "decoder.self_pos_k_linear");
            decCrossQ[t] = scaled(linear(pos[t], "decoder.cross_pos_q_linear"));
        }
    }

    /** The model. */
    public Model model() {
        return model;
    }

    /** The exit policy. */
    public ExitPolicy policy() {
        return policy;
    }

    /** The shapes the inputs are limited to. */
    public PlanShapes shapes() {
        return shapes;
    }

    // ------------------------------------------------------------------ parameters

    private double[] p(String name) {
        return params.computeIfAbsent(name, n -> ReferenceMath.toDouble(model.weights().data(n)));
    }

    private double[] row(String name, int r, int width) {
        double[] all = p(name);
        double[] out = new double[width];
        System.arraycopy(all, r * width, out, 0, width);
        return out;
    }

    private double[] ln(double[] x, String prefix) {
        return ReferenceMath.layerNorm(x, p(prefix + ".weight"), p(prefix + ".bias"), eps);
    }

    private double[] linear(double[] x, String prefix) {
        double[] b = p(prefix + ".bias");
        return ReferenceMath.linear(x, p(prefix + ".weight"), b, b.length);
    }

    private double[] scaled(double[] x) {
        double[] y = x.clone();
        for (int i = 0; i < y.length; i++) {
            y[i] *= scale;
        }
        return y;
    }

    /** Head {@code h}'s part of {@code q . k}. */
    private double headDot(double[] q, double[] k, int h) {
        double s = 0;
        for (int e = h * headDim; e < (h + 1) * headDim; e++) {
            s += q[e] * k[e];
        }
        return s;
    }

    // ------------------------------------------------------------------ image backbone

    /** A CHW feature map. */
    private record FMap(int ch, int h, int w, double[] v) {
        double at(int c, int y, int x) {
            return v[(c * h + y) * w + x];
        }
    }

    private FMap conv(FMap in, String weight, int outCh, int k, int stride, int pad) {
        double[] wt = p(weight);
        if (wt.length != outCh * in.ch * k * k) {
            throw new IllegalStateException(weight + ": " + wt.length + " values for " + outCh + "x" + in.ch + "x" + k + "x" + k);
        }
        int oh = (in.h + 2 * pad - k) / stride + 1;
        int ow = (in.w + 2 * pad - k) / stride + 1;
        double[] out = new double[outCh * oh * ow];
        for (int co = 0; co < outCh; co++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double s = 0;
                    for (int ci = 0; ci < in.ch; ci++) {
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy * stride - pad + ky;
                            if (iy < 0 || iy >= in.h) {
                                continue;
                            }
                            for (int kx = 0; kx < k; kx++) {
                                int ix = ox * stride - pad + kx;
                                if (ix < 0 || ix >= in.w) {
                                    continue;
                                }
                                s += wt[((co * in.ch + ci) * k + ky) * k + kx] * in.at(ci, iy, ix);
                            }
                        }
                    }
                    out[(co * oh + oy) * ow + ox] = s;
                }
            }
        }
        return new FMap(outCh, oh, ow, out);
    }

    /** Inference BatchNorm with running statistics, optionally followed by ReLU. */
    private FMap batchNorm(FMap in, String prefix, boolean relu) {
        double[] w = p(prefix + ".weight");
        double[] b = p(prefix + ".bias");
        double[] mean = p(prefix + ".running_mean");
        double[] var = p(prefix + ".running_var");
        double[] out = new double[in.v.length];
        int hw = in.h * in.w;
        for (int ch = 0; ch < in.ch; ch++) {
            double inv = 1 / StrictMath.sqrt(var[ch] + eps);
            for (int i = 0; i < hw; i++) {
                double y = (in.v[ch * hw + i] - mean[ch]) * inv * w[ch] + b[ch];
                out[ch * hw + i] = relu ? Math.max(0, y) : y;
            }
        }
        return new FMap(in.ch, in.h, in.w, out);
    }

    private static FMap maxPool3x3s2(FMap in) {
        int oh = (in.h + 2 - 3) / 2 + 1;
        int ow = (in.w + 2 - 3) / 2 + 1;
        double[] out = new double[in.ch * oh * ow];
        for (int ch = 0; ch < in.ch; ch++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int ky = 0; ky < 3; ky++) {
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy * 2 - 1 + ky;
                            int ix = ox * 2 - 1 + kx;
                            if (iy >= 0 && iy < in.h && ix >= 0 && ix < in.w) {
                                m = Math.max(m, in.at(ch, iy, ix));
                            }
                        }
                    }
                    out[(ch * oh + oy) * ow + ox] = m;
                }
            }
        }
        return new FMap(in.ch, oh, ow, out);
    }

    /**
     * The truncated ResNet: 7x7/2 stem (pad 3, no bias), BN, ReLU, 3x3/2 max-pool (pad 1), then
     * three stages of bottlenecks (1x1, 3x3 with the stage stride on the first block, 1x1; BN
     * after each; projection shortcut where the layout has one; ReLU after the add).
     *
     * @return the feature map's grid cells in row-major order, each a vector of its channels
     */
    public double[][] backbone(float[] image) {
        ResNetConfig r = c.resnet();
        int s = c.imageSize();
        FMap x = new FMap(3, s, s, ReferenceMath.toDouble(image));
        String pre = "encoder.embed_images.";
        x = conv(x, pre + "conv1.weight", r.stemChannels(), 7, 2, 3);
        x = batchNorm(x, pre + "bn1", true);
        x = maxPool3x3s2(x);
        for (int st = 0; st < 3; st++) {
            for (int b = 0; b < r.blocks(st); b++) {
                String q = pre + "layer" + (st + 1) + "." + b + ".";
                int stride = b == 0 ? WeightLayout.stageStride(st) : 1;
                FMap y = conv(x, q + "conv1.weight", r.width(st), 1, 1, 0);
                y = batchNorm(y, q + "bn1", true);
                y = conv(y, q + "conv2.weight", r.width(st), 3, stride, 1);
                y = batchNorm(y, q + "bn2", true);
                y = conv(y, q + "conv3.weight", r.outChannels(st), 1, 1, 0);
                y = batchNorm(y, q + "bn3", false);
                FMap shortcut = x;
                if (model.weights().contains(q + "downsample.0.weight")) {
                    shortcut = conv(x, q + "downsample.0.weight", r.outChannels(st), 1, stride, 0);
                    shortcut = batchNorm(shortcut, q + "downsample.1", false);
                }
                if (shortcut.ch != y.ch || shortcut.h != y.h || shortcut.w != y.w) {
                    throw new IllegalStateException(q + ": shortcut " + shortcut.ch + "x" + shortcut.h + "x" + shortcut.w
                            + " does not match " + y.ch + "x" + y.h + "x" + y.w);
                }
                double[] sum = new double[y.v.length];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] = Math.max(0, y.v[i] + shortcut.v[i]);
                }
                x = new FMap(y.ch, y.h, y.w, sum);
            }
        }
        int g = c.imageGrid();
        if (x.h != g || x.w != g) {
            throw new IllegalStateException("backbone produced a " + x.h + "x" + x.w + " grid, expected " + g + "x" + g);
        }
        double[][] tokens = new double[g * g][x.ch];
        for (int y = 0; y < g; y++) {
            for (int xx = 0; xx < g; xx++) {
                for (int ch = 0; ch < x.ch; ch++) {
                    tokens[y * g + xx][ch] = x.at(ch, y, xx);
                }
            }
        }
        return tokens;
    }

    // ------------------------------------------------------------------ embeddings and positions

    /** Image token embeddings: backbone, {@code image_proj}, type embedding 1, {@code patch_layernorm_embedding}. */
    public double[][] embedImage(float[] image) {
        double[][] f = backbone(image);
        double[] type = row("encoder.type_embedding.weight", 1, d);
        double[][] out = new double[f.length][];
        for (int i = 0; i < f.length; i++) {
            double[] e = linear(f[i], "encoder.image_proj");
            for (int k = 0; k < d; k++) {
                e[k] += type[k];
            }
            out[i] = ln(e, "encoder.patch_layernorm_embedding");
        }
        return out;
    }

    /** Text token embeddings: {@code embed_tokens} + type embedding 0, {@code layernorm_embedding}. */
    public double[][] embedText(int[] tokens) {
        double[] type = row("encoder.type_embedding.weight", 0, d);
        double[][] out = new double[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            double[] e = row("encoder.embed_tokens.weight", tokens[i], d);
            for (int k = 0; k < d; k++) {
                e[k] += type[k];
            }
            out[i] = ln(e, "encoder.layernorm_embedding");
        }
        return out;
    }

    /** LN'd text position embeddings for positions 0..n-1 ({@code encoder.pos_ln}). */
    private double[][] textPositions(int n) {
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = ln(row("encoder.embed_positions.weight", i, d), "encoder.pos_ln");
        }
        return out;
    }

    /** LN'd image position embeddings of the grid cells, row-major ({@code encoder.image_pos_ln}). */
    private double[][] imagePositions() {
        int g = c.imageGrid();
        double[][] out = new double[g * g][];
        for (int r = 0; r < g; r++) {
            for (int col = 0; col < g; col++) {
                int id = r * c.imageBucketSize() + col + 1;
                out[r * g + col] = ln(row("encoder.embed_image_positions.weight", id, d), "encoder.image_pos_ln");
            }
        }
        return out;
    }

    /** Per-token facts the encoder bias needs: which block, 1-D position, grid cell. */
    private record Tok(boolean image, int pos, int row, int col) {
    }

    /**
     * The encoder self-attention bias of one layer over {@code toks}: the absolute bias from
     * {@code encoder.pos_q_linear}/{@code pos_k_linear} over the LN'd positions, plus the token
     * relative bias inside the text block and the image relative bias inside the image block
     * (if the policy keeps it); cross-modal pairs get the absolute bias only.
     */
    private double[][][] encoderBias(int layer, Tok[] toks, double[][] qPos, double[][] kPos) {
        int n = toks.length;
        double[] tokTable = p("encoder.token_rel_pos_table_list." + layer + ".weight");
        double[] imgTable = p("encoder.image_rel_pos_table_list." + layer + ".weight");
        boolean imageRel = policy.imageRelativeBiasInEncoder();
        double[][][] bias = new double[heads][n][n];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double v = headDot(qPos[i], kPos[j], h);
                    if (!toks[i].image && !toks[j].image) {
                        int r = ReferenceMath.tokenBucketRow(toks[i].pos - toks[j].pos, c.tokenBucketSize(),
                                c.tokenBucketPositions());
                        v += tokTable[r * heads + h];
                    } else if (toks[i].image && toks[j].image && imageRel) {
                        int r = ReferenceMath.imageBucketRow(toks[i].row, toks[i].col, toks[j].row, toks[j].col,
                                c.imageBucketSize());
                        v += imgTable[r * heads + h];
                    }
                    bias[h][i][j] = v;
                }
            }
        }
        return bias;
    }

    // ------------------------------------------------------------------ attention and layers

    /**
     * One query's multi-head attention over keys/values: softmax over {@code q.k + bias} per
     * head, the weighted values, times {@code c_attn[h]}, then {@code out_proj}.
     *
     * @param bias per head and key, {@code [H][nk]}
     */
    private double[] attend(String attn, double[] q, List<double[]> keys, List<double[]> values, double[][] bias) {
        int nk = keys.size();
        double[] cAttn = p(attn + ".c_attn");
        double[] o = new double[d];
        for (int h = 0; h < heads; h++) {
            double[] s = new double[nk];
            for (int j = 0; j < nk; j++) {
                s[j] = headDot(q, keys.get(j), h) + bias[h][j];
            }
            ReferenceMath.softmaxInPlace(s);
            for (int e = h * headDim; e < (h + 1) * headDim; e++) {
                double acc = 0;
                for (int j = 0; j < nk; j++) {
                    acc += s[j] * values.get(j)[e];
                }
                o[e] = acc * cAttn[h];
            }
        }
        return linear(o, attn + ".out_proj");
    }

    private double[] ffn(String p, double[] x) {
        double[] u = linear(ln(x, p + "final_layer_norm"), p + "fc1");
        for (int i = 0; i < u.length; i++) {
            u[i] = gelu(u[i]);
        }
        double[] z = linear(ln(u, p + "ffn_layernorm"), p + "fc2");
        double[] y = x.clone();
        for (int i = 0; i < d; i++) {
            y[i] += z[i];
        }
        return y;
    }

    private static double[] addInto(double[] x, double[] y) {
        double[] z = x.clone();
        for (int i = 0; i < z.length; i++) {
            z[i] += y[i];
        }
        return z;
    }

    /** Encoder layer {@code l} (0-based) over a whole stream with its bias {@code [H][n][n]}. */
    double[][] encoderLayer(int l, double[][] x, double[][][] bias) {
        String p = "encoder.layers." + l + ".";
        int n = x.length;
        List<double[]> q = new ArrayList<>();
        List<double[]> k = new ArrayList<>();
        List<double[]> v = new ArrayList<>();
        for (double[] xi : x) {
            double[] h = ln(xi, p + "self_attn_layer_norm");
            q.add(scaled(linear(h, p + "self_attn.q_proj")));
            k.add(linear(h, p + "self_attn.k_proj"));
            v.add(linear(h, p + "self_attn.v_proj"));
        }
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            double[][] b = new double[heads][];
            for (int h = 0; h < heads; h++) {
                b[h] = bias[h][i];
            }
            double[] a = attend(p + "self_attn", q.get(i), k, v, b);
            double[] x1 = addInto(x[i], ln(a, p + "attn_ln"));
            out[i] = ffn(p, x1);
        }
        return out;
    }

    /** A finished encoder stream. */
    private record StreamRun(double[][] state, EncoderExit exit) {
    }

    private StreamRun runStream(Stream stream, double[][] x0, Tok[] toks, double[][] qPos, double[][] kPos,
            double threshold) {
        int layers = c.encoderLayers();
        double[][] x = x0;
        List<GateRecord> gates = new ArrayList<>();
        int exit = layers;
        for (int l = 0; l < layers; l++) {
            double[][] y = encoderLayer(l, x, encoderBias(l, toks, qPos, kPos));
            if (l + 1 < layers) {
                double s = cosine(y, x);
                boolean go = l + 1 >= policy.minExitLayer() && s > threshold;
                gates.add(new GateRecord(stream, l + 1, s, threshold, go));
                x = y;
                if (go) {
                    exit = l + 1;
                    break;
                }
            } else {
                x = y;
            }
        }
        return new StreamRun(x, new EncoderExit(stream, exit, x0.length, gates));
    }

    /**
     * The encoder's result for one example.
     *
     * @param output      {@code encoder.layer_norm([image ; text])}, {@code [I + T][d]}
     * @param positions   the LN'd encoder positions {@code [image_pos_ln(img) ; pos_ln(text)]}
     *                    that decoder cross-attention keys its position bias on
     * @param exits       the exits, image then text (or the joint stream)
     * @param imageTokens I
     * @param textTokens  T
     */
    public record Encoded(double[][] output, double[][] positions, List<EncoderExit> exits, int imageTokens,
            int textTokens) {
    }

    /** Encodes one example (input already validated). */
    public Encoded encode(float[] image, int[] tokens) {
        double[][] img = embedImage(image);
        double[][] txt = embedText(tokens);
        int ni = img.length;
        int nt = txt.length;
        int g = c.imageGrid();
        double[][] imgPos = imagePositions();
        double[][] txtPos = textPositions(nt);
        Tok[] imgToks = new Tok[ni];
        for (int i = 0; i < ni; i++) {
            imgToks[i] = new Tok(true, 0, i / g, i % g);
        }
        Tok[] txtToks = new Tok[nt];
        for (int i = 0; i < nt; i++) {
            txtToks[i] = new Tok(false, i, 0, 0);
        }
        double[][] allPos = concat(imgPos, txtPos);
        double[][] finalStates;
        List<EncoderExit> exits = new ArrayList<>();
        if (policy.encoderMode() == EncoderMode.DECOMPOSED) {
            StreamRun ir = runStream(Stream.IMAGE, img, imgToks, project(imgPos, "encoder.pos_q_linear", true),
                    project(imgPos, "encoder.pos_k_linear", false), policy.imageThreshold());
            StreamRun tr = runStream(Stream.TEXT, txt, txtToks, project(txtPos, "encoder.pos_q_linear", true),
                    project(txtPos, "encoder.pos_k_linear", false), policy.textThreshold());
            exits.add(ir.exit);
            exits.add(tr.exit);
            finalStates = concat(ir.state, tr.state);
        } else {
            Tok[] toks = new Tok[ni + nt];
            System.arraycopy(imgToks, 0, toks, 0, ni);
            System.arraycopy(txtToks, 0, toks, ni, nt);
            StreamRun jr = runStream(Stream.JOINT, concat(img, txt), toks, project(allPos, "encoder.pos_q_linear", true),
                    project(allPos, "encoder.pos_k_linear", false), policy.jointThreshold());
            exits.add(jr.exit);
            finalStates = jr.state;
        }
        double[][] out = new double[finalStates.length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = ln(finalStates[i], "encoder.layer_norm");
        }
        return new Encoded(out, allPos, List.copyOf(exits), ni, nt);
    }

    private double[][] project(double[][] pos, String linear, boolean scaleIt) {
        double[][] out = new double[pos.length][];
        for (int i = 0; i < pos.length; i++) {
            double[] y = linear(pos[i], linear);
            out[i] = scaleIt ? scaled(y) : y;
        }
        return out;
    }

    private static double[][] concat(double[][] a, double[][] b) {
        double[][] out = new double[a.length + b.length][];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    // ------------------------------------------------------------------ decoder

    /** Cross-attention keys and values of every decoder layer over one example's encoder output. */
    private record CrossKv(List<List<double[]>> keys, List<List<double[]>> values, double[][] posKeys) {
    }

    /**
     * The cross K/V of every layer for an encoder output: a pure function of it (design §4 caches
     * them when a layer first runs; when they are computed cannot change them).
     */
    private CrossKv cross(Encoded e) {
        List<List<double[]>> ks = new ArrayList<>();
        List<List<double[]>> vs = new ArrayList<>();
        for (int l = 0; l < c.decoderLayers(); l++) {
            String p = "decoder.layers." + l + ".encoder_attn.";
            List<double[]> k = new ArrayList<>();
            List<double[]> v = new ArrayList<>();
            for (double[] o : e.output) {
                k.add(linear(o, p + "k_proj"));
                v.add(linear(o, p + "v_proj"));
            }
            ks.add(k);
            vs.add(v);
        }
        return new CrossKv(ks, vs, project(e.positions, "decoder.cross_pos_k_linear", false));
    }

    /** One cached self-attention key/value of a decoder layer, at its real position. */
    private record Kv(int pos, double[] k, double[] v) {
    }

    /**
     * One decoder row's incremental state: its example's encoder output, the next position, and
     * per layer the self-attention entries that layer holds (which positions depends on the exits
     * and the KV policy).
     */
    public static final class Row {
        private final Encoded encoded;
        private final CrossKv cross;
        private int next;
        private final List<List<Kv>> cache;

        private Row(Encoded encoded, CrossKv cross, int layers) {
            this.encoded = encoded;
            this.cross = cross;
            this.cache = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                cache.add(new ArrayList<>());
            }
        }

        /** The encoder output this row attends to. */
        public Encoded encoded() {
            return encoded;
        }

        /** The next position this row will be fed at. */
        public int position() {
            return next;
        }

        /** A copy that continues independently (beams branching). */
        public Row copy() {
            Row r = new Row(encoded, cross, cache.size());
            r.next = next;
            for (int l = 0; l < cache.size(); l++) {
                r.cache.get(l).addAll(cache.get(l));
            }
            return r;
        }

        /** Positions that layer {@code l} (0-based) holds, in insertion order; for tests. */
        public int[] positionsAt(int l) {
            return cache.get(l).stream().mapToInt(Kv::pos).toArray();
        }
    }

    /** A fresh decoder row attending to {@code enc}. */
    public Row newRow(Encoded enc) {
        return new Row(enc, cross(enc), c.decoderLayers());
    }

    /**
     * One row's decoding step.
     *
     * @param logits    vocabulary logits after {@code decoder.layer_norm} and the tied projection
     * @param exitLayer the last layer run, 1-based
     * @param gates     the gates evaluated
     */
    public record StepResult(double[] logits, int exitLayer, List<GateRecord> gates) {
    }

    /** Decoder self-attention bias of layer {@code l}, head {@code h}, at real positions. */
    private double decoderSelfBias(int l, int h, int qPos, int kPos) {
        double[] table = p("decoder.token_rel_pos_table_list." + l + ".weight");
        int r = ReferenceMath.tokenBucketRow(qPos - kPos, c.tokenBucketSize(), c.tokenBucketPositions());
        return headDot(decSelfQ[qPos], decSelfK[kPos], h) + table[r * heads + h];
    }

    /**
     * Decoder layer {@code l} (0-based) for one query at position {@code t}: causal
     * self-attention over {@code self} (which must already hold the query's own entry), then
     * cross-attention over the example's encoder output, then the FFN.
     */
    private double[] decoderLayer(int l, double[] x, double[] q, int t, List<Kv> self, CrossKv cross) {
        String p = "decoder.layers." + l + ".";
        List<double[]> ks = new ArrayList<>();
        List<double[]> vs = new ArrayList<>();
        double[][] bias = new double[heads][self.size()];
        for (int j = 0; j < self.size(); j++) {
            Kv e = self.get(j);
            ks.add(e.k);
            vs.add(e.v);
            for (int h = 0; h < heads; h++) {
                bias[h][j] = decoderSelfBias(l, h, t, e.pos);
            }
        }
        double[] a = attend(p + "self_attn", q, ks, vs, bias);
        double[] x1 = addInto(x, ln(a, p + "self_attn_ln"));
        double[] hc = ln(x1, p + "encoder_attn_layer_norm");
        double[] qc = scaled(linear(hc, p + "encoder_attn.q_proj"));
        int ne = cross.posKeys.length;
        double[][] cb = new double[heads][ne];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < ne; j++) {
                cb[h][j] = headDot(decCrossQ[t], cross.posKeys[j], h);
            }
        }
        double[] ac = attend(p + "encoder_attn", qc, cross.keys.get(l), cross.values.get(l), cb);
        double[] x2 = addInto(x1, ln(ac, p + "cross_attn_ln"));
        return ffn(p, x2);
    }

    private double[] decoderEmbed(int token) {
        return ln(row("encoder.embed_tokens.weight", token, d), "decoder.layernorm_embedding");
    }

    private double[] lmHead(double[] h) {
        double[] y = ln(h, "decoder.layer_norm");
        double[] e = p("encoder.embed_tokens.weight");
        double[] logits = new double[c.vocabSize()];
        for (int v = 0; v < logits.length; v++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                s += e[v * d + k] * y[k];
            }
            logits[v] = s;
        }
        return logits;
    }

    /**
     * Feeds {@code token} to {@code row} at its next position and runs the decoder with exits
     * against {@code threshold}. After an exit at layer e, every deeper layer gets (or not) an
     * entry for this position per the KV policy: PROPAGATE computes it from the exit hidden state
     * with that layer's own {@code self_attn_layer_norm} and projections; COPY reuses layer e's
     * entry; OMIT adds nothing.
     */
    public StepResult step(Row row, int token, double threshold) {
        int t = row.next;
        int layers = c.decoderLayers();
        CrossKv cross = row.cross;
        double[] x = decoderEmbed(token);
        List<GateRecord> gates = new ArrayList<>();
        int exit = layers;
        Kv[] own = new Kv[layers];
        for (int l = 0; l < layers; l++) {
            String p = "decoder.layers." + l + ".";
            double[] h = ln(x, p + "self_attn_layer_norm");
            double[] q = scaled(linear(h, p + "self_attn.q_proj"));
            own[l] = new Kv(t, linear(h, p + "self_attn.k_proj"), linear(h, p + "self_attn.v_proj"));
            row.cache.get(l).add(own[l]);
            double[] y = decoderLayer(l, x, q, t, row.cache.get(l), cross);
            if (l + 1 < layers) {
                double s = decoderScore(new double[][] {y}, new double[][] {x});
                boolean go = l + 1 >= policy.minExitLayer() && s > threshold;
                gates.add(new GateRecord(Stream.DECODER, l + 1, s, threshold, go));
                x = y;
                if (go) {
                    exit = l + 1;
                    break;
                }
            } else {
                x = y;
            }
        }
        for (int l = exit; l < layers; l++) {
            String p = "decoder.layers." + l + ".";
            KvPolicy kv = policy.kvPolicy();
            switch (kv) {
                case PROPAGATE -> {
                    double[] h = ln(x, p + "self_attn_layer_norm");
                    row.cache.get(l).add(new Kv(t, linear(h, p + "self_attn.k_proj"), linear(h, p + "self_attn.v_proj")));
                }
                case COPY -> row.cache.get(l).add(new Kv(t, own[exit - 1].k, own[exit - 1].v));
                case OMIT -> {
                    // deeper layers keep no entry for this position
                }
            }
        }
        row.next++;
        return new StepResult(lmHead(x), exit, List.copyOf(gates));
    }

    /**
     * The result of one scoring pass.
     *
     * @param logits    per row, per scored position, the vocabulary logits
     * @param exitLayer per example, the last decoder layer run
     * @param gates     per example, the gates evaluated
     */
    public record ScoreResult(double[][][] logits, int[] exitLayer, List<List<GateRecord>> gates) {
    }

    /**
     * Runs every row's whole sequence causally through the decoder (positions 0..len-1); after
     * each layer one gate per example over the concatenation of all its rows and positions
     * (design §4: one decision per example), against the fixed {@code threshold}.
     */
    public ScoreResult score(List<Encoded> examples, int[] exampleOfRow, int[][] sequences, int[] firstScored,
            double threshold) {
        int layers = c.decoderLayers();
        int rows = sequences.length;
        double[][][] finalStates = new double[rows][][];
        int[] exitLayer = new int[examples.size()];
        List<List<GateRecord>> allGates = new ArrayList<>();
        for (int e = 0; e < examples.size(); e++) {
            List<Integer> mine = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                if (exampleOfRow[r] == e) {
                    mine.add(r);
                }
            }
            CrossKv cross = cross(examples.get(e));
            double[][][] x = new double[mine.size()][][];
            for (int m = 0; m < mine.size(); m++) {
                int[] seq = sequences[mine.get(m)];
                x[m] = new double[seq.length][];
                for (int t = 0; t < seq.length; t++) {
                    x[m][t] = decoderEmbed(seq[t]);
                }
            }
            List<GateRecord> gates = new ArrayList<>();
            int exit = layers;
            for (int l = 0; l < layers; l++) {
                String p = "decoder.layers." + l + ".";
                double[][][] y = new double[mine.size()][][];
                for (int m = 0; m < mine.size(); m++) {
                    int n = x[m].length;
                    List<Kv> self = new ArrayList<>();
                    double[][] q = new double[n][];
                    for (int t = 0; t < n; t++) {
                        double[] h = ln(x[m][t], p + "self_attn_layer_norm");
                        q[t] = scaled(linear(h, p + "self_attn.q_proj"));
                        self.add(new Kv(t, linear(h, p + "self_attn.k_proj"), linear(h, p + "self_attn.v_proj")));
                    }
                    y[m] = new double[n][];
                    for (int t = 0; t < n; t++) {
                        y[m][t] = decoderLayer(l, x[m][t], q[t], t, self.subList(0, t + 1), cross);
                    }
                }
                if (l + 1 < layers) {
                    double s = decoderScore(flatten(y), flatten(x));
                    boolean go = l + 1 >= policy.minExitLayer() && s > threshold;
                    gates.add(new GateRecord(Stream.DECODER, l + 1, s, threshold, go));
                    x = y;
                    if (go) {
                        exit = l + 1;
                        break;
                    }
                } else {
                    x = y;
                }
            }
            exitLayer[e] = exit;
            allGates.add(List.copyOf(gates));
            for (int m = 0; m < mine.size(); m++) {
                finalStates[mine.get(m)] = x[m];
            }
        }
        double[][][] logits = new double[rows][][];
        for (int r = 0; r < rows; r++) {
            int n = sequences[r].length;
            logits[r] = new double[n - firstScored[r]][];
            for (int t = firstScored[r]; t < n; t++) {
                logits[r][t - firstScored[r]] = lmHead(finalStates[r][t]);
            }
        }
        return new ScoreResult(logits, exitLayer, List.copyOf(allGates));
    }

    /**
     * The score of a decoder gate over the states {@code y} of its positions (inputs {@code x}):
     * MuE's cosine, or CALM's confidence, the smallest over the positions of the top softmax
     * probability of the logits read from {@code y}.
     */
    private double decoderScore(double[][] y, double[][] x) {
        return switch (policy.decoderCriterion()) {
            case CosineCriterion.ID -> cosine(y, x);
            case SoftmaxConfidenceCriterion.ID -> {
                double least = 1;
                for (double[] v : y) {
                    double[] logits = lmHead(v);
                    double max = Double.NEGATIVE_INFINITY;
                    for (double z : logits) {
                        max = Math.max(max, z);
                    }
                    double sum = 0;
                    for (double z : logits) {
                        sum += Math.exp(z - max);
                    }
                    least = Math.min(least, 1 / sum);
                }
                yield least;
            }
            default -> throw new UnsupportedFeatureException("the reference knows the cosine and calm criteria, not '"
                    + policy.decoderCriterion() + "'");
        };
    }

    private static double[][] flatten(double[][][] x) {
        List<double[]> out = new ArrayList<>();
        for (double[][] r : x) {
            for (double[] v : r) {
                out.add(v);
            }
        }
        return out.toArray(new double[0][]);
    }
}
