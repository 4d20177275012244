package dev.peftembed.spark;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A map whose values are computed at most once per key, however many threads ask at the same time: the first caller
 * computes, the others wait for its result. A failed computation is forgotten, so a later caller tries again.
 *
 * <p>Unlike {@link ConcurrentHashMap#computeIfAbsent}, a long computation (loading a model, copying a directory)
 * holds no lock that other keys could be waiting on.
 *
 * @param <K> the key
 * @param <V> the value
 */
final class OncePerKey<K, V> {
  private final ConcurrentHashMap<K, CompletableFuture<V>> values = new ConcurrentHashMap<>();

  /**
   * @return the value for {@code key}, computed now by this thread if no other thread has computed or is computing it
   * @throws RuntimeException whatever the computation threw, in this thread and in every thread that waited for it
   */
  V get(K key, Function<? super K, ? extends V> compute) {
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> existing = values.putIfAbsent(key, mine);
    if (existing != null) {
      return await(existing);
    }
    try {
      V value = compute.apply(key);
      mine.complete(value);
      return value;
    } catch (RuntimeException | Error e) {
      values.remove(key, mine);
      mine.completeExceptionally(e);
      throw e;
    }
  }

  private static <V> V await(CompletableFuture<V> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      // Waiters see the loader's own exception, so every task fails with the same one-line message.
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }
}
