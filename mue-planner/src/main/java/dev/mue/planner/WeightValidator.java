package dev.mue.planner;

import dev.mue.api.WeightMismatchException;
import dev.mue.api.model.ModelConfig;
import dev.mue.api.model.WeightLayout;
import dev.mue.api.model.Weights;
import dev.mue.api.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Checks a model's weights against its config and names every missing, extra or mis-shaped tensor. */
public final class WeightValidator {
    private WeightValidator() {
    }

    /**
     * Validates {@code weights} against the layout of {@code config}.
     *
     * @throws WeightMismatchException listing every problem, when there is at least one
     */
    public static void validate(ModelConfig config, Weights weights) {
        Map<String, int[]> expected = WeightLayout.expected(config);
        Problems problems = new Problems();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            if (!weights.contains(e.getKey())) {
                problems.add("missing " + e.getKey() + " " + Arrays.toString(e.getValue()));
                continue;
            }
            FloatTensor t = weights.get(e.getKey());
            if (!Arrays.equals(t.shape(), e.getValue())) {
                problems.add("mis-shaped " + e.getKey() + ": " + t.shapeString() + ", expected "
                        + Arrays.toString(e.getValue()));
            } else {
                for (float v : t.data()) {
                    if (!Float.isFinite(v)) {
                        problems.add("non-finite value in " + e.getKey());
                        break;
                    }
                }
            }
        }
        for (String name : weights.names()) {
            if (!expected.containsKey(name)) {
                problems.add("unexpected " + name + " " + weights.get(name).shapeString());
            }
        }
        if (problems.isEmpty()) {
            checkVariances(weights, problems);
        }
        if (!problems.isEmpty()) {
            throw new WeightMismatchException(problems.first, problems.total);
        }
    }

    /** The first {@link WeightMismatchException#MAX_LISTED} problems as text, and a count of all. */
    private static final class Problems {
        final List<String> first = new ArrayList<>();
        int total;

        void add(String p) {
            if (first.size() < WeightMismatchException.MAX_LISTED) {
                first.add(p);
            }
            total++;
        }

        boolean isEmpty() {
            return total == 0;
        }
    }

    private static void checkVariances(Weights weights, Problems problems) {
        for (String name : weights.names()) {
            if (name.endsWith("running_var")) {
                for (float v : weights.data(name)) {
                    if (v < 0) {
                        problems.add("negative BatchNorm variance in " + name);
                        break;
                    }
                }
            }
        }
    }
}
