// swift-tools-version: 6.1
// Opt-in benchmarks (ordo-one/benchmark). Run from this folder:
//   swift package --allow-writing-to-package-directory benchmark
// Needs libjemalloc-dev (scripts/install-deps installs it).
import PackageDescription

let package = Package(
    name: "VeneerBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "veneer", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                "ChooseScenario",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VeneerCore", package: "veneer"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "HTMLBenchmarks",
            dependencies: [
                "ShopPage",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VeneerHTML", package: "veneer"),
            ],
            path: "Benchmarks/HTMLBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The engine and visitor CoreBenchmarks measures, shared with ChooseInstructions.
        .target(
            name: "ChooseScenario",
            dependencies: [.product(name: "VeneerCore", package: "veneer")],
            path: "Benchmarks/ChooseScenario"
        ),
        // The first CoreBenchmarks case for callgrind or perf, and a dump of decisions to compare engines.
        .executableTarget(
            name: "ChooseInstructions",
            dependencies: [
                "ChooseScenario",
                .product(name: "VeneerCore", package: "veneer"),
            ],
            path: "Benchmarks/ChooseInstructions"
        ),
        // The page and changes HTMLBenchmarks measures, shared with HTMLInstructions.
        .target(
            name: "ShopPage",
            dependencies: [
                .product(name: "VeneerCore", package: "veneer"),
                .product(name: "VeneerHTML", package: "veneer"),
            ],
            path: "Benchmarks/ShopPage"
        ),
        // The HTMLBenchmarks cases for callgrind (scripts/html-instructions); no benchmark harness.
        .executableTarget(
            name: "HTMLInstructions",
            dependencies: [
                "ShopPage",
                .product(name: "VeneerHTML", package: "veneer"),
            ],
            path: "Benchmarks/HTMLInstructions"
        ),
    ]
)
