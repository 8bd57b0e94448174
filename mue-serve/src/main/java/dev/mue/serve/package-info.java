/**
 * {@code mue serve}: captioning and visual entailment over the Open Inference Protocol v2 (REST),
 * on Jetty 12 with virtual threads. {@link dev.mue.serve.MueServer} starts and drains a server for a
 * {@link dev.mue.serve.SessionSpec} (model, backend, policies) within a
 * {@link dev.mue.serve.ServeConfig} (address, batching, queue, deadline, input limits, what
 * requests may override); {@link dev.mue.serve.TerminationSignals} turns SIGTERM and SIGINT into a
 * drain for a process that only serves.
 */
package dev.mue.serve;
