package dev.mue.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

/**
 * The launcher's JVM options (src/launcher/spark-jvm.args, also this module's test JVM options)
 * are exactly the ones spark-submit adds for the Spark version this module is built against.
 */
class SparkModuleOptionsTest {
    @Test
    void argumentFileHoldsSparkSubmitsModuleOptions() throws IOException {
        Path file = Path.of("src", "launcher", "spark-jvm.args");
        List<String> options = Files.readAllLines(file).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertEquals(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()), options,
                file + " must list Spark's own options (JavaModuleOptions), in its order");
    }
}
