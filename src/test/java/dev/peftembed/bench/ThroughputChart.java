package dev.peftembed.bench;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The PNG of the results: throughput per system and corpus, as texts/s (what users compare) beside real tokens/s
 * (comparable across corpora, since a long text is many short ones' work). Rendered off-screen, so it runs headless.
 */
final class ThroughputChart {
  private static final int PANEL_WIDTH = 760;
  private static final int PANEL_HEIGHT = 520;

  private ThroughputChart() {}

  /**
   * Writes the chart of the a–e rows.
   *
   * @param title the first line of each panel's title (the machine line)
   */
  static void write(Path png, String title, List<ResultRow> rows) throws IOException {
    List<ResultRow> plotted = rows.stream().filter(r -> "abcde".contains(r.system()) && r.textsPerSecond() != null)
        .toList();
    BufferedImage left = BitmapEncoder.getBufferedImage(panel(title, "texts/s", plotted,
        ResultRow::textsPerSecond));
    BufferedImage right = BitmapEncoder.getBufferedImage(panel(title, "real tokens/s", plotted,
        ResultRow::realTokensPerSecond));
    BufferedImage both = new BufferedImage(left.getWidth() + right.getWidth(),
        Math.max(left.getHeight(), right.getHeight()), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = both.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, both.getWidth(), both.getHeight());
      g.drawImage(left, 0, 0, null);
      g.drawImage(right, left.getWidth(), 0, null);
    } finally {
      g.dispose();
    }
    if (!ImageIO.write(both, "png", png.toFile())) {
      throw new IOException("no PNG writer in this JDK");
    }
  }

  private static CategoryChart panel(String title, String unit, List<ResultRow> rows,
      Function<ResultRow, Double> value) {
    CategoryChart chart = new CategoryChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT)
        .title(unit + " per system and corpus (median) — " + title).xAxisTitle("corpus").yAxisTitle(unit).build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setLabelsRotation(90);
    chart.getStyler().setDecimalPattern("#,##0");
    chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(11f));
    List<String> corpora = new ArrayList<>();
    Map<String, String> systems = new LinkedHashMap<>();
    for (ResultRow r : rows) {
      if (!corpora.contains(r.corpus())) {
        corpora.add(r.corpus());
      }
      // e has a row per row count and is plotted at its largest, which its label names.
      systems.putIfAbsent(r.system(), r.system() + ": " + r.description() + (r.system().equals("e")
          ? ", " + largest(rows, "e", r.corpus()).map(ResultRow::texts).orElseThrow() + " rows" : ""));
    }
    systems.forEach((id, label) -> {
      List<Double> y = new ArrayList<>();
      for (String corpus : corpora) {
        y.add(largest(rows, id, corpus).map(value).orElse(null));
      }
      chart.addSeries(label, corpora, y);
    });
    return chart;
  }

  /** The row of a system on a corpus; for e, which has one per row count, the largest. */
  private static Optional<ResultRow> largest(List<ResultRow> rows, String system, String corpus) {
    return rows.stream().filter(r -> r.system().equals(system) && r.corpus().equals(corpus))
        .max((x, y) -> Long.compare(x.texts(), y.texts()));
  }
}
