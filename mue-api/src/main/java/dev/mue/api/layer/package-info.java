/**
 * The layer SPI (design §10.1): the operations an interpretive backend implements over its own
 * tensors so that the runtime ({@code dev.mue.runtime}) can execute any plan with it. The runtime
 * walks the plan's nodes, evaluates every exit gate, compacts the batch, fills skipped layers'
 * keys and values per the KV policy and builds the trace; a backend supplies {@link
 * dev.mue.api.layer.LayerOps} (embeddings, encoder and decoder layers, gathers, gate measures,
 * logits) and never sees an exit decision.
 */
package dev.mue.api.layer;
