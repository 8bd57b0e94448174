package dev.mue.serve.protocol;

import java.util.List;

/**
 * One input or output of a served model, as model metadata reports it.
 *
 * @param name     the tensor's name
 * @param datatype its datatype
 * @param shape    its shape, -1 for the variable batch dimension
 * @param optional whether an input may be left out
 */
public record TensorSpec(String name, Datatype datatype, List<Long> shape, boolean optional) {
    /** Copies the shape. */
    public TensorSpec {
        shape = List.copyOf(shape);
    }
}
