/**
 * The facade: {@link dev.mue.session.Mue#session()} and {@link dev.mue.session.MueSession}, which
 * run a model's plans on a backend and return results with their exit traces.
 */
package dev.mue.session;
