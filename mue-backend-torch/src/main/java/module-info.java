/**
 * The PyTorch mue backend ({@code torch}): executes a plan with libtorch through DJL, evaluating
 * the exit gates on the host between layers.
 *
 * <p>DJL's jars are automatic modules ({@code ai.djl.api}, {@code ai.djl.pytorch_engine}); the
 * CPU natives ({@code pytorch-native-cpu}, classifier {@code linux-x86_64}) have an invalid
 * automatic module name and stay on the class path, where DJL finds them as resources. Registered
 * both here and, through {@code @AutoService}, in {@code META-INF/services}.
 */
module dev.mue.backend.torch {
    requires dev.mue.api;
    requires ai.djl.api;
    requires ai.djl.pytorch_engine;
    requires static com.google.auto.service;

    exports dev.mue.backend.torch.forward;

    provides dev.mue.api.spi.BackendProvider with dev.mue.backend.torch.PtBackendProvider;
}
