/**
 * The bundled, trained {@code mue-grid} model: {@link dev.mue.model.grid.GridModel#load()}.
 */
package dev.mue.model.grid;
