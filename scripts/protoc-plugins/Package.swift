// swift-tools-version:6.0
// Builds the protoc plugins (protoc-gen-swift, protoc-gen-grpc-swift-2) used by scripts/protos.
// Kept apart from the main package so regular builds never compile swift-protobuf's plugin.
import PackageDescription

let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: []
)
