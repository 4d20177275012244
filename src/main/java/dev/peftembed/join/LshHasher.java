package dev.peftembed.join;

import java.util.Collections;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.feature.BucketedRandomProjectionLSH;
import org.apache.spark.ml.feature.BucketedRandomProjectionLSHModel;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import static org.apache.spark.sql.functions.col;

/**
 * MLlib's {@link BucketedRandomProjectionLSH}, banded: {@code bands × hashesPerBand} random projections of the unit
 * vectors, each band's bucket numbers digested into one 64-bit key. Two rows share a band's bucket when all of its
 * projections put them in the same bucket. (A digest collision only adds a candidate, which exact scoring then
 * judges.)
 */
final class LshHasher {
  private static final String FEATURES = "features";
  private static final String HASHES = "hashes";

  private final BucketedRandomProjectionLSHModel model;
  private final int bands;
  private final int hashesPerBand;

  /**
   * @param sample a table whose first usable row sizes MLlib's projections
   * @param bucketLength MLlib's bucket length
   */
  LshHasher(EmbeddingTable sample, LshOptions options, double bucketLength) {
    this.bands = options.bands();
    this.hashesPerBand = options.hashesPerBand();
    this.model = new BucketedRandomProjectionLSH().setInputCol(FEATURES).setOutputCol(HASHES)
        .setBucketLength(bucketLength).setNumHashTables(bands * hashesPerBand).setSeed(options.seed())
        .fit(features(sample));
  }

  /** @return one member per usable row, with its unit vector and band keys */
  JavaRDD<LshMember> members(EmbeddingTable table) {
    int b = bands;
    int m = hashesPerBand;
    return model.transform(features(table)).select(col(EmbeddingTable.ID), col(FEATURES), col(HASHES)).javaRDD()
        .map(row -> member(row, b, m));
  }

  /** The usable rows as id and unit vector, the vector as MLlib wants it (doubles, exactly the floats' values). */
  private static Dataset<Row> features(EmbeddingTable table) {
    Dataset<Row> rows = table.rowsWithVector();
    JavaRDD<Row> unit = rows.javaRDD().flatMap(row -> {
      float[] v = UnitVectors.unit(row.getList(1));
      if (v == null) {
        return Collections.emptyIterator();
      }
      double[] d = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        d[i] = v[i];
      }
      return List.of(RowFactory.create(row.get(0), new DenseVector(d))).iterator();
    });
    StructType schema = new StructType().add(EmbeddingTable.ID, table.idType(), false)
        .add(FEATURES, SQLDataTypes.VectorType(), false);
    return rows.sparkSession().createDataFrame(unit, schema);
  }

  private static LshMember member(Row row, int bands, int hashesPerBand) {
    double[] features = ((Vector) row.get(1)).toArray();
    float[] vector = new float[features.length];
    for (int i = 0; i < vector.length; i++) {
      vector[i] = (float) features[i];
    }
    List<Vector> hashes = row.getList(2);
    long[] keys = new long[bands];
    for (int band = 0; band < bands; band++) {
      long key = mix(0x9E3779B97F4A7C15L * (band + 1));
      for (int h = 0; h < hashesPerBand; h++) {
        key = mix(key ^ (long) hashes.get(band * hashesPerBand + h).apply(0));
      }
      keys[band] = key;
    }
    return new LshMember(row.get(0), vector, keys);
  }

  /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
