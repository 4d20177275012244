package dev.peftembed.embed;

/**
 * The encoding of one text.
 *
 * @param vector the sentence embedding
 * @param numTokens real tokens the model read, special tokens included, virtual tokens not
 * @param truncated whether the text was cut to fit the token limit
 */
public record Embedding(float[] vector, int numTokens, boolean truncated) {}
