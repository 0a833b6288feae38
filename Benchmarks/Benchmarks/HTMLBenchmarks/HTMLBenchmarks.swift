import Benchmark
import ShopPage
@_spi(Benchmarks) import VeneerHTML

// Rewriting a realistic 100 KB shop page with 3 changes and a 1 MB page: cached (the same body
// again: hash + splice) and first sight (a body never seen: pre-check, parse, splice), against
// libxml2's own SAX parses (pull, as the anchor, and push in one chunk, as the rewriter
// drives it) and tree parse of the same bytes.
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target HTMLBenchmarks
// Instruction counts of the same cases under callgrind: scripts/html-instructions
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .instructions, .mallocCountTotal],
        timeUnits: .microseconds,
        maxDuration: .seconds(3),
        maxIterations: 20_000
    )

    let page100 = ShopPage.make(bytes: 100_000)
    let page1M = ShopPage.make(bytes: 1_000_000)
    let changes = ShopPage.spreadChanges
    let earlyChanges = ShopPage.earlyChanges
    let absentChanges = ShopPage.absentChanges

    for (label, page) in [("100 KB", page100), ("1 MB", page1M)] {
        Benchmark("rewrite \(label), 3 changes, cached") { benchmark in
            let rewriter = PageRewriter()
            _ = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(rewriter.rewrite(page, contentTypeCharset: nil, changes: changes))
            }
        }
        Benchmark("rewrite \(label), 3 changes, first sight") { benchmark in
            // No cache: every call pre-checks, parses and splices, as for a page with a fresh CSRF token.
            let rewriter = PageRewriter(cacheCapacity: 0)
            for _ in benchmark.scaledIterations {
                blackHole(rewriter.rewrite(page, contentTypeCharset: nil, changes: changes))
            }
        }
        Benchmark("rewrite \(label), 3 id changes near the top, first sight") { benchmark in
            let rewriter = PageRewriter(cacheCapacity: 0)
            for _ in benchmark.scaledIterations {
                blackHole(rewriter.rewrite(page, contentTypeCharset: nil, changes: earlyChanges))
            }
        }
        Benchmark("rewrite \(label), selector absent from the page, first sight") { benchmark in
            let rewriter = PageRewriter(cacheCapacity: 0)
            for _ in benchmark.scaledIterations {
                blackHole(rewriter.rewrite(page, contentTypeCharset: nil, changes: absentChanges))
            }
        }
        Benchmark("libxml2 SAX parse \(label)") { benchmark in
            for _ in benchmark.scaledIterations {
                LibXML2Baseline.saxParse(page)
            }
        }
        Benchmark("libxml2 SAX push parse \(label), one chunk") { benchmark in
            for _ in benchmark.scaledIterations {
                LibXML2Baseline.saxPushParse(page)
            }
        }
        Benchmark("libxml2 htmlReadMemory \(label)") { benchmark in
            for _ in benchmark.scaledIterations {
                LibXML2Baseline.treeParse(page)
            }
        }
    }
}
