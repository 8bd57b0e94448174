/**
 * PyTorch's checkpoint containers, read without PyTorch: the zip format ({@code data.pkl} plus one
 * entry per storage) and the legacy format (a run of pickles followed by raw storages). Tensors are
 * described lazily ({@link dev.mue.importer.torch.TensorRef}) and read only when asked for, so
 * optimizer state and skipped buffers never cost memory; every offset, stride and size is checked
 * against its storage before anything is allocated.
 */
package dev.mue.importer.torch;
