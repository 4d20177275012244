package dev.peftembed.spark;

import java.io.Serializable;
import scala.Function1;

/**
 * The validators of {@link PeftEmbedderParams}' params. Spark serializes them with the stage, so each is a
 * serializable function.
 */
final class StageParamChecks {
  private StageParamChecks() {}

  /** A validator that accepts exactly what {@code parse} accepts, so that the stage and the CLI agree. */
  static Function1<String, Object> parses(Parser parse) {
    return (Function1<String, Object> & Serializable) s -> {
      try {
        parse.apply(s);
        return true;
      } catch (IllegalArgumentException e) {
        return false;
      }
    };
  }

  /** A validator of a string that must be set and not empty. */
  static Function1<String, Object> nonEmpty() {
    return (Function1<String, Object> & Serializable) s -> s != null && !s.isEmpty();
  }

  /** A validator of an int that is 0 (none) or at least {@code min}. */
  static Function1<Object, Object> zeroOrAtLeast(int min) {
    return (Function1<Object, Object> & Serializable) v -> (Integer) v == 0 || (Integer) v >= min;
  }

  /** A value parser that travels with the stage when Spark serializes it. */
  interface Parser extends Serializable {
    Object apply(String value);
  }
}
