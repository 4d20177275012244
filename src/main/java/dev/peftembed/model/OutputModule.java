package dev.peftembed.model;

/** A module that runs after pooling, in the order modules.json lists it. */
public sealed interface OutputModule permits DenseConfig, OutputModule.Normalize {

  /** The {@code Normalize} module: L2 normalization of the sentence vector. */
  record Normalize() implements OutputModule {}
}
