package dev.mue.serve.protocol;

/**
 * An output named in a request's {@code outputs}.
 *
 * @param name   the output's name
 * @param binary its {@code binary_data} parameter, or null when not given (then the request's
 *               {@code binary_data_output} applies)
 */
public record RequestedOutput(String name, Boolean binary) {
}
