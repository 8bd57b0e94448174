/**
 * Dynamic batching with a bounded queue: {@link dev.mue.serve.batch.Batcher} groups concurrent
 * requests that share a key (model and exit policy) into batches bounded in size and delay, refuses
 * what does not fit, drops what outlives its deadline, and reruns a failed batch's requests alone.
 */
package dev.mue.serve.batch;
