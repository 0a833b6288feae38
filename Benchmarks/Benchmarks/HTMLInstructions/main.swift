import ShopPage
@_spi(Benchmarks) import VeneerHTML

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Runs one HTMLBenchmarks case a given number of times after one warm-up call, for counting
// instructions under callgrind (timings on this machine swing ±40 %; instruction counts do not).
// scripts/html-instructions runs it with 0 and with N iterations and prints the difference / N,
// so set-up and one-time runtime work stay out of the figure.
//
//   HTMLInstructions <case> <iterations> [page bytes, default 100000]
//   cases: first, early, absent, cached, sax, push, tree

let arguments = CommandLine.arguments
guard arguments.count >= 3, let iterations = Int(arguments[2]) else {
    print("usage: HTMLInstructions first|early|absent|cached|sax|push|tree <iterations> [page bytes]")
    exit(2)
}
let page = ShopPage.make(bytes: arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000)
let rewriter = PageRewriter(cacheCapacity: arguments[1] == "cached" ? 16 : 0)

func once() -> Int {
    switch arguments[1] {
    case "first", "cached":
        return rewriter.rewrite(page, contentTypeCharset: nil, changes: ShopPage.spreadChanges).output.count
    case "early": return rewriter.rewrite(page, contentTypeCharset: nil, changes: ShopPage.earlyChanges).output.count
    case "absent": return rewriter.rewrite(page, contentTypeCharset: nil, changes: ShopPage.absentChanges).output.count
    case "sax": LibXML2Baseline.saxParse(page)
    case "push": LibXML2Baseline.saxPushParse(page)
    case "tree": LibXML2Baseline.treeParse(page)
    default:
        print("unknown case \(arguments[1])")
        exit(2)
    }
    return 0
}

var sink = once()
for _ in 0..<iterations { sink &+= once() }
print("\(arguments[1]) \(page.count) bytes, \(iterations) iterations (\(sink))")
