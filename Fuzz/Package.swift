// swift-tools-version: 6.1
// libFuzzer targets, kept out of the main build. From this folder:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product TemplateFuzzer
//   .build/debug/TemplateFuzzer -max_total_time=300
import PackageDescription

let package = Package(
    name: "VeneerFuzz",
    dependencies: [.package(name: "veneer", path: "..")],
    targets: [
        .executableTarget(
            name: "TemplateFuzzer",
            dependencies: [.product(name: "VeneerCore", package: "veneer")]
        ),
        .executableTarget(
            name: "RewriterFuzzer",
            dependencies: [.product(name: "VeneerHTML", package: "veneer")]
        ),
        .executableTarget(
            name: "PageTemplateFuzzer",
            dependencies: [.product(name: "VeneerHTML", package: "veneer")]
        ),
    ]
)
