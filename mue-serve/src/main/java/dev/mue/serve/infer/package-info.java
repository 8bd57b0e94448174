/**
 * The served models and what they run on: {@link dev.mue.serve.infer.ServedModel} (checks, decodes,
 * batches and answers one model's requests), {@link dev.mue.serve.infer.CaptionModel} and
 * {@link dev.mue.serve.infer.EntailModel}, the sessions per exit policy
 * ({@link dev.mue.serve.infer.SessionPool}), what requests may change of the policy
 * ({@link dev.mue.serve.infer.PolicyOverrides}) and the exit trace as OIP parameters
 * ({@link dev.mue.serve.infer.TraceParameters}).
 */
package dev.mue.serve.infer;
