package dev.peftembed.encoder;

import dev.peftembed.model.Tensor;

/**
 * An adapter's update of one linear module kept apart from the base weight: y = xWᵀ + b + scale·(xAᵀ)Bᵀ.
 *
 * @param a [r, in]
 * @param b [out, r]
 * @param scale the factor PEFT applies to the term (lora_alpha/r or lora_alpha/√r)
 */
public record LowRankUpdate(Tensor a, Tensor b, double scale) {}
