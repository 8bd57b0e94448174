/**
 * Reading images and turning them into the normalised tensor an OFA image encoder expects.
 */
package dev.mue.session.image;
