package dev.mue.importer;

/**
 * One fact of an imported model's config and where it came from.
 *
 * @param name   the config key, e.g. {@code heads} or {@code image_size}
 * @param value  its value as text
 * @param source where it came from: the tensors (naming the tensor), the stored arguments (e.g.
 *               {@code cfg.task.patch_image_size}), a flag, or OFA's default, with any source that
 *               agreed
 */
public record ConfigFact(String name, String value, String source) {
}
