package dev.peftembed.encoder;

import java.util.Map;

/**
 * What an adapter changes in the base weights, in a form applied to each batch instead of merged into them: so that
 * many adapters share one copy of the base model.
 *
 * @param lowRank the update of each adapted linear module, by Hugging Face module name
 *     ({@code encoder.layer.0.attention.self.query})
 * @param biasShifts what to add to a bias, by Hugging Face parameter name
 *     ({@code encoder.layer.0.output.LayerNorm.bias}): the adapter's saved bias less the base model's, plus any
 *     scaled LoRA bias
 */
public record WeightDelta(Map<String, LowRankUpdate> lowRank, Map<String, float[]> biasShifts) {}
