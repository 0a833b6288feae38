// swift-tools-version: 6.1
// The floor under Veneer's pass-through figures: two forwarders with no proxy logic, for scripts/bench-proxy's
// `floor` case. Its own package, so that it builds in a minute with only SwiftNIO.
//   swift build -c release && .build/release/ForwarderFloor tcp 18070 18090
import PackageDescription

let package = Package(
    name: "ForwarderFloor",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2")
    ],
    targets: [
        .executableTarget(
            name: "ForwarderFloor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        )
    ]
)
