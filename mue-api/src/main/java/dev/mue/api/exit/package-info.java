/**
 * The exit SPI: the test an exit gate applies. A gate measures what its {@link
 * dev.mue.api.exit.ExitCriterion} asks for ({@link dev.mue.api.exit.GateMeasure}), the criterion
 * turns the measures into a score, and the gate exits when the score is strictly greater than the
 * threshold. MuE's cosine similarity ({@code cosine}, the default) and CALM's softmax confidence
 * ({@code calm}, decoder only) are built in; more are found with {@link java.util.ServiceLoader}.
 */
package dev.mue.api.exit;
