/**
 * Reading and writing safetensors files: memory-mapped, bounds-checked, never trusted.
 */
package dev.mue.api.safetensors;
