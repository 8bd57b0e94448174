package dev.mue.spark.exec;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;
import dev.mue.model.grid.GridModel;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;
import org.apache.spark.SparkFiles;

/**
 * Where an executor finds the model bundle: the default model bundled in the jar, a directory every
 * executor can read (shared storage), or a directory shipped to every executor with
 * {@code SparkContext.addFile(dir, true)}. Only this description travels with a task; each executor
 * loads the model itself.
 */
public sealed interface ModelSource extends Serializable {
    /** Class-path folder of the default model (the mue-model-grid jar's resources). */
    String DEFAULT_MODEL_RESOURCE = GridModel.RESOURCE;

    /** Loads the bundle on this JVM. */
    Model load();

    /** The bundled default model ({@value #DEFAULT_MODEL_RESOURCE} on the class path). */
    record Bundled() implements ModelSource {
        @Override
        public Model load() {
            return GridModel.load();
        }

        @Override
        public String toString() {
            return GridModel.SOURCE;
        }
    }

    /**
     * A bundle directory at the same path on every executor (a shared or replicated file system).
     *
     * @param path the directory
     */
    record Directory(String path) implements ModelSource {
        /** Requires a path. */
        public Directory {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public Model load() {
            return ModelBundle.load(Path.of(path));
        }

        @Override
        public String toString() {
            return path;
        }
    }

    /**
     * A bundle directory added to the application with {@code SparkContext.addFile(dir, true)}:
     * each executor reads its own copy from {@link SparkFiles#get(String)}.
     *
     * @param name the directory's file name, as {@code addFile} registered it
     */
    record SparkFile(String name) implements ModelSource {
        /** Requires a name. */
        public SparkFile {
            Objects.requireNonNull(name, "name");
        }

        @Override
        public Model load() {
            return ModelBundle.load(Path.of(SparkFiles.get(name)));
        }

        @Override
        public String toString() {
            return "SparkFiles:" + name;
        }
    }
}
