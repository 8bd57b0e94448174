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
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
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
 * ({@link ExitPolicy#full()}) and is a constant here. BatchNorm is folded into each convolution by {@link PtParams}; the folded weight and
 * shift are trained and exported as the convolution weight with an identity BatchNorm (weight 1,
 * bias the shift, running mean 0, running variance 1 - eps), which folds back to the same values.
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
        this.params = new PtParams(config, model.weights(), plan.biases(), manager);
        this.ops = new PtOps(config);
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
        conv(rp + "conv1", rp + "bn1", p.stem);
        ResNetConfig r = config.resnet();
        for (int s = 0; s < 3; s++) {
            for (int b = 0; b < r.blocks(s); b++) {
                String q = rp + "layer" + (s + 1) + "." + b + ".";
                PtParams.Bottleneck bl = p.stages[s][b];
                conv(q + "conv1", q + "bn1", bl.c1());
                conv(q + "conv2", q + "bn2", bl.c2());
                conv(q + "conv3", q + "bn3", bl.c3());
                if (WeightLayout.hasDownsample(r, s, b)) {
                    conv(q + "downsample.0", q + "downsample.1", bl.down());
                }
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

    private void conv(String conv, String bn, PtParams.ConvBn c) {
        leaves.put(conv + ".weight#folded:" + bn, c.w());
        leaves.put(bn + ".bias#shift", c.bias());
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
        float eps = (float) config.layerNormEps();
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
                } else if (kind.startsWith("folded:")) {
                    String bn = kind.substring("folded:".length());
                    put(data, name, v);
                    int out = data.get(bn + ".weight").length;
                    float[] one = new float[out];
                    Arrays.fill(one, 1f);
                    float[] var = new float[out];
                    Arrays.fill(var, 1f - eps);
                    data.put(bn + ".weight", one);
                    data.put(bn + ".running_mean", new float[out]);
                    data.put(bn + ".running_var", var);
                } else if (kind.equals("shift")) {
                    put(data, name, v);
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
