/**
 * Request results with their exit traces ({@link dev.mue.api.ExitTrace}), and the exception
 * hierarchy rooted at {@link dev.mue.api.MueException}. The facade that produces the results is
 * {@code dev.mue.session.Mue} in the {@code mue-session} module.
 */
package dev.mue.api;
