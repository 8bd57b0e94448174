package dev.mue.model.grid;

import dev.mue.api.model.Model;
import dev.mue.api.model.ModelBundle;

/**
 * Loads {@code mue-grid}, the model this project trained and ships: OFA-shaped (6 encoder and 6
 * decoder layers, d = 128, 3.1 M parameters), trained with MuE's layer-wise task loss on captioning
 * and visual entailment over 2x2 grids of Fashion-MNIST images, with its calibrated exit policies.
 * Outside that domain its captions and answers mean nothing.
 *
 * <pre>{@code
 * try (MueSession s = Mue.session().model(GridModel.load()).backend("java").open()) { ... }
 * }</pre>
 */
public final class GridModel {
    /** The resource folder that holds the bundle ({@code config.json}, {@code model.safetensors}, ...). */
    public static final String RESOURCE = "dev/mue/model/grid/mue-grid";
    /** The model's source in traces and messages. */
    public static final String SOURCE = "classpath:" + RESOURCE;

    private GridModel() {
    }

    /**
     * Reads the bundle from this artifact's resources into memory (nothing is written to disk),
     * verifies the weights' SHA-256 and validates every file as any bundle is; about 6 MB, some
     * tens of milliseconds. Each call returns a new {@link Model}; keep one if you open several sessions.
     *
     * @throws dev.mue.api.ModelFormatException if the artifact's resources are damaged
     */
    public static Model load() {
        // Class.getResourceAsStream finds this module's own resources on the module path as on the class path.
        return ModelBundle.loadResources(SOURCE, f -> GridModel.class.getResourceAsStream("/" + RESOURCE + "/" + f));
    }
}
