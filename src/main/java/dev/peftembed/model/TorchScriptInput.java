package dev.peftembed.model;

/** An input a TorchScript graph's {@code forward} may take, by the name Hugging Face's models give it. */
public enum TorchScriptInput {
  /** Token ids, int64 [B, L]. */
  INPUT_IDS("input_ids"),
  /** 1 for a real token, 0 for padding, int64 [B, L]. */
  ATTENTION_MASK("attention_mask"),
  /** Segment ids, all 0 for a single text, int64 [B, L]. */
  TOKEN_TYPE_IDS("token_type_ids");

  private final String parameter;

  TorchScriptInput(String parameter) {
    this.parameter = parameter;
  }

  /** @return the parameter name in {@code forward}'s signature */
  public String parameter() {
    return parameter;
  }

  /** @return the input named {@code name}, or {@code null} if no input has that name */
  static TorchScriptInput named(String name) {
    for (TorchScriptInput i : values()) {
      if (i.parameter.equals(name)) {
        return i;
      }
    }
    return null;
  }
}
