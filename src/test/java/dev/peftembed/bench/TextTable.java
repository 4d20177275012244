package dev.peftembed.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A plain-text table for the console: left-aligned first column(s) of labels, right-aligned figures. */
final class TextTable {
  private final List<String> header;
  private final int labelColumns;
  private final List<List<String>> rows = new ArrayList<>();

  /** @param labelColumns how many leading columns are labels (left-aligned) */
  TextTable(int labelColumns, List<String> header) {
    this.labelColumns = labelColumns;
    this.header = header;
  }

  /** Adds a row of cells, one per header column. */
  TextTable add(List<String> cells) {
    if (cells.size() != header.size()) {
      throw new IllegalArgumentException(cells.size() + " cells for " + header.size() + " columns");
    }
    rows.add(cells);
    return this;
  }

  /** @return {@code d} with {@code decimals} decimals, or "-" when missing */
  static String num(Double d, int decimals) {
    return d == null || d.isNaN() ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", d);
  }

  @Override
  public String toString() {
    int[] width = new int[header.size()];
    for (int c = 0; c < width.length; c++) {
      width[c] = header.get(c).length();
      for (List<String> row : rows) {
        width[c] = Math.max(width[c], row.get(c).length());
      }
    }
    StringBuilder out = new StringBuilder();
    appendRow(out, header, width);
    List<String> rule = new ArrayList<>();
    for (int w : width) {
      rule.add("-".repeat(w));
    }
    appendRow(out, rule, width);
    for (List<String> row : rows) {
      appendRow(out, row, width);
    }
    return out.toString();
  }

  private void appendRow(StringBuilder out, List<String> cells, int[] width) {
    for (int c = 0; c < cells.size(); c++) {
      String cell = cells.get(c);
      String pad = " ".repeat(width[c] - cell.length());
      out.append(c == 0 ? "" : "  ").append(c < labelColumns ? cell + pad : pad + cell);
    }
    out.append('\n');
  }
}
