package dev.mue.tck.check;

import dev.mue.api.GateRecord;
import dev.mue.session.decode.BeamSearch;
import dev.mue.api.plan.Plan;
import dev.mue.api.spi.Backend;
import dev.mue.api.spi.DecoderStepper;
import dev.mue.api.spi.EncodedBatch;
import dev.mue.api.spi.EncoderInput;
import dev.mue.api.spi.Executable;
import dev.mue.api.spi.ScoringOutput;
import dev.mue.runtime.Runtime;
import dev.mue.tck.cases.TckCase;
import dev.mue.tck.reference.RecordingStepper;
import dev.mue.tck.reference.ReferenceBeamSearch;
import dev.mue.tck.reference.ReferenceEncodedBatch;
import dev.mue.tck.reference.ReferenceExecutable;
import dev.mue.tck.reference.ReferenceExecutor;
import dev.mue.tck.reference.ReferenceMath;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * Runs a case on the reference or on a backend and collects a {@link CaseRun}. Results are cached
 * per implementation and case for the life of the JVM, so the conformance and cross-backend tests
 * share them.
 */
public final class CaseRunner {
    private static final Map<TckCase, ReferenceRun> REFERENCE = new ConcurrentHashMap<>();
    private static final Map<String, CaseRun> BACKEND = new ConcurrentHashMap<>();

    private CaseRunner() {
    }

    /** The reference's run of {@code c} (cached). */
    public static ReferenceRun reference(TckCase c) {
        return REFERENCE.computeIfAbsent(c, CaseRunner::runReference);
    }

    /**
     * A backend's run of {@code c} (cached per backend id): the plan is compiled, prepared on the
     * backend and executed; the decoder replays the reference's calls, then searches freely.
     *
     * @throws dev.mue.api.UnsupportedFeatureException when the backend cannot prepare the plan
     */
    public static CaseRun backend(Backend backend, TckCase c) {
        String key = backend.id() + "/" + c.name();
        CaseRun r = BACKEND.get(key);
        if (r == null || r.tckCase() != c) {
            ReferenceRun ref = reference(c);
            Plan plan = c.plan();
            try (Executable ex = Runtime.prepare(backend, plan)) {
                r = run(backend.id(), ex, c, ref);
            }
            BACKEND.put(key, r);
        }
        return r;
    }

    /** Forgets cached backend runs of {@code backendId} (e.g. when a backend is re-created). */
    public static void forget(String backendId) {
        BACKEND.keySet().removeIf(k -> k.startsWith(backendId + "/"));
    }

    private static ReferenceRun runReference(TckCase c) {
        try (ReferenceExecutable ex = new ReferenceExecutable(c.plan())) {
            List<EncoderInput> inputs = c.encoderInputs();
            int n = inputs.size();
            int[] rows = IntStream.range(0, n).toArray();
            try (ReferenceEncodedBatch enc = ex.encode(inputs)) {
                List<CaseRun.Example> examples = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    examples.add(new CaseRun.Example(enc.exits(i), enc.outputTokens(i), enc.outputExact(i)));
                }
                List<RecordingStepper.Call> calls = List.of();
                List<BeamSearch.Hypothesis> hyps = null;
                List<BeamSearch.Hypothesis> shared = null;
                int[] ties = new int[n];
                int[] close = new int[n];
                Arrays.fill(ties, -1);
                Arrays.fill(close, -1);
                if (c.generates()) {
                    try (RecordingStepper rec = new RecordingStepper(ex.decoder(enc, rows, c.decoding().maxLength()), rows)) {
                        ReferenceBeamSearch.Result res = new ReferenceBeamSearch(c.decoding(),
                                Tolerances.TOKEN_TIE).run(rec, n);
                        hyps = res.best();
                        ties = res.firstTieStep();
                        calls = rec.calls();
                    }
                    int step = 0;
                    for (RecordingStepper.Call call : calls) {
                        if (call instanceof RecordingStepper.Step s) {
                            for (int r = 0; r < s.exitLayer().length; r++) {
                                int e = s.exampleOfRow()[r];
                                for (GateRecord g : s.gates().get(r)) {
                                    if (g.layer() >= c.policy().minExitLayer()
                                            && Math.abs(g.similarity() - g.threshold()) < Tolerances.CLOSE_CALL
                                            && close[e] < 0) {
                                        close[e] = step;
                                    }
                                }
                            }
                            step++;
                        }
                    }
                    try (DecoderStepper s = ex.decoder(enc, rows, c.decoding().maxLength())) {
                        shared = new BeamSearch(c.decoding()).run(s, n);
                    }
                }
                CaseRun.Scored scored = null;
                if (c.scores()) {
                    TckCase.Scoring s = c.scoring();
                    ReferenceExecutor.ScoreResult o = ex.scoreExact(enc, s.exampleOfRow(), s.sequences(),
                            s.firstScored());
                    scored = new CaseRun.Scored(o.logits(), o.exitLayer(), o.gates());
                }
                List<CaseRun.Single> singles = new ArrayList<>();
                if (n > 1) {
                    for (int i = 0; i < n; i++) {
                        try (ReferenceEncodedBatch one = ex.encode(List.of(inputs.get(i)))) {
                            CaseRun.Example e = new CaseRun.Example(one.exits(0), one.outputTokens(0), one.outputExact(0));
                            BeamSearch.Hypothesis h = null;
                            if (c.generates()) {
                                try (DecoderStepper st = ex.decoder(one, new int[] {0}, c.decoding().maxLength())) {
                                    h = new ReferenceBeamSearch(c.decoding(), Tolerances.TOKEN_TIE).run(st, 1).best().get(0);
                                }
                            }
                            CaseRun.Scored sc = null;
                            if (c.scores()) {
                                TckCase.Scoring s = c.scoring().onlyExample(i);
                                ReferenceExecutor.ScoreResult o = ex.scoreExact(one, s.exampleOfRow(), s.sequences(),
                                        s.firstScored());
                                sc = new CaseRun.Scored(o.logits(), o.exitLayer(), o.gates());
                            }
                            singles.add(new CaseRun.Single(e, h, sc));
                        }
                    }
                }
                CaseRun run = new CaseRun("reference", c, examples, calls, hyps, scored, singles);
                return new ReferenceRun(run, ties, close, shared);
            }
        }
    }

    /** Runs {@code c} on an executable prepared from the case's plan, replaying the reference's decoder calls. */
    public static CaseRun run(String id, Executable ex, TckCase c, ReferenceRun ref) {
        List<EncoderInput> inputs = c.encoderInputs();
        int n = inputs.size();
        int[] rows = IntStream.range(0, n).toArray();
        try (EncodedBatch enc = ex.encode(inputs)) {
            List<CaseRun.Example> examples = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                examples.add(example(enc, i));
            }
            List<RecordingStepper.Call> replay = new ArrayList<>();
            List<BeamSearch.Hypothesis> hyps = null;
            if (c.generates()) {
                try (RecordingStepper rec = new RecordingStepper(ex.decoder(enc, rows, c.decoding().maxLength()), rows)) {
                    for (RecordingStepper.Call call : ref.run().replay()) {
                        switch (call) {
                            case RecordingStepper.Step s -> rec.step(s.tokens());
                            case RecordingStepper.Reorder ro -> rec.reorder(ro.parents());
                        }
                    }
                    replay = rec.calls();
                }
                try (DecoderStepper s = ex.decoder(enc, rows, c.decoding().maxLength())) {
                    hyps = new BeamSearch(c.decoding()).run(s, n);
                }
            }
            CaseRun.Scored scored = null;
            if (c.scores()) {
                scored = score(ex, enc, c.scoring());
            }
            List<CaseRun.Single> singles = new ArrayList<>();
            if (n > 1) {
                for (int i = 0; i < n; i++) {
                    try (EncodedBatch one = ex.encode(List.of(inputs.get(i)))) {
                        BeamSearch.Hypothesis h = null;
                        if (c.generates()) {
                            try (DecoderStepper st = ex.decoder(one, new int[] {0}, c.decoding().maxLength())) {
                                h = new BeamSearch(c.decoding()).run(st, 1).get(0);
                            }
                        }
                        CaseRun.Scored sc = c.scores() ? score(ex, one, c.scoring().onlyExample(i)) : null;
                        singles.add(new CaseRun.Single(example(one, 0), h, sc));
                    }
                }
            }
            return new CaseRun(id, c, examples, replay, hyps, scored, singles);
        }
    }

    private static CaseRun.Example example(EncodedBatch enc, int i) {
        return new CaseRun.Example(enc.exits(i), enc.outputTokens(i), ReferenceMath.toDouble(enc.output(i)));
    }

    private static CaseRun.Scored score(Executable ex, EncodedBatch enc, TckCase.Scoring s) {
        ScoringOutput o = ex.score(enc, s.exampleOfRow(), s.sequences(), s.firstScored());
        double[][][] logits = new double[o.logits().length][][];
        for (int r = 0; r < logits.length; r++) {
            logits[r] = new double[o.logits()[r].length][];
            for (int t = 0; t < logits[r].length; t++) {
                logits[r][t] = ReferenceMath.toDouble(o.logits()[r][t]);
            }
        }
        return new CaseRun.Scored(logits, o.exitLayer().clone(), o.gates());
    }
}
