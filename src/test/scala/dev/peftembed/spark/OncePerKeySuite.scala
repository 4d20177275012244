package dev.peftembed.spark

import java.util.concurrent.{CountDownLatch, Executors, TimeUnit}
import java.util.concurrent.atomic.AtomicInteger
import org.scalatest.funsuite.AnyFunSuite

class OncePerKeySuite extends AnyFunSuite {

  test("concurrent first callers compute a key once and all get that value") {
    val cache = new OncePerKey[String, Object]()
    val computed = new AtomicInteger()
    val threads = 8
    val start = new CountDownLatch(1)
    val pool = Executors.newFixedThreadPool(threads)
    try {
      val results = (1 to threads).map { _ =>
        pool.submit(() => {
          start.await()
          cache.get("model", (_: String) => {
            computed.incrementAndGet()
            Thread.sleep(200) // a slow load, so that the others arrive while it runs
            new Object()
          })
        })
      }
      start.countDown()
      val values = results.map(_.get(10, TimeUnit.SECONDS))
      assert(computed.get() == 1)
      assert(values.distinct.size == 1)
    } finally pool.shutdownNow()
  }

  test("a slow key does not block another key") {
    val cache = new OncePerKey[String, String]()
    val slowStarted = new CountDownLatch(1)
    val release = new CountDownLatch(1)
    val pool = Executors.newSingleThreadExecutor()
    try {
      val slow = pool.submit(() => cache.get("slow", (_: String) => { slowStarted.countDown(); release.await(); "s" }))
      slowStarted.await()
      assert(cache.get("fast", (_: String) => "f") == "f")
      release.countDown()
      assert(slow.get(10, TimeUnit.SECONDS) == "s")
    } finally pool.shutdownNow()
  }

  test("a failure reaches the caller and is forgotten, so the next caller retries") {
    val cache = new OncePerKey[String, String]()
    val e = intercept[IllegalStateException](cache.get("k", (_: String) => throw new IllegalStateException("no GPU")))
    assert(e.getMessage == "no GPU")
    val retries = new AtomicInteger()
    assert(cache.get("k", (_: String) => { retries.incrementAndGet(); "loaded" }) == "loaded")
    assert(retries.get() == 1)
  }
}
