/**
 * Caption metrics faithful to the COCO caption evaluation (BLEU-4 with closest reference length, CIDEr-D), and accuracy.
 */
package dev.mue.train.metrics;
