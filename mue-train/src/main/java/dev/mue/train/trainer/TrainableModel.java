package dev.mue.train.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mue.api.model.Model;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.ResNetConfig;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.model.Weights;
import dev.mue.api.plan.BiasBlock;
import dev.mue.api.plan.PlanShapes;
import dev.mue.api.policy.ExitPolicy;
import dev.mue.api.tensor.FloatTensor;
import dev.mue.backend.torch.forward.PtOps;
import dev.mue.backend.torch.forward.PtParams;
import dev.mue.planner.Planner;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's parameters uploaded as the PyTorch backend's {@link PtParams}, with every trainable
 * tensor marked as an autograd leaf under a stable key, and the way back to OFA-named weights.
 *
 * <p>Position biases: the relative-position tables (per layer: the text and image ones of the
 * encoder, the decoder's token one) are trained; each step rebuilds a site's bias as the planner's
 * folded absolute bias plus the table row its bucket index selects ({@link #bias}). The absolute
 * part (position embeddings, their LayerNorms and the position query/key linears) stays at its
 * initial values: it is folded once by the planner for the decomposed encoder at full depth
 * ({@link ExitPolicy#full()}) and is a constant here. The backbone's convolutions and BatchNorms
 * are trained unfolded, BatchNorm with batch statistics ({@link #training(boolean)}, {@link
 * #resnet}); the export carries the running statistics, which the backends fold as for any OFA
 * checkpoint.
 */
// DJL and backend types are part of this low-level API on purpose; dev.mue.train requires them
// without "transitive" so that mue-cli can keep the torch backend at runtime scope.
@SuppressWarnings("exports")
public final class TrainableModel implements AutoCloseable {
    private final Model initial;
    private final ModelConfig config;
    private final PlanShapes shapes;
    private final NDManager manager;
    private final PtParams params;
    private final PtOps ops;
    private final Map<String, NDArray> leaves = new LinkedHashMap<>();
    private final Map<Site, RelativeSite> sites = new java.util.EnumMap<>(Site.class);
    /** PyTorch's default BatchNorm momentum: running = 0.9 running + 0.1 batch. */
    static final float BN_MOMENTUM = 0.1f;
    private final NDArray bnEps;
    private ConvBnLeaves stem;
    private ConvBnLeaves[][][] blocks;
    private boolean training;

    /** An attention site whose bias has a trained relative part. */
    public enum Site {
        /** The encoder's text stream self-attention. */
        ENCODER_TEXT,
        /** The encoder's image stream self-attention. */
        ENCODER_IMAGE,
        /** The decoder's self-attention. */
        DECODER_SELF
    }

    /** A folded site: constant absolute bias, bucket index (clamped) and validity, per-layer tables. */
    private record RelativeSite(NDArray abs, NDArray index, NDArray valid, NDArray[] tables, int heads, int rows,
            int cols) {
    }

    /** Uploads {@code model}'s weights into a child of {@code parent} and marks the leaves. */
    public TrainableModel(Model model, PlanShapes shapes, NDManager parent) {
        this.initial = model;
        this.config = model.config();
        this.shapes = shapes;
        this.manager = parent.newSubManager();
        var plan = Planner.compile(model, ExitPolicy.full(), shapes);
        this.params = new PtParams(config, plan.weights(), plan.biases(), manager);
        this.ops = new PtOps(config);
        // a tensor, not a Java scalar: see PtOps on scalars that autograd keeps past their lifetime
        this.bnEps = manager.create((float) config.layerNormEps());
        collect();
        var b = plan.biases();
        relative(Site.ENCODER_TEXT, b.encoderText(), "encoder.token_rel_pos_table_list", model);
        relative(Site.ENCODER_IMAGE, b.encoderImage(), "encoder.image_rel_pos_table_list", model);
        relative(Site.DECODER_SELF, b.decoderSelf(), "decoder.token_rel_pos_table_list", model);
        for (NDArray a : leaves.values()) {
            a.setRequiresGradient(true);
        }
    }

    private void collect() {
        PtParams p = params;
        leaves.put("encoder.embed_tokens.weight", p.embedTokens);
        leaves.put("encoder.type_embedding.weight#0", p.textType);
        leaves.put("encoder.type_embedding.weight#1", p.imageType);
        ln("encoder.layernorm_embedding", p.textEmbedLn);
        ln("encoder.patch_layernorm_embedding", p.imageEmbedLn);
        lin("encoder.image_proj", p.imageProj);
        ln("encoder.layer_norm", p.encoderOutLn);
        for (int i = 0; i < p.encoder.length; i++) {
            String q = "encoder.layers." + i + ".";
            PtParams.Layer l = p.encoder[i];
            ln(q + "self_attn_layer_norm", l.selfLn());
            attn(q + "self_attn", l.self());
            ln(q + "attn_ln", l.selfPostLn());
            ffn(q, l);
        }
        ln("decoder.layernorm_embedding", p.decoderEmbedLn);
        ln("decoder.layer_norm", p.decoderOutLn);
        for (int i = 0; i < p.decoder.length; i++) {
            String q = "decoder.layers." + i + ".";
            PtParams.Layer l = p.decoder[i];
            ln(q + "self_attn_layer_norm", l.selfLn());
            attn(q + "self_attn", l.self());
            ln(q + "self_attn_ln", l.selfPostLn());
            ln(q + "encoder_attn_layer_norm", l.crossLn());
            attn(q + "encoder_attn", l.cross());
            ln(q + "cross_attn_ln", l.crossPostLn());
            ffn(q, l);
        }
        String rp = "encoder.embed_images.";
        stem = conv(rp + "conv1", rp + "bn1", p.stem);
        ResNetConfig r = config.resnet();
        blocks = new ConvBnLeaves[3][][];
        for (int s = 0; s < 3; s++) {
            blocks[s] = new ConvBnLeaves[r.blocks(s)][];
            for (int b = 0; b < r.blocks(s); b++) {
                String q = rp + "layer" + (s + 1) + "." + b + ".";
                PtParams.Bottleneck bl = p.stages[s][b];
                blocks[s][b] = new ConvBnLeaves[] {conv(q + "conv1", q + "bn1", bl.c1()),
                        conv(q + "conv2", q + "bn2", bl.c2()), conv(q + "conv3", q + "bn3", bl.c3()),
                        WeightLayout.hasDownsample(r, s, b) ? conv(q + "downsample.0", q + "downsample.1", bl.down())
                                : null};
            }
        }
    }

    private void ln(String name, PtParams.Ln l) {
        leaves.put(name + ".weight", l.w());
        leaves.put(name + ".bias", l.b());
    }

    private void lin(String name, PtParams.Lin l) {
        leaves.put(name + ".weight", l.w());
        leaves.put(name + ".bias", l.b());
    }

    private void attn(String name, PtParams.Attn a) {
        lin(name + ".q_proj", a.q());
        lin(name + ".k_proj", a.k());
        lin(name + ".v_proj", a.v());
        lin(name + ".out_proj", a.o());
        leaves.put(name + ".c_attn", a.cAttn());
    }

    private void ffn(String q, PtParams.Layer l) {
        ln(q + "final_layer_norm", l.ffnInLn());
        lin(q + "fc1", l.fc1());
        ln(q + "ffn_layernorm", l.ffnMidLn());
        lin(q + "fc2", l.fc2());
    }

    /**
     * A convolution and its BatchNorm as trained: the raw kernel, BatchNorm's weight and bias
     * (leaves), and its running statistics (updated, not differentiated).
     */
    private record ConvBnLeaves(String bn, NDArray w, NDArray zeroBias, NDArray gamma, NDArray beta,
            NDArray runningMean, NDArray runningVar, int stride, int pad) {
    }

    private ConvBnLeaves conv(String conv, String bn, PtParams.ConvBn folded) {
        Weights w = initial.weights();
        FloatTensor k = w.get(conv + ".weight");
        long[] shape = new long[k.shape().length];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = k.shape()[i];
        }
        int out = k.shape()[0];
        ConvBnLeaves c = new ConvBnLeaves(bn, manager.create(k.data(), new Shape(shape)), manager.zeros(new Shape(out)),
                manager.create(w.data(bn + ".weight")), manager.create(w.data(bn + ".bias")),
                manager.create(w.data(bn + ".running_mean")), manager.create(w.data(bn + ".running_var")),
                folded.stride(), folded.pad());
        leaves.put(conv + ".weight", c.w());
        leaves.put(bn + ".weight", c.gamma());
        leaves.put(bn + ".bias", c.beta());
        return c;
    }

    /**
     * Switches the backbone's BatchNorm between training (batch statistics, running statistics
     * updated with momentum {@value #BN_MOMENTUM}) and inference (running statistics, as every
     * backend folds them). Inference is the default; the trainer switches to training around each
     * optimisation step only, so validation and export see the model the backends will run.
     */
    public void training(boolean on) {
        this.training = on;
    }

    /**
     * The ResNet backbone {@code [B, 3, S, S]} to {@code [B, C, g, g]}, as {@code PtOps.resnet}
     * but with BatchNorm explicit: trained with batch statistics, since a frozen (folded) BatchNorm
     * lets the optimiser silence the image: biases drift negative until every ReLU is dead, and
     * the image tokens become one constant.
     */
    public NDArray resnet(NDArray image) {
        NDArray x = convBn(image, stem, true);
        x = ai.djl.nn.pooling.Pool.maxPool2d(x, new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false);
        for (ConvBnLeaves[][] stage : blocks) {
            for (ConvBnLeaves[] b : stage) {
                NDArray y = convBn(x, b[0], true);
                y = convBn(y, b[1], true);
                y = convBn(y, b[2], false);
                NDArray shortcut = b[3] == null ? x : convBn(x, b[3], false);
                x = ai.djl.nn.Activation.relu(y.add(shortcut));
            }
        }
        return x;
    }

    private NDArray convBn(NDArray x, ConvBnLeaves c, boolean relu) {
        NDArray y = PtOps.convBn(x, new PtParams.ConvBn(c.w(), c.zeroBias(), c.stride(), c.pad()), false);
        long ch = y.getShape().get(1);
        Shape bcast = new Shape(1, ch, 1, 1);
        NDArray norm;
        if (training) {
            long count = y.getShape().get(0) * y.getShape().get(2) * y.getShape().get(3);
            // libtorch's mean over several axes is not reachable through DJL: sum, then divide by
            // the count as a tensor of the step's manager (alive until the backward pass)
            NDArray n = y.getManager().create((float) count);
            NDArray mean = y.sum(new int[] {0, 2, 3}, true).div(n);
            NDArray centered = y.sub(mean);
            NDArray var = centered.square().sum(new int[] {0, 2, 3}, true).div(n);
            norm = centered.div(var.add(bnEps).sqrt());
            try (NDManager tmp = manager.newSubManager()) {
                NDArray m = mean.stopGradient().reshape(ch);
                NDArray v = var.stopGradient().reshape(ch);
                m.attach(tmp);
                v.attach(tmp);
                float unbiased = count > 1 ? (float) count / (count - 1) : 1f;
                c.runningMean().muli(1 - BN_MOMENTUM).addi(m.mul(BN_MOMENTUM));
                c.runningVar().muli(1 - BN_MOMENTUM).addi(v.mul(BN_MOMENTUM * unbiased));
            }
        } else {
            norm = y.sub(c.runningMean().reshape(bcast)).div(c.runningVar().reshape(bcast).add(bnEps).sqrt());
        }
        NDArray out = norm.mul(c.gamma().reshape(bcast)).add(c.beta().reshape(bcast));
        return relu ? ai.djl.nn.Activation.relu(out) : out;
    }

    private void relative(Site site, BiasBlock block, String prefix, Model model) {
        if (block == null || !block.hasRelative()) {
            throw new IllegalStateException("the full-depth plan lacks the relative bias of " + site);
        }
        int heads = block.heads();
        int[] bucket = block.bucket();
        long[] index = new long[bucket.length];
        float[] valid = new float[bucket.length];
        for (int i = 0; i < bucket.length; i++) {
            index[i] = Math.max(0, bucket[i]);
            valid[i] = bucket[i] >= 0 ? 1f : 0f;
        }
        NDArray[] tables = new NDArray[block.tables().length];
        for (int l = 0; l < tables.length; l++) {
            String name = prefix + "." + l + ".weight";
            FloatTensor t = model.weights().get(name);
            tables[l] = manager.create(t.data(), new Shape(t.shape()[0], t.shape()[1]));
            leaves.put(name, tables[l]);
        }
        sites.put(site, new RelativeSite(manager.create(block.abs(), new Shape(heads, block.rows(), block.cols())),
                manager.create(index), manager.create(valid, new Shape(bucket.length, 1)), tables, heads,
                block.rows(), block.cols()));
    }

    /**
     * The bias {@code [H, nq, nk]} of {@code site} at 0-based {@code layer}: the constant absolute
     * part plus the trained relative table looked up through the bucket index, differentiable in
     * the table; created in {@code m}.
     */
    public NDArray bias(NDManager m, Site site, int layer, int nq, int nk) {
        RelativeSite s = sites.get(site);
        if (nq > s.rows() || nk > s.cols()) {
            throw new IllegalArgumentException(site + " bias folded for " + s.rows() + "x" + s.cols() + ", asked for "
                    + nq + "x" + nk);
        }
        NDArray rel = s.tables()[layer].get(m, new NDIndex("{}", s.index())).mul(s.valid());
        NDArray full = rel.transpose(1, 0).reshape(s.heads(), s.rows(), s.cols()).add(s.abs());
        return full.get(new NDIndex(":, :{}, :{}", nq, nk));
    }

    /** The trainable tensors by key (an OFA weight name, with a {@code #} suffix where the tensor is derived). */
    public Map<String, NDArray> leaves() {
        return Collections.unmodifiableMap(leaves);
    }

    /** The parameters and folded biases, grouped as the backend's forward code takes them. */
    public PtParams params() {
        return params;
    }

    /** The backend's forward functions for this configuration. */
    public PtOps ops() {
        return ops;
    }

    /** The model's configuration. */
    public ModelConfig config() {
        return config;
    }

    /** The longest encoder text and decoder input the folded biases cover. */
    public PlanShapes shapes() {
        return shapes;
    }

    /** The manager that owns the parameters; per-step work belongs in a child of it. */
    public NDManager manager() {
        return manager;
    }

    /** The current parameters as a model (the untrained tensors from the initial model). */
    public Model toModel() {
        Map<String, float[]> data = new LinkedHashMap<>();
        for (FloatTensor t : initial.weights().all()) {
            data.put(t.name(), t.data().clone());
        }
        int d = config.dModel();
        for (ConvBnLeaves c : convs()) {
            put(data, c.bn() + ".running_mean", c.runningMean().toFloatArray());
            put(data, c.bn() + ".running_var", c.runningVar().toFloatArray());
        }
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            String key = e.getKey();
            float[] v = e.getValue().toFloatArray();
            int hash = key.indexOf('#');
            if (hash < 0) {
                put(data, key, v);
            } else {
                String name = key.substring(0, hash);
                String kind = key.substring(hash + 1);
                if (kind.equals("0") || kind.equals("1")) {
                    System.arraycopy(v, 0, data.get(name), Integer.parseInt(kind) * d, d);
                } else {
                    throw new IllegalStateException("unknown parameter key " + key);
                }
            }
        }
        var tensors = new java.util.ArrayList<FloatTensor>();
        for (FloatTensor t : initial.weights().all()) {
            tensors.add(new FloatTensor(t.name(), t.shape(), data.get(t.name())));
        }
        return new Model(config, new Weights(tensors), initial.vocabulary(), initial.source());
    }

    private List<ConvBnLeaves> convs() {
        List<ConvBnLeaves> all = new ArrayList<>();
        all.add(stem);
        for (ConvBnLeaves[][] stage : blocks) {
            for (ConvBnLeaves[] b : stage) {
                for (ConvBnLeaves c : b) {
                    if (c != null) {
                        all.add(c);
                    }
                }
            }
        }
        return all;
    }

    private static void put(Map<String, float[]> data, String name, float[] v) {
        float[] old = data.get(name);
        if (old == null || old.length != v.length) {
            throw new IllegalStateException("parameter " + name + " does not match the model's weights");
        }
        data.put(name, v);
    }

    @Override
    public void close() {
        manager.close();
    }
}
