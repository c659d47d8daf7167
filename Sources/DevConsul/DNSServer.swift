import NIOCore
import NIOPosix

/// Consul's DNS interface on one port, UDP and TCP (TCP messages carry a two-byte length prefix).
enum DNSServer {
    typealias UDPChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    typealias TCPConnection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func bindUDP(host: String, port: Int) async throws -> UDPChannel {
        try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try UDPChannel(wrappingChannelSynchronously: channel) }
            }
    }

    static func bindTCP(host: String, port: Int) async throws -> NIOAsyncChannel<TCPConnection, Never> {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try wrapAcceptedConnection(channel, as: TCPConnection.self) }
            }
    }

    static func serveUDP(_ channel: UDPChannel, answer: @escaping @Sendable ([UInt8], DNSResponder.Transport) -> [UInt8]?) async throws {
        try await channel.executeThenClose { inbound, outbound in
            for try await envelope in inbound {
                guard let reply = answer(Array(envelope.data.readableBytesView), .udp) else { continue }
                try await outbound.write(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply)))
            }
        }
    }

    static func serveTCP(_ server: NIOAsyncChannel<TCPConnection, Never>,
                         answer: @escaping @Sendable ([UInt8], DNSResponder.Transport) -> [UInt8]?) async throws {
        try await serveConnections(server) { connection in
            try? await connection.executeThenClose { inbound, outbound in
                var pending: [UInt8] = []
                for try await chunk in inbound {
                    pending += chunk.readableBytesView
                    while pending.count >= 2 {
                        let length = Int(pending[0]) << 8 | Int(pending[1])
                        guard pending.count >= 2 + length else { break }
                        let message = Array(pending[2..<(2 + length)])
                        pending.removeFirst(2 + length)
                        guard let reply = answer(message, .tcp) else { continue }
                        var framed: [UInt8] = []
                        framed.append16(UInt16(clamping: reply.count))
                        try await outbound.write(ByteBuffer(bytes: framed + reply.prefix(65535)))
                    }
                }
            }
        }
    }
}
