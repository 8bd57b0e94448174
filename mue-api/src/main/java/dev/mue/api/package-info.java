/**
 * The mue facade ({@link dev.mue.api.Mue}, {@link dev.mue.api.MueSession}), request results with their exit traces, and the exception hierarchy rooted at {@link dev.mue.api.MueException}.
 */
package dev.mue.api;
