/**
 * The TensorFlow mue backend ({@code tf}): compiles a plan into TensorFlow graphs in which every
 * enabled exit gate is an {@code If} op whose branches are TF functions, so that one encoder pass
 * and one decoding step are each one {@code Session.run}; an eager mode runs the same ops driven
 * from the host, as a second oracle.
 *
 * <p>TensorFlow Java's API jar is the named module {@code tensorflow} (it requires
 * {@code tensorflow.nativelib}, {@code org.tensorflow.ndarray}, JavaCPP and protobuf); the natives
 * jar ({@code tensorflow-core-native}, classifier {@code linux-x86_64} or {@code linux-x86_64-gpu})
 * is an automatic module that nothing requires, so it goes on the class path, where JavaCPP finds
 * the libraries as resources. Registered both here and, through {@code @AutoService}, in
 * {@code META-INF/services}.
 */
module dev.mue.backend.tf {
    requires dev.mue.api;
    requires tensorflow;
    requires org.slf4j;
    requires static com.google.auto.service;

    // Neither exported nor open: tools reach what it compiled through Executable.describeCompiled().

    provides dev.mue.api.spi.BackendProvider with dev.mue.backend.tf.TfBackendProvider;
}
