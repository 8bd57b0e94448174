package dev.mue.benchmarks.report;

/** Prints the float lanes of the Vector API's preferred species on this machine (8 with AVX2, 16 with AVX-512). */
public final class Lanes {
    private Lanes() {
    }

    /** Entry point: prints one integer. */
    public static void main(String[] args) {
        System.out.println(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length());
    }
}
