/**
 * The trained default model, {@code mue-grid}, as its own small artifact:
 * {@link dev.mue.model.grid.GridModel#load()} gives a {@link dev.mue.api.model.Model} to pass to
 * {@code Mue.session().model(...)}. Nothing else comes with it: no backend, no logging binding.
 */
module dev.mue.model.grid {
    requires transitive dev.mue.api;

    exports dev.mue.model.grid;
}
