package dev.peftembed.embed;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.peftembed.encoder.WeightDelta;
import dev.peftembed.encoder.bert.BertModel;
import dev.peftembed.encoder.bert.BertTokenEncoder;
import dev.peftembed.model.Checkpoint;
import dev.peftembed.model.Tensor;
import dev.peftembed.peft.LoraAdapter;
import dev.peftembed.peft.PromptAdapter;
import dev.peftembed.runtime.DjlRuntime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many adapters over one copy of the base model: each row names its adapter, or none for the base model. Prompt
 * and P-tuning tables, prefixes and LoRA deltas live beside the shared weights; a LoRA adapter is applied unmerged,
 * as two thin matrix products per adapted module, so N adapters cost N deltas, not N models.
 *
 * <p>{@link #encode} groups a window's rows by adapter, and each group is sorted and batched by token budget as a
 * single-adapter encoder batches it, so each row gets the vector a run of its adapter alone gives. Thread-safe as
 * {@link SentenceEncoder} is.
 */
public final class MultiAdapterEncoder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MultiAdapterEncoder.class);

  private final BertModel base;
  private final SentenceEncoder baseEncoder;
  private final Map<String, SentenceEncoder> adapters;

  private MultiAdapterEncoder(BertModel base, SentenceEncoder baseEncoder, Map<String, SentenceEncoder> adapters) {
    this.base = base;
    this.baseEncoder = baseEncoder;
    this.adapters = adapters;
  }

  /**
   * Loads the base weights once, then each adapter beside them.
   *
   * @throws dev.peftembed.model.ModelFormatException for a bad model or adapter file
   */
  public static MultiAdapterEncoder load(MultiAdapterPlan plan) {
    DjlRuntime.prepare();
    long start = System.nanoTime();
    EncoderPlan basePlan = plan.base();
    Device device = basePlan.options().device().resolve();
    DataType dtype = SentenceEncoderLoader.computeType(basePlan.options(), device);
    Checkpoint checkpoint = Checkpoint.open(basePlan.model().path());
    BertModel base = BertModel.load(checkpoint, basePlan.model().bert(), device, dtype);
    List<SentenceEncoder> loaded = new ArrayList<>();
    try {
      SentenceEncoder baseEncoder = SentenceEncoderLoader.create(basePlan,
          BertTokenEncoder.sharing(base, null, null, null));
      loaded.add(baseEncoder);
      Map<String, SentenceEncoder> adapters = new LinkedHashMap<>();
      for (Map.Entry<String, EncoderPlan> e : plan.adapters().entrySet()) {
        SentenceEncoder encoder = SentenceEncoderLoader.create(e.getValue(), adapterOver(base, checkpoint,
            e.getValue()));
        loaded.add(encoder);
        adapters.put(e.getKey(), encoder);
      }
      LOG.info("loaded {} once on {} ({}) with {} adapters {} in {} ms", basePlan.model().path(), device, dtype,
          adapters.size(), adapters.keySet(), (System.nanoTime() - start) / 1_000_000);
      return new MultiAdapterEncoder(base, baseEncoder, adapters);
    } catch (RuntimeException e) {
      loaded.forEach(SentenceEncoder::close);
      base.close();
      throw e;
    }
  }

  private static BertTokenEncoder adapterOver(BertModel base, Checkpoint checkpoint, EncoderPlan plan) {
    if (LoraAdapter.isLora(plan.adapter())) {
      WeightDelta delta = LoraAdapter.load(plan.adapterDir(), plan.model().bert()).delta(checkpoint);
      return BertTokenEncoder.sharing(base, null, null, delta);
    }
    PromptAdapter adapter = PromptAdapter.load(plan.adapterDir(), plan.model().bert(), plan.model().path());
    Tensor table = adapter.promptEmbeddings();
    return adapter.config().isPrefix() ? BertTokenEncoder.sharing(base, null, table, null)
        : BertTokenEncoder.sharing(base, table, null, null);
  }

  /** @return the width of the vectors, the same for every adapter */
  public int dimension() {
    return baseEncoder.dimension();
  }

  /**
   * Encodes texts, each with the adapter its row names. The result has one entry per text, in input order, as
   * {@link SentenceEncoder#encode} gives; a row with a text that names an undeclared adapter gets an
   * {@link Embedding#failed} entry whose error names it.
   *
   * @param adapterNames one per text: an adapter's name, or {@code null} for the base model
   */
  public List<Embedding> encode(List<String> texts, List<String> adapterNames) {
    if (texts.size() != adapterNames.size()) {
      throw new IllegalArgumentException(texts.size() + " texts but " + adapterNames.size() + " adapter names");
    }
    Embedding[] out = new Embedding[texts.size()];
    Map<SentenceEncoder, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < texts.size(); i++) {
      String name = adapterNames.get(i);
      SentenceEncoder encoder = name == null ? baseEncoder : adapters.get(name);
      if (texts.get(i) == null) {
        // A null text has a null embedding whatever its adapter, as with one adapter: it is a null text, not a
        // bad adapter name.
        continue;
      }
      if (encoder == null) {
        out[i] = Embedding.failed(NamedAdapters.unknown(name, adapters.keySet()));
      } else {
        groups.computeIfAbsent(encoder, k -> new ArrayList<>()).add(i);
      }
    }
    groups.forEach((encoder, rows) -> {
      List<String> groupTexts = new ArrayList<>(rows.size());
      rows.forEach(i -> groupTexts.add(texts.get(i)));
      List<Embedding> done = encoder.encode(groupTexts);
      for (int j = 0; j < rows.size(); j++) {
        out[rows.get(j)] = done.get(j);
      }
    });
    return Arrays.asList(out);
  }

  /** @return whether a row naming {@code name} has an adapter here */
  public boolean declares(String name) {
    return adapters.containsKey(name);
  }

  /** Frees every adapter's tokenizer and the shared weights, with the adapters' arrays among them. */
  @Override
  public void close() {
    baseEncoder.close();
    adapters.values().forEach(SentenceEncoder::close);
    base.close();
  }
}
