package dev.peftembed.pooling;

/**
 * The pooling mask of one batch, as long as the model's output: virtual positions first, then real tokens, then
 * padding.
 *
 * @param batch rows
 * @param length positions per row in the model's output (M + padded real length)
 * @param values row-major [batch, length]: 1 where a position takes part in pooling, else 0
 * @param clsPosition the position CLS pooling reads
 * @param lastPositions per row, the last position whose mask is 1 (0 if none)
 */
public record AlignedMask(int batch, int length, float[] values, int clsPosition, int[] lastPositions) {}
