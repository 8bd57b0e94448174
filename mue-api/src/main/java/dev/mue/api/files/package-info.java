/**
 * Internal file helpers shared by the writers of model files; not exported.
 */
package dev.mue.api.files;
