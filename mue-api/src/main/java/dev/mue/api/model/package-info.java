/**
 * The model description: configuration with the OFA presets, weights, and the on-disk model bundle.
 */
package dev.mue.api.model;
