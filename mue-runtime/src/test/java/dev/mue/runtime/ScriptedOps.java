package dev.mue.runtime;

import dev.mue.api.exit.GateMeasure;
import dev.mue.api.layer.LayerOps;
import dev.mue.api.layer.Workspace;
import dev.mue.api.plan.Stream;
import java.util.ArrayList;
import java.util.List;

/**
 * Layer operations whose states are labels, not numbers: every segment says which member it
 * belongs to and which stream and layer made it, gate scores come from a script, and every call is
 * logged. The runtime's control (which members reach which layer, what is filled, what is
 * prepared, which threshold is used) can then be checked exactly, independently of any arithmetic.
 * Not a test itself.
 */
final class ScriptedOps implements LayerOps<ScriptedOps.States, ScriptedOps.Memory, ScriptedOps.Caches> {

    /** One segment: its member (example or row), the stream and the layer that made it (0: an embedding). */
    record Seg(int member, Stream stream, int layer, int tokens) {
    }

    /** Segments. */
    record States(List<Seg> segs) {
    }

    /** The encoder memory: which examples got cross keys of which layer. */
    static final class Memory {
        final List<Seg> examples;
        final List<String> prepared = new ArrayList<>();

        Memory(List<Seg> examples) {
            this.examples = examples;
        }
    }

    /** The caches: the log of every entry appended, as "layer:row@position<-source". */
    static final class Caches {
        final List<String> entries = new ArrayList<>();
        int rows;
    }

    /** The gate score of a member after a layer of a stream, step by step for the decoder. */
    interface Script {
        double score(GateMeasure measure, Stream stream, int layer, int member);
    }

    final List<String> log = new ArrayList<>();
    private final Script script;
    private final int vocab;
    int workspaces;
    int closedWorkspaces;
    Caches lastCaches;

    ScriptedOps(Script script, int vocab) {
        this.script = script;
        this.vocab = vocab;
    }

    private static States of(List<Seg> segs) {
        return new States(List.copyOf(segs));
    }

    private static List<Integer> members(States x) {
        return x.segs().stream().map(Seg::member).toList();
    }

    @Override
    public Workspace workspace() {
        workspaces++;
        return new Workspace() {
            @Override
            public Workspace child() {
                return workspace();
            }

            @Override
            public void close() {
                closedWorkspaces++;
            }
        };
    }

    @Override
    public States embedImages(Workspace ws, List<float[]> images) {
        List<Seg> s = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            s.add(new Seg(i, Stream.IMAGE, 0, 4));
        }
        return of(s);
    }

    @Override
    public States embedTexts(Workspace ws, List<int[]> texts) {
        List<Seg> s = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            s.add(new Seg(i, Stream.TEXT, 0, texts.get(i).length));
        }
        return of(s);
    }

    @Override
    public States concat(Workspace ws, States a, States b) {
        List<Seg> s = new ArrayList<>();
        for (int i = 0; i < a.segs().size(); i++) {
            Seg x = a.segs().get(i);
            s.add(new Seg(x.member(), Stream.JOINT, x.layer(), x.tokens() + b.segs().get(i).tokens()));
        }
        return of(s);
    }

    @Override
    public States encoderLayer(Workspace ws, Stream stream, int layer, States x) {
        log.add("enc " + stream.label() + " L" + layer + " " + members(x));
        return of(x.segs().stream().map(g -> new Seg(g.member(), stream, layer, g.tokens())).toList());
    }

    @Override
    public Memory encoderOutput(Workspace ws, States x) {
        log.add("output " + members(x) + " tokens " + x.segs().stream().map(Seg::tokens).toList());
        return new Memory(x.segs());
    }

    @Override
    public float[] memoryRows(Memory memory, int example) {
        return new float[] {memory.examples.get(example).layer()};
    }

    @Override
    public void prepareCross(Memory m, int layer, int[] examples) {
        for (int e : examples) {
            m.prepared.add("L" + layer + ":" + e);
        }
    }

    @Override
    public States embedDecoder(Workspace ws, int[][] sequences) {
        List<Seg> s = new ArrayList<>();
        for (int i = 0; i < sequences.length; i++) {
            s.add(new Seg(i, Stream.DECODER, 0, sequences[i].length));
        }
        return of(s);
    }

    @Override
    public Caches caches(Workspace ws, int rows, int capacity) {
        lastCaches = new Caches();
        lastCaches.rows = rows;
        return lastCaches;
    }

    @Override
    public States decoderStep(Workspace ws, int layer, States x, Caches caches, int[] rows, int[] positions,
            Memory memory, int[] examples) {
        for (int i = 0; i < rows.length; i++) {
            if (!memory.prepared.contains("L" + layer + ":" + examples[i])) {
                throw new IllegalStateException("cross keys of layer " + layer + " not prepared for example "
                        + examples[i]);
            }
            caches.entries.add(layer + ":" + rows[i] + "@" + positions[i] + "<-self");
        }
        log.add("dec L" + layer + " rows " + java.util.Arrays.toString(rows));
        List<Seg> s = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            s.add(new Seg(rows[i], Stream.DECODER, layer, 1));
        }
        return of(s);
    }

    @Override
    public void propagateKv(Workspace ws, Caches caches, int layer, int[] rows, int[] positions, States hidden) {
        for (int i = 0; i < rows.length; i++) {
            Seg h = hidden.segs().get(i);
            caches.entries.add(layer + ":" + rows[i] + "@" + positions[i] + "<-propagate(L" + h.layer() + ")");
        }
    }

    @Override
    public void copyKv(Caches caches, int layer, int fromLayer, int[] rows, int[] positions) {
        for (int i = 0; i < rows.length; i++) {
            caches.entries.add(layer + ":" + rows[i] + "@" + positions[i] + "<-copy(L" + fromLayer + ")");
        }
    }

    @Override
    public Caches reorder(Caches caches, int[] parents) {
        caches.entries.add("reorder " + java.util.Arrays.toString(parents));
        caches.rows = parents.length;
        return caches;
    }

    @Override
    public States decoderPass(Workspace ws, int layer, States x, Memory memory, int[] examples) {
        log.add("pass L" + layer + " examples " + java.util.Arrays.toString(examples));
        List<Seg> s = new ArrayList<>();
        for (int i = 0; i < examples.length; i++) {
            s.add(new Seg(examples[i], Stream.DECODER, layer, x.segs().get(i).tokens()));
        }
        return of(s);
    }

    @Override
    public States gather(Workspace ws, List<States> sources, int[] source, int[] segment) {
        List<Seg> s = new ArrayList<>();
        for (int k = 0; k < source.length; k++) {
            s.add(sources.get(source[k]).segs().get(segment[k]));
        }
        return of(s);
    }

    @Override
    public double[] measure(GateMeasure measure, States out, States in, int[] groupEnds) {
        double[] v = new double[groupEnds.length];
        int start = 0;
        for (int g = 0; g < groupEnds.length; g++) {
            Seg s = out.segs().get(start);
            v[g] = script.score(measure, s.stream(), s.layer(), s.member());
            start = groupEnds[g];
        }
        log.add("measure " + measure + " " + members(out));
        return v;
    }

    /** Logits whose entry 0 is the layer that made the state and entry 1 its member. */
    @Override
    public float[][][] logits(Workspace ws, States x, int[] first) {
        float[][][] out = new float[x.segs().size()][][];
        for (int s = 0; s < out.length; s++) {
            Seg g = x.segs().get(s);
            out[s] = new float[g.tokens() - first[s]][vocab];
            for (float[] row : out[s]) {
                row[0] = g.layer();
                row[1] = g.member();
            }
        }
        return out;
    }

    @Override
    public void close() {
        log.add("closed");
    }
}
