import NIOCore
import NIOEmbedded
@testable import SearchService
import Testing

/// What reaches the socket from a connection with `TickFlushHandler` at its front.
@Suite(.timeLimit(.minutes(1))) struct TickFlushHandlerTests {
    /// Counts the flushes that pass toward the socket.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var flushes = 0
        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    func connection() throws -> (EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(TickFlushHandler())
        return (channel, counter)
    }

    func sent(_ channel: EmbeddedChannel) throws -> [String] {
        var texts: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { texts.append(String(buffer: buffer)) }
        return texts
    }

    @Test func responsesFlushedInOneTickGoOutInOneFlushOnceTheQueuedWorkHasRun() throws {
        let (channel, counter) = try connection()
        channel.writeAndFlush(ByteBuffer(string: "first"), promise: nil)
        channel.writeAndFlush(ByteBuffer(string: "second"), promise: nil)
        #expect(try sent(channel).isEmpty)  // held while the loop has work queued
        channel.embeddedEventLoop.run()
        #expect(try sent(channel) == ["first", "second"])
        #expect(counter.flushes == 1)

        channel.writeAndFlush(ByteBuffer(string: "third"), promise: nil)  // a later tick: a flush of its own
        channel.embeddedEventLoop.run()
        #expect(try sent(channel) == ["third"])
        #expect(counter.flushes == 2)
        _ = try channel.finish()
    }

    @Test func aCloseSendsWhatWasWrittenBeforeIt() throws {
        let (channel, counter) = try connection()
        channel.writeAndFlush(ByteBuffer(string: "goaway"), promise: nil)
        channel.close(promise: nil)
        #expect(try sent(channel) == ["goaway"])
        #expect(counter.flushes == 1)
        channel.embeddedEventLoop.run()  // the queued flush finds nothing left to do
        #expect(counter.flushes == 1)
    }

    /// The server's transport: grpc-swift's timer coalescing off, and every accepted connection given the
    /// handler at its front (checked on a channel standing in for one).
    @Test func theServersConnectionsGetTheHandlerInsteadOfTheTimer() throws {
        let config = SearchServer.transportConfig
        #expect(config.connection.flushCoalescing == nil)
        let accept = try #require(config.channelDebuggingCallbacks.onAcceptTCPConnection)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FlushCounter())
        try accept(channel).wait()
        let counter = try channel.pipeline.syncOperations.handler(type: FlushCounter.self)
        channel.writeAndFlush(ByteBuffer(string: "held"), promise: nil)
        // The counter, added before, saw the flush and the socket did not: the handler is in front of it.
        #expect(try counter.flushes == 1 && sent(channel).isEmpty)
        channel.embeddedEventLoop.run()
        #expect(try sent(channel) == ["held"])
        _ = try channel.finish()
    }

    @Test func aWriteWithoutFlushStaysUnsent() throws {
        let (channel, counter) = try connection()
        channel.write(ByteBuffer(string: "partial"), promise: nil)
        channel.embeddedEventLoop.run()
        #expect(try sent(channel).isEmpty && counter.flushes == 0)
        _ = try? channel.finish()
    }
}
