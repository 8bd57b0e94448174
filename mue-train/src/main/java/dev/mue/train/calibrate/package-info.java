/**
 * Calibrated exit policies with a statistical guarantee, by Learn-then-Test (Angelopoulos et al.,
 * 2021; as CALM, Schuster et al., 2022, applies it to early exiting): per-example losses against the
 * same model at full depth, Hoeffding-Bentkus (or exact binomial) p-values for "risk > delta", and
 * fixed-sequence testing along a path of candidate thresholds chosen on a disjoint part of the
 * calibration data, which controls the family-wise error at epsilon.
 */
package dev.mue.train.calibrate;
